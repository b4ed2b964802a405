"""The command-centre console (``command_centre``): the live queue, the sheet, the actions.

The queue and the sheet are rendered on the server; ``console.js`` keeps them
current from ``/console/flux``, a server-sent event stream read from the outbox
for the operator's service. Each event carries the incident's queue row as it
is *now* (not as the event saw it): replaying a stretch of events after a
reconnection then converges on the current state, whatever was missed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError

from intake_service.access.rules.permissions import Principal, sees_incident
from intake_service.access.rules.permissions import actor_name as who
from intake_service.command_centre import actions, grouping, holding
from intake_service.command_centre.queue import command_centre_queue
from intake_service.command_centre.rules import holding as holding_rules
from intake_service.deployment import metrics
from intake_service.direct_line import messages
from intake_service.feed import outbox
from intake_service.intake import documents, duplicates, queries
from intake_service.intake.rules import lifecycle
from intake_service.models import Incident, IncidentVersion
from intake_service.platform.clock import PARIS
from intake_service.platform.errors import Forbidden, NotFound, Refused
from intake_service.platform.labels import (
    CHANNEL_LABELS,
    COMPLAINT_LABELS,
    CONSENT_LABELS,
    COORDINATE_SOURCE_LABELS,
    MODE_LABELS,
    NATURE_LABELS,
    OUTCOME_LABELS,
    PLACE_LABELS,
    PRIORITY_LABELS,
    PRIORITY_REASONS,
    REJECT_CAUSE_LABELS,
    REPORTER_ROLE_LABELS,
    ROLE_LABELS,
    SEVERITY_LABELS,
    STAFF_FUNCTION_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    SUSPECT_STATUS_LABELS,
    VEHICLE_POSITION_LABELS,
    VICTIM_KIND_LABELS,
    VIDEO_EXISTS_LABELS,
    VIDEO_SOURCE_LABELS,
    WARNING_LABELS,
    WEAPON_LABELS,
    section_label,
)
from intake_service.serving.context import database
from intake_service.territory.rules.routing import UNROUTED_SERVICE
from intake_service.web import conversation
from intake_service.web.attachments import attachments_context
from intake_service.web.auth import current_page_principal, page_requires
from intake_service.web.cctv import cctv_context
from intake_service.web.console_rows import (
    commune_name,
    countdown_label,
    paris,
    parse_instant,
    queue_row,
)
from intake_service.web.live import event_stream
from schemas.incident import StatusRequestSchema
from schemas.vocabulary import NATURES, OPEN_STATUSES, OUTCOMES, PRIORITIES, REJECT_CAUSES

bp = Blueprint("console", __name__, url_prefix="/console")

QUEUE_LIMIT = 500

# --- French words of the actions (the vocabularies' labels are in ``labels``) ----------

ACTIONS = {
    "acknowledged": "Prendre en compte",
    "dispatched": "Engager une patrouille",
    "closed": "Clôturer",
    "rejected": "Rejeter",
}
ACTION_FIELDS = {
    "acknowledged": (),
    "dispatched": ("call_sign",),
    "closed": ("outcome", "comment"),
    "rejected": ("cause_code", "cause", "redirect_to"),
}
ACTION_DONE = {
    "acknowledged": "Incident pris en compte.",
    "dispatched": "Patrouille engagée.",
    "closed": "Incident clôturé.",
    "rejected": "Incident rejeté.",
}
FIELD_ERRORS = {
    # field: (message when missing, message when invalid)
    "call_sign": ("", "L'indicatif fait 32 caractères au plus."),
    "outcome": ("Choisissez l'issue pour clôturer.", "Choisissez une issue de la liste."),
    "comment": (
        "Le commentaire est obligatoire pour clôturer.",
        "Le commentaire fait 1000 caractères au plus.",
    ),
    "cause_code": ("Choisissez le motif du rejet.", "Choisissez un motif de la liste."),
    "cause": (
        "Précisez le motif : il est obligatoire avec « Autre motif ».",
        "La précision fait 500 caractères au plus.",
    ),
    "redirect_to": (
        "",
        "Code de service invalide : minuscules, chiffres et tirets (ex. : ddsp-83).",
    ),
}


def _principal_in_queue(principal: Principal, incident: Incident) -> bool:
    return incident.status in OPEN_STATUSES and sees_incident(
        principal, incident.operator.code, incident.service_code
    )


def _service_filter(principal: Principal) -> dict[str, Any]:
    if principal.scope == UNROUTED_SERVICE:
        return {"unrouted": True}
    return {"service_code": principal.scope}


def _chosen(name: str, allowed: Iterable[str]) -> list[str]:
    """Query values of ``name`` that are allowed (unknown values are ignored, never a 500)."""
    allowed = tuple(allowed)
    return [value for value in request.args.getlist(name) if value in allowed]


# --- the queue ----------------------------------------------------------------------------


@bp.route("/")
@page_requires("command_centre.queue")
def queue() -> Any:
    """The service's open incidents, by priority, then rank, then most recent."""
    principal = current_page_principal()
    priorities = _chosen("priorite", PRIORITIES)
    statuses = _chosen("statut", OPEN_STATUSES)
    nature = next(iter(_chosen("nature", NATURES)), "")
    line = request.args.get("ligne", "")[:64]
    with database().transaction() as session:
        found = command_centre_queue(
            session, principal, statuses=(), priorities=(), limit=QUEUE_LIMIT
        )
        requests = messages.open_requests(session, [i.id for i in found], g.now)
        groups = duplicates.queue_views(session, found)
        all_rows = [
            queue_row(
                i, queries.place_names(session, i), g.now, requests.get(i.id, (0, 0)), groups[i.id]
            )
            for i in found
            if groups[i.id].lead  # a group's other members are under its lead
        ]
        position = outbox.last_position(session)
    lines = sorted({(row["route_id"], row["line"]) for row in all_rows if row["route_id"]})
    if line not in {route_id for route_id, _ in lines}:
        line = ""
    rows = [
        row
        for row in all_rows
        if (not priorities or row["priority"] in priorities)
        and (not statuses or row["status"] in statuses)
        and (not line or row["route_id"] == line)
        and (not nature or nature in row["natures"])
    ]
    return render_template(
        "console.html",
        rows=rows,
        total=len(all_rows),
        lines=lines,
        filters={"priorities": priorities, "statuses": statuses, "line": line, "nature": nature},
        filtered=bool(priorities or statuses or line or nature),
        position=position,
        labels=_labels(),
        map_tiles={
            "url": current_app.extensions["intake.config"].map_tiles_url,
            "attribution": current_app.extensions["intake.config"].map_tiles_attribution,
        },
    )


