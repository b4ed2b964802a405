"""The problem form of the GPO pages: form fields to the API's body and back, the
scope in words, and the API's messages in French.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from intake_service.models import Problem
from intake_service.platform.labels import (
    NATURE_LABELS,
    WEEKDAY_LABELS,
)
from intake_service.territory import gtfs, operators
from intake_service.web.wording import VALIDATION_MESSAGES

# The API's messages in French (one table), with what these forms say better.
MESSAGES_FR = {
    **VALIDATION_MESSAGES,
    # A problem's title and texts: "empty" says it better than a length here.
    "Shorter than minimum length 1.": "Ne doit pas être vide.",
    "Length must be between 1 and 200.": "Obligatoire, 200 caractères au plus.",
}


def french(message: str) -> str:
    if " is not a partner of " in message:
        return "Ce partenaire ne fait pas partie du GPO."
    if message.startswith("Must be one of"):
        return "Valeur non prévue."
    if message.startswith("A reason is required"):
        return "Un motif est obligatoire pour ce changement d'état."
    return MESSAGES_FR.get(message, message)


def form_errors(errors: list[dict[str, str]]) -> dict[str, str]:
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


def operator_ids(session: Session, codes: list[str]) -> dict[str, int]:
    found = {}
    for code in codes:
        operator = operators.find_operator(session, code)
        if operator is not None:
            found[code] = operator.id
    return found


def stop_name(session: Session, ids: Mapping[str, int], operator: str, stop_id: str) -> str:
    if operator in ids:
        stop = gtfs.find_stop(session, ids[operator], stop_id)
        if stop is not None:
            return stop.name
    return stop_id


def route_label(route: Any) -> str:
    return " — ".join(part for part in (route.short_name, route.long_name) if part) or str(
        route.route_id
    )


def scope_lines(session: Session, scope: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The scope in French, one (label, value) per constrained dimension."""
    codes = sorted(
        {str(item["operator"]) for key in ("stops", "routes") for item in scope.get(key) or []}
        | set(scope.get("operators") or [])
    )
    ids = operator_ids(session, codes)
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
            names.append(route_label(found) if found else route["route_id"])
        lines.append(("Lignes", ", ".join(names)))
    if scope.get("stops"):
        names = [
            stop_name(session, ids, stop["operator"], stop["stop_id"]) for stop in scope["stops"]
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
