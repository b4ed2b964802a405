"""The flask-smorest blueprint every API module uses, with a body parser that cannot crash."""

from __future__ import annotations

from typing import Any

from flask import Request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from intake_service.api.json_body import read_json_body
from schemas.problem_details import ProblemSchema
from schemas.text import storable_copy, unstorable_paths, with_unstorable_messages


class BodyParser(FlaskParser):
    """webargs' parser, answering 400 for every unreadable body (``api/json_body.py``:
    strict UTF-8, no key twice, no RecursionError becoming a 500), and 422 for unstorable
    text (a NUL, a lone surrogate) together with the schema's errors, every field named.
    """

    # An unknown query parameter is a typo too (``priorty=P1`` must not list everything).
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012 - webargs declares it so
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
    }

    def load_json(self, req: Request, schema: Any) -> Any:
        if not is_json_request(req):
            return missing
        return read_json_body(refuse_unstorable=False)

    def _process_location_data(
        self,
        location_data: Any,
        schema: Schema,
        req: Request,
        location: str,
        unknown: str | None,
        validators: Any,
    ) -> Any:
        refused = list(dict.fromkeys(unstorable_paths(location_data)))
        if not refused:
            return super()._process_location_data(
                location_data, schema, req, location, unknown, validators
            )
        # The schema sees the body without those characters, so its errors come too.
        try:
            super()._process_location_data(
                storable_copy(location_data), schema, req, location, unknown, validators
            )
        except ValidationError as error:
            raise ValidationError(with_unstorable_messages(error.messages, refused)) from error
        raise ValidationError(with_unstorable_messages({}, refused))


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = BodyParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, with one schema instance per view, built once.

        Given a class, webargs builds an instance (and all its nested schemas) on
        every request: a few milliseconds per sheet. Loading keeps no state in
        the instance, so one can serve every request and thread.
        """
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def problem(self, status_code: int, description: str) -> Any:
        """Document an error answer of this operation (always application/problem+json)."""
        return self.alt_response(
            status_code,
            schema=ProblemSchema,
            content_type="application/problem+json",
            description=description,
        )
