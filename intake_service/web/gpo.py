"""The GPO referent's problems (``gpo_referent``), read by its partners (``gpo_partner``).

``/gpo/<gpo_code>/problemes`` lists the GPO's problems by state;
``/gpo/problemes/<problem_id>`` shows one: its scope, the state change form, the
actions (a partner marks done those its organisation owns), the journal and the
incidents confirmed as the problem's (a summary: date, nature, stop). The forms
post flat fields; they are shaped into the API's bodies and judged by the API's
schemas and use cases (``schemas.gpo``, ``problems``), so a problem made here and
one made over the API are the same. The pages work without JavaScript; the script
only searches stops as you type.

Longer than most modules (about 550 lines) on purpose: these are the routes of one
blueprint (``gpo``, whose endpoint names the templates use) and the helpers they
share; the problem form's shaping and wording live in ``gpo_forms``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal, gpo_of
from intake_service.access.rules.redaction import may_complete_action
from intake_service.gpo import gpos, meetings, problems
from intake_service.gpo.actions import (
    action_document,
    add_action,
    complete_action,
    list_actions,
    update_action,
)
from intake_service.gpo.meetings_export import VIEW_LABELS
from intake_service.gpo.problems import add_journal_entry, read_journal
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.models import Gpo, Problem
from intake_service.platform.errors import Conflict, Forbidden, NotFound
from intake_service.platform.labels import (
    ACTION_STATUS_LABELS,
    JOURNAL_KIND_LABELS,
    NATURE_LABELS,
    PROBLEM_STATE_LABELS,
    WEEKDAY_LABELS,
    date_time,
)
from intake_service.serving.context import database, request_now
from intake_service.territory import gtfs
from intake_service.web.auth import current_page_principal, page_requires
from intake_service.web.gpo_forms import (
    form_errors,
    form_to_problem,
    french,
    operator_ids,
    posted_form_values,
    problem_to_form,
    route_label,
    scope_lines,
    stop_name,
)
from schemas.errors import flatten_errors
from schemas.gpo import (
    ActionSchema,
    ActionUpdateSchema,
    JournalEntrySchema,
    ProblemCreateSchema,
    ProblemUpdateSchema,
    TransitionSchema,
)

bp = Blueprint("gpo", __name__, url_prefix="/gpo")

STOP_SEARCH_LIMIT = 20
STOP_QUERY_MAX = 100
# The list's sections, in lifecycle order; closed ones last.
LIST_ORDER = [state for state in problem_lifecycle.STATES if state not in ("not_resolved",)]
CONFLICT = (
    "Le problème a été modifié par quelqu'un d'autre depuis l'ouverture de cette page : "
    "rechargez-le, puis refaites vos changements."
)


def _form_context(session: Session, gpo: Gpo, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the problem form offers: the GPO's operators, their lines, its partners."""
    ids = operator_ids(session, list(gpo.operators))
    routes = [
        {"value": f"{code}|{route.route_id}", "label": f"{route_label(route)} ({code})"}
        for code, operator_id in ids.items()
        for route in gtfs.list_routes(session, operator_id)
    ]
    scope = values.get("scope") or {}
    chosen_stops = [
        {
            "value": f"{stop['operator']}|{stop['stop_id']}",
            "name": stop_name(session, ids, stop["operator"], stop["stop_id"]),
            "stop_id": stop["stop_id"],
        }
        for stop in scope.get("stops") or []
        if isinstance(stop, Mapping) and "operator" in stop and "stop_id" in stop
    ]
    return {
        "gpo": gpo,
        "partners": gpos.partners_of(session, gpo.code),
        "routes": routes,
        "chosen_routes": {
            f"{route.get('operator')}|{route.get('route_id')}"
            for route in scope.get("routes") or []
        },
        "chosen_stops": chosen_stops,
        "natures": NATURE_LABELS,
        "weekdays": list(enumerate(WEEKDAY_LABELS)),
        "hours": range(24),
    }


def _page_gpo(session: Session, principal: Principal, gpo_code: str) -> Gpo:
    try:
        return gpos.get_gpo(session, principal, gpo_code)
    except NotFound:
        abort(404)
        raise  # unreachable: abort raises


def _page_problem(session: Session, principal: Principal, problem_id: str) -> Problem:
    try:
        return problems.get_problem(session, principal, problem_id)
    except NotFound:
        abort(404)
        raise  # unreachable: abort raises


# --- pages --------------------------------------------------------------------------------


@bp.route("/", methods=["GET"])
@page_requires("gpo.read")
def home() -> Any:
    """A referent's or partner's GPO: its problems."""
    gpo_code = gpo_of(current_page_principal())
    return redirect(url_for("gpo.problem_list", gpo_code=gpo_code))


