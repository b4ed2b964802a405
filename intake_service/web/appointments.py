"""The operator's appointment follow-up (``/suivi/rendez-vous``) and the measures page.

An operator sees its staff victims' requests: appointments booked (date, station),
offers to accept (the victim was undecided), requests waiting for a slot; it can
accept an offer or cancel an appointment with a reason. The list shows the
victim's function and the incident reference, no name. ``/rendez-vous/indicateurs``
shows the measures of each caller's scope (``appointment_measures``).
"""

from __future__ import annotations

import datetime as dt
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

from intake_service.appointments import changes, queries
from intake_service.appointments import measures as appointment_measures
from intake_service.platform.clock import PARIS
from intake_service.platform.errors import NotFound, Refused
from intake_service.platform.labels import (
    APPOINTMENT_REQUEST_STATE_LABELS,
    APPOINTMENT_STATUS_LABELS,
    STAFF_FUNCTION_LABELS,
    date_time,
)
from intake_service.serving.context import booking_policy, database
from intake_service.web.auth import current_page_principal, page_requires
from intake_service.web.stations import REASON_MAX, cancel_from_page

bp = Blueprint("appointment_pages", __name__)

LIST_SIZE = 200


@bp.route("/suivi/rendez-vous")
@page_requires("appointment.accept_offer")
def follow_up() -> Any:
    principal = current_page_principal()
    rows = []
    with database().transaction() as session:
        found = queries.operator_requests(session, principal, LIST_SIZE)
        if found is None:
            abort(403)
        for line in found:
            req, incident, held = line.request, line.incident, line.held
            victims = incident.sheet.get("victims") or []
            victim = victims[req.victim_index] if 0 <= req.victim_index < len(victims) else {}
            row: dict[str, Any] = {
                "id": req.id,
                "reference": incident.operator_reference,
                "incident_id": incident.id,
                "function": STAFF_FUNCTION_LABELS.get(victim.get("staff_function") or "", "Agent"),
                "state": req.state,
                "state_label": APPOINTMENT_REQUEST_STATE_LABELS.get(req.state, req.state),
                "book_by": date_time(req.book_by),
                "appointment": None,
            }
            if held is not None:
                appointment, slot, station = held.appointment, held.slot, held.station
                row["appointment"] = {
                    "id": appointment.id,
                    "status": appointment.status,
                    "status_label": APPOINTMENT_STATUS_LABELS.get(
                        appointment.status, appointment.status
                    ),
                    "when": date_time(slot.starts_at),
                    "station": station.name,
                    "address": station.address,
                    "reason": appointment.end_reason or "",
                }
            rows.append(row)
    return render_template("appointment_follow_up.html", rows=rows, reason_max=REASON_MAX)


def _back() -> Any:
    return redirect(url_for("appointment_pages.follow_up"), code=303)


@bp.route("/suivi/rendez-vous/demandes/<int:request_id>/accepter", methods=["POST"])
@page_requires("appointment.accept_offer")
def accept(request_id: int) -> Any:
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            accepted = changes.accept_offer(
                session, principal, request_id, g.now, policy=booking_policy()
            )
            state = accepted.state
    except NotFound:
        abort(404)
    except Refused as refused:
        flash(f"Refusé : {refused.message}", "erreur")
        return _back()
    flash(
        "Le rendez-vous est réservé."
        if state == "booked"
        else "La demande attend un créneau : elle sera réservée dès qu'un créneau s'ouvre.",
        "succes",
    )
    return _back()


@bp.route("/suivi/rendez-vous/<int:appointment_id>/annuler", methods=["POST"])
@page_requires("appointment.change")
def cancel(appointment_id: int) -> Any:
    if current_page_principal().role != "operator":
        abort(403)  # the operator's page; stations cancel from theirs
    return cancel_from_page(
        appointment_id, "Le rendez-vous est annulé ; le commissariat est libéré du créneau.", _back
    )


def _date_arg(name: str) -> dt.date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(400)


@bp.route("/rendez-vous/indicateurs")
@page_requires("appointment.measures")
def measures() -> Any:
    principal = current_page_principal()
    start, end = _date_arg("du"), _date_arg("au")
    if start is not None and end is not None and end < start:
        abort(400)
    since, until = appointment_measures.period(start, end, g.now)
    try:
        with database().transaction() as session:
            report = appointment_measures.measure(
                session,
                principal,
                since,
                until,
                g.now,
                operator=request.args.get("operateur") or None,
                station=request.args.get("commissariat") or None,
            )
    except appointment_measures.OutOfScope:
        abort(404)
    last_day = (until - dt.timedelta(days=1)).astimezone(PARIS).date()
    return render_template(
        "appointment_measures.html",
        report=report,
        start=since.astimezone(PARIS).date().isoformat(),
        end=last_day.isoformat(),
        principal_role=principal.role,
    )