@bp.route("/clotures")
@page_requires("command_centre.queue")
def closed_today() -> Any:
    """The incidents the service closed today (Europe/Paris)."""
    principal = current_page_principal()
    today = g.now.astimezone(PARIS).date()
    start = dt.datetime.combine(today, dt.time(), tzinfo=PARIS)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)
    with database().transaction() as session:
        rows = [
            {
                **queue_row(incident, queries.place_names(session, incident), g.now),
                "closed_time": paris(change.at, "%H:%M"),
                "outcome": OUTCOME_LABELS.get(change.detail.get("outcome", ""), ""),
                "comment": change.detail.get("comment", ""),
                "closed_by": who(change.author),
            }
            for incident, change in queries.closed_between(
                session, principal, start.astimezone(dt.UTC), end.astimezone(dt.UTC)
            )
        ]
    return render_template(
        "console_clotures.html", rows=rows, day=today.strftime("%d/%m/%Y"), labels=_labels()
    )


# --- the live stream ----------------------------------------------------------------------


@bp.route("/flux")
@page_requires("command_centre.queue")
def feed() -> Response:
    """Server-sent events: each outbox event of the service, as the queue row it changes."""
    principal = current_page_principal()
    db = database()
    scope = _service_filter(principal)
    clock = current_app.extensions["intake.clock"]

    def read(after_position: int) -> list[tuple[int, str, dict[str, Any]]]:
        now = clock()  # a stream lives for an hour: not the request's ``g.now``
        with db.reading() as session:
            events = outbox.events_after(session, after_position, **scope)
            found = queries.incidents_by_id(session, [e.incident_id for e in events])
            requests = messages.open_requests(session, list(found), now)
            groups = duplicates.queue_views(session, list(found.values()))
            names = {
                incident_id: queries.place_names(session, incident)
                for incident_id, incident in found.items()
            }
            batch = []
            for event in events:
                incident = found.get(event.incident_id)
                if incident is None:
                    continue
                row = queue_row(
                    incident,
                    names[incident.id],
                    now,
                    requests.get(incident.id, (0, 0)),
                    groups[incident.id],
                )
                row["type"] = event.event_type
                # A member that is not its group's lead leaves the queue (under its lead).
                row["open"] = _principal_in_queue(principal, incident) and groups[incident.id].lead
                batch.append((event.position, "incident", row))
            return batch

    # Every console of the service reads the same rows: one read per change.
    return event_stream(db, read, shared_by=("console", principal.role, principal.scope))