@bp.route("/<gpo_code>/problemes", methods=["GET"])
@page_requires("gpo.read")
def problem_list(gpo_code: str) -> Any:
    """The GPO's problems, grouped by state in lifecycle order."""
    principal = current_page_principal()
    now = request_now()
    with database().transaction() as session:
        gpo = _page_gpo(session, principal, gpo_code)
        found = problems.list_problems(session, principal, gpo_code)
        by_state: dict[str, list[dict[str, Any]]] = {}
        for problem in found:
            state = problem_lifecycle.effective_state(problem.state, problem.watch_until, now)
            by_state.setdefault(state, []).append(
                {
                    "id": problem.id,
                    "title": problem.title,
                    "updated": date_time(problem.updated_at),
                    "watch_until": date_time(problem.watch_until),
                    "scope": "; ".join(
                        f"{label} : {value}" for label, value in scope_lines(session, problem.scope)
                    ),
                }
            )
        gpo_name = gpo.name
    sections = [
        (state, PROBLEM_STATE_LABELS[state], by_state[state])
        for state in LIST_ORDER
        if state in by_state
    ]
    return render_template(
        "gpo_problem_list.html",
        gpo_code=gpo_code,
        gpo_name=gpo_name,
        sections=sections,
        count=len(found),
        can_manage=principal.role == "gpo_referent",
    )


@bp.route("/<gpo_code>/problemes/nouveau", methods=["GET", "POST"])
@page_requires("gpo.manage")
def problem_new(gpo_code: str) -> Any:
    """Open a problem: title, description, partners and the scope."""
    principal = current_page_principal()
    errors: dict[str, str] = {}
    values: dict[str, Any] = problem_to_form(None)
    status = 200
    if request.method == "POST":
        values = posted_form_values(request.form)
        try:
            body = ProblemCreateSchema().load(form_to_problem(request.form))
            with database().transaction() as session:
                problem = problems.create_problem(session, principal, gpo_code, body, request_now())
                problem_id = problem.id
            flash("Problème ouvert.", "succes")
            return redirect(url_for("gpo.problem_detail", problem_id=problem_id), 303)
        except ValidationError as exc:
            errors = form_errors(flatten_errors(exc.messages))
        except problems.InvalidInput as exc:
            errors = form_errors(exc.errors)
        except NotFound:
            abort(404)
        status = 422
    with database().transaction() as session:
        gpo = _page_gpo(session, principal, gpo_code)
        context = _form_context(session, gpo, values)
    return (
        render_template(
            "gpo_problem_form.html",
            values=values,
            errors=errors,
            action=url_for("gpo.problem_new", gpo_code=gpo_code),
            heading="Nouveau problème",
            cancel=url_for("gpo.problem_list", gpo_code=gpo_code),
            **context,
        ),
        status,
    )


@bp.route("/problemes/<problem_id>/modifier", methods=["GET", "POST"])
@page_requires("gpo.manage")
def problem_edit(problem_id: str) -> Any:
    """Change a problem; the version read with the form guards against lost changes."""
    principal = current_page_principal()
    errors: dict[str, str] = {}
    status = 200
    with database().transaction() as session:
        problem = _page_problem(session, principal, problem_id)
        values = problem_to_form(problem)
    if request.method == "POST":
        values = posted_form_values(request.form)
        try:
            body = ProblemUpdateSchema().load(form_to_problem(request.form))
            version = request.form.get("version", "")
            expected = int(version) if version.isdigit() else None
            with database().transaction() as session:
                problems.update_problem(
                    session, principal, problem_id, body, request_now(), expected
                )
            flash("Problème modifié.", "succes")
            return redirect(url_for("gpo.problem_detail", problem_id=problem_id), 303)
        except ValidationError as exc:
            errors = form_errors(flatten_errors(exc.messages))
            status = 422
        except problems.InvalidInput as exc:
            errors = form_errors(exc.errors)
            status = 422
        except Conflict:
            errors = {"formulaire": CONFLICT}
            status = 409
        except NotFound:
            abort(404)
    with database().transaction() as session:
        problem = _page_problem(session, principal, problem_id)
        gpo = _page_gpo(session, principal, problem.gpo_code)
        context = _form_context(session, gpo, values)
    return (
        render_template(
            "gpo_problem_form.html",
            values=values,
            errors=errors,
            action=url_for("gpo.problem_edit", problem_id=problem_id),
            heading=f"Modifier « {problem.title} »",
            cancel=url_for("gpo.problem_detail", problem_id=problem_id),
            **context,
        ),
        status,
    )


