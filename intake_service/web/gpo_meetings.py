"""The GPO's meetings, in French: the referent plans one (the next date proposed from the
rhythm, pre-filled), regenerates and sends its agenda, records it held (attendance,
minutes), its decisions one by one, or marks it skipped or cancelled; partners read
the agenda and the minutes (their version, without personal data) and, present at a
held meeting, give their view of a problem's assessment.

The forms post flat fields, shaped into the API's bodies and judged by the API's
schemas and use cases (``schemas.gpo_meetings``, ``gpo.meetings``); errors are shown
under their field. The pages work without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError

from intake_service.access.rules.permissions import partner_of
from intake_service.gpo import actions, gpos, meetings, meetings_export, problems
from intake_service.gpo.brief import PartnerIncident
from intake_service.gpo.meetings_export import (
    AGENDA_KIND_LABELS,
    DECISION_KIND_LABELS,
    MEETING_STATUS_LABELS,
    RHYTHM_LABELS,
    VIEW_LABELS,
    paris,
)
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.platform.clock import PARIS
from intake_service.platform.errors import Conflict, Forbidden, NotFound
from intake_service.platform.labels import ACTION_STATUS_LABELS, NATURE_LABELS, PROBLEM_STATE_LABELS
from intake_service.serving.context import database, request_now
from intake_service.web.auth import current_page_principal, page_requires
from intake_service.web.gpo_forms import french
from schemas.errors import flatten_errors
from schemas.gpo_meetings import (
    MeetingCloseSchema,
    MeetingDecisionSchema,
    MeetingEvaluationSchema,
    MeetingHoldSchema,
    MeetingPlanSchema,
)

bp = Blueprint("gpo_meeting_pages", __name__, url_prefix="/gpo")

MESSAGES = {
    "Must not be in the past.": "La date ne peut pas être passée.",
    "Must not be in the future.": "La date ne peut pas être à venir.",
    "No such problem in this GPO.": "Choisissez un problème du GPO.",
    "No such action of this problem.": "Choisissez une action de ce problème.",
    "This partner was not present.": "Ce partenaire n'était pas présent.",
    "Name the partner whose view this is.": "Choisissez le partenaire.",
    "Not a valid datetime.": "Date et heure invalides (jj/mm/aaaa hh:mm).",
    "Missing data for required field.": "Obligatoire.",
}


def _french(message: str) -> str:
    return MESSAGES.get(message) or french(message)


def _errors(errors: list[dict[str, str]]) -> dict[str, str]:
    """Errors by form field name (the API's paths, ``decision.`` / ``decisions.N.`` off)."""
    shown: dict[str, str] = {}
    for error in errors:
        parts = error["field"].split(".")
        if parts[0] in ("decision", "decisions"):
            parts = [p for p in parts[1:] if not p.isdigit()]
        shown.setdefault(".".join(parts) or "formulaire", _french(error["message"]))
    return shown


def _paris_input(value: str) -> str:
    """A ``datetime-local`` value (Paris time) as the API's instant; else as typed, for
    the schema to name it."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.isoformat()


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def _not_found() -> Any:
    abort(404)  # raises


# --- list and plan ------------------------------------------------------------------------


@bp.route("/<gpo_code>/reunions", methods=["GET"])
@page_requires("gpo.meeting.read")
def meeting_list(gpo_code: str) -> Any:
    """The GPO's meetings, latest first, with their status."""
    principal = current_page_principal()
    with database().transaction() as session:
        try:
            gpo = gpos.get_gpo(session, principal, gpo_code)
            found = meetings.list_meetings(session, principal, gpo_code)
        except NotFound:
            return _not_found()
        rows = [
            {
                "id": m.id,
                "planned": paris(m.planned_at),
                "place": m.place,
                "status": m.status,
                "status_label": MEETING_STATUS_LABELS.get(m.status, m.status),
                "held": paris(m.held_at),
                "agenda_sent": paris(m.agenda_sent_at),
                "items": len(m.agenda),
            }
            for m in found
        ]
        gpo_name, rhythm = gpo.name, RHYTHM_LABELS.get(gpo.meeting_rhythm, gpo.meeting_rhythm)
    return render_template(
        "gpo_meeting_list.html",
        gpo_code=gpo_code,
        gpo_name=gpo_name,
        rhythm=rhythm,
        rows=rows,
        can_manage=principal.role == "gpo_referent",
    )


@bp.route("/<gpo_code>/reunions/nouvelle", methods=["GET", "POST"])
@page_requires("gpo.meeting.manage")
def meeting_new(gpo_code: str) -> Any:
    """Plan a meeting: the next one by the rhythm is proposed; the partners to invite."""
    principal = current_page_principal()
    errors: dict[str, str] = {}
    status = 200
    with database().transaction() as session:
        try:
            gpo = gpos.get_gpo(session, principal, gpo_code)
            proposal = meetings.propose_next(session, principal, gpo_code, request_now())
        except NotFound:
            return _not_found()
        partners = [(p.code, p.name) for p in gpos.partners_of(session, gpo_code)]
        gpo_name, rhythm = gpo.name, RHYTHM_LABELS.get(gpo.meeting_rhythm, gpo.meeting_rhythm)
    values: dict[str, Any] = {
        "planned_at": _local(proposal.planned_at),
        "place": proposal.place,
        "invited": [code for code, _ in partners],
    }
    if request.method == "POST":
        values = {
            "planned_at": request.form.get("planned_at", ""),
            "place": request.form.get("place", ""),
            "invited": request.form.getlist("invited"),
        }
        try:
            body = MeetingPlanSchema().load(
                {
                    "planned_at": _paris_input(values["planned_at"]),
                    "place": values["place"],
                    "invited": values["invited"],
                }
            )
            with database().transaction() as session:
                meeting = meetings.plan_meeting(session, principal, gpo_code, body, request_now())
                meeting_id = meeting.id
            flash("Réunion planifiée ; son ordre du jour est prêt.", "succes")
            return _back(gpo_code, meeting_id)
        except ValidationError as exc:
            errors = _errors(flatten_errors(exc.messages))
        except problems.InvalidInput as exc:
            errors = _errors(exc.errors)
        status = 422
    return (
        render_template(
            "gpo_meeting_form.html",
            gpo_code=gpo_code,
            gpo_name=gpo_name,
            rhythm=rhythm,
            proposal=proposal,
            proposed=paris(proposal.planned_at),
            last_held=paris(proposal.last_held_at),
            partners=partners,
            values=values,
            errors=errors,
        ),
        status,
    )


# --- one meeting --------------------------------------------------------------------------


def _detail_context(gpo_code: str, meeting_id: str) -> dict[str, Any]:
    principal = current_page_principal()
    with database().transaction() as session:
        try:
            meeting = meetings.get_meeting(session, principal, gpo_code, meeting_id)
        except NotFound:
            return _not_found()
        document = meetings.meeting_view(session, principal, meeting, request_now())
        gpo = gpos.get_gpo(session, principal, gpo_code)
        gpo_problems = [
            {
                "id": p.id,
                "title": p.title,
                "state": p.state,
                "targets": [
                    (s, PROBLEM_STATE_LABELS[s]) for s in problem_lifecycle.allowed_targets(p.state)
                ],
                "actions": [
                    {"id": a.id, "what": a.what, "status": a.status}
                    for a in actions.list_actions(session, principal, p.id)
                ],
            }
            for p in problems.list_problems(session, principal, gpo_code)
            if problem_lifecycle.is_linkable(p.state, p.watch_until, request_now())
        ]
        partners = [(p.code, p.name) for p in gpos.partners_of(session, gpo_code)]
        gpo_name = gpo.name
    me = partner_of(principal)
    present = {a["partner_code"] for a in document["attendees"] if a["present"]}
    return {
        "gpo_code": gpo_code,
        "gpo_name": gpo_name,
        "meeting": document,
        "planned": paris(document["planned_at"]),
        "held": paris(document["held_at"]),
        "agenda_sent": paris(document["agenda_sent_at"]),
        "reminded": paris(document["reminded_at"]),
        "held_at_value": _local(min(document["planned_at"], request_now())),
        "status_label": MEETING_STATUS_LABELS.get(document["status"], document["status"]),
        "can_manage": principal.role == "gpo_referent",
        "may_evaluate": document["status"] == "held"
        and (principal.role == "gpo_referent" or (me is not None and me in present)),
        "me": me,
        "present": sorted(present),
        "problems": gpo_problems,
        "partners": partners,
        "agenda_labels": AGENDA_KIND_LABELS,
        "decision_labels": DECISION_KIND_LABELS,
        "view_labels": VIEW_LABELS,
        "action_labels": ACTION_STATUS_LABELS,
        "state_choices": [(s, PROBLEM_STATE_LABELS[s]) for s in problem_lifecycle.TARGETS],
        "errors": {},
        "values": {},
        "form": None,
    }


def _detail(
    gpo_code: str,
    meeting_id: str,
    *,
    form: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    status: int = 200,
) -> Any:
    context = _detail_context(gpo_code, meeting_id)
    context.update(form=form, errors=dict(errors or {}), values=dict(values or {}))
    return render_template("gpo_meeting_detail.html", **context), status


@bp.route("/<gpo_code>/reunions/<meeting_id>", methods=["GET"])
@page_requires("gpo.meeting.read")
def meeting_detail(gpo_code: str, meeting_id: str) -> Any:
    """A meeting: its agenda, the partners invited and present, its decisions and views;
    the referent's forms (send, hold, decide, skip), a present partner's view."""
    return _detail(gpo_code, meeting_id)


def _back(gpo_code: str, meeting_id: str, anchor: str = "") -> Any:
    page = url_for("gpo_meeting_pages.meeting_detail", gpo_code=gpo_code, meeting_id=meeting_id)
    return redirect(page + anchor, 303)


def _step(gpo_code: str, meeting_id: str, run: Any, done: str, anchor: str = "") -> Any:
    """Run a use case in a transaction; the refusals as a message on the meeting's page."""
    try:
        with database().transaction() as session:
            message = run(session) or done
    except NotFound:
        return _not_found()
    except Forbidden:
        abort(403)
    except meetings.MeetingRefused:
        flash("La réunion n'est plus dans un état qui le permet : rechargez la page.", "erreur")
        return _back(gpo_code, meeting_id, anchor)
    except Conflict:
        flash("La réunion a été modifiée entre-temps : rechargez la page.", "erreur")
        return _back(gpo_code, meeting_id, anchor)
    flash(message, "succes")
    return _back(gpo_code, meeting_id, anchor)


@bp.route("/<gpo_code>/reunions/<meeting_id>/ordre-du-jour", methods=["POST"])
@page_requires("gpo.meeting.manage")
def agenda_regenerate(gpo_code: str, meeting_id: str) -> Any:
    """Generate the agenda again from today's brief."""
    principal = current_page_principal()
    return _step(
        gpo_code,
        meeting_id,
        lambda session: (
            meetings.regenerate_agenda(session, principal, gpo_code, meeting_id, request_now())
            and None
        ),
        "Ordre du jour mis à jour.",
        "#ordre-du-jour",
    )


@bp.route("/<gpo_code>/reunions/<meeting_id>/envoi", methods=["POST"])
@page_requires("gpo.meeting.manage")
def agenda_send(gpo_code: str, meeting_id: str) -> Any:
    """Email the agenda to the partners invited."""
    principal = current_page_principal()
    public_url = current_app.extensions["intake.config"].public_url

    def run(session: Any) -> str:
        sent = meetings.send_agenda(
            session, principal, gpo_code, meeting_id, request_now(), public_url
        )
        message = f"Ordre du jour envoyé à {len(sent.reached)} partenaire(s)."
        if sent.unreachable:
            message += (
                " Sans adresse (ni boîte fonctionnelle dans l'annuaire, ni compte) : "
                + ", ".join(sent.unreachable)
                + "."
            )
        return message

    return _step(gpo_code, meeting_id, run, "", "#ordre-du-jour")


@bp.route("/<gpo_code>/reunions/<meeting_id>/tenue", methods=["POST"])
@page_requires("gpo.meeting.manage")
def meeting_hold(gpo_code: str, meeting_id: str) -> Any:
    """Record the meeting held: who was present, when, the minutes."""
    principal = current_page_principal()
    values: dict[str, Any] = {
        "present": request.form.getlist("present"),
        "held_at": request.form.get("held_at", ""),
        "minutes": request.form.get("minutes", ""),
    }
    try:
        body = MeetingHoldSchema().load(
            {
                "present": values["present"],
                "minutes": values["minutes"],
                **({"held_at": _paris_input(values["held_at"])} if values["held_at"] else {}),
            }
        )
    except ValidationError as exc:
        return _detail(
            gpo_code,
            meeting_id,
            form="tenue",
            errors=_errors(flatten_errors(exc.messages)),
            values=values,
            status=422,
        )
    try:
        return _step(
            gpo_code,
            meeting_id,
            lambda session: (
                meetings.hold_meeting(session, principal, gpo_code, meeting_id, body, request_now())
                and None
            ),
            "Réunion enregistrée comme tenue.",
            "#decisions",
        )
    except problems.InvalidInput as exc:
        return _detail(
            gpo_code,
            meeting_id,
            form="tenue",
            errors=_errors(exc.errors),
            values=values,
            status=422,
        )


def _decision_body(form: Any) -> dict[str, Any]:
    kind = form.get("kind", "")
    body: dict[str, Any] = {"kind": kind, "text": form.get("text", "")}
    if form.get("problem_id"):
        body["problem_id"] = form["problem_id"]
    if kind == "action_created":
        action: dict[str, Any] = {
            "what": form.get("action_what", ""),
            "owner_partner": form.get("action_owner", ""),
        }
        if form.get("action_due_on"):
            action["due_on"] = form["action_due_on"]
        body["action"] = action
    elif kind == "action_changed":
        raw = form.get("action_id", "")
        if raw:
            body["action_id"] = int(raw) if raw.isdigit() and len(raw) < 10 else raw
        body["changes"] = {"status": form.get("action_status", "")}
    elif kind == "state_changed":
        if form.get("to"):
            body["to"] = form["to"]
        if form.get("reason"):
            body["reason"] = form["reason"]
    if not body["text"].strip() and kind != "note":
        del body["text"]
    return body


DECISION_FIELDS = {
    "action.what": "action_what",
    "action.owner_partner": "action_owner",
    "action.due_on": "action_due_on",
    "changes.status": "action_status",
}


@bp.route("/<gpo_code>/reunions/<meeting_id>/decisions", methods=["POST"])
@page_requires("gpo.meeting.manage")
def decision_add(gpo_code: str, meeting_id: str) -> Any:
    """One decision of the held meeting: a note, an action created or changed, a move."""
    principal = current_page_principal()
    values = dict(request.form.items())

    def refused(errors: dict[str, str]) -> Any:
        shown = {DECISION_FIELDS.get(name, name): message for name, message in errors.items()}
        return _detail(
            gpo_code, meeting_id, form="decision", errors=shown, values=values, status=422
        )

    try:
        body = MeetingDecisionSchema().load(_decision_body(request.form))
    except ValidationError as exc:
        return refused(_errors(flatten_errors(exc.messages)))
    try:
        return _step(
            gpo_code,
            meeting_id,
            lambda session: (
                meetings.add_decision(session, principal, gpo_code, meeting_id, body, request_now())
                and None
            ),
            "Décision enregistrée.",
            "#decisions",
        )
    except problems.InvalidInput as exc:
        return refused(_errors(exc.errors))


@bp.route("/<gpo_code>/reunions/<meeting_id>/cloture", methods=["POST"])
@page_requires("gpo.meeting.manage")
def meeting_close(gpo_code: str, meeting_id: str) -> Any:
    """Mark the planned meeting skipped or cancelled."""
    principal = current_page_principal()
    try:
        body = MeetingCloseSchema().load({"status": request.form.get("status", "")})
    except ValidationError:
        flash("Choisissez « non tenue » ou « annulée ».", "erreur")
        return _back(gpo_code, meeting_id)
    label = MEETING_STATUS_LABELS[body["status"]].lower()
    return _step(
        gpo_code,
        meeting_id,
        lambda session: (
            meetings.close_meeting(
                session, principal, gpo_code, meeting_id, body["status"], request_now()
            )
            and None
        ),
        f"Réunion marquée {label}.",
    )


@bp.route("/<gpo_code>/reunions/<meeting_id>/avis", methods=["POST"])
@page_requires("gpo.evaluate")
def evaluation_add(gpo_code: str, meeting_id: str) -> Any:
    """A present partner's view of a problem's assessment (the referent may write it for
    a present partner)."""
    principal = current_page_principal()
    values = dict(request.form.items())
    data: dict[str, Any] = {
        "problem_id": values.get("problem_id", ""),
        "view": values.get("view", ""),
        "comment": values.get("comment", ""),
    }
    if values.get("partner_code"):
        data["partner_code"] = values["partner_code"]
    try:
        body = MeetingEvaluationSchema().load(data)
    except ValidationError as exc:
        return _detail(
            gpo_code,
            meeting_id,
            form="avis",
            errors=_errors(flatten_errors(exc.messages)),
            values=values,
            status=422,
        )
    try:
        return _step(
            gpo_code,
            meeting_id,
            lambda session: (
                meetings.record_evaluation(
                    session, principal, gpo_code, meeting_id, body, request_now()
                )
                and None
            ),
            "Avis enregistré.",
            "#avis",
        )
    except problems.InvalidInput as exc:
        return _detail(
            gpo_code, meeting_id, form="avis", errors=_errors(exc.errors), values=values, status=422
        )


# --- the minutes --------------------------------------------------------------------------


def _minutes(gpo_code: str, meeting_id: str, export: str | None) -> meetings.Minutes:
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            found = meetings.minutes_of(session, principal, gpo_code, meeting_id, request_now())
            if export is not None:
                meetings.record_minutes_export(session, principal, found, export, request_now())
            return found
    except NotFound:
        abort(404)
    except meetings.MeetingRefused:
        abort(409)


def _filename(found: meetings.Minutes, extension: str) -> str:
    day = paris(found.meeting["held_at"], "%Y-%m-%d")
    return f"compte-rendu-{found.meeting['gpo_code']}-{day}-{found.version}.{extension}"


@bp.route("/<gpo_code>/reunions/<meeting_id>/compte-rendu", methods=["GET"])
@page_requires("gpo.meeting.read")
def minutes(gpo_code: str, meeting_id: str) -> Any:
    """The minutes, printable; the partners' version without personal data."""
    found = _minutes(gpo_code, meeting_id, None)
    incidents = []
    for problem in found.brief.problems:
        for line in problem.incidents:
            natures = ", ".join(NATURE_LABELS.get(n, n) for n in line.natures)
            if isinstance(line, PartnerIncident):
                incidents.append(
                    {
                        "title": problem.title,
                        "when": line.occurred_on.strftime("%d/%m/%Y"),
                        "place": line.stop,
                        "natures": natures,
                    }
                )
            else:
                incidents.append(
                    {
                        "title": problem.title,
                        "when": paris(line.occurred_at),
                        "place": line.place,
                        "natures": natures,
                        "priority": line.priority,
                        "excerpt": line.excerpt,
                    }
                )
    return render_template(
        "gpo_meeting_minutes.html",
        found=found,
        meeting=found.meeting,
        partner=found.version == "partner",
        held=paris(found.meeting["held_at"]),
        incidents=incidents,
        agenda_labels=AGENDA_KIND_LABELS,
        decision_labels=DECISION_KIND_LABELS,
        view_labels=VIEW_LABELS,
        generated=paris(found.brief.generated_at),
    )


@bp.route("/<gpo_code>/reunions/<meeting_id>/compte-rendu.pdf", methods=["GET"])
@page_requires("gpo.meeting.read")
def minutes_pdf(gpo_code: str, meeting_id: str) -> Any:
    found = _minutes(gpo_code, meeting_id, "pdf")
    return Response(
        meetings_export.to_pdf(found),
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename={_filename(found, 'pdf')}"},
    )


@bp.route("/<gpo_code>/reunions/<meeting_id>/compte-rendu.csv", methods=["GET"])
@page_requires("gpo.meeting.read")
def minutes_csv(gpo_code: str, meeting_id: str) -> Any:
    found = _minutes(gpo_code, meeting_id, "csv")
    return Response(
        meetings_export.to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={_filename(found, 'csv')}"},
    )