# --- one incident -------------------------------------------------------------------------


def _changed(paths: Iterable[str]) -> Any:
    """A test for the template: was the field at ``path`` changed by the latest amendment?"""
    changed = tuple(paths)

    def test(path: str) -> bool:
        return any(
            p == path or p.startswith(path + ".") or path.startswith(p + ".") for p in changed
        )

    return test


def _refusal(incident: Incident, target: str) -> str:
    """Why ``target`` was refused, in the words of the step that came first."""
    last = next((c for c in reversed(incident.status_changes) if c.status == incident.status), None)
    by = f" par {who(last.author)} à {paris(last.at, '%H:%M')}" if last else ""
    status = incident.status
    if status == "acknowledged" and target == "acknowledged":
        text = f"l'incident a déjà été pris en compte{by}"
    elif status == "dispatched":
        text = f"une patrouille a déjà été engagée{by}"
    elif status == "closed":
        text = f"l'incident est clôturé{by}"
    elif status == "rejected":
        text = f"l'incident a été rejeté{by}"
    elif status == "withdrawn":
        text = f"l'incident a été retiré par l'exploitant{by}"
    else:
        text = (
            f"l'incident est « {STATUS_LABELS.get(status, status)} » : "
            f"l'action « {ACTIONS.get(target, target)} » n'est pas possible"
        )
    return f"Action refusée : {text}."


