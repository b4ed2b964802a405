"""The common incident sheet as a web form, for the staff of small operators (``operator``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sheet_form", __name__, url_prefix="/fiche")
