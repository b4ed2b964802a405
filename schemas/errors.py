"""marshmallow's errors as a flat list: what the API answers and the pages translate.

Pure (no Flask): the API's problem bodies (``intake_service.api.problem_details``) and the
sheet form (``intake_service.web.sheet_form``) both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """marshmallow's nested error dict as a flat list of ``{field, message}``.

    Schema-level messages (``_schema``) belong to the object that holds them;
    at the top level that is the body itself (field ``""``).
    """
    if isinstance(messages, Mapping):
        flat: list[dict[str, str]] = []
        for key, value in messages.items():
            if key == "_schema":
                flat.extend(flatten_errors(value, prefix))
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
                flat.extend(flatten_errors(value, path))
        return flat
    if isinstance(messages, list | tuple):
        flat = []
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                flat.extend(flatten_errors(item, prefix))
            else:
                flat.append({"field": prefix, "message": str(item)})
        return flat
    return [{"field": prefix, "message": str(messages)}]
