"""Demo data for the embedded mode: two operators and a token for each role.

The demo tokens are fixed strings so the README's examples work as written; the
CLI refuses to load them outside the embedded mode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.accounts import add_user
from intake_service.gtfs import import_feed, read_feed
from intake_service.models import ApiToken, User
from intake_service.operators import add_operator
from intake_service.tokens import create_token, hash_token
from intake_service.zones import read_zones, replace_zones

OPERATORS = (
    ("tisseo", "Tisséo (Toulouse) — démo"),
    ("mistral", "Réseau Mistral (Toulon) — démo"),
)

# Demo accounts for the pages (embedded mode only), one per role with pages.
DEMO_PASSWORD = "demo-demo-demo"  # noqa: S105 - printed on start; embedded mode only
USERS = (
    ("agent@tisseo.demo", "operator", "tisseo"),
    ("agent@mistral.demo", "operator", "mistral"),
    ("cic@ddsp31.demo", "command_centre", "ddsp-31"),
    ("cic@ddsp83.demo", "command_centre", "ddsp-83"),
)

TOKENS = (
    ("operator", "tisseo", "demo-operator-tisseo"),
    ("operator", "mistral", "demo-operator-mistral"),
    ("command_centre", "ddsp-31", "demo-command-centre-ddsp-31"),
    ("command_centre", "ddsp-83", "demo-command-centre-ddsp-83"),
    ("gpo_referent", "gpo-toulouse", "demo-gpo-referent"),
    ("gpo_partner", "gpo-toulouse", "demo-gpo-partner"),
    ("station_officer", "csp-toulouse", "demo-station-officer"),
    ("admin", "*", "demo-admin"),
)


DEMO_DATA = Path(__file__).parent / "demo"
GTFS_FEEDS = (
    ("tisseo", DEMO_DATA / "gtfs" / "tisseo-demo"),
    ("mistral", DEMO_DATA / "gtfs" / "mistral-demo"),
)
POLICE_ZONES = DEMO_DATA / "police_zones.csv"


def load(
    session: Session, *, now: dt.datetime, commune_of: Callable[[float, float], str | None]
) -> list[tuple[str, str, str]]:
    """Add the demo operators, their GTFS feeds, the police-zone table and a token per role.

    Idempotent; returns (role, scope, secret) rows.
    """
    for code, name in OPERATORS:
        add_operator(session, code, name, now=now)
    for code, path in GTFS_FEEDS:
        import_feed(
            session,
            code,
            read_feed(path),
            source=f"demo:{path.name}",
            now=now,
            commune_of=commune_of,
        )
    replace_zones(session, read_zones(POLICE_ZONES))
    known = set(session.scalars(select(User.email)))
    for email, role, scope in USERS:
        if email not in known:
            add_user(session, email, DEMO_PASSWORD, role, scope, now=now)
    existing = set(session.scalars(select(ApiToken.token_hash)))
    for role, scope, secret in TOKENS:
        if hash_token(secret) not in existing:
            create_token(session, role, scope, f"demo {role} {scope}", now=now, secret=secret)
    return list(TOKENS)
