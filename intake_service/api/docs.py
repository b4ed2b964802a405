"""Serve Swagger UI's files, vendored from the npm package ``swagger-ui-dist``
(``deploy/vendor_assets.py``): the API docs work offline, and read OpenAPI 3.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, send_from_directory

SWAGGER_UI = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "swagger-ui-dist"

bp = Blueprint("docs_assets", __name__)


@bp.route("/api/v1/docs/assets/<path:filename>")
def asset(filename: str) -> Any:
    return send_from_directory(SWAGGER_UI, filename, max_age=86400)
