"""The national and départemental view: per GPO and per département, over a period, what
was identified, resolved and met (``rules/figures.py`` says how each figure is counted).

Who sees what (``access.rules.permissions.departments_of``): the ``national`` role every
département, a ``departement`` its own; a département outside the caller's scope, or
with no GPO, is ``NotFound`` (404), the same answer. Aggregates only: counts, shares
and medians, the GPOs' codes and names. No incident id, no place, no narrative, no
person, no problem title is read into what this module returns.

A GPO's incidents are those of its services or operators (as ``gpo.incident_facts``
counts them for the assessment), not withdrawn, occurred in the period; an incident two
GPOs cover counts for each, and once in their département's and the national totals.
Its appointments are the requests for its incidents, measured as
``appointments.measures`` measures them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import DEPARTMENT_CODE, Principal, departments_of
from intake_service.appointments import measures as appointment_measures
from intake_service.intake.rules.natures import FAMILY_OF_NATURE, NATURE_FAMILIES
from intake_service.models import (
    Gpo,
    GpoMeeting,
    Incident,
    Operator,
    Problem,
    ProblemJournalEntry,
)
from intake_service.overview.rules import figures
from intake_service.overview.rules.figures import (
    IncidentFact,
    IncidentFigures,
    Period,
    ProblemFigures,
    ProblemHistory,
)
from intake_service.platform.errors import NotFound

FAMILIES = tuple(NATURE_FAMILIES)
UNKNOWN_DEPARTMENT = "inconnu"


@dataclass(frozen=True)
class MeetingFigures:
    held: int
    last_on: dt.date | None
    # Per GPO: kept or not (None: no rhythm). Per département: how many GPOs each way.
    rhythm_kept: bool | None
    gpos_rhythm_kept: int
    gpos_rhythm_missed: int


@dataclass(frozen=True)
class Unit:
    """The figures of one GPO, one département or the nation."""

    key: str
    name: str
    gpos_deployed: int
    gpos_in_creation: int
    gpos_active: int
    problems: ProblemFigures
    meetings: MeetingFigures
    incidents: IncidentFigures
    appointments: appointment_measures.Measures
    # A GPO only: its status and rhythm.
    status: str | None = None
    meeting_rhythm: str | None = None


@dataclass(frozen=True)
class Overview:
    period: Period
    generated_at: dt.datetime
    # "national" (every département) or "departement" (one, its GPOs).
    level: str
    department: str | None
    total: Unit
    # Per département (national level) or per GPO (départemental level).
    rows: Sequence[Unit]


@dataclass
class _GpoData:
    gpo: Gpo
    histories: list[ProblemHistory]
    meeting_days: set[dt.date]
    incident_ids: set[str]


def check_department(code: str) -> str | None:
    """Why ``code`` is not a département code, or None."""
    if DEPARTMENT_CODE.match(code):
        return None
    return "Not a département code: 01–95, 2A, 2B or 971–976."


def _gpos(session: Session, principal: Principal, department: str | None) -> list[Gpo]:
    allowed = departments_of(principal)
    if allowed is not None and not allowed:
        raise NotFound("overview")
    query = select(Gpo).order_by(Gpo.department, Gpo.code)
    if department is not None:
        if allowed is not None and department not in allowed:
            raise NotFound(department)
        query = query.where(Gpo.department == department)
    elif allowed is not None:
        query = query.where(Gpo.department.in_(sorted(allowed)))
    found = list(session.scalars(query))
    # The ministry asking for a département with no GPO: nothing there (a direction
    # asking for its own sees its empty page).
    if department is not None and not found and allowed is None:
        raise NotFound(department)
    return found


def _histories(session: Session, codes: Sequence[str]) -> dict[str, list[ProblemHistory]]:
    problems = list(
        session.execute(
            select(Problem.id, Problem.gpo_code, Problem.created_at).where(
                Problem.gpo_code.in_(codes)
            )
        )
    )
    steps: dict[str, list[tuple[dt.datetime, str]]] = {}
    for problem_id, at, detail in session.execute(
        select(ProblemJournalEntry.problem_id, ProblemJournalEntry.at, ProblemJournalEntry.detail)
        .join(Problem, Problem.id == ProblemJournalEntry.problem_id)
        .where(Problem.gpo_code.in_(codes), ProblemJournalEntry.kind == "state_change")
        .order_by(ProblemJournalEntry.at, ProblemJournalEntry.id)
    ):
        to = (detail or {}).get("to")
        if isinstance(to, str):
            steps.setdefault(problem_id, []).append((_aware(at), to))
    found: dict[str, list[ProblemHistory]] = {code: [] for code in codes}
    for problem_id, gpo_code, created_at in problems:
        found[gpo_code].append(ProblemHistory(_aware(created_at), tuple(steps.get(problem_id, ()))))
    return found


def _meeting_days(
    session: Session, codes: Sequence[str], since: dt.datetime, until: dt.datetime
) -> dict[str, set[dt.date]]:
    days: dict[str, set[dt.date]] = {code: set() for code in codes}
    for gpo_code, held_at, planned_at in session.execute(
        select(GpoMeeting.gpo_code, GpoMeeting.held_at, GpoMeeting.planned_at).where(
            GpoMeeting.gpo_code.in_(codes), GpoMeeting.status == "held"
        )
    ):
        moment = _aware(held_at or planned_at)
        if since <= moment < until:
            days[gpo_code].add(figures.paris_day(moment))
    for gpo_code, at in session.execute(
        select(Problem.gpo_code, ProblemJournalEntry.at)
        .join(Problem, Problem.id == ProblemJournalEntry.problem_id)
        .where(
            Problem.gpo_code.in_(codes),
            ProblemJournalEntry.kind == "meeting",
            ProblemJournalEntry.at >= since,
            ProblemJournalEntry.at < until,
        )
    ):
        days[gpo_code].add(figures.paris_day(_aware(at)))
    return days


def _incidents(
    session: Session, gpos: Sequence[Gpo], period: Period
) -> tuple[dict[str, IncidentFact], dict[str, set[str]]]:
    """The facts of every incident some GPO covers, and each GPO's incident ids."""
    services = sorted({s for gpo in gpos for s in gpo.services})
    operators = sorted({o for gpo in gpos for o in gpo.operators})
    covered: dict[str, set[str]] = {gpo.code: set() for gpo in gpos}
    if not services and not operators:
        return {}, covered
    conditions = []
    if services:
        conditions.append(Incident.service_code.in_(services))
    if operators:
        conditions.append(Operator.code.in_(operators))
    facts: dict[str, IncidentFact] = {}
    for incident_id, occurred_at, priority, nature, sheet, service, operator in session.execute(
        select(
            Incident.id,
            Incident.occurred_at,
            Incident.priority,
            Incident.primary_nature,
            Incident.sheet,
            Incident.service_code,
            Operator.code,
        )
        .join(Operator, Operator.id == Incident.operator_id)
        .where(
            or_(*conditions),
            Incident.occurred_at >= period.since,
            Incident.occurred_at < period.until,
            Incident.status != "withdrawn",
        )
    ):
        victims = (sheet or {}).get("victims") or []
        facts[incident_id] = IncidentFact(
            occurred_at=_aware(occurred_at),
            priority=priority,
            family=FAMILY_OF_NATURE.get(nature, "other"),
            staff_victims=sum(
                1 for v in victims if isinstance(v, dict) and v.get("kind") == "staff"
            ),
        )
        for gpo in gpos:
            if (service is not None and service in gpo.services) or operator in gpo.operators:
                covered[gpo.code].add(incident_id)
    return facts, covered


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _unit(
    key: str,
    name: str,
    members: Sequence[_GpoData],
    facts: dict[str, IncidentFact],
    requests: dict[str, list[appointment_measures.RequestRow]],
    period: Period,
    now: dt.datetime,
    *,
    single: bool,
) -> Unit:
    end = min(period.last, figures.paris_day(now))
    histories = [h for member in members for h in member.histories]
    incident_ids = set().union(*(m.incident_ids for m in members)) if members else set()
    kept: list[bool | None] = []
    active = 0
    held = 0
    last_on: dt.date | None = None
    for member in members:
        days = member.meeting_days
        in_period = {d for d in days if period.first <= d <= period.last}
        held += len(in_period)
        start = max(period.first, figures.paris_day(member.gpo.created_at))
        kept.append(figures.rhythm_kept(member.gpo.meeting_rhythm, in_period, start, end))
        active += figures.is_active(days, end)
        if in_period:
            last_on = max(in_period) if last_on is None else max(last_on, max(in_period))
    rows = [row for incident_id in sorted(incident_ids) for row in requests.get(incident_id, [])]
    gpo = members[0].gpo if single else None
    return Unit(
        key=key,
        name=name,
        gpos_deployed=sum(1 for m in members if m.gpo.status == "deployed"),
        gpos_in_creation=sum(1 for m in members if m.gpo.status == "in_creation"),
        gpos_active=active,
        problems=figures.problem_figures(histories, period),
        meetings=MeetingFigures(
            held=held,
            last_on=last_on,
            rhythm_kept=kept[0] if single else None,
            gpos_rhythm_kept=sum(1 for k in kept if k is True),
            gpos_rhythm_missed=sum(1 for k in kept if k is False),
        ),
        incidents=figures.incident_figures(
            (facts[i] for i in sorted(incident_ids)), period.months(), FAMILIES
        ),
        appointments=appointment_measures.summarise(key, name, rows),
        status=gpo.status if gpo is not None else None,
        meeting_rhythm=gpo.meeting_rhythm if gpo is not None else None,
    )