def _incident_rows(session: Session, principal: Principal, problem_id: str) -> list[dict[str, Any]]:
    """The confirmed incidents, as a summary: id, date, nature, stop (no personal data)."""
    rows = []
    for _link, incident in problems.confirmed_incidents(session, principal, problem_id):
        location = incident.sheet.get("location") or {}
        stop_id = location.get("stop_id")
        stop = None
        if stop_id:
            stop = gtfs.find_stop(session, incident.operator_id, str(stop_id))
        rows.append(
            {
                "id": incident.id,
                "occurred": date_time(incident.occurred_at),
                "nature": NATURE_LABELS.get(incident.primary_nature, incident.primary_nature),
                "stop": stop.name if stop else (stop_id or "—"),
            }
        )
    return rows


@bp.route("/problemes/<problem_id>", methods=["GET"])
@page_requires("gpo.read")
def problem_detail(problem_id: str) -> Any:
    """A problem: scope, state, actions, journal, confirmed incidents."""
    principal = current_page_principal()
    now = request_now()
    with database().transaction() as session:
        problem = _page_problem(session, principal, problem_id)
        partner_names = {
            partner.code: partner.name for partner in gpos.partners_of(session, problem.gpo_code)
        }
        actions = [
            {
                **action_document(action),
                "status_label": ACTION_STATUS_LABELS.get(action.status, action.status),
                "owner_name": partner_names.get(action.owner_partner, action.owner_partner),
                "may_complete": action.status not in ("done", "cancelled")
                and may_complete_action(principal, action.owner_partner),
            }
            for action in list_actions(session, principal, problem_id)
        ]
        journal = [
            {
                "at": date_time(entry.at),
                "kind": JOURNAL_KIND_LABELS.get(entry.kind, entry.kind),
                "text": _journal_text(entry.kind, entry.text, entry.detail),
                "author": entry.author,
            }
            for entry in read_journal(session, principal, problem_id, now)
        ]
        view = {
            "id": problem.id,
            "gpo_code": problem.gpo_code,
            "title": problem.title,
            "description": problem.description,
            "state": problem.state,
            "state_label": PROBLEM_STATE_LABELS.get(problem.state, problem.state),
            "effective_state": problem_lifecycle.effective_state(
                problem.state, problem.watch_until, now
            ),
            "state_reason": problem.state_reason,
            "watch_until": date_time(problem.watch_until),
            "referent": problem.referent,
            "partners": [partner_names.get(code, code) for code in problem.partners],
            "version": problem.version,
            "scope": scope_lines(session, problem.scope),
        }
        incidents = _incident_rows(session, principal, problem_id)
        manage = principal.role == "gpo_referent"
        # The partners' views of the assessment, given at meetings, beside the state change.
        evaluations = [
            {
                "partner": partner_names.get(evaluation.partner_code, evaluation.partner_code),
                "view": VIEW_LABELS.get(evaluation.view, evaluation.view),
                "code": evaluation.view,
                "comment": evaluation.comment,
                "meeting": date_time(meeting.held_at),
            }
            for evaluation, meeting in (
                meetings.problem_evaluations(session, principal, problem_id) if manage else []
            )
        ]
    return render_template(
        "gpo_problem_detail.html",
        problem=view,
        actions=actions,
        journal=journal,
        incidents=incidents,
        evaluations=evaluations,
        can_manage=manage,
        targets=[
            (state, PROBLEM_STATE_LABELS[state])
            for state in problem_lifecycle.allowed_targets(problem.state)
        ],
        reason_required=sorted(problem_lifecycle.REASON_REQUIRED),
        partner_choices=sorted(partner_names.items()),
        action_statuses=ACTION_STATUS_LABELS,
        state_labels=PROBLEM_STATE_LABELS,
    )


def _journal_text(kind: str, text: str, detail: Mapping[str, Any]) -> str:
    if kind == "state_change" and detail.get("to"):
        moved = PROBLEM_STATE_LABELS.get(str(detail["to"]), str(detail["to"]))
        return f"→ {moved}" + (f" — {text}" if text else "")
    return text


def _back(problem_id: str, anchor: str) -> Any:
    return redirect(url_for("gpo.problem_detail", problem_id=problem_id) + anchor, 303)


def _refused(problem_id: str, anchor: str, message: str) -> Any:
    flash(message, "erreur")
    return _back(problem_id, anchor)


@bp.route("/problemes/<problem_id>/etat", methods=["POST"])
@page_requires("gpo.manage")
def problem_transition(problem_id: str) -> Any:
    """Move the problem along its lifecycle (with the reason where one is due)."""
    principal = current_page_principal()
    version = request.form.get("version", "")
    try:
        body = TransitionSchema().load(
            {"to": request.form.get("to", ""), "reason": request.form.get("motif", "")}
        )
        with database().transaction() as session:
            problem = problems.transition(
                session,
                principal,
                problem_id,
                body["to"],
                body.get("reason"),
                request_now(),
                int(version) if version.isdigit() else None,
            )
            label = PROBLEM_STATE_LABELS.get(problem.state, problem.state)
    except NotFound:
        abort(404)
    except ValidationError:
        return _refused(problem_id, "#etat", "Choisissez le nouvel état.")
    except problems.TransitionRefused as exc:
        return _refused(problem_id, "#etat", french(exc.message))
    except Conflict:
        return _refused(problem_id, "#etat", CONFLICT)
    flash(f"État du problème : {label.lower()}.", "succes")
    return _back(problem_id, "#etat")


