"""GPOs and their partners: declared from the command line, read by their members."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import DEPARTMENT_CODE, Principal, gpo_of
from intake_service.models import (
    Gpo,
    GpoPartner,
    PoliceZone,
)
from intake_service.platform.errors import NotFound
from intake_service.territory.rules.departments import department_of_service

GPO_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
STATUSES = ("deployed", "in_creation")
RHYTHMS = ("fortnightly", "monthly", "dates")


class GpoError(ValueError):
    """A GPO or partner cannot be added as asked; the message says what to do."""


# --- GPOs and partners (the command line) -------------------------------------------------


def add_gpo(
    session: Session,
    code: str,
    name: str,
    services: Sequence[str],
    operators: Sequence[str],
    auto_confirm_strong: bool,
    now: dt.datetime,
    *,
    department: str | None = None,
    status: str | None = None,
    meeting_rhythm: str | None = None,
) -> tuple[Gpo, bool, list[str]]:
    """Add a GPO (or update it if CODE exists). Returns (gpo, created, warnings).

    Any service code is accepted; a warning names those no police zone routes to.
    ``department`` defaults to the one a service code names (ddsp-31 → 31); ``status``
    and ``meeting_rhythm``, when not given, keep the GPO's (deployed, monthly when new).
    """
    if not GPO_CODE.match(code):
        raise GpoError(
            f"Invalid GPO code {code!r}: 2–64 lowercase letters, digits, '-' or '_' "
            "(e.g. gpo-toulouse)."
        )
    if not name.strip():
        raise GpoError("The GPO needs a name (--name).")
    services = _codes(services)
    operators = _codes(operators)
    if not services and not operators:
        raise GpoError("Name the services it covers (--services ddsp-31,...) or its operators.")
    for value in (*services, *operators):
        if not GPO_CODE.match(value):
            raise GpoError(f"Invalid code {value!r}: lowercase letters, digits, '-' or '_'.")
    department = (department or "").strip().upper() or department_of_services(services)
    if department is not None and not DEPARTMENT_CODE.match(department):
        raise GpoError(
            f"Invalid département {department!r}: 01–95, 2A, 2B or 971–976 (--department 31)."
        )
    if status is not None and status not in STATUSES:
        raise GpoError(f"Invalid status {status!r}: one of {', '.join(STATUSES)}.")
    if meeting_rhythm is not None and meeting_rhythm not in RHYTHMS:
        raise GpoError(f"Invalid meeting rhythm {meeting_rhythm!r}: one of {', '.join(RHYTHMS)}.")
    routed = set(session.scalars(select(PoliceZone.service_code).distinct()))
    warnings = [
        f"no police zone routes to {service!r}: no incident will reach this GPO through it "
        "(check the code, or import the zones: intake-service zones import FILE)"
        for service in services
        if service not in routed
    ]
    gpo = session.get(Gpo, code)
    created = gpo is None
    if gpo is None:
        gpo = Gpo(code=code, created_at=now)
        session.add(gpo)
    gpo.name = name.strip()
    gpo.services = services
    gpo.operators = operators
    gpo.auto_confirm_strong = auto_confirm_strong
    if department is not None or created:
        gpo.department = department
    if department is None and created:
        warnings.append(
            "no département named and none in the service codes: the national view counts "
            "this GPO under 'département inconnu' (give --department 31)"
        )
    if status is not None or created:
        gpo.status = status or "deployed"
    if meeting_rhythm is not None or created:
        gpo.meeting_rhythm = meeting_rhythm or "monthly"
    session.flush()
    return gpo, created, warnings


def department_of_services(services: Sequence[str]) -> str | None:
    """The département the first service code naming one names (ddsp-31 → "31")."""
    for service in services:
        department = department_of_service(service)
        if department:
            return department
    return None


def _codes(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = value.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def add_partner(session: Session, gpo_code: str, code: str, name: str) -> tuple[GpoPartner, bool]:
    """Add a partner to a GPO (or rename it). Returns (partner, created)."""
    if session.get(Gpo, gpo_code) is None:
        raise GpoError(f"No GPO {gpo_code!r}: add it first (intake-service gpos add {gpo_code}).")
    if not GPO_CODE.match(code):
        raise GpoError(
            f"Invalid partner code {code!r}: 2–64 lowercase letters, digits, '-' or '_' "
            "(e.g. pm-toulouse)."
        )
    if not name.strip():
        raise GpoError("The partner needs a name (--name).")
    partner = session.get(GpoPartner, (gpo_code, code))
    created = partner is None
    if partner is None:
        partner = GpoPartner(gpo_code=gpo_code, code=code)
        session.add(partner)
    partner.name = name.strip()
    session.flush()
    return partner, created


def list_gpos(session: Session) -> list[Gpo]:
    return list(session.scalars(select(Gpo).order_by(Gpo.code)))


def partners_of(session: Session, gpo_code: str) -> list[GpoPartner]:
    return list(
        session.scalars(
            select(GpoPartner).where(GpoPartner.gpo_code == gpo_code).order_by(GpoPartner.code)
        )
    )


def get_gpo(session: Session, principal: Principal, gpo_code: str) -> Gpo:
    """The caller's GPO; NotFound for any other."""
    if gpo_of(principal) != gpo_code:
        raise NotFound(gpo_code)
    gpo = session.get(Gpo, gpo_code)
    if gpo is None:
        raise NotFound(gpo_code)
    return gpo


def gpo_document(session: Session, gpo: Gpo) -> dict[str, Any]:
    return {
        "code": gpo.code,
        "name": gpo.name,
        "services": list(gpo.services),
        "operators": list(gpo.operators),
        "auto_confirm_strong": gpo.auto_confirm_strong,
        "department": gpo.department,
        "status": gpo.status,
        "meeting_rhythm": gpo.meeting_rhythm,
        "partners": [
            {"code": partner.code, "name": partner.name}
            for partner in partners_of(session, gpo.code)
        ],
    }
