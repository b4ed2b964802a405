"""The GPO meeting brief: per problem, what came in since the last meeting, the actions
due or late, the before/after figures; as data, CSV and PDF.

Two versions, chosen by the caller's role:

- the referent's (``gpo_referent``): each new incident with its time, place, natures,
  priority and a short excerpt of its narrative. The referent may read the incidents
  in its problems' scopes; each incident shown is an audited read.
- the partners' (``gpo_partner``): NO personal data. It is built by construction from
  a whitelist: the Paris date, the stop's name (never coordinates, addresses or vehicle
  ids) and the natures of each incident, counts and figures. Nothing is copied from
  the sheet and then deleted: ``PartnerIncident`` simply has no field that could hold
  a name, a phone number, a description or a narrative.

Every export (CSV, PDF) is audited, whatever the version. The PDF carries, per problem,
the chart of the assessment page (the same weeks and action starts: aggregates that
partners read too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.access.rules.redaction import BriefVersion, brief_version_for
from intake_service.gpo import assessment, gpos, incident_facts
from intake_service.gpo.assessment import ProblemAssessment
from intake_service.gpo.rules import lifecycle as problem_lifecycle
from intake_service.gpo.rules.weekly_figures import BeforeAfter, paris_day, paris_midnight
from intake_service.models import (
    GpoMeeting,
    GtfsRoute,
    GtfsStop,
    Incident,
    Problem,
    ProblemAction,
    ProblemJournalEntry,
)
from intake_service.platform import labels

Version = BriefVersion

DEFAULT_SINCE_DAYS = 28
DUE_WITHIN_DAYS = 14
EXCERPT_LENGTH = 140
FINISHED_ACTIONS = frozenset({"done", "cancelled"})

# The brief's French words are the pages'.
PROBLEM_STATES = labels.PROBLEM_STATE_LABELS
ACTION_STATUSES = labels.ACTION_STATUS_LABELS


# --- the brief as data --------------------------------------------------------------------


@dataclass(frozen=True)
class ActionLine:
    what: str
    owner_partner: str
    starts_on: dt.date | None
    due_on: dt.date | None
    status: str
    late: bool


@dataclass(frozen=True)
class ReferentIncident:
    """A new incident as the referent sees it (may read incidents in scope)."""

    id: str
    occurred_at: dt.datetime
    place: str
    natures: tuple[str, ...]
    priority: str
    linked: bool
    excerpt: str


@dataclass(frozen=True)
class PartnerIncident:
    """A new incident as a partner sees it: a day, a stop, natures. Nothing else exists here."""

    occurred_on: dt.date
    stop: str
    natures: tuple[str, ...]


@dataclass(frozen=True)
class ProblemBrief:
    problem_id: str
    title: str
    state: str
    since: dt.datetime
    until: dt.datetime
    new_count: int
    new_linked_count: int
    incidents: Sequence[ReferentIncident] | Sequence[PartnerIncident]
    actions_due: Sequence[ActionLine]
    actions_late: Sequence[ActionLine]
    figures: BeforeAfter | None
    # The assessment page's chart data (weeks in scope and linked, the actions' starts),
    # for the PDF only: the page shows the chart endpoint's image.
    weekly: ProblemAssessment | None


@dataclass(frozen=True)
class Brief:
    gpo_code: str
    gpo_name: str
    meeting_date: dt.date
    version: Version
    generated_at: dt.datetime
    problems: Sequence[ProblemBrief]


def last_held_meeting(session: Session, gpo_code: str, before: dt.datetime) -> GpoMeeting | None:
    """The GPO's last meeting held before ``before`` (planned, skipped or cancelled ones
    do not count)."""
    return session.scalars(
        select(GpoMeeting)
        .where(
            GpoMeeting.gpo_code == gpo_code,
            GpoMeeting.status == "held",
            GpoMeeting.held_at.is_not(None),
            GpoMeeting.held_at < before,
        )
        .order_by(GpoMeeting.held_at.desc(), GpoMeeting.id)
        .limit(1)
    ).first()


def _last_meeting(session: Session, problem: Problem, before: dt.datetime) -> dt.datetime | None:
    """When the GPO last met before ``before``: its last meeting held (``gpo_meetings``);
    for a GPO that has none yet, the problem's last journal entry of kind ``meeting``
    (how meetings were recorded before they were first-class)."""
    held = last_held_meeting(session, problem.gpo_code, before)
    if held is not None:
        return held.held_at
    return session.scalar(
        select(ProblemJournalEntry.at)
        .where(
            ProblemJournalEntry.problem_id == problem.id,
            ProblemJournalEntry.kind == "meeting",
            ProblemJournalEntry.at < before,
        )
        .order_by(ProblemJournalEntry.at.desc())
        .limit(1)
    )


def _stop_name(session: Session, incident: Incident, stop_id: Any) -> str | None:
    if not stop_id:
        return None
    stop = session.get(GtfsStop, (incident.operator_id, str(stop_id)))
    return stop.name if stop is not None else None


def stop_level_place(session: Session, incident: Incident) -> str:
    """The place at stop level: the stop's name, or the two stops around, or the line.

    Never coordinates, an address or a vehicle: the partners' version uses only this.
    """
    location = incident.sheet.get("location") or {}
    stop = _stop_name(session, incident, location.get("stop_id"))
    if stop:
        return stop
    previous = _stop_name(session, incident, location.get("previous_stop_id"))
    following = _stop_name(session, incident, location.get("next_stop_id"))
    if previous and following:
        return f"Entre {previous} et {following}"
    route_id = location.get("route_id")
    route = session.get(GtfsRoute, (incident.operator_id, str(route_id))) if route_id else None
    if route is not None:
        return f"Ligne {route.short_name or route.long_name}"
    return "Arrêt non précisé"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1].rstrip() + "…"


def _natures(incident: Incident) -> tuple[str, ...]:
    return tuple(incident.sheet.get("natures") or [incident.primary_nature])


def partner_incident(session: Session, incident: Incident) -> PartnerIncident:
    return PartnerIncident(
        occurred_on=paris_day(incident.occurred_at),
        stop=stop_level_place(session, incident),
        natures=_natures(incident),
    )


def _referent_incident(session: Session, incident: Incident, linked: bool) -> ReferentIncident:
    location = incident.sheet.get("location") or {}
    place = stop_level_place(session, incident)
    if place == "Arrêt non précisé" and location.get("address"):
        place = str(location["address"])
    return ReferentIncident(
        id=incident.id,
        occurred_at=incident.occurred_at,
        place=place,
        natures=_natures(incident),
        priority=incident.priority,
        linked=linked,
        excerpt=_excerpt(str(incident.sheet.get("narrative") or "")),
    )


def _action_line(action: ProblemAction, meeting_date: dt.date) -> ActionLine:
    return ActionLine(
        what=action.what,
        owner_partner=action.owner_partner,
        starts_on=action.starts_on,
        due_on=action.due_on,
        status=action.status,
        late=action.due_on is not None and action.due_on < meeting_date,
    )


def new_incidents(
    session: Session, problem: Problem, since: dt.datetime, until: dt.datetime
) -> list[tuple[Incident, bool]]:
    """In scope or linked, occurred in [since, until), oldest first, with whether linked."""
    linked = {
        incident.id: incident
        for incident in assessment.linked_incidents(session, problem, since, until)
    }
    found = {
        incident.id: incident
        for incident, _ in incident_facts.in_scope_incidents(session, problem, since, until)
    }
    found.update(linked)
    ordered = sorted(found.values(), key=lambda i: (i.occurred_at, i.id))
    return [(incident, incident.id in linked) for incident in ordered]


def _problem_brief(
    session: Session,
    principal: Principal,
    problem: Problem,
    meeting_date: dt.date,
    version: Version,
    now: dt.datetime,
    with_chart: bool,
    via: str = "gpo.brief",
) -> ProblemBrief:
    meeting_start = paris_midnight(meeting_date)
    since = _last_meeting(session, problem, meeting_start) or paris_midnight(
        meeting_date - dt.timedelta(days=DEFAULT_SINCE_DAYS)
    )
    until = min(paris_midnight(meeting_date + dt.timedelta(days=1)), now)
    new = new_incidents(session, problem, since, until) if since < until else []
    incidents: list[ReferentIncident] | list[PartnerIncident]
    if version == "referent":
        incidents = [_referent_incident(session, incident, linked) for incident, linked in new]
        for incident, _ in new:
            # The referent reads each incident's narrative excerpt: an audited read.
            audit.record(
                session,
                principal,
                "incident.read",
                "incident",
                incident.id,
                now=now,
                detail={"via": via, "problem": problem.id},
            )
    else:
        incidents = [partner_incident(session, incident) for incident, _ in new]
    actions = assessment.actions_of(session, problem)
    # What the assessment page shows (its default date and windows).
    weekly = (
        assessment.assessment_of(session, problem, actions, None, None, now) if with_chart else None
    )
    figures = (
        weekly.comparison
        if weekly is not None
        else assessment.before_after(session, problem, None, None, now, actions=actions)
    )
    horizon = meeting_date + dt.timedelta(days=DUE_WITHIN_DAYS)
    open_actions = [
        _action_line(action, meeting_date)
        for action in actions
        if action.status not in FINISHED_ACTIONS and action.due_on is not None
    ]
    return ProblemBrief(
        problem_id=problem.id,
        title=problem.title,
        state=problem_lifecycle.effective_state(problem.state, problem.watch_until, now),
        since=since,
        until=until,
        new_count=len(new),
        new_linked_count=sum(1 for _, linked in new if linked),
        incidents=incidents,
        actions_due=sorted(
            (
                a
                for a in open_actions
                if a.due_on is not None and not a.late and a.due_on <= horizon
            ),
            key=lambda a: (a.due_on, a.what),
        ),
        actions_late=sorted((a for a in open_actions if a.late), key=lambda a: (a.due_on, a.what)),
        figures=figures,
        weekly=weekly,
    )


def meeting_brief(
    session: Session,
    principal: Principal,
    gpo_code: str,
    meeting_date: dt.date,
    now: dt.datetime,
    *,
    with_chart: bool = False,
    version: Version | None = None,
    via: str = "gpo.brief",
) -> Brief:
    """The brief of the caller's GPO for the meeting of ``meeting_date``.

    ``NotFound`` for another GPO. The version follows the caller's role; ``version``
    "partner" asks for the partners' version whoever calls (the agenda is made of it).
    ``with_chart``: each problem's weekly chart data too (what the PDF draws).
    ``via``: what the referent's audited reads say they were read for.
    """
    gpo = gpos.get_gpo(session, principal, gpo_code)
    if version != "partner":
        version = brief_version_for(principal)
    linkable = [
        problem
        for problem in session.scalars(
            select(Problem).where(Problem.gpo_code == gpo.code).order_by(Problem.created_at)
        )
        if problem_lifecycle.is_linkable(problem.state, problem.watch_until, now)
    ]
    return Brief(
        gpo_code=gpo.code,
        gpo_name=gpo.name,
        meeting_date=meeting_date,
        version=version,
        generated_at=now,
        problems=[
            _problem_brief(session, principal, problem, meeting_date, version, now, with_chart, via)
            for problem in linkable
        ],
    )


def record_export(
    session: Session, principal: Principal, brief: Brief, export_format: str, now: dt.datetime
) -> None:
    """Every export is in the audit log: who, which GPO, which version, how much."""
    audit.record(
        session,
        principal,
        "gpo.brief.export",
        "gpo",
        brief.gpo_code,
        now=now,
        detail={
            "format": export_format,
            "version": brief.version,
            "meeting_date": brief.meeting_date.isoformat(),
            "problems": len(brief.problems),
            "incidents": sum(p.new_count for p in brief.problems),
        },
    )