def overview(
    session: Session,
    principal: Principal,
    period: Period,
    now: dt.datetime,
    department: str | None = None,
) -> Overview:
    """The caller's view: per département (national, no ``department``), or per GPO of
    one département (``department``, or the ``departement`` role's own)."""
    allowed = departments_of(principal)
    if department is None and allowed is not None and len(allowed) == 1:
        department = next(iter(allowed))
    gpos = _gpos(session, principal, department)
    codes = [gpo.code for gpo in gpos]
    histories = _histories(session, codes)
    # Meetings from before the period count for "active" at its start.
    days = _meeting_days(
        session, codes, period.since - dt.timedelta(days=figures.ACTIVE_DAYS + 1), period.until
    )
    facts, covered = _incidents(session, gpos, period)
    requests = appointment_measures.rows_by_incident(session, period.since, period.until, now)
    data = [_GpoData(gpo, histories[gpo.code], days[gpo.code], covered[gpo.code]) for gpo in gpos]
    if department is not None:
        rows = [
            _unit(d.gpo.code, d.gpo.name, [d], facts, requests, period, now, single=True)
            for d in data
        ]
        total = _unit(
            department,
            f"Département {department}",
            data,
            facts,
            requests,
            period,
            now,
            single=False,
        )
        return Overview(period, now, "departement", department, total, rows)
    by_department: dict[str, list[_GpoData]] = {}
    for d in data:
        by_department.setdefault(d.gpo.department or UNKNOWN_DEPARTMENT, []).append(d)
    rows = [
        _unit(
            code,
            "Département inconnu" if code == UNKNOWN_DEPARTMENT else f"Département {code}",
            members,
            facts,
            requests,
            period,
            now,
            single=False,
        )
        for code, members in sorted(by_department.items())
    ]
    total = _unit("national", "France entière", data, facts, requests, period, now, single=False)
    return Overview(period, now, "national", None, total, rows)