def _french_errors(messages: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field in messages:
        if field == "status":
            errors["_form"] = "Action inconnue."
            continue
        missing, invalid = FIELD_ERRORS.get(field, ("", "Valeur refusée."))
        errors[field] = missing if field not in body and missing else invalid
    return errors


def _render_detail(
    incident_id: str,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    active: str | None = None,
    refused: str | None = None,
    status: int = 200,
    posting: conversation.Posting | None = None,
    holding_error: str | None = None,
    duplicate_error: str | None = None,
) -> Any:
    principal = current_page_principal()
    with database().transaction() as session:
        try:
            incident = queries.read_incident(session, principal, incident_id, now=g.now)
            versions: list[IncidentVersion] = list(
                queries.list_versions(session, principal, incident_id, now=g.now)
            )
        except NotFound:
            abort(404)
        conv = conversation.context_for(session, principal, incident_id, "console", posting)
        same_event = _same_event(session, principal, incident_id)
        document = documents.incident_document(incident, principal)
        names = queries.place_names(session, incident)
        position = outbox.last_position(session)
        row = queue_row(incident, names, g.now)
        allowed = [a for a in ACTIONS if lifecycle.can_move(incident.status, a)]
        may_act = holding_rules.may_act(incident.held_by, principal.actor, principal.supervisor)
        colleagues = holding.service_operators(session, principal) if principal.supervisor else []
        if active in ACTIONS and active not in allowed and errors:
            # Field errors of a form this status no longer offers: say why it is gone.
            refused, errors, status = active, {}, 409
        refusal = _refusal(incident, refused) if refused else None
    sheet = document["sheet"]
    latest = versions[-1] if versions else None
    changed_paths = list(latest.changed_paths) if latest and latest.version > 1 else []
    location = sheet.get("location") or {}
    coordinates = location.get("coordinates") or None
    erase = parse_instant((sheet.get("video") or {}).get("erased_after"))
    return (
        render_template(
            "console_incident.html",
            incident=incident,
            doc=document,
            sheet=sheet,
            location=location,
            coordinates=coordinates,
            names=names,
            row=row,
            commune=commune_name(incident.insee_code),
            versions=versions,
            changed_paths=changed_paths,
            changed=_changed(changed_paths),
            history=document["status_history"],
            erase=erase,
            erase_text=countdown_label(erase, g.now) if erase else "",
            cctv=cctv_context(principal, incident, g.now),
            allowed=allowed,
            errors=errors or {},
            values=values or {},
            active=active,
            refusal=refusal,
            position=position,
            updated_by={"autre": "operator", "exploitant": "exploitant"}.get(
                request.args.get("maj", "")
            ),
            labels=_labels(),
            paris=paris,
            who=who,
            conv=conv,
            same_event=same_event,
            duplicate_error=duplicate_error,
            holding={
                "holder": who(incident.held_by) if incident.held_by else None,
                "since": paris(incident.held_at, "%H:%M") if incident.held_at else "",
                "mine": incident.held_by == principal.actor,
                "may_act": may_act,
                "supervisor": principal.supervisor,
                "colleagues": colleagues,
                "open": incident.status in OPEN_STATUSES,
                "error": holding_error,
            },
            **attachments_context(principal, incident_id),
        ),
        status,
    )


def _same_event(session: Any, principal: Principal, incident_id: str) -> dict[str, Any]:
    """The incident's duplicate candidates and its group, for the page."""
    found = grouping.duplicates_of(session, principal, incident_id)
    group = found["group"]
    members = []
    if group is not None:
        by_id = queries.incidents_by_id(session, group["members"])
        for member_id in group["members"]:
            member = by_id[member_id]
            members.append(
                {
                    "id": member.id,
                    "reference": member.operator_reference,
                    "operator": member.operator.name,
                    "priority": member.priority,
                    "status": STATUS_LABELS.get(member.status, member.status),
                    "lead": member.id == group["lead"],
                    "url": url_for("console.incident", incident_id=member.id),
                    "self": member.id == incident_id,
                }
            )
    candidates = [
        {**c, "url": url_for("console.incident", incident_id=c["incident_id"])}
        for c in found["candidates"]
        if c["state"] == "proposed"
    ]
    return {"candidates": candidates, "members": members}


DECISIONS = {
    "same": "Même événement : les signalements sont groupés, le principal agit pour tous.",
    "distinct": "Événements distincts : ce rapprochement ne sera plus proposé.",
}


@bp.route("/incidents/<incident_id>/doublons", methods=["POST"])
@page_requires("incident.group")
def decide_duplicate(incident_id: str) -> Any:
    """« Même événement » or « distinct » on a proposed pair; or leave the group."""
    principal = current_page_principal()
    decision = request.form.get("decision", "")[:16]
    other = request.form.get("autre", "")[:64]
    try:
        with database().transaction() as session:
            if decision == "leave":
                grouping.leave(session, principal, incident_id, now=g.now)
            elif decision in DECISIONS:
                grouping.decide(session, principal, incident_id, other, decision, now=g.now)
            else:
                return _render_detail(incident_id, duplicate_error="Décision inconnue.", status=422)
    except NotFound:
        abort(404)
    except Refused as refused:
        return _render_detail(
            incident_id, duplicate_error=refused.message, status=409 if refused.conflict else 422
        )
    flash(DECISIONS.get(decision, "L'incident a quitté son groupe : il est traité seul."), "succes")
    return redirect(url_for("console.incident", incident_id=incident_id), code=303)


HOLDING_DONE = {
    "take": "Vous avez pris l'incident : les autres consoles du service le voient.",
    "release": "Incident relâché : un autre opérateur peut le prendre.",
    "reassign": "Incident réattribué.",
}


@bp.route("/incidents/<incident_id>/prise", methods=["POST"])
@page_requires("incident.take")
def hold(incident_id: str) -> Any:
    """Take the incident ("je prends"), release it, or (a supervisor) reassign it."""
    principal = current_page_principal()
    what = request.form.get("prise", "")[:16]
    to = request.form.get("a", "").strip()[:254] or None
    if what not in HOLDING_DONE:
        return _render_detail(incident_id, holding_error="Action inconnue.", status=422)
    try:
        with database().transaction() as session:
            if what == "take":
                incident = holding.take(session, principal, incident_id, now=g.now)
            elif what == "release":
                incident = holding.release(session, principal, incident_id, now=g.now)
            else:
                incident = holding.reassign(session, principal, incident_id, to, now=g.now)
            waited = (g.now - incident.received_at).total_seconds()
            priority = incident.priority
            taken_now = what == "take" and incident.held_at == g.now
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except holding.HeldByAnother as held:
        return _render_detail(incident_id, holding_error=held.message, status=409)
    except Refused as refused:
        message = (
            "Aucun opérateur actif de ce centre n'a cette adresse."
            if refused.field == "to"
            else "L'incident n'est plus ouvert : personne ne le prend plus."
        )
        return _render_detail(
            incident_id, holding_error=message, status=409 if refused.conflict else 422
        )
    if taken_now:
        metrics.observe_status_change(priority, "taken", waited)
    flash(HOLDING_DONE[what], "succes")
    return redirect(url_for("console.incident", incident_id=incident_id), code=303)


@bp.route("/incidents/<incident_id>/conversation")
@page_requires("command_centre.queue")
def conversation_part(incident_id: str) -> Any:
    """The conversation alone: the page's script reads it again when a message comes."""
    return conversation.part_response("console", incident_id)


@bp.route("/incidents/<incident_id>/messages", methods=["POST"])
@page_requires("command_centre.queue")
def post_message(incident_id: str) -> Any:
    """Write to the operator, ask it for information, answer it, or keep a note."""
    return conversation.post_response("console", incident_id, _render_detail)


@bp.route("/incidents/<incident_id>")
@page_requires("command_centre.queue")
def incident(incident_id: str) -> Any:
    """The full sheet, its versions and status history, and the actions left."""
    return _render_detail(incident_id)


@bp.route("/incidents/<incident_id>/action", methods=["POST"])
@page_requires("incident.change_status")
def act(incident_id: str) -> Any:
    """Acknowledge, dispatch, close or reject: the API's rules, answered in French."""
    target = request.form.get("action", "")[:32]
    values = {
        key: request.form.get(key, "")[:2000] for key in ("call_sign", "outcome", "cause_code")
    }
    values |= {key: request.form.get(key, "")[:2000] for key in ("comment", "cause")}
    values["redirect_to"] = request.form.get("redirect_to", "")[:64]
    body: dict[str, Any] = {"status": target}
    for key in ACTION_FIELDS.get(target, ()):
        value = values[key].strip()
        if value:
            body[key] = value
    try:
        checked = StatusRequestSchema().load(body)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        errors = _french_errors(messages, body)
        return _render_detail(incident_id, errors=errors, values=values, active=target, status=422)
    try:
        with database().transaction() as session:
            changed = actions.change_status(
                session, current_page_principal(), incident_id, checked, now=g.now
            )
            waited = (g.now - changed.received_at).total_seconds()
            priority = changed.priority
    except NotFound:
        abort(404)
    except holding.HeldByAnother as held:
        return _render_detail(incident_id, holding_error=held.message, status=409)
    except lifecycle.TransitionRefused:
        return _render_detail(incident_id, values=values, active=target, refused=target, status=409)
    except queries.UnknownService:
        errors = {"redirect_to": "Service inconnu, ou le service actuel."}
        return _render_detail(incident_id, errors=errors, values=values, active=target, status=422)
    metrics.observe_status_change(priority, target, waited)
    flash(ACTION_DONE[target], "succes")
    if target in ("closed", "rejected"):
        # The incident has left the queue: back to it, the message on top.
        return redirect(url_for("console.queue"))
    return redirect(url_for("console.incident", incident_id=incident_id))


def _labels() -> dict[str, Any]:
    return {
        "natures": NATURE_LABELS,
        "statuses": STATUS_LABELS,
        "outcomes": OUTCOME_LABELS,
        "reject_causes": REJECT_CAUSE_LABELS,
        "reject_cause_order": REJECT_CAUSES,
        "priorities": PRIORITY_LABELS,
        "priority_reasons": PRIORITY_REASONS,
        "channels": CHANNEL_LABELS,
        "reporters": REPORTER_ROLE_LABELS,
        "states": STATE_LABELS,
        "modes": MODE_LABELS,
        "places": PLACE_LABELS,
        "vehicle_positions": VEHICLE_POSITION_LABELS,
        "coordinate_sources": COORDINATE_SOURCE_LABELS,
        "severities": SEVERITY_LABELS,
        "suspect_statuses": SUSPECT_STATUS_LABELS,
        "weapons": WEAPON_LABELS,
        "victim_kinds": VICTIM_KIND_LABELS,
        "staff_functions": STAFF_FUNCTION_LABELS,
        "complaints": COMPLAINT_LABELS,
        "video_exists": VIDEO_EXISTS_LABELS,
        "video_sources": VIDEO_SOURCE_LABELS,
        "consents": CONSENT_LABELS,
        "roles": ROLE_LABELS,
        "warnings": WARNING_LABELS,
        "section": section_label,
        "actions": ACTIONS,
        "outcome_order": OUTCOMES,
        "open_statuses": OPEN_STATUSES,
        "priority_order": PRIORITIES,
        "nature_order": NATURES,
    }
