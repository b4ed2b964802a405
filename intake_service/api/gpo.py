"""``/api/v1/gpos/<gpo_code>/problems`` and ``/api/v1/problems/<problem_id>``: GPO problems.

Referents (``gpo_referent``) create and change their GPO's problems, move them
through the lifecycle, plan actions and keep the journal; partners
(``gpo_partner``) read them and mark done the actions their organisation owns.
A problem of another GPO answers 404.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.api.preconditions import abort_stale, if_match
from intake_service.gpo import actions, gpos, journal, problems
from intake_service.models import Problem as ProblemRow
from intake_service.platform.errors import Conflict, Forbidden, NotFound
from intake_service.platform.preconditions import IfMatch
from intake_service.serving.context import database, request_now
from schemas.gpo import (
    ActionListSchema,
    ActionOutSchema,
    ActionSchema,
    ActionUpdateSchema,
    GpoProblemSchema,
    GpoSchema,
    JournalEntryOutSchema,
    JournalEntrySchema,
    JournalSchema,
    ProblemCreateSchema,
    ProblemListArgsSchema,
    ProblemListSchema,
    ProblemUpdateSchema,
    TransitionSchema,
)

blp = ApiBlueprint(
    "gpo_problems",
    __name__,
    url_prefix="/api/v1",
    description="GPO problems: scope, lifecycle, actions and journal.",
)


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """The use cases' refusals as problems (the transaction inside has rolled back)."""
    try:
        yield
    except NotFound:
        abort(404, message="No such problem, action or GPO in your scope.")
    except Forbidden:
        abort(403, message="Only the GPO's referent, or the action's own partner, may do this.")
    except Conflict as exc:
        if g.get("version_from") == "If-Match":
            abort_stale(exc, "problem")
        abort(
            409,
            message=str(exc),
            slug="version-conflict",
            errors=[{"field": "version", "message": str(exc)}],
            extra={"current_version": exc.current_version},
        )
    except problems.TransitionRefused as exc:
        status = 409 if exc.field == "to" else 422
        abort(
            status,
            message=exc.message,
            slug="invalid-transition" if status == 409 else None,
            errors=[{"field": exc.field, "message": exc.message}],
        )
    except problems.InvalidInput as exc:
        abort(422, errors=exc.errors)


def _expected_version(body: dict[str, Any]) -> int | IfMatch | None:
    """The version the caller changed: the body's ``version`` (stale: 409), else
    ``If-Match`` (stale: 412, RFC 9110 §13.1.1)."""
    if "version" in body:
        g.version_from = "version"
        return int(body.pop("version"))
    g.version_from = "If-Match"
    return if_match("problem")


def _problem_answer(problem: ProblemRow, status: int = 200) -> Any:
    headers = {"ETag": f'"{problem.version}"'}
    if status == 201:
        headers["Location"] = url_for("gpo_problems.Problem", problem_id=problem.id)
    return problems.problem_document(problem, request_now()), status, headers


@blp.route("/gpos/<gpo_code>")
class Gpo(MethodView):
    @require("gpo.read")
    @blp.response(200, GpoSchema)
    def get(self, gpo_code: str) -> Any:
        """Your GPO: the services and operators it covers, its partners"""
        with _answers(), database().transaction() as session:
            gpo = gpos.get_gpo(session, current_principal(), gpo_code)
            return gpos.gpo_document(session, gpo)


@blp.route("/gpos/<gpo_code>/problems")
class GpoProblems(MethodView):
    @require("gpo.read")
    @blp.arguments(ProblemListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, ProblemListSchema)
    def get(self, gpo_code: str, state: list[str] | None = None) -> Any:
        """The GPO's problems

        Most recently changed first; ``state`` (repeatable) narrows them.
        """
        with _answers(), database().transaction() as session:
            found = problems.list_problems(session, current_principal(), gpo_code, state or ())
            return {"items": [problems.problem_document(p, request_now()) for p in found]}

    @require("gpo.manage")
    @blp.arguments(ProblemCreateSchema)
    @blp.response(201, GpoProblemSchema)
    @blp.problem(422, "Invalid problem or scope; each error names its field")
    def post(self, body: dict[str, Any], gpo_code: str) -> Any:
        """Open a problem

        With its scope: the incidents that belong to it. Starts ``reported``
        unless ``state`` says ``qualified`` or ``analysis``.
        """
        with _answers(), database().transaction() as session:
            problem = problems.create_problem(
                session, current_principal(), gpo_code, body, request_now()
            )
            return _problem_answer(problem, 201)


