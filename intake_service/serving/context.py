"""What every request handler (API and pages) reads from the application and the request.

The database of the application, and the request's clock: ``g.now`` is read once
per request (see ``create_app``), so every part of one request sees the same time
and tests can set it.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, g

from intake_service.appointments.policy import BookingPolicy, policy_of
from intake_service.intake.duplicates import DuplicateSettings
from intake_service.intake.places import CommuneLocator
from intake_service.platform.db import Database
from intake_service.territory.reference_cache import ReferenceCache


def database() -> Database:
    db: Database = current_app.extensions["intake.db"]
    return db


def request_now() -> dt.datetime:
    now: dt.datetime = g.now
    return now


def locator() -> CommuneLocator:
    """The commune index of the process (routing by coordinates)."""
    found: CommuneLocator = current_app.extensions["intake.communes"]
    return found


def reference_cache() -> ReferenceCache:
    """The operators and police zones this process has read lately."""
    cache: ReferenceCache = current_app.extensions["intake.reference"]
    return cache


def duplicate_settings() -> DuplicateSettings:
    """The deployment's duplicate lookup: window, distance, services grouping at once."""
    return DuplicateSettings.of(current_app.extensions["intake.config"])


def booking_policy() -> BookingPolicy:
    """The app's booking policy: its delays and its email texts' folder."""
    return policy_of(current_app.extensions["intake.config"])
