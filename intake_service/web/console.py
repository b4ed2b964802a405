"""The command-centre console (``command_centre``): the live queue, the sheet, the actions.

The queue and the sheet are rendered on the server; ``console.js`` keeps them
current from ``/console/flux``, a server-sent event stream read from the outbox
for the operator's service. Each event carries the incident's queue row as it
is *now* (not as the event saw it): replaying a stretch of events after a
reconnection then converges on the current state, whatever was missed.
"""

from __future__ import annotations

import datetime as dt
import re
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
from intake_service.command_centre import actions
from intake_service.command_centre.queue import command_centre_queue
from intake_service.feed import outbox
from intake_service.intake import documents, queries
from intake_service.intake.rules import lifecycle
from intake_service.models import Incident, IncidentVersion
from intake_service.platform.errors import NotFound
from intake_service.platform.labels import (
    CHANNEL_LABELS,
    COMPLAINT_LABELS,
    CONSENT_LABELS,
    COORDINATE_SOURCE_LABELS,
    MODE_LABELS,
    NATURE_LABELS,
    OUTCOME_LABELS,
    PARIS,
    PLACE_LABELS,
    PRIORITY_LABELS,
    PRIORITY_REASONS,
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
from intake_service.web.auth import current_page_principal, page_requires
from intake_service.web.live import event_stream
from schemas.incident import StatusRequestSchema
from schemas.vocabulary import NATURES, OPEN_STATUSES, OUTCOMES, PRIORITIES

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
    "rejected": ("cause", "redirect_to"),
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
    "cause": (
        "La cause est obligatoire pour rejeter.",
        "La cause fait 500 caractères au plus.",
    ),
    "redirect_to": (
        "",
        "Code de service invalide : minuscules, chiffres et tirets (ex. : ddsp-83).",
    ),
}


# --- formatting ---------------------------------------------------------------------------


def paris(moment: dt.datetime | str | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    """A UTC instant (or ISO text) as Paris local time."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        parsed = parse_instant(moment)
        if parsed is None:
            return moment
        moment = parsed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS).strftime(pattern)


def age_label(since: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in words: 'il y a 12 min'."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return "à l'instant"
    if minutes < 60:
        return f"il y a {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"il y a {hours} h {minutes:02d}"
    return f"il y a {hours // 24} j"


def countdown_label(deadline: dt.datetime, now: dt.datetime) -> str:
    """Time left before the footage is overwritten ('dans 2 j 4 h'), or that it has passed."""
    minutes = int((deadline - now).total_seconds() // 60)
    if minutes < 0:
        return "délai dépassé : les images sont sans doute effacées"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"effacement dans {days} j {hours} h"
    if hours:
        return f"effacement dans {hours} h {minutes:02d} min"
    return f"effacement dans {minutes} min"


def who(actor: str) -> str:
    """'user:3 (cic@ddsp31.test)' → 'cic@ddsp31.test'; a token's label likewise."""
    match = re.fullmatch(r"[a-z]+:\d+ \((.*)\)", actor)
    return match.group(1) if match else actor


def parse_instant(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def commune_name(insee_code: str | None) -> str | None:
    """The commune's name from the shared index (already loaded by routing)."""
    if not insee_code:
        return None
    from intake_service.territory.communes import shared_index

    try:
        commune = shared_index(current_app.extensions["intake.communes"].cache_dir).by_code(
            insee_code
        )
    except Exception:  # noqa: BLE001 - a name is a nicety: the code is shown instead
        return None
    return commune.name if commune is not None else None


# --- data ---------------------------------------------------------------------------------


def place_label(incident: Incident, names: queries.PlaceNames) -> str:
    """Where, in a few words: the stop, else the address, else the commune."""
    location = incident.sheet.get("location") or {}
    if names.stop:
        return names.stop
    if names.previous_stop and names.next_stop:
        return f"Entre {names.previous_stop} et {names.next_stop}"
    if location.get("address"):
        return str(location["address"])
    commune = commune_name(incident.insee_code)
    if commune:
        return commune
    return f"Commune {incident.insee_code}" if incident.insee_code else "Lieu non précisé"


def queue_row(incident: Incident, names: queries.PlaceNames, now: dt.datetime) -> dict[str, Any]:
    """One line of the queue: what the page shows and what the live stream sends."""
    location = incident.sheet.get("location") or {}
    natures = list(incident.sheet.get("natures") or [incident.primary_nature])
    return {
        "id": incident.id,
        "url": url_for("console.incident", incident_id=incident.id),
        "priority": incident.priority,
        "priority_rank": incident.priority_rank,
        "status": incident.status,
        "status_label": STATUS_LABELS.get(incident.status, incident.status),
        "escalated": incident.escalated_for is not None,
        "nature": incident.primary_nature,
        "nature_label": NATURE_LABELS.get(incident.primary_nature, incident.primary_nature),
        "natures": natures,
        "place": place_label(incident, names),
        "place_kind": PLACE_LABELS.get(location.get("place", ""), ""),
        "route_id": location.get("route_id") or "",
        "line": names.route or location.get("route_id") or "",
        "operator": incident.operator.name,
        "received_at": incident.received_at.isoformat(),
        "received_time": paris(incident.received_at, "%H:%M"),
        "age": age_label(incident.received_at, now),
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
        all_rows = [queue_row(i, queries.place_names(session, i), g.now) for i in found]
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
            names = {
                incident_id: queries.place_names(session, incident)
                for incident_id, incident in found.items()
            }
            batch = []
            for event in events:
                incident = found.get(event.incident_id)
                if incident is None:
                    continue
                row = queue_row(incident, names[incident.id], now)
                row["type"] = event.event_type
                row["open"] = _principal_in_queue(principal, incident)
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
        document = documents.incident_document(incident, principal)
        names = queries.place_names(session, incident)
        position = outbox.last_position(session)
        row = queue_row(incident, names, g.now)
        allowed = [a for a in ACTIONS if lifecycle.can_move(incident.status, a)]
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
        ),
        status,
    )


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
    values = {key: request.form.get(key, "")[:2000] for key in ("call_sign", "outcome")}
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
            actions.change_status(
                session, current_page_principal(), incident_id, checked, now=g.now
            )
    except NotFound:
        abort(404)
    except lifecycle.TransitionRefused:
        return _render_detail(incident_id, values=values, active=target, refused=target, status=409)
    except queries.UnknownService:
        errors = {"redirect_to": "Service inconnu, ou le service actuel."}
        return _render_detail(incident_id, errors=errors, values=values, active=target, status=422)
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
