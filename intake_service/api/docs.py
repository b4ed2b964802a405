"""Serve Swagger UI's files from the installed package: the API docs work offline."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("docs_assets", __name__)


@bp.route("/api/v1/docs/assets/<path:filename>")
def asset(filename: str) -> Any:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
