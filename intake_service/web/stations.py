"""The police station's pages (``station_officer``): appointments, queue, slots, summaries.

``/commissariat`` lists the coming appointments (time, incident reference, the
victim's function: no name in the list), the waiting queue (oldest first, with
its deadline), the slots of the coming two weeks (close one; generate them from
weekly hours), the emails that could not be sent. Each appointment can be
cancelled or moved with a reason, and marked honoured or missed once started.
The pre-filled complaint summary (``.../synthese``, printable, and ``.pdf``) is
audited at each read. The use cases are in ``stations`` and ``appointments``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
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

from intake_service.access.rules.permissions import Principal, station_of
from intake_service.appointments import changes, complaint_summary, queries, stations
from intake_service.appointments.slots import SlotRefused, close_slot, generate_slots
from intake_service.intake.queries import incidents_by_id
from intake_service.models import (
    Incident,
)
from intake_service.platform import pdf
from intake_service.platform.errors import NotFound, Refused
from intake_service.platform.labels import (
    APPOINTMENT_STATUS_LABELS,
    EMAIL_KIND_LABELS,
    PRIORITY_LABELS,
    STAFF_FUNCTION_LABELS,
    WEEKDAY_LABELS,
    date_time,
    hour,
    in_paris,
)
from intake_service.serving.context import booking_policy, database
from intake_service.web.auth import current_page_principal, page_requires

bp = Blueprint("stations_pages", __name__, url_prefix="/commissariat")

REASON_MAX = 500
UPCOMING = dt.timedelta(days=60)
SLOT_WINDOW = dt.timedelta(days=14)
FAILED_EMAILS_SHOWN = 50
HOURS = re.compile(r"^\s*([01]?\d|2[0-3])[:h]([0-5]\d)\s*-\s*([01]?\d|2[0-3])[:h]([0-5]\d)\s*$")


def _station_code(principal: Principal) -> str:
    code = station_of(principal)
    if code is None:
        abort(403)
    return code


def _victim_function(incident: Incident | None, index: int) -> str:
    victims = (incident.sheet.get("victims") or []) if incident is not None else []
    victim = victims[index] if 0 <= index < len(victims) else {}
    return STAFF_FUNCTION_LABELS.get(victim.get("staff_function") or "", "Agent")


@bp.route("")
@page_requires("station.read_appointments")
def index() -> Any:
    principal = current_page_principal()
    code = _station_code(principal)
    now: dt.datetime = g.now
    with database().transaction() as session:
        try:
            station = stations.get_station(session, principal, code)
        except NotFound:
            abort(404)
        booked = queries.station_appointments(
            session, principal, code, now - dt.timedelta(days=1), now + UPCOMING, ("booked",)
        )
        waiting = queries.station_queue(session, principal, code)
        incidents = incidents_by_id(
            session,
            [req.incident_id for _, _, req in booked] + [req.incident_id for req in waiting],
        )
        upcoming = []
        for appointment, slot, req in booked:
            incident = incidents.get(req.incident_id)
            upcoming.append(
                {
                    "id": appointment.id,
                    "when": date_time(slot.starts_at),
                    "started": in_paris(slot.starts_at) <= in_paris(now),
                    "reference": incident.operator_reference if incident else req.incident_id,
                    "operator": incident.operator.name if incident else "",
                    "priority": req.priority,
                    "function": _victim_function(incident, req.victim_index),
                }
            )
        queue = []
        for req in waiting:
            incident = incidents.get(req.incident_id)
            queue.append(
                {
                    "id": req.id,
                    "since": date_time(req.created_at),
                    "book_by": date_time(req.book_by),
                    "late": in_paris(req.book_by) < in_paris(now),
                    "reference": incident.operator_reference if incident else req.incident_id,
                    "priority": req.priority,
                    "function": _victim_function(incident, req.victim_index),
                }
            )
        slots = [
            {
                "id": slot.id,
                "when": date_time(slot.starts_at),
                "ends": hour(slot.ends_at),
                "reserved": slot.reserved and slot.released_at is None,
                "closed": slot.closed_at is not None,
                "appointment_id": appointment_id,
            }
            for slot, appointment_id in queries.station_slots(
                session, principal, code, now, now + SLOT_WINDOW
            )
        ]
        failed = _failed_emails(session, code)
    free_slots = [s for s in slots if not s.get("closed") and s.get("appointment_id") is None]
    today = in_paris(now).date()
    return render_template(
        "station_index.html",
        station=station,
        upcoming=upcoming,
        queue=queue,
        slots=slots,
        free_slots=free_slots,
        failed=failed,
        weekdays=WEEKDAY_LABELS,
        default_from=today.isoformat(),
        default_to=(today + dt.timedelta(days=13)).isoformat(),
        priority_labels=PRIORITY_LABELS,
    )


def _failed_emails(session: Any, code: str) -> list[dict[str, Any]]:
    """Emails of this station's appointments or requests the mailer gave up on."""
    return [
        {
            "kind": EMAIL_KIND_LABELS.get(message.kind, message.kind),
            "created": date_time(message.created_at),
            "attempts": message.attempts,
            "error": message.last_error or "",
            "reference": reference,
        }
        for message, reference in queries.failed_emails(session, code, FAILED_EMAILS_SHOWN)
    ]


