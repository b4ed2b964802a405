"""Demo data for the embedded mode: two operators and a token for each role.

The demo tokens are fixed strings so the README's examples work as written; the
CLI refuses to load them outside the embedded mode.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.models import ApiToken
from intake_service.operators import add_operator
from intake_service.tokens import create_token, hash_token

OPERATORS = (
    ("tisseo", "Tisséo (Toulouse) — démo"),
    ("mistral", "Réseau Mistral (Toulon) — démo"),
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


def load(session: Session, *, now: dt.datetime) -> list[tuple[str, str, str]]:
    """Add the demo operators and tokens (idempotent); return (role, scope, secret) rows."""
    for code, name in OPERATORS:
        add_operator(session, code, name, now=now)
    existing = set(session.scalars(select(ApiToken.token_hash)))
    for role, scope, secret in TOKENS:
        if hash_token(secret) not in existing:
            create_token(session, role, scope, f"demo {role} {scope}", now=now, secret=secret)
    return list(TOKENS)
