"""The command-centre console (``command_centre``): the live queue, the sheet, the actions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")
