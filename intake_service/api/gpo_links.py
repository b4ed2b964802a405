"""Links between incidents and GPO problems: the referent's queue of proposals, its
decisions, manual links, and the emerging problems (clusters no problem covers).

``/api/v1/gpos/<gpo_code>/proposals``, ``/api/v1/problems/<problem_id>/links`` (+
``/links/<incident id>``, ``/confirm``, ``/reject``), ``/api/v1/gpos/<gpo_code>/emerging``.
Incidents appear by their summary only (time, place, natures, priority). A problem or
GPO of another GPO answers 404.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.gpo import emerging, links, problems
from intake_service.platform.errors import Forbidden, NotFound, Refused
from intake_service.serving.context import database, request_now
from schemas.gpo_links import (
    ClusterProblemSchema,
    CreatedProblemSchema,
    EmergingListSchema,
    LinkListSchema,
    LinkSchema,
    ManualLinkSchema,
    RejectSchema,
)

blp = ApiBlueprint(
    "gpo_links_api",
    __name__,
    url_prefix="/api/v1",
    description="Links between incidents and GPO problems; emerging problems.",
)


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """The use cases' refusals as problems (the transaction inside has rolled back)."""
    try:
        yield
    except NotFound:
        abort(404, message="No such problem, incident, link or GPO in your scope.")
    except Forbidden:
        abort(403, message="Only the GPO's referent may do this.")
    except Refused as exc:
        abort(409, message=exc.message, errors=[{"field": "state", "message": exc.message}])
    except problems.InvalidInput as exc:
        abort(422, errors=exc.errors)


@blp.route("/gpos/<gpo_code>/proposals")
class Proposals(MethodView):
    @require("gpo.manage")
    @blp.response(200, LinkListSchema)
    @blp.problem(404, "Not your GPO.")
    def get(self, gpo_code: str) -> Any:
        """The proposals waiting for the referent, oldest first, with their reasons"""
        with _answers(), database().transaction() as session:
            return {"items": links.proposals(session, current_principal(), gpo_code)}


@blp.route("/problems/<problem_id>/links")
class Links(MethodView):
    @require("gpo.read")
    @blp.response(200, LinkListSchema)
    @blp.problem(404, "No such problem in your GPO.")
    def get(self, problem_id: str) -> Any:
        """The problem's links (partners: the confirmed ones only)"""
        with _answers(), database().transaction() as session:
            return {"items": links.problem_links(session, current_principal(), problem_id)}

    @require("gpo.manage")
    @blp.arguments(ManualLinkSchema)
    @blp.response(201, LinkSchema)
    @blp.problem(404, "No such problem in your GPO, or incident of its services.")
    def post(self, body: dict[str, Any], problem_id: str) -> Any:
        """Link an incident by hand (confirmed at once)"""
        with _answers(), database().transaction() as session:
            found = links.link(
                session, current_principal(), problem_id, body["incident_id"], request_now()
            )
            return links.link_document(session, found)


@blp.route("/problems/<problem_id>/links/<linked_incident_id>")
class Link(MethodView):
    @require("gpo.manage")
    @blp.response(200, LinkSchema)
    @blp.problem(404, "No such link in your GPO.")
    @blp.problem(409, "The incident is not linked.")
    def delete(self, problem_id: str, linked_incident_id: str) -> Any:
        """Unlink an incident (the linker will not propose it again)"""
        with _answers(), database().transaction() as session:
            found = links.unlink(
                session, current_principal(), problem_id, linked_incident_id, request_now()
            )
            return links.link_document(session, found)


@blp.route("/problems/<problem_id>/links/<linked_incident_id>/confirm")
class Confirm(MethodView):
    @require("gpo.manage")
    @blp.response(200, LinkSchema)
    @blp.problem(404, "No such link in your GPO.")
    def post(self, problem_id: str, linked_incident_id: str) -> Any:
        """Confirm a proposal: the incident belongs to the problem"""
        with _answers(), database().transaction() as session:
            found = links.confirm(
                session, current_principal(), problem_id, linked_incident_id, request_now()
            )
            return links.link_document(session, found)


@blp.route("/problems/<problem_id>/links/<linked_incident_id>/reject")
class Reject(MethodView):
    @require("gpo.manage")
    @blp.arguments(RejectSchema)
    @blp.response(200, LinkSchema)
    @blp.problem(404, "No such link in your GPO.")
    @blp.problem(409, "Only a proposal can be rejected.")
    def post(self, body: dict[str, Any], problem_id: str, linked_incident_id: str) -> Any:
        """Reject a proposal, with an optional reason"""
        with _answers(), database().transaction() as session:
            found = links.reject(
                session,
                current_principal(),
                problem_id,
                linked_incident_id,
                body.get("reason"),
                request_now(),
            )
            return links.link_document(session, found)


@blp.route("/gpos/<gpo_code>/emerging")
class Emerging(MethodView):
    @require("gpo.manage")
    @blp.response(200, EmergingListSchema)
    @blp.problem(404, "Not your GPO.")
    def get(self, gpo_code: str) -> Any:
        """Clusters of like incidents no open problem covers (settings: CLUSTER_*)"""
        config = current_app.extensions["intake.config"]
        with _answers(), database().transaction() as session:
            found = emerging.emerging(session, current_principal(), gpo_code, request_now(), config)
            return {"items": found}


@blp.route("/gpos/<gpo_code>/emerging/problems")
class EmergingProblems(MethodView):
    @require("gpo.manage")
    @blp.arguments(ClusterProblemSchema)
    @blp.response(201, CreatedProblemSchema)
    @blp.problem(404, "Not your GPO, or an incident not of its services.")
    def post(self, body: dict[str, Any], gpo_code: str) -> Any:
        """Open a problem from a suggestion, its incidents linked, in one step"""
        config = current_app.extensions["intake.config"]
        with _answers(), database().transaction() as session:
            problem = emerging.create_from_cluster(
                session,
                current_principal(),
                gpo_code,
                body["family"],
                body["incident_ids"],
                request_now(),
                config,
                title=body.get("title"),
            )
            return {
                "id": problem.id,
                "title": problem.title,
                "state": problem.state,
                "linked": len(set(body["incident_ids"])),
            }
