"""The operator's follow-up (``operator``): its incidents, live, with their history.

An operator sees what the command centre did with its sheets by step and by role
(prise en compte, patrouille engagée, clôturée avec son issue), never who at the
desk, call signs or comments: the history comes through
``documents.incident_document(incident, viewer)``, which narrows it, and the live
stream carries only the incident's own fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from intake_service import models
from intake_service.access.rules.permissions import Principal
from intake_service.direct_line.messages import MESSAGE_POSTED
from intake_service.direct_line.rules.conversation import visible_to
from intake_service.feed import outbox
from intake_service.intake import amendments, documents, queries, submission
from intake_service.intake.rules import lifecycle
from intake_service.intake.rules.lifecycle import can_move
from intake_service.models import GtfsRoute, OutboxEvent
from intake_service.platform.clock import PARIS
from intake_service.platform.errors import NotFound
from intake_service.platform.labels import (
    FIELD_LABELS,
    NATURE_LABELS,
    OUTCOME_LABELS,
    PLACE_LABELS,
    PRIORITY_LABELS,
    REJECT_CAUSE_LABELS,
    SEVERITY_LABELS,
    SHEET_STATUS_LABELS,
    STATE_LABELS,
    SUSPECT_STATUS_LABELS,
    VIDEO_EXISTS_LABELS,
    WARNING_LABELS,
    WEAPON_LABELS,
    date_time,
    hour,
    in_sentence,
)
from intake_service.serving.context import database
from intake_service.territory import gtfs
from intake_service.web import conversation
from intake_service.web.attachments import attachments_context
from intake_service.web.auth import current_page_principal, page_requires
from intake_service.web.cctv import cctv_context
from intake_service.web.live import event_stream
from schemas.vocabulary import PRIORITIES, STATUSES

bp = Blueprint("follow_up", __name__, url_prefix="/operateur")

PAGE_SIZE = 25
REASON_MAX = 500  # as the API's WithdrawalSchema

# The operator may withdraw a sheet until the command centre has it (lifecycle table).
WITHDRAWABLE = frozenset(status for status in STATUSES if can_move(status, "withdrawn"))
UNROUTED_LABEL = "Non déterminé (file nationale de secours)"
REFUSED_ACKNOWLEDGED = (
    "La fiche a déjà été prise en compte par le centre de commandement : "
    "elle ne peut plus être retirée, seulement complétée."
)


def paris(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(PARIS)


def command_centre_name(kind: str | None) -> str:
    """Who receives the sheets: the police CIC, or the gendarmerie's operations centre."""
    if kind == "gendarmerie":
        return "le centre d'opérations et de renseignement de la gendarmerie"
    if kind in ("police", "prefecture_de_police"):
        return "le centre d'information et de commandement"
    return "le centre de commandement"


def service_label(incident: models.Incident) -> str:
    if incident.service_name:
        return incident.service_name
    return UNROUTED_LABEL