def _action_body(form: Any, partial: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in ("what", "owner_partner", "status", "service_order_reference"):
        value = form.get(name)
        if value is not None and (value.strip() or name == "service_order_reference"):
            body[name] = value.strip() or None if name == "service_order_reference" else value
    for name in ("starts_on", "due_on"):
        value = form.get(name)
        if value is not None:
            body[name] = value.strip() or None
    if not partial:
        body.setdefault("what", "")
        body.setdefault("owner_partner", "")
    return body


@bp.route("/problemes/<problem_id>/actions", methods=["POST"])
@page_requires("gpo.manage")
def action_add(problem_id: str) -> Any:
    """Add an action to the plan."""
    principal = current_page_principal()
    try:
        body = ActionSchema().load(_action_body(request.form, partial=False))
        with database().transaction() as session:
            add_action(session, principal, problem_id, body, request_now())
    except NotFound:
        abort(404)
    except ValidationError as exc:
        return _refused(problem_id, "#actions", _summary(flatten_errors(exc.messages)))
    except problems.InvalidInput as exc:
        return _refused(problem_id, "#actions", _summary(exc.errors))
    flash("Action ajoutée.", "succes")
    return _back(problem_id, "#actions")


ACTION_FIELD_LABELS = {
    "what": "Action",
    "owner_partner": "Partenaire",
    "starts_on": "Début",
    "due_on": "Échéance",
    "status": "Statut",
    "service_order_reference": "Ordre de service",
}


def _summary(errors: list[dict[str, str]]) -> str:
    return "Action non enregistrée : " + " ; ".join(
        f"{ACTION_FIELD_LABELS.get(field, field)} : {message}"
        for field, message in form_errors(errors).items()
    )


@bp.route("/problemes/<problem_id>/actions/<int:action_id>", methods=["POST"])
@page_requires("gpo.manage")
def action_edit(problem_id: str, action_id: int) -> Any:
    """Change an action: what, owner, dates, status, service order."""
    principal = current_page_principal()
    try:
        body = ActionUpdateSchema().load(_action_body(request.form, partial=True))
        with database().transaction() as session:
            update_action(session, principal, problem_id, action_id, body, request_now())
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except ValidationError as exc:
        return _refused(problem_id, "#actions", _summary(flatten_errors(exc.messages)))
    except problems.InvalidInput as exc:
        return _refused(problem_id, "#actions", _summary(exc.errors))
    flash("Action modifiée.", "succes")
    return _back(problem_id, "#actions")


@bp.route("/problemes/<problem_id>/actions/<int:action_id>/realisee", methods=["POST"])
@page_requires("gpo.complete_action")
def action_done(problem_id: str, action_id: int) -> Any:
    """Mark an action done: the referent, or the partner that owns it."""
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            complete_action(session, principal, problem_id, action_id, request_now())
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    flash("Action marquée comme réalisée.", "succes")
    return _back(problem_id, "#actions")


@bp.route("/problemes/<problem_id>/journal", methods=["POST"])
@page_requires("gpo.manage")
def journal_add(problem_id: str) -> Any:
    """Write a meeting, a decision or a note in the journal."""
    principal = current_page_principal()
    try:
        body = JournalEntrySchema().load(
            {"kind": request.form.get("kind", ""), "text": request.form.get("text", "")}
        )
        with database().transaction() as session:
            add_journal_entry(session, principal, problem_id, body, request_now())
    except NotFound:
        abort(404)
    except ValidationError:
        return _refused(problem_id, "#journal", "Choisissez le type d'entrée et écrivez son texte.")
    flash("Entrée ajoutée au journal.", "succes")
    return _back(problem_id, "#journal")


@bp.route("/<gpo_code>/arrets", methods=["GET"])
@page_requires("gpo.manage")
def stops(gpo_code: str) -> Response:
    """Stops of the GPO's operators whose name contains ``q``: [{value, name, stop_id}]."""
    text = request.args.get("q", "")[:STOP_QUERY_MAX]
    principal = current_page_principal()
    with database().transaction() as session:
        gpo = _page_gpo(session, principal, gpo_code)
        found = [
            {
                "value": f"{code}|{stop.stop_id}",
                "name": stop.name,
                "stop_id": stop.stop_id,
                "operator": code,
            }
            for code, operator_id in operator_ids(session, list(gpo.operators)).items()
            for stop in gtfs.search_stops(session, operator_id, text, STOP_SEARCH_LIMIT)
        ][:STOP_SEARCH_LIMIT]
    response = jsonify(found)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
