"""The GPO referent's problems (``gpo_referent``), read by its partners (``gpo_partner``).

``/gpo/<gpo_code>/problemes`` lists the GPO's problems by state;
``/gpo/problemes/<problem_id>`` shows one: its scope, the state change form, the
actions (a partner marks done those its organisation owns), the journal and the
incidents confirmed as the problem's (a summary: date, nature, stop). The forms
post flat fields; they are shaped into the API's bodies and judged by the API's
schemas and use cases (``schemas.gpo``, ``problems``), so a problem made here and
one made over the API are the same. The pages work without JavaScript; the script
only searches stops as you type.
"""

from __future__ import annotations

import datetime as dt
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

from intake_service import gtfs, operators, problem_lifecycle, problems
from intake_service.access import Principal, gpo_of, partner_of
from intake_service.context import database, request_now
from intake_service.labels import (
    ACTION_STATUS_LABELS,
    JOURNAL_KIND_LABELS,
    NATURE_LABELS,
    PROBLEM_STATE_LABELS,
    WEEKDAY_LABELS,
    date_time,
)
from intake_service.models import Gpo, Problem
from intake_service.web.auth import current_page_principal, page_requires
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
# The API's messages most often met on these forms, in French.
MESSAGES_FR = {
    "Missing data for required field.": "Champ obligatoire.",
    "Not a number.": "Ce n'est pas un nombre.",
    "Not a valid number.": "Ce n'est pas un nombre.",
    "Not a valid date.": "Date invalide.",
    "Not a valid integer.": "Ce n'est pas un nombre entier.",
    "Must not be blank.": "Ne doit pas être vide.",
    "Shorter than minimum length 1.": "Ne doit pas être vide.",
    "The point is not in France (WGS84 lat/lon).": "Le point n'est pas en France (latitude, "
    "longitude en degrés WGS84).",
    "From 50 to 5000 metres.": "Un rayon de 50 à 5 000 m.",
    "from and to must differ (to is exclusive; leave hours out for any hour).": "Les heures de "
    "début et de fin doivent différer (laissez vide pour toute heure).",
    "The due date is before the start date.": "L'échéance est avant le début.",
    "The due date is before the start.": "L'échéance est avant le début.",
    "At most 200 values.": "200 au plus.",
    "Length must be between 1 and 200.": "Obligatoire, 200 caractères au plus.",
    "0 (Monday) to 6.": "Jour invalide.",
    "An hour from 0 to 23.": "Une heure de 0 à 23.",
}
CONFLICT = (
    "Le problème a été modifié par quelqu'un d'autre depuis l'ouverture de cette page : "
    "rechargez-le, puis refaites vos changements."
)


def french(message: str) -> str:
    if " is not a partner of " in message:
        return "Ce partenaire ne fait pas partie du GPO."
    if message.startswith("Must be one of"):
        return "Valeur non prévue."
    if message.startswith("A reason is required"):
        return "Un motif est obligatoire pour ce changement d'état."
    return MESSAGES_FR.get(message, message)


def _errors(errors: list[dict[str, str]]) -> dict[str, str]:
    """Errors by form field (the scope's paths without their index), in French."""
    shown: dict[str, str] = {}
    for error in errors:
        parts = [part for part in error["field"].split(".") if not part.isdigit()]
        if parts and parts[0] == "scope":
            parts = parts[1:]
        shown.setdefault(".".join(parts) or "formulaire", french(error["message"]))
    return shown


def french_date(day: dt.date | str | None) -> str:
    if not day:
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"{day:%d/%m/%Y}"


# --- from the form to the API's bodies ----------------------------------------------------


def _number(text: str) -> Any:
    """A number typed with a comma or a point; what is not one goes to the schema as text."""
    cleaned = text.strip().replace(",", ".").replace(" ", "")
    try:
        value = float(cleaned)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in cleaned else value