# --- documents ----------------------------------------------------------------------------


def unit_document(unit: Unit) -> dict[str, Any]:
    """A unit as the API returns it: counts, shares, medians, months."""
    problems, meetings, incidents = unit.problems, unit.meetings, unit.incidents
    return {
        "key": unit.key,
        "name": unit.name,
        "status": unit.status,
        "meeting_rhythm": unit.meeting_rhythm,
        "gpos": {
            "deployed": unit.gpos_deployed,
            "in_creation": unit.gpos_in_creation,
            "declared": unit.gpos_deployed + unit.gpos_in_creation,
            "active": unit.gpos_active,
        },
        "problems": {
            "identified": problems.identified,
            "in_progress": problems.in_progress,
            **problems.outcomes,
            "median_days_to_resolve": problems.median_days_to_resolve,
            "identified_by_month": problems.identified_by_month,
            "resolved_by_month": problems.resolved_by_month,
        },
        "meetings": {
            "held": meetings.held,
            "last_on": meetings.last_on,
            "rhythm_kept": meetings.rhythm_kept,
            "gpos_rhythm_kept": meetings.gpos_rhythm_kept,
            "gpos_rhythm_missed": meetings.gpos_rhythm_missed,
        },
        "incidents": {
            "count": incidents.count,
            "by_family": incidents.by_family,
            "by_month": incidents.by_month,
            "staff_victim_incidents": incidents.staff_victim_incidents,
            "staff_victims": incidents.staff_victims,
            "p1_p2": incidents.p1_p2,
            "share_p1_p2": incidents.share_p1_p2,
        },
        "appointments": {
            key: value
            for key, value in unit.appointments.document().items()
            if key not in ("key", "name")
        },
    }


def overview_document(found: Overview) -> dict[str, Any]:
    return {
        "from_": found.period.first,
        "to": found.period.last,
        "generated_at": found.generated_at,
        "level": found.level,
        "department": found.department,
        "total": unit_document(found.total),
        "rows": [unit_document(row) for row in found.rows],
    }


def record_export(
    session: Session, principal: Principal, found: Overview, export_format: str, now: dt.datetime
) -> None:
    """Every export is in the audit log: who, which level and département, which period."""
    audit.record(
        session,
        principal,
        "overview.export",
        "overview",
        found.department or "national",
        now=now,
        detail={
            "format": export_format,
            "level": found.level,
            "from": found.period.first.isoformat(),
            "to": found.period.last.isoformat(),
            "rows": len(found.rows),
        },
    )
