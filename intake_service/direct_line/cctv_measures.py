"""The CCTV requisitions' measure: the share extracted before the erase deadline, per
operator and per competent service, of the requisitions requested over a period.

Each caller counts its own scope: an operator its own incidents, a command centre its
service's, a station officer its station's service, the admin every one. No personal
data: codes and counts only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal
from intake_service.direct_line.rules.cctv import extracted_in_time
from intake_service.models import CctvRequisition, Incident, Operator, PoliceStation
from intake_service.platform.errors import Forbidden
from intake_service.territory.rules.routing import UNROUTED_SERVICE

DEFAULT_PERIOD = dt.timedelta(days=90)


@dataclass
class Count:
    requested: int = 0
    extracted_in_time: int = 0

    def row(self, code: str) -> dict[str, Any]:
        share = self.extracted_in_time / self.requested if self.requested else None
        return {
            "code": code,
            "requested": self.requested,
            "extracted_in_time": self.extracted_in_time,
            "share": share,
        }


def measure(
    session: Session,
    principal: Principal,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The counts of the requisitions requested from ``since`` to ``until`` (both
    included), by operator and by service."""
    until = until or now
    since = since or until - DEFAULT_PERIOD
    query = (
        select(
            Operator.code,
            Incident.service_code,
            CctvRequisition.extracted_at,
            CctvRequisition.erase_deadline,
        )
        .join(Incident, Incident.id == CctvRequisition.incident_id)
        .join(Operator, Operator.id == Incident.operator_id)
        .where(CctvRequisition.requested_at >= since, CctvRequisition.requested_at <= until)
    )
    if principal.role == "operator":
        query = query.where(Operator.code == principal.scope)
    elif principal.role == "command_centre":
        query = query.where(Incident.service_code == principal.scope)
    elif principal.role == "station_officer":
        station = session.get(PoliceStation, principal.scope)
        query = query.where(Incident.service_code == (station.service_code if station else None))
    elif principal.role != "admin":
        raise Forbidden("no CCTV measures for this role")
    by_operator: dict[str, Count] = {}
    by_service: dict[str, Count] = {}
    for operator, service, extracted_at, deadline in session.execute(query):
        in_time = extracted_in_time(extracted_at, deadline)
        for counts, code in ((by_operator, operator), (by_service, service or UNROUTED_SERVICE)):
            count = counts.setdefault(code, Count())
            count.requested += 1
            count.extracted_in_time += int(in_time)
    return {
        "since": since,
        "until": until,
        "by_operator": [by_operator[code].row(code) for code in sorted(by_operator)],
        "by_service": [by_service[code].row(code) for code in sorted(by_service)],
    }