def _pairs(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        operator, sep, ident = value.strip().partition("|")
        if sep and operator and ident:
            pairs.append((operator, ident))
    return list(dict.fromkeys(pairs))


def form_to_problem(form: Any) -> dict[str, Any]:
    """The posted fields shaped as ProblemCreateSchema's body."""
    scope: dict[str, Any] = {}
    if form.getlist("operators"):
        scope["operators"] = form.getlist("operators")
    routes = _pairs(form.getlist("routes"))
    if routes:
        scope["routes"] = [{"operator": op, "route_id": ident} for op, ident in routes]
    stops = _pairs([*form.getlist("stops"), form.get("stop_add", "")])
    if stops:
        scope["stops"] = [{"operator": op, "stop_id": ident} for op, ident in stops]
    if form.getlist("natures"):
        scope["natures"] = form.getlist("natures")
    if form.getlist("weekdays"):
        scope["weekdays"] = [_number(day) for day in form.getlist("weekdays")]
    start, end = form.get("hours_from", ""), form.get("hours_to", "")
    if start.strip() or end.strip():
        scope["hours"] = {"from": _number(start) if start else None, "to": _number(end)}
        if not start.strip():
            del scope["hours"]["from"]
        if not end.strip():
            del scope["hours"]["to"]
    lat, lon, radius = (form.get(name, "") for name in ("lat", "lon", "radius_m"))
    if lat.strip() or lon.strip():
        scope["point"] = {"lat": _number(lat), "lon": _number(lon)}
        scope["point"]["radius_m"] = _number(radius) if radius.strip() else 300
    if form.get("start_date", "").strip():
        scope["start_date"] = form["start_date"].strip()
    return {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "scope": scope,
        "partners": form.getlist("partners"),
    }


def problem_to_form(problem: Problem | None) -> dict[str, Any]:
    """A problem as the form's values (empty for a new one)."""
    if problem is None:
        return {"title": "", "description": "", "partners": [], "scope": {}}
    return {
        "title": problem.title,
        "description": problem.description,
        "partners": list(problem.partners),
        "scope": dict(problem.scope),
        "version": problem.version,
    }


def posted_form_values(form: Any) -> dict[str, Any]:
    """The posted values to show again with the errors."""
    body = form_to_problem(form)
    body["version"] = form.get("version", "")
    return body


# --- what the pages show ------------------------------------------------------------------


def _operator_ids(session: Session, codes: list[str]) -> dict[str, int]:
    found = {}
    for code in codes:
        operator = operators.find_operator(session, code)
        if operator is not None:
            found[code] = operator.id
    return found


def _stop_name(session: Session, ids: Mapping[str, int], operator: str, stop_id: str) -> str:
    if operator in ids:
        stop = gtfs.find_stop(session, ids[operator], stop_id)
        if stop is not None:
            return stop.name
    return stop_id


def _route_label(route: Any) -> str:
    return " — ".join(part for part in (route.short_name, route.long_name) if part) or str(
        route.route_id
    )


def scope_lines(session: Session, scope: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The scope in French, one (label, value) per constrained dimension."""
    codes = sorted(
        {str(item["operator"]) for key in ("stops", "routes") for item in scope.get(key) or []}
        | set(scope.get("operators") or [])
    )
    ids = _operator_ids(session, codes)
    lines: list[tuple[str, str]] = []
    if scope.get("operators"):
        lines.append(("Réseaux", ", ".join(scope["operators"])))
    if scope.get("routes"):
        names = []
        for route in scope["routes"]:
            found = (
                gtfs.find_route(session, ids[route["operator"]], route["route_id"])
                if route["operator"] in ids
                else None
            )
            names.append(_route_label(found) if found else route["route_id"])
        lines.append(("Lignes", ", ".join(names)))
    if scope.get("stops"):
        names = [
            _stop_name(session, ids, stop["operator"], stop["stop_id"]) for stop in scope["stops"]
        ]
        lines.append(("Arrêts", ", ".join(dict.fromkeys(names))))
    point = scope.get("point")
    if point:
        lines.append(
            ("Zone", f"{point['radius_m']} m autour de {point['lat']:.5f}, {point['lon']:.5f}")
        )
    if scope.get("natures"):
        lines.append(("Natures", ", ".join(NATURE_LABELS.get(n, n) for n in scope["natures"])))
    if scope.get("weekdays"):
        lines.append(("Jours", ", ".join(WEEKDAY_LABELS[day] for day in scope["weekdays"])))
    hours = scope.get("hours")
    if hours:
        lines.append(("Heures", f"de {hours['from']} h à {hours['to']} h"))
    if scope.get("start_date"):
        lines.append(("Depuis le", french_date(scope["start_date"])))
    if not lines:
        lines.append(("Périmètre", "Tous les incidents du GPO"))
    return lines


def _form_context(session: Session, gpo: Gpo, values: Mapping[str, Any]) -> dict[str, Any]:
    """What the problem form offers: the GPO's operators, their lines, its partners."""
    ids = _operator_ids(session, list(gpo.operators))
    routes = [
        {"value": f"{code}|{route.route_id}", "label": f"{_route_label(route)} ({code})"}
        for code, operator_id in ids.items()
        for route in gtfs.list_routes(session, operator_id)
    ]
    scope = values.get("scope") or {}
    chosen_stops = [
        {
            "value": f"{stop['operator']}|{stop['stop_id']}",
            "name": _stop_name(session, ids, stop["operator"], stop["stop_id"]),
            "stop_id": stop["stop_id"],
        }
        for stop in scope.get("stops") or []
        if isinstance(stop, Mapping) and "operator" in stop and "stop_id" in stop
    ]
    return {
        "gpo": gpo,
        "partners": problems.partners_of(session, gpo.code),
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
        return problems.get_gpo(session, principal, gpo_code)
    except problems.NotFound:
        abort(404)
        raise  # unreachable: abort raises


def _page_problem(session: Session, principal: Principal, problem_id: str) -> Problem:
    try:
        return problems.get_problem(session, principal, problem_id)
    except problems.NotFound:
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
            errors = _errors(flatten_errors(exc.messages))
        except problems.InvalidInput as exc:
            errors = _errors(exc.errors)
        except problems.NotFound:
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
            errors = _errors(flatten_errors(exc.messages))
            status = 422
        except problems.InvalidInput as exc:
            errors = _errors(exc.errors)
            status = 422
        except problems.Conflict:
            errors = {"formulaire": CONFLICT}
            status = 409
        except problems.NotFound:
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
            partner.code: partner.name
            for partner in problems.partners_of(session, problem.gpo_code)
        }
        actions = [
            {
                **problems.action_document(action),
                "status_label": ACTION_STATUS_LABELS.get(action.status, action.status),
                "owner_name": partner_names.get(action.owner_partner, action.owner_partner),
                "may_complete": action.status not in ("done", "cancelled")
                and (
                    principal.role == "gpo_referent"
                    or partner_of(principal) == action.owner_partner
                ),
            }
            for action in problems.list_actions(session, principal, problem_id)
        ]
        journal = [
            {
                "at": date_time(entry.at),
                "kind": JOURNAL_KIND_LABELS.get(entry.kind, entry.kind),
                "text": _journal_text(entry.kind, entry.text, entry.detail),
                "author": entry.author,
            }
            for entry in problems.read_journal(session, principal, problem_id, now)
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
    return render_template(
        "gpo_problem_detail.html",
        problem=view,
        actions=actions,
        journal=journal,
        incidents=incidents,
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
    except problems.NotFound:
        abort(404)
    except ValidationError:
        return _refused(problem_id, "#etat", "Choisissez le nouvel état.")
    except problems.TransitionRefused as exc:
        return _refused(problem_id, "#etat", french(exc.message))
    except problems.Conflict:
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
            problems.add_action(session, principal, problem_id, body, request_now())
    except problems.NotFound:
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
        for field, message in _errors(errors).items()
    )


@bp.route("/problemes/<problem_id>/actions/<int:action_id>", methods=["POST"])
@page_requires("gpo.manage")
def action_edit(problem_id: str, action_id: int) -> Any:
    """Change an action: what, owner, dates, status, service order."""
    principal = current_page_principal()
    try:
        body = ActionUpdateSchema().load(_action_body(request.form, partial=True))
        with database().transaction() as session:
            problems.update_action(session, principal, problem_id, action_id, body, request_now())
    except problems.NotFound:
        abort(404)
    except problems.Forbidden:
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
            problems.complete_action(session, principal, problem_id, action_id, request_now())
    except problems.NotFound:
        abort(404)
    except problems.Forbidden:
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
            problems.add_journal_entry(session, principal, problem_id, body, request_now())
    except problems.NotFound:
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
            for code, operator_id in _operator_ids(session, list(gpo.operators)).items()
            for stop in gtfs.search_stops(session, operator_id, text, STOP_SEARCH_LIMIT)
        ][:STOP_SEARCH_LIMIT]
    response = jsonify(found)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