@blp.route("/problems/<problem_id>")
class Problem(MethodView):
    @require("gpo.read")
    @blp.response(200, GpoProblemSchema)
    def get(self, problem_id: str) -> Any:
        """A problem

        Its ``ETag`` is its version: send it back as ``If-Match`` (or ``version``) to change it.
        """
        with _answers(), database().transaction() as session:
            return _problem_answer(problems.get_problem(session, current_principal(), problem_id))

    @require("gpo.manage")
    @blp.arguments(ProblemUpdateSchema)
    @blp.response(200, GpoProblemSchema)
    @blp.problem(409, "The problem changed since the version the body sent")
    @blp.problem(412, "If-Match does not name the problem's current version")
    def patch(self, body: dict[str, Any], problem_id: str) -> Any:
        """Change a problem's title, description, scope or partners

        The scope is replaced whole. The journal records what changed.
        """
        expected = _expected_version(body)
        with _answers(), database().transaction() as session:
            problem = problems.update_problem(
                session, current_principal(), problem_id, body, request_now(), expected
            )
            return _problem_answer(problem)


@blp.route("/problems/<problem_id>/transitions")
class Transitions(MethodView):
    @require("gpo.manage")
    @blp.arguments(TransitionSchema)
    @blp.response(200, GpoProblemSchema)
    @blp.problem(409, "Not a move allowed from the problem's state, or a stale body version")
    @blp.problem(412, "If-Match does not name the problem's current version")
    @blp.problem(422, "A reason is required for not_resolved, abandoned and out_of_scope")
    def post(self, body: dict[str, Any], problem_id: str) -> Any:
        """Move a problem along its lifecycle

        ``not_resolved`` is recorded and the problem goes back to ``analysis``;
        ``closed`` is recorded and the problem is watched for three months
        (``watch``, ``watch_until``).
        """
        expected = _expected_version(body)
        with _answers(), database().transaction() as session:
            problem = problems.transition(
                session,
                current_principal(),
                problem_id,
                body["to"],
                body.get("reason"),
                request_now(),
                expected,
            )
            return _problem_answer(problem)


@blp.route("/problems/<problem_id>/actions")
class Actions(MethodView):
    @require("gpo.read")
    @blp.response(200, ActionListSchema)
    def get(self, problem_id: str) -> Any:
        """The problem's actions, by due date"""
        with _answers(), database().transaction() as session:
            found = actions.list_actions(session, current_principal(), problem_id)
            return {"items": [actions.action_document(action) for action in found]}

    @require("gpo.manage")
    @blp.arguments(ActionSchema)
    @blp.response(201, ActionOutSchema)
    @blp.problem(422, "Invalid action (owner_partner must be a partner of the GPO)")
    def post(self, body: dict[str, Any], problem_id: str) -> Any:
        """Add an action to the plan"""
        with _answers(), database().transaction() as session:
            action = actions.add_action(
                session, current_principal(), problem_id, body, request_now()
            )
            return actions.action_document(action)


@blp.route("/problems/<problem_id>/actions/<int:action_id>")
class Action(MethodView):
    @require("gpo.manage")
    @blp.arguments(ActionUpdateSchema)
    @blp.response(200, ActionOutSchema)
    def patch(self, body: dict[str, Any], problem_id: str, action_id: int) -> Any:
        """Change an action (what, owner, dates, status, service order)"""
        with _answers(), database().transaction() as session:
            action = actions.update_action(
                session, current_principal(), problem_id, action_id, body, request_now()
            )
            return actions.action_document(action)


@blp.route("/problems/<problem_id>/actions/<int:action_id>/done")
class ActionDone(MethodView):
    @require("gpo.complete_action")
    @blp.response(200, ActionOutSchema)
    @blp.problem(403, "A partner may only mark done the actions its organisation owns")
    def post(self, problem_id: str, action_id: int) -> Any:
        """Mark an action done

        The referent, any action of its GPO; a partner, the actions it owns.
        """
        with _answers(), database().transaction() as session:
            action = actions.complete_action(
                session, current_principal(), problem_id, action_id, request_now()
            )
            return actions.action_document(action)


@blp.route("/problems/<problem_id>/journal")
class Journal(MethodView):
    @require("gpo.read")
    @blp.response(200, JournalSchema)
    def get(self, problem_id: str) -> Any:
        """The problem's journal, newest first

        Referents read all of it; partners read the meetings and decisions.
        """
        with _answers(), database().transaction() as session:
            found = problems.read_journal(session, current_principal(), problem_id, request_now())
            return {"items": [journal.journal_document(entry) for entry in found]}

    @require("gpo.manage")
    @blp.arguments(JournalEntrySchema)
    @blp.response(201, JournalEntryOutSchema)
    def post(self, body: dict[str, Any], problem_id: str) -> Any:
        """Write a meeting, a decision or a note

        Meetings and decisions are read by the partners: no personal data in them.
        """
        with _answers(), database().transaction() as session:
            entry = problems.add_journal_entry(
                session, current_principal(), problem_id, body, request_now()
            )
            return journal.journal_document(entry)
