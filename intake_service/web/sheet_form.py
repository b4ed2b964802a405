"""The common incident sheet as a web form, for the staff of small operators (``operator``).

The form posts flat fields named by their path in the sheet; ``form_to_sheet``
shapes them into the sheet the API receives, and the API's own ``SheetSchema``
and ``submit_incident`` decide, so a sheet typed here and one sent by a system
are judged the same. The page works without JavaScript; the script only hides
what does not apply, searches stops as you type and reads the device's position.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from intake_service.access.rules.permissions import Principal
from intake_service.intake import documents, queries, submission
from intake_service.platform import labels
from intake_service.platform.errors import NotFound
from intake_service.serving.context import (
    database,
    duplicate_settings,
    locator,
    reference_cache,
    request_now,
)
from intake_service.territory import gtfs
from intake_service.web import sheet_form_labels as form_labels
from intake_service.web.auth import current_page_principal, page_requires
from schemas.errors import flatten_errors
from schemas.sheet import SheetSchema

bp = Blueprint("sheet_form", __name__, url_prefix="/fiche")

STOP_SEARCH_LIMIT = 20
STOP_QUERY_MAX = 100
# Victim blocks a form without JavaScript offers (the script adds more on demand).
EMPTY_VICTIM_BLOCKS = 2


def _posted_values() -> dict[str, str | list[str]]:
    """The posted fields by name; the multi-valued ones as lists."""
    values: dict[str, str | list[str]] = {}
    for name in request.form:
        if name == "csrf_token":
            continue
        if form_labels.generic_path(name) in form_labels.LIST_FIELDS:
            values[name] = request.form.getlist(name)
        else:
            values[name] = request.form.get(name, "")
    return values


def _form_context(
    principal: Principal, values: dict[str, str | list[str]], errors: dict[str, list[str]]
) -> dict[str, Any]:
    """What the form template needs: the typed values, the errors, the operator's lines."""
    with database().transaction() as session:
        operator = gtfs.require_operator(session, principal.scope)
        routes = [
            {
                "route_id": route.route_id,
                "label": " — ".join(part for part in (route.short_name, route.long_name) if part)
                or route.route_id,
                "mode": route.route_type,
            }
            for route in gtfs.list_routes(session, operator.id)
        ]
        stop_names: dict[str, str] = {}
        for key in ("location.stop_id", "location.previous_stop_id", "location.next_stop_id"):
            stop_id = values.get(key)
            if isinstance(stop_id, str) and stop_id.strip():
                stop = gtfs.find_stop(session, operator.id, stop_id.strip()[:64])
                if stop is not None:
                    stop_names[key] = stop.name
    victims = len(form_labels.victim_indexes(values))
    return {
        "values": values,
        "errors": errors,
        "routes": routes,
        "stop_names": stop_names,
        "victim_blocks": min(form_labels.MAX_VICTIMS, max(EMPTY_VICTIM_BLOCKS, victims + 1)),
        "L": form_labels,
        "labels": labels,
    }


def _new_values(principal: Principal) -> dict[str, str | list[str]]:
    """A fresh sheet: a reference suggestion, the web form as channel, now as the time."""
    now = request_now()
    return {
        "operator_reference": form_labels.suggested_reference(principal.scope, now),
        "channel": "web_form",
        "occurred_at": form_labels.iso_to_local(now),
    }


@bp.route("/nouvelle", methods=["GET"])
@page_requires("incident.submit")
def new() -> Any:
    """The empty sheet."""
    principal = current_page_principal()
    return render_template(
        "sheet_form.html", **_form_context(principal, _new_values(principal), {})
    )


@bp.route("/nouvelle", methods=["POST"])
@page_requires("incident.submit")
def submit() -> Any:
    """Check the sheet with the API's schema and accept it; on errors, the form again, as typed."""
    principal = current_page_principal()
    values = form_labels.compact_victims(_posted_values())
    sheet = form_labels.form_to_sheet(values)
    errors: list[dict[str, str]]
    try:
        loaded = SheetSchema().load(sheet)
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
    else:
        incident_id, errors = _accept(principal, loaded)
        if incident_id is not None:
            return redirect(url_for(".receipt", incident_id=incident_id), 303)
    context = _form_context(principal, values, form_labels.french_errors(errors))
    return render_template("sheet_form.html", **context), 422


def _accept(principal: Principal, sheet: dict[str, Any]) -> tuple[str | None, list[dict[str, str]]]:
    """Submit the valid sheet in one transaction: the incident's id, or the errors found."""
    try:
        with database().transaction() as session:
            accepted = submission.submit_incident(
                session,
                principal,
                sheet,
                now=request_now(),
                locator=locator(),
                reference=reference_cache(),
                duplicate_settings=duplicate_settings(),
            )
            incident_id = accepted.incident.id
    except IntegrityError:
        # The unique index on the reference decides, also against a concurrent tab.
        with database().transaction() as session:
            existing = submission.find_by_reference(session, principal, sheet["operator_reference"])
        if existing is None:
            raise
        return None, [{"field": "operator_reference", "message": form_labels.DUPLICATE_REFERENCE}]
    except submission.UnknownOperator:
        abort(403)
    except ValidationError as exc:  # a line or stop the operator's feed does not have
        return None, flatten_errors(exc.messages)
    return incident_id, []


@bp.route("/arrets", methods=["GET"])
@page_requires("incident.submit")
def stops() -> Response:
    """Stops of the operator's GTFS feed whose name contains ``q``: [{stop_id, name}]."""
    text = request.args.get("q", "")[:STOP_QUERY_MAX]
    principal = current_page_principal()
    with database().transaction() as session:
        operator = gtfs.require_operator(session, principal.scope)
        found = [
            {"stop_id": stop.stop_id, "name": stop.name}
            for stop in gtfs.search_stops(session, operator.id, text, STOP_SEARCH_LIMIT)
        ]
    response = jsonify(found)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.route("/<incident_id>/recu", methods=["GET"])
@page_requires("incident.read")
def receipt(incident_id: str) -> Any:
    """The printable receipt of an accepted sheet; another operator's incident is a 404."""
    principal = current_page_principal()
    if principal.role != "operator":
        abort(404)
    try:
        with database().transaction() as session:
            incident = queries.read_incident(session, principal, incident_id, now=g.now)
            document = documents.incident_document(incident, principal)
            operator = gtfs.require_operator(session, principal.scope)
            sheet = document["sheet"]
            location = sheet.get("location", {})
            route = (
                gtfs.find_route(session, operator.id, location["route_id"])
                if location.get("route_id")
                else None
            )
            stop_names = {
                key: stop.name
                for key in ("stop_id", "previous_stop_id", "next_stop_id")
                if location.get(key)
                and (stop := gtfs.find_stop(session, operator.id, location[key])) is not None
            }
    except NotFound:
        abort(404)
    return render_template(
        "sheet_receipt.html",
        incident=document,
        sheet=sheet,
        route_label=(
            " — ".join(part for part in (route.short_name, route.long_name) if part)
            if route
            else None
        ),
        stop_names=stop_names,
        L=form_labels,
        labels=labels,
    )
