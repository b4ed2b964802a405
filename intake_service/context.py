"""What every request handler (API and pages) reads from the application and the request.

The database of the application, and the request's clock: ``g.now`` is read once
per request (see ``create_app``), so every part of one request sees the same time
and tests can set it.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g

from intake_service.db import Database


def database() -> Database:
    db: Database = current_app.extensions["intake.db"]
    return db


def request_now() -> dt.datetime:
    now: dt.datetime = g.now
    return now
