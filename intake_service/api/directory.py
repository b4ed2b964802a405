"""``/api/v1/directory``: the direct line's directory of entities, referents and mailboxes.

Every role reads the entities it works with (``directory/rules/visibility.py``; any
other answers 404) and keeps its own; the admin keeps every one. An entity's ``ETag``
is its version: a replacement sends it back as ``If-Match`` (RFC 9110 §13.1.1), without
it 428, stale 412. A creation sends none (or ``If-None-Match: *``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import abort

from intake_service.api.auth import current_principal, require
from intake_service.api.blueprint import ApiBlueprint
from intake_service.api.preconditions import abort_stale, if_match
from intake_service.directory import entities
from intake_service.models import DirectoryEntity
from intake_service.platform.errors import Conflict, Forbidden, NotFound, VersionRequired
from intake_service.platform.preconditions import ANY
from intake_service.serving.context import database, request_now
from schemas.directory import DirectoryEntityInSchema, DirectoryEntitySchema, DirectoryListSchema

blp = ApiBlueprint(
    "directory",
    __name__,
    url_prefix="/api/v1",
    description="The direct line's directory: entities, referents, functional mailboxes.",
)


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """The use cases' refusals as problems (the transaction inside has rolled back)."""
    try:
        yield
    except NotFound:
        abort(404, message="No such entity in the directory you may read.")
    except Forbidden:
        abort(403, message="Only the entity's own accounts, or the admin, may change it.")
    except (Conflict, VersionRequired) as exc:
        abort_stale(exc, "entity")
    except entities.NotCreated as exc:
        exists = exc.exists
        abort(
            412,
            message="The entity exists already: replace it with If-Match."
            if exists
            else "The entity does not exist yet: create it without If-Match.",
            errors=[
                {"field": "If-None-Match", "message": "The entity exists."}
                if exists
                else {"field": "If-Match", "message": "No current version to match."}
            ],
        )


def _answer(entity: DirectoryEntity, status: int = 200) -> Any:
    headers = {"ETag": f'"{entity.version}"'}
    if status == 201:
        headers["Location"] = url_for("directory.Entity", kind=entity.kind, code=entity.code)
    return entities.entity_document(entity, current_principal()), status, headers


@blp.route("/directory")
class Directory(MethodView):
    @require("directory.read")
    @blp.response(200, DirectoryListSchema)
    def get(self) -> Any:
        """The entities you work with, with their referents and mailboxes

        Yours, and those your incidents, service, stations or GPO connect you with.
        """
        with database().transaction() as session:
            principal = current_principal()
            found = entities.list_entities(session, principal)
            return {"items": [entities.entity_document(entity, principal) for entity in found]}


@blp.route("/directory/<kind>/<code>")
class Entity(MethodView):
    @require("directory.read")
    @blp.response(200, DirectoryEntitySchema)
    def get(self, kind: str, code: str) -> Any:
        """One entity

        Its ``ETag`` is its version: send it back as ``If-Match`` to replace it.
        """
        with _answers(), database().transaction() as session:
            return _answer(entities.get_entity(session, current_principal(), kind, code))

    @require("directory.edit")
    @blp.arguments(DirectoryEntityInSchema)
    @blp.response(200, DirectoryEntitySchema)
    @blp.alt_response(201, schema=DirectoryEntitySchema, description="Created")
    @blp.problem(403, "In your sight, but not your entity")
    @blp.problem(412, "If-Match does not name the current version")
    @blp.problem(428, "The entity exists: If-Match is required")
    @blp.problem(422, "Invalid entity; each error names its field")
    def put(self, body: dict[str, Any], kind: str, code: str) -> Any:
        """Create or replace an entity: name, mailbox, hours, notices, digest, referents

        The whole entity is sent; its referents replace the previous ones. Yours only
        (the admin: any entity the deployment knows).
        """
        expected = if_match("entity")
        with _answers(), database().transaction() as session:
            current = entities.current_version(session, kind, code)
            if request.headers.get("If-None-Match", "").strip() == ANY and current is not None:
                # A creation only (RFC 9110 §13.1.2), checked once the caller may keep it.
                entities.check_editable(session, current_principal(), kind, code)
                raise entities.NotCreated(f"{kind}/{code}", exists=True)
            entity, created = entities.put_entity(
                session, current_principal(), kind, code, body, request_now(), expected
            )
            return _answer(entity, 201 if created else 200)
