"""The operator's follow-up (``operator``): its incidents, live, with their history."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("follow_up", __name__, url_prefix="/operateur")