def _back() -> Any:
    return redirect(url_for("stations_pages.index"), code=303)


def cancel_from_page(appointment_id: int, done: str, back: Callable[[], Any]) -> Any:
    """Cancel the appointment with the form's reason, as the signed-in person (the
    station's and the operator's pages); ``done`` is flashed on success."""
    reason = form_reason()
    if reason is None:
        return back()
    try:
        with database().transaction() as session:
            changes.cancel(
                session,
                current_page_principal(),
                appointment_id,
                reason,
                g.now,
                policy=booking_policy(),
            )
    except NotFound:
        abort(404)
    except Refused as refused:
        flash(f"Annulation refusée : {refused.message}", "erreur")
        return back()
    flash(done, "succes")
    return back()


def form_reason() -> str | None:
    """The form's ``motif`` (cancel, move), or None with the error flashed."""
    reason = request.form.get("motif", "").strip()
    if not reason:
        flash("Indiquez le motif.", "erreur")
        return None
    if len(reason) > REASON_MAX:
        flash(f"Le motif ne doit pas dépasser {REASON_MAX} caractères.", "erreur")
        return None
    return reason


def _weekly_hours() -> dict[int, list[tuple[str, str]]]:
    """``horaires_0`` … ``horaires_6``: « 09:00-12:00, 14:00-17:00 » per weekday."""
    weekly: dict[int, list[tuple[str, str]]] = {}
    for day in range(7):
        text = request.form.get(f"horaires_{day}", "").strip()
        if not text:
            continue
        for part in text.split(","):
            match = HOURS.match(part)
            if match is None:
                raise ValueError(
                    f"{WEEKDAY_LABELS[day]} : « {part.strip()} » n'est pas une plage "
                    "comme 09:00-12:00."
                )
            h1, m1, h2, m2 = match.groups()
            weekly.setdefault(day, []).append((f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"))
    if not weekly:
        raise ValueError("Indiquez les horaires d'au moins un jour.")
    return weekly


@bp.route("/creneaux/generer", methods=["POST"])
@page_requires("station.manage_slots")
def generate() -> Any:
    principal = current_page_principal()
    code = _station_code(principal)
    try:
        start = dt.date.fromisoformat(request.form.get("du", ""))
        end = dt.date.fromisoformat(request.form.get("au", ""))
        minutes = int(request.form.get("duree", "45"))
        share = int(request.form.get("part_reservee", "50")) / 100
        weekly = _weekly_hours()
    except ValueError as exc:
        message = str(exc) if "plage" in str(exc) or "horaires" in str(exc) else ""
        flash(message or "Dates, durée ou part réservée invalides.", "erreur")
        return _back()
    try:
        with database().transaction() as session:
            stations.get_station(session, principal, code)
            created = generate_slots(
                session,
                code,
                start,
                end,
                weekly,
                minutes,
                share,
                g.now,
                policy=booking_policy(),
                principal=principal,
            )
            count = len(created)
    except SlotRefused as refused:
        flash(f"Créneaux refusés : {refused.message}", "erreur")
        return _back()
    except NotFound:
        abort(404)
    flash(f"{count} créneau(x) créé(s).", "succes")
    return _back()


@bp.route("/creneaux/<int:slot_id>/fermer", methods=["POST"])
@page_requires("station.manage_slots")
def close(slot_id: int) -> Any:
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            close_slot(session, principal, slot_id, g.now)
    except NotFound:
        abort(404)
    except SlotRefused:
        flash(
            "Un rendez-vous occupe ce créneau : annulez-le ou déplacez-le d'abord.",
            "erreur",
        )
        return _back()
    flash("Le créneau est fermé.", "succes")
    return _back()


@bp.route("/rendez-vous/<int:appointment_id>/annuler", methods=["POST"])
@page_requires("station.read_appointments")
def cancel(appointment_id: int) -> Any:
    # The station's page: officers only.
    return cancel_from_page(
        appointment_id,
        "Le rendez-vous est annulé ; la victime et l'opérateur sont prévenus.",
        _back,
    )


@bp.route("/rendez-vous/<int:appointment_id>/deplacer", methods=["POST"])
@page_requires("station.read_appointments")
def reschedule(appointment_id: int) -> Any:
    principal = current_page_principal()  # the station's page: officers only
    reason = form_reason()
    if reason is None:
        return _back()
    try:
        slot_id = int(request.form.get("creneau", ""))
    except ValueError:
        flash("Choisissez le nouveau créneau.", "erreur")
        return _back()
    try:
        with database().transaction() as session:
            changes.reschedule(
                session, principal, appointment_id, slot_id, reason, g.now, policy=booking_policy()
            )
    except NotFound:
        abort(404)
    except Refused as refused:
        flash(f"Déplacement refusé : {refused.message}", "erreur")
        return _back()
    flash("Le rendez-vous est déplacé ; la victime et l'opérateur sont prévenus.", "succes")
    return _back()


@bp.route("/rendez-vous/<int:appointment_id>/issue", methods=["POST"])
@page_requires("appointment.outcome")
def outcome(appointment_id: int) -> Any:
    principal = current_page_principal()
    value = request.form.get("issue", "")
    if value not in changes.OUTCOMES:
        flash("Indiquez si la victime est venue.", "erreur")
        return _back()
    try:
        with database().transaction() as session:
            changes.mark_outcome(session, principal, appointment_id, value, g.now)
    except NotFound:
        abort(404)
    except Refused as refused:
        flash(f"Refusé : {refused.message}", "erreur")
        return _back()
    flash(
        "Rendez-vous honoré." if value == "honoured" else "Rendez-vous non honoré.",
        "succes",
    )
    return _back()


def _commune_name(insee_code: str) -> str | None:
    """From the process's commune index (already loaded by routing in this process)."""
    from intake_service.territory.communes import shared_index

    try:
        cache_dir = current_app.extensions["intake.communes"].cache_dir
        commune = shared_index(cache_dir).by_code(insee_code)
    except Exception:  # noqa: BLE001 - a name is a nicety: the code is shown anyway
        return None
    return commune.name if commune is not None else None


def _summary(appointment_id: int) -> complaint_summary.Summary:
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            return complaint_summary.read_summary(
                session, principal, appointment_id, g.now, commune_name=_commune_name
            )
    except complaint_summary.NotFound:
        abort(404)


@bp.route("/rendez-vous/<int:appointment_id>/synthese")
@page_requires("station.read_appointments")
def summary(appointment_id: int) -> Any:
    return render_template(
        "station_summary.html",
        summary=_summary(appointment_id),
        appointment_status_labels=APPOINTMENT_STATUS_LABELS,
    )


@bp.route("/rendez-vous/<int:appointment_id>/synthese.pdf")
@page_requires("station.read_appointments")
def summary_pdf(appointment_id: int) -> Any:
    document = complaint_summary.document(_summary(appointment_id))
    return Response(
        pdf.render(document),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="synthese-plainte-{appointment_id}.pdf"'
            ),
            "Cache-Control": "no-store",
        },
    )
