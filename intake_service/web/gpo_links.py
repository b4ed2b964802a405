"""The GPO referent's pages for links: the queue of proposals (with the reasons, confirm
or reject each), the emerging problems (open one in a step), and the links by hand (an
incident's page links it to a problem, a problem's page unlinks its incidents).

Incidents appear by their summary only: time, place by name, natures, priority. Their
narrative and names are on the incident's detail (read and audited elsewhere).
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from intake_service.access.rules.permissions import gpo_of
from intake_service.gpo import emerging as gpo_emerging
from intake_service.gpo import links as gpo_links
from intake_service.gpo import problems
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.platform import labels
from intake_service.platform.errors import Forbidden, NotFound, Refused
from intake_service.platform.labels import (
    NATURE_LABELS,
    PRIORITY_LABELS,
    REPORTER_ROLE_LABELS,
    SEVERITY_LABELS,
    SUSPECT_STATUS_LABELS,
    VICTIM_KIND_LABELS,
    WEAPON_LABELS,
)
from intake_service.serving.context import database
from intake_service.web.auth import current_page_principal, page_requires

bp = Blueprint("gpo_links", __name__, url_prefix="/gpo")

REASON_MAX = 2000
# A problem's id as the link form posts it (a UUID): anything else is not looked up.
PROBLEM_ID = re.compile(r"[0-9a-fA-F-]{1,36}")


def _incident_view(summary: dict[str, Any]) -> dict[str, Any]:
    place = summary["stop_name"] or "lieu sans arrêt"
    if summary.get("route_name"):
        place = f"{place} (ligne {summary['route_name']})"
    return {
        **summary,
        "when": labels.date_time(summary["occurred_at"]),
        "place_text": place,
        "natures_text": ", ".join(NATURE_LABELS.get(n, n) for n in summary["natures"]),
        "priority_text": f"{summary['priority']} — {PRIORITY_LABELS.get(summary['priority'], '')}",
    }


def _own_gpo(gpo_code: str) -> None:
    if gpo_of(current_page_principal()) != gpo_code:
        abort(404)


@bp.route("/<gpo_code>/propositions")
@page_requires("gpo.manage")
def proposals(gpo_code: str) -> Any:
    """The proposals waiting for the referent, oldest first."""
    _own_gpo(gpo_code)
    try:
        with database().transaction() as session:
            found = gpo_links.proposals(session, current_page_principal(), gpo_code)
    except NotFound:
        abort(404)
    items = [{**item, "incident": _incident_view(item["incident"])} for item in found]
    return render_template("gpo_proposals.html", gpo_code=gpo_code, items=items)


def _decided(
    problem_id: str, incident_id: str, decide: Any, message: str, back: str | None = None
) -> Any:
    """Apply the referent's decision, then back to ``back`` (by default the proposals)."""
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            decide(session, principal, problem_id, incident_id)
    except (NotFound, Forbidden):
        abort(404)
    except Refused as refused:
        flash(refused.message, "info")
    else:
        flash(message, "succes")
    return redirect(back or url_for("gpo_links.proposals", gpo_code=gpo_of(principal)), code=303)


@bp.route("/problemes/<problem_id>/liens/<linked_incident_id>/confirmer", methods=["POST"])
@page_requires("gpo.manage")
def confirm(problem_id: str, linked_incident_id: str) -> Any:
    return _decided(
        problem_id,
        linked_incident_id,
        lambda s, p, pid, iid: gpo_links.confirm(s, p, pid, iid, g.now),
        "Lien confirmé : l'incident est rattaché au problème.",
    )


@bp.route("/problemes/<problem_id>/liens/<linked_incident_id>/rejeter", methods=["POST"])
@page_requires("gpo.manage")
def reject(problem_id: str, linked_incident_id: str) -> Any:
    reason = request.form.get("motif", "").strip()[:REASON_MAX] or None
    return _decided(
        problem_id,
        linked_incident_id,
        lambda s, p, pid, iid: gpo_links.reject(s, p, pid, iid, reason, g.now),
        "Proposition rejetée : elle ne sera plus proposée.",
    )


@bp.route("/problemes/<problem_id>/liens/<linked_incident_id>/delier", methods=["POST"])
@page_requires("gpo.manage")
def unlink(problem_id: str, linked_incident_id: str) -> Any:
    """Take a linked incident out of the problem (journalled); back to the problem."""
    return _decided(
        problem_id,
        linked_incident_id,
        lambda s, p, pid, iid: gpo_links.unlink(s, p, pid, iid, g.now),
        "Incident délié du problème.",
        back=url_for("gpo.problem_detail", problem_id=problem_id) + "#incidents",
    )


