"""The home page: where a signed-in person's work is, by role."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for

from intake_service.web.auth import page_principal

bp = Blueprint("home", __name__)

# The page each role lands on; roles whose pages are not built yet see the home page.
LANDING = {
    "command_centre": "console.queue",
    "operator": "follow_up.incidents",
    "gpo_referent": "gpo.home",
    "gpo_partner": "gpo.home",
    "station_officer": "stations_pages.index",
    # Above one GPO (issue 16): the national view; a département's direction its own.
    "national": "overview_pages.national_page",
    "departement": "overview_pages.national_page",
}


@bp.route("/")
def index() -> Any:
    principal = page_principal()
    if principal is None:
        return redirect(url_for("auth.sign_in"))
    if principal.role in LANDING:
        return redirect(url_for(LANDING[principal.role]))
    return render_template("home.html", principal=principal)