def timeline(document: Mapping[str, Any], service_kind: str | None) -> list[dict[str, Any]]:
    """The status history as French sentences: what happened, and when.

    ``document`` is the incident as the operator may see it: the command
    centre's steps carry only the outcome, the cause or the re-routing.
    """
    centre = command_centre_name(service_kind)
    steps = []
    received_day = None
    for change in document["status_history"]:
        at: dt.datetime = change["at"]
        detail = change["detail"]
        status = change["status"]
        if received_day is None:
            received_day = paris(at).date()
        when = f"à {hour(at)}" if paris(at).date() == received_day else f"le {date_time(at)}"
        if status == "received" and detail.get("rerouted_to"):
            text = f"Réorientée par {centre} vers le service compétent {when}"
        elif status == "received" and detail.get("resubmitted"):
            text = f"Complétée et envoyée de nouveau {when}"
        elif status == "received":
            text = f"Fiche reçue par le service {when}"
        elif status == "queued":
            text = f"Transmise à {centre} {when}"
        elif status == "acknowledged":
            text = f"Prise en compte par {centre} {when}"
        elif status == "dispatched":
            text = f"Patrouille engagée {when}"
        elif status == "closed":
            outcome = in_sentence(
                OUTCOME_LABELS.get(detail.get("outcome", ""), "sans issue précisée")
            )
            text = f"Clôturée : {outcome} ({when})"
        elif status == "rejected":
            text = f"Rejetée par {centre} {when}"
        elif status == "withdrawn":
            text = f"Retirée par votre service {when}"
        else:
            text = f"{SHEET_STATUS_LABELS.get(status, status).capitalize()} {when}"
        note = None
        if detail.get("grouped"):
            note = (
                "Déjà signalé au centre par un autre signalement du même événement : "
                "traité avec lui."
            )
        elif status == "rejected" and (detail.get("cause_code") or detail.get("cause")):
            reason = REJECT_CAUSE_LABELS.get(detail.get("cause_code") or "", "")
            words = detail.get("cause")
            note = "Motif : " + " — ".join(part for part in (reason, words) if part)
        elif status == "withdrawn" and detail.get("reason"):
            note = f"Motif : {detail['reason']}"
        steps.append({"status": status, "at": at, "text": text, "note": note})
    return steps


def changed_fields(paths: Iterable[str]) -> list[str]:
    """The sections an amendment touched, in French, each once and in the sheet's order."""
    firsts = {str(path).split(".", 1)[0] for path in paths}
    # The top-level keys of FIELD_LABELS come first, in the sheet's order.
    ordered = [key for key in FIELD_LABELS if key in firsts]
    return [FIELD_LABELS[key] for key in ordered] + sorted(firsts - set(FIELD_LABELS))


def warning_text(warning: Mapping[str, Any]) -> str:
    return WARNING_LABELS.get(str(warning.get("code")), str(warning.get("message", "")))


def row_of(incident: models.Incident) -> dict[str, Any]:
    """One line of the list, as the page and the live stream show it."""
    return {
        "id": incident.id,
        "reference": incident.operator_reference,
        "received_at": incident.received_at.isoformat(),
        "received_label": date_time(incident.received_at),
        "priority": incident.priority,
        "nature": NATURE_LABELS.get(incident.primary_nature, incident.primary_nature),
        "status": incident.status,
        "status_label": SHEET_STATUS_LABELS.get(incident.status, incident.status),
        "service": service_label(incident),
        "url": url_for("follow_up.incident", incident_id=incident.id),
    }


def live_event(event: OutboxEvent) -> dict[str, Any] | None:
    """What the operator's pages get of an outbox event: the incident's own fields only,
    or None for an event the operator must not learn of (a command centre's note).

    The envelope holds the full status history with the command centre's
    authors and comments; none of it is passed on.
    """
    if event.event_type == MESSAGE_POSTED:
        message = event.envelope["payload"]["message"]
        if not visible_to("operator", message["side"], message["kind"]):
            return None
    document = event.envelope["payload"]["incident"]
    received_at = dt.datetime.fromisoformat(document["received_at"])
    service = document.get("competent_service") or {}
    primary = document.get("sheet", {}).get("primary_nature", "")
    return {
        "type": event.event_type,
        "id": event.incident_id,
        "reference": document["operator_reference"],
        "status": document["status"],
        "status_label": SHEET_STATUS_LABELS.get(document["status"], document["status"]),
        "priority": document["priority"],
        "version": document["version"],
        "received_at": received_at.isoformat(),
        "received_label": date_time(received_at),
        "nature": NATURE_LABELS.get(primary, primary),
        "service": service.get("name") or UNROUTED_LABEL,
        "url": url_for("follow_up.incident", incident_id=event.incident_id),
        "withdrawable": document["status"] in WITHDRAWABLE,
    }


def _chosen(name: str, allowed: Iterable[str]) -> list[str]:
    """The filter values of the query string that mean something; the rest is ignored."""
    known = set(allowed)
    return [value for value in request.args.getlist(name) if value in known]