@bp.route("/<gpo_code>/incidents/<linked_incident_id>/rattacher", methods=["POST"])
@page_requires("gpo.manage")
def link(gpo_code: str, linked_incident_id: str) -> Any:
    """Link the incident by hand to the problem chosen; the problem's page then lists it."""
    _own_gpo(gpo_code)
    problem_id = request.form.get("probleme", "").strip()
    if not PROBLEM_ID.fullmatch(problem_id):
        flash("Choisissez le problème auquel rattacher l'incident.", "erreur")
        return redirect(
            url_for("gpo_links.incident", gpo_code=gpo_code, linked_incident_id=linked_incident_id)
            + "#rattacher",
            code=303,
        )
    return _decided(
        problem_id,
        linked_incident_id,
        lambda s, p, pid, iid: gpo_links.link(s, p, pid, iid, g.now),
        "Incident rattaché au problème.",
        back=url_for("gpo.problem_detail", problem_id=problem_id) + "#incidents",
    )


@bp.route("/<gpo_code>/incidents/<linked_incident_id>")
@page_requires("gpo.read_incidents")
def incident(gpo_code: str, linked_incident_id: str) -> Any:
    """An incident of the GPO with its narrative (the read is audited), its links, and
    the GPO's open problems it may be linked to by hand."""
    _own_gpo(gpo_code)
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            found = gpo_links.read_incident(session, principal, gpo_code, linked_incident_id, g.now)
            summary = _incident_view(gpo_links.incident_summary(session, found))
            sheet = found.sheet
            links = gpo_links.links_of_incident(session, gpo_code, found.id)
            linked = {item["problem_id"] for item in links if item["state"] == "confirmed"}
            linkable = sorted(
                (
                    (problem.title, problem.id)
                    for problem in problems.list_problems(session, principal, gpo_code)
                    if problem.id not in linked
                    and problem_lifecycle.is_linkable(problem.state, problem.watch_until, g.now)
                ),
                key=lambda choice: choice[0].casefold(),
            )
    except NotFound:
        abort(404)
    return render_template(
        "gpo_incident.html",
        gpo_code=gpo_code,
        incident=summary,
        sheet=sheet,
        links=links,
        severity_labels=SEVERITY_LABELS,
        reporter_labels=REPORTER_ROLE_LABELS,
        suspect_labels=SUSPECT_STATUS_LABELS,
        victim_labels=VICTIM_KIND_LABELS,
        weapon_labels=WEAPON_LABELS,
        link_states=labels.LINK_STATE_LABELS,
        linkable=linkable,
    )


@bp.route("/<gpo_code>/emergents")
@page_requires("gpo.manage")
def emerging(gpo_code: str) -> Any:
    """Clusters of like incidents no open problem covers."""
    _own_gpo(gpo_code)
    config = current_app.extensions["intake.config"]
    try:
        with database().transaction() as session:
            found = gpo_emerging.emerging(
                session, current_page_principal(), gpo_code, g.now, config
            )
    except NotFound:
        abort(404)
    items = [
        {
            **item,
            "first_text": labels.date_time(item["first"]),
            "last_text": labels.date_time(item["last"]),
            "incidents": [_incident_view(summary) for summary in item["incidents"]],
        }
        for item in found
    ]
    return render_template(
        "gpo_emerging.html",
        gpo_code=gpo_code,
        items=items,
        radius=config.cluster_radius_metres,
        minimum=config.cluster_min_incidents,
        days=config.cluster_window.days,
    )


@bp.route("/<gpo_code>/emergents/probleme", methods=["POST"])
@page_requires("gpo.manage")
def open_problem(gpo_code: str) -> Any:
    """Open a problem from a suggestion, its incidents linked."""
    _own_gpo(gpo_code)
    family = request.form.get("famille", "")
    incident_ids = [i for i in request.form.getlist("incident")[:500] if i]
    if not incident_ids:
        abort(400)
    config = current_app.extensions["intake.config"]
    try:
        with database().transaction() as session:
            problem = gpo_emerging.create_from_cluster(
                session,
                current_page_principal(),
                gpo_code,
                family,
                incident_ids,
                g.now,
                config,
            )
            problem_id = problem.id
    except NotFound:
        abort(404)
    except (Refused, problems.InvalidInput) as refused:
        flash(str(refused), "info")
        return redirect(url_for("gpo_links.emerging", gpo_code=gpo_code), code=303)
    flash("Problème ouvert ; ses incidents y sont rattachés.", "succes")
    return redirect(f"/gpo/problemes/{problem_id}", code=303)