# Named ``incidents`` as an endpoint (base.html links to ``follow_up.incidents``) but
# not as a function, which would hide the ``incidents`` module.
@bp.route("/incidents", endpoint="incidents")
@page_requires("incident.list")
def incidents_list() -> Any:
    """The operator's incidents, newest first, a page at a time; statuses follow live."""
    principal = current_page_principal()
    statuses = _chosen("statut", STATUSES)
    priorities = _chosen("priorite", PRIORITIES)
    cursor = request.args.get("curseur") or None
    filters = queries.IncidentFilter(statuses=statuses, priorities=priorities)
    try:
        with database().transaction() as session:
            # The position first: an event committed while the page is read is
            # replayed by the stream rather than lost.
            position = outbox.last_position(session)
            page, next_cursor = queries.list_incidents(
                session, principal, filters, cursor=cursor, limit=PAGE_SIZE
            )
            rows = [row_of(incident) for incident in page]
    except queries.InvalidCursor:
        abort(400)
    except submission.UnknownOperator:
        abort(403)
    older = (
        url_for("follow_up.incidents", statut=statuses, priorite=priorities, curseur=next_cursor)
        if next_cursor
        else None
    )
    return render_template(
        "follow_up_list.html",
        rows=rows,
        statuses=statuses,
        priorities=priorities,
        status_labels=SHEET_STATUS_LABELS,
        priority_labels=PRIORITY_LABELS,
        older=older,
        first_page=cursor is None,
        newest=url_for("follow_up.incidents", statut=statuses, priorite=priorities),
        # New incidents are added live only where they belong: the first, unfiltered page.
        adds_new=cursor is None and not statuses and not priorities,
        flux=url_for("follow_up.flux", apres=position),
    )


def _detail_context(session: Any, principal: Principal, incident_id: str) -> dict[str, Any]:
    """Everything the detail page shows; raises NotFound outside the operator's scope."""
    incident = queries.read_incident(session, principal, incident_id, now=g.now)
    document = documents.incident_document(incident, principal)
    versions = queries.list_versions(session, principal, incident_id, now=g.now)
    sheet = incident.sheet
    location = sheet.get("location", {})
    stop_name = route_name = None
    if location.get("stop_id"):
        stop = gtfs.find_stop(session, incident.operator_id, location["stop_id"])
        stop_name = stop.name if stop is not None else None
    if location.get("route_id"):
        route = session.get(GtfsRoute, (incident.operator_id, location["route_id"]))
        route_name = (route.short_name or route.long_name) if route is not None else None
    return {
        "incident": incident,
        "row": row_of(incident),
        "steps": timeline(document, incident.service_kind),
        "versions": [
            {
                "version": version.version,
                "at": version.created_at,
                "at_label": date_time(version.created_at),
                "priority": version.priority,
                "fields": changed_fields(version.changed_paths),
            }
            for version in versions
        ],
        "sheet": sheet,
        "location": location,
        "stop_name": stop_name,
        "route_name": route_name,
        "warnings": [warning_text(warning) for warning in incident.warnings],
        "withdrawable": incident.status in WITHDRAWABLE,
        **attachments_context(principal, incident.id),
        "occurred_label": date_time(dt.datetime.fromisoformat(sheet["occurred_at"])),
        "cctv": cctv_context(principal, incident, g.now, session),
        "labels": {
            "status": SHEET_STATUS_LABELS,
            "nature": NATURE_LABELS,
            "priority": PRIORITY_LABELS,
            "state": STATE_LABELS,
            "place": PLACE_LABELS,
            "severity": SEVERITY_LABELS,
            "suspects": SUSPECT_STATUS_LABELS,
            "weapon": WEAPON_LABELS,
            "video": VIDEO_EXISTS_LABELS,
        },
    }


def _render_detail(
    incident_id: str,
    *,
    status: int = 200,
    refusal: str | None = None,
    reason: str = "",
    reason_error: str | None = None,
    template: str = "follow_up_detail.html",
    posting: conversation.Posting | None = None,
) -> Any:
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            position = outbox.last_position(session)
            context = _detail_context(session, principal, incident_id)
            # The status part alone shows no message: it reads (and audits) none.
            if template == "follow_up_detail.html":
                context["conv"] = conversation.context_for(
                    session, principal, incident_id, "follow_up", posting
                )
            body = render_template(
                template,
                refusal=refusal,
                reason=reason,
                reason_error=reason_error,
                reason_max=REASON_MAX,
                flux=url_for("follow_up.flux", apres=position),
                **context,
            )
    except NotFound:
        abort(404)
    return body, status


@bp.route("/incidents/<incident_id>")
@page_requires("follow_up.view")
def incident(incident_id: str) -> Any:
    """One incident: where it stands, its history in French, its versions, the sheet."""
    return _render_detail(incident_id)


@bp.route("/incidents/<incident_id>/suivi")
@page_requires("follow_up.view")
def follow_up_part(incident_id: str) -> Any:
    """The status part of the detail page alone: the page's script swaps it in on a change."""
    return _render_detail(incident_id, template="follow_up_status.html")


@bp.route("/incidents/<incident_id>/conversation")
@page_requires("follow_up.view")
def conversation_part(incident_id: str) -> Any:
    """The conversation alone: the page's script reads it again when a message comes."""
    return conversation.part_response("follow_up", incident_id)


@bp.route("/incidents/<incident_id>/messages", methods=["POST"])
@page_requires("follow_up.view")
def post_message(incident_id: str) -> Any:
    """Write to the command centre, answer its requests (and complete the sheet), or keep
    a note of the control room's own."""
    return conversation.post_response("follow_up", incident_id, _render_detail)


@bp.route("/incidents/<incident_id>/retrait", methods=["POST"])
@page_requires("incident.withdraw")
def withdraw(incident_id: str) -> Any:
    """Withdraw a sheet sent by mistake, while the command centre has not taken it."""
    principal = current_page_principal()
    reason = request.form.get("motif", "").strip()
    if len(reason) > REASON_MAX:
        return _render_detail(
            incident_id,
            status=400,
            reason=reason[: REASON_MAX * 2],
            reason_error=f"Le motif ne doit pas dépasser {REASON_MAX} caractères.",
        )
    try:
        with database().transaction() as session:
            amendments.withdraw_incident(session, principal, incident_id, reason or None, now=g.now)
    except NotFound:
        abort(404)
    except lifecycle.TransitionRefused as refused:
        return _render_detail(incident_id, status=409, refusal=refusal_message(refused.status))
    flash("La fiche a été retirée. Le centre de commandement en est informé.", "succes")
    return redirect(url_for("follow_up.incident", incident_id=incident_id), code=303)


def refusal_message(status: str) -> str:
    """Why a withdrawal is refused, in the operator's words."""
    if status == "withdrawn":
        return "La fiche est déjà retirée."
    if status == "rejected":
        return (
            "La fiche a été rejetée par le centre de commandement : elle ne peut plus être "
            "retirée, seulement complétée."
        )
    return REFUSED_ACKNOWLEDGED


@bp.route("/flux")
@page_requires("incident.list")
def flux() -> Any:
    """Server-sent events: the operator's incidents as they change, resumable by position.

    ``Last-Event-ID`` (sent by the browser when it reconnects) wins over
    ``?apres=`` (the position the page was rendered at); without either, the
    stream starts now.
    """
    principal = current_page_principal()
    db = database()
    try:
        with db.reading() as session:
            operator_id = submission.operator_of(session, principal).id
    except submission.UnknownOperator:
        abort(403)

    def read(position: int) -> list[tuple[int, str, dict[str, Any]]]:
        with db.reading() as session:
            events = outbox.events_after(session, position, operator_id=operator_id)
            live = [(event.position, live_event(event)) for event in events]
        return [(position, "incident", data) for position, data in live if data is not None]

    return event_stream(db, read, shared_by=("follow_up", operator_id))
