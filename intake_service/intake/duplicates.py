"""Duplicate reports of one event: the candidates of an incident, their pairs, and the
groups the command centre confirms (or the service groups at once for a strong match).

Runs in the caller's transaction and never commits. The lookup is one query on the
index ``ix_incidents_service_occurred`` (the service's incidents around the time),
then the pure rules (``intake.rules.duplicates``) on that handful: it stays flat
however many incidents are open (``bench/duplicates.py``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from intake_service.intake.events import record_event
from intake_service.intake.rules.duplicates import Match, Report, Settings, compare, ordered
from intake_service.intake.rules.duplicates import lead_of as lead_report
from intake_service.models import DuplicatePair, GtfsStop, Incident, IncidentGroup
from schemas.vocabulary import OPEN_STATUSES

# The lookup reads at most this many of the service's incidents in the window (the
# latest), and keeps the nearest in time of those that match: a surge of like sheets
# (a system resending, a mass event) must not make each new sheet write hundreds of
# pairs on the intake path. Two reports of one fight are a handful.
MAX_EXAMINED = 50
MAX_CANDIDATES = 10
GROUPED, UNGROUPED = "incident.grouped", "incident.ungrouped"


@dataclass(frozen=True)
class DuplicateSettings:
    rules: Settings = field(default_factory=Settings)
    auto_group_services: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config: Any) -> DuplicateSettings:
        """From the deployment's ``Config``."""
        return cls(
            Settings(config.duplicate_window, float(config.duplicate_distance_metres)),
            config.auto_group_services,
        )


DEFAULT = DuplicateSettings()


def report_of(
    incident: Incident, stop_points: dict[tuple[int, str], tuple[float, float]]
) -> Report:
    location = incident.sheet.get("location") or {}
    coordinates = location.get("coordinates") or {}
    point = None
    if "lat" in coordinates and "lon" in coordinates:
        point = (float(coordinates["lat"]), float(coordinates["lon"]))
    elif location.get("stop_id"):
        point = stop_points.get((incident.operator_id, location["stop_id"]))
    direction = location.get("direction_id")
    return Report(
        id=incident.id,
        operator=incident.operator.code,
        occurred_at=incident.occurred_at,
        natures=tuple(incident.sheet.get("natures") or [incident.primary_nature]),
        vehicle_id=location.get("vehicle_id"),
        route_id=location.get("route_id"),
        direction_id=int(direction) if direction is not None else None,
        stop_id=location.get("stop_id"),
        point=point,
        priority=incident.priority,
        received_at=incident.received_at,
    )


def _stop_points(
    session: Session, incidents: Iterable[Incident]
) -> dict[tuple[int, str], tuple[float, float]]:
    """The GTFS coordinates of the stops of the incidents that give no point of their own."""
    wanted = set()
    for incident in incidents:
        location = incident.sheet.get("location") or {}
        if location.get("stop_id") and not location.get("coordinates"):
            wanted.add((incident.operator_id, location["stop_id"]))
    if not wanted:
        return {}
    rows = session.execute(
        select(GtfsStop.operator_id, GtfsStop.stop_id, GtfsStop.lat, GtfsStop.lon).where(
            tuple_(GtfsStop.operator_id, GtfsStop.stop_id).in_(list(wanted))
        )
    )
    return {(o, s): (lat, lon) for o, s, lat, lon in rows if lat is not None and lon is not None}


def find_candidates(
    session: Session, incident: Incident, settings: Settings
) -> list[tuple[Incident, Match]]:
    """The open incidents of the same service that may be the same event, nearest in
    time first (pairs decided ``distinct`` are left out)."""
    service = (
        Incident.service_code == incident.service_code
        if incident.service_code is not None
        else Incident.service_code.is_(None)
    )
    with session.no_autoflush:  # the new incident is written in one flush, at commit
        nearby = session.scalars(
            select(Incident)
            .where(
                service,
                Incident.occurred_at >= incident.occurred_at - settings.window,
                Incident.occurred_at <= incident.occurred_at + settings.window,
                Incident.status.in_(OPEN_STATUSES),
                Incident.id != incident.id,
            )
            .order_by(Incident.occurred_at.desc())
            .limit(MAX_EXAMINED)
        ).all()
        if not nearby:
            return []
        keys = [ordered(incident.id, other.id) for other in nearby]
        distinct = {
            (first, second)
            for first, second in session.execute(
                select(DuplicatePair.first_id, DuplicatePair.second_id).where(
                    tuple_(DuplicatePair.first_id, DuplicatePair.second_id).in_(keys),
                    DuplicatePair.state == "distinct",
                )
            )
        }
        points = _stop_points(session, [incident, *nearby])
    new = report_of(incident, points)
    found = []
    for other in nearby:
        if ordered(incident.id, other.id) in distinct:
            continue
        match = compare(new, report_of(other, points), settings)
        if match is not None:
            found.append((other, match))
    found.sort(key=lambda pair: abs((pair[0].occurred_at - incident.occurred_at).total_seconds()))
    return found[:MAX_CANDIDATES]


@dataclass(frozen=True)
class Proposal:
    """An incident's candidates as the feed carries them, and the strong matches its
    service groups at once (``group_strong``)."""

    candidates: list[dict[str, Any]]
    strong: list[Incident]


def propose(
    session: Session, incident: Incident, settings: DuplicateSettings, *, now: dt.datetime
) -> Proposal:
    """Look the incident's candidates up and keep each pair (proposed; a decided pair
    keeps its decision)."""
    found = find_candidates(session, incident, settings.rules)
    if not found:
        return Proposal([], [])
    with session.no_autoflush:
        known = {
            (pair.first_id, pair.second_id): pair
            for pair in session.scalars(
                select(DuplicatePair).where(
                    tuple_(DuplicatePair.first_id, DuplicatePair.second_id).in_(
                        [ordered(incident.id, other.id) for other, _ in found]
                    )
                )
            )
        }
    documents, strong = [], []
    auto = incident.service_code in settings.auto_group_services
    for other, match in found:
        first, second = ordered(incident.id, other.id)
        pair = known.get((first, second))
        if pair is None:
            pair = DuplicatePair(
                first_id=first,
                second_id=second,
                reasons=list(match.reasons),
                strong=match.strong,
                state="proposed",
                created_at=now,
            )
            session.add(pair)
        elif pair.state == "proposed":
            pair.reasons, pair.strong = list(match.reasons), match.strong
        documents.append(candidate_document(other, match.reasons, match.strong, pair.state))
        if auto and match.strong and pair.state == "proposed":
            strong.append(other)
    return Proposal(documents, strong)


def group_strong(
    session: Session, incident: Incident, proposal: Proposal, *, now: dt.datetime, actor: str
) -> None:
    """Group the incident with its strong matches, when its service chose so (always
    reversible: a member leaves the group)."""
    if proposal.strong and incident.group_id is None:
        session.flush()
        join(
            session,
            [incident, *proposal.strong],
            now=now,
            actor=f"{actor} (regroupement automatique)",
        )


def candidate_document(
    other: Incident, reasons: Sequence[str], strong: bool, state: str
) -> dict[str, Any]:
    return {
        "incident_id": other.id,
        "operator": other.operator.code,
        "operator_reference": other.operator_reference,
        "priority": other.priority,
        "status": other.status,
        "reasons": list(reasons),
        "strong": strong,
        "state": state,
        "group_id": other.group_id,
    }


def candidates_of(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """The incident's proposed and decided pairs, the other incident described."""
    pairs = session.scalars(
        select(DuplicatePair).where(
            or_(DuplicatePair.first_id == incident.id, DuplicatePair.second_id == incident.id)
        )
    ).all()
    others = {
        i.id: i
        for i in session.scalars(
            select(Incident).where(
                Incident.id.in_(
                    [p.second_id if p.first_id == incident.id else p.first_id for p in pairs]
                )
            )
        )
    }
    documents = []
    for pair in pairs:
        other = others[pair.second_id if pair.first_id == incident.id else pair.first_id]
        documents.append(candidate_document(other, pair.reasons, pair.strong, pair.state))
    return sorted(documents, key=lambda d: (d["state"] != "proposed", d["incident_id"]))


def members(session: Session, group_id: str) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident).where(Incident.group_id == group_id).order_by(Incident.received_at)
        )
    )


def lead_of(group: Sequence[Incident]) -> Incident:
    """The highest priority, then the earliest received (``rules.duplicates.lead_of``)."""
    by_id = {incident.id: incident for incident in group}
    chosen = lead_report([report_of(incident, {}) for incident in group])
    return by_id[chosen.id]


def group_document(group: Sequence[Incident]) -> dict[str, Any]:
    lead = lead_of(group)
    return {
        "id": lead.group_id,
        "lead": lead.id,
        "members": [incident.id for incident in group],
        "size": len(group),
    }


def _set_pairs(
    session: Session, ids: Sequence[str], state: str, *, now: dt.datetime, actor: str
) -> None:
    """Mark every pair among ``ids`` (creating the missing ones) as decided ``state``."""
    keys = {ordered(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]}
    existing = {
        (pair.first_id, pair.second_id): pair
        for pair in session.scalars(
            select(DuplicatePair).where(
                tuple_(DuplicatePair.first_id, DuplicatePair.second_id).in_(list(keys))
            )
        )
    }
    for key in keys:
        pair = existing.get(key)
        if pair is None:
            pair = DuplicatePair(
                first_id=key[0],
                second_id=key[1],
                reasons=[],
                strong=False,
                state=state,
                created_at=now,
            )
            session.add(pair)
        pair.state, pair.decided_at, pair.decided_by = state, now, actor


def join(
    session: Session, incidents: Sequence[Incident], *, now: dt.datetime, actor: str
) -> list[Incident]:
    """Put the incidents (and the groups they are in) in one group; its members, each
    told by an ``incident.grouped`` event."""
    group_ids = sorted({i.group_id for i in incidents if i.group_id is not None})
    if group_ids:
        group_id = group_ids[0]
    else:
        group_id = str(uuid.uuid4())
        session.add(
            IncidentGroup(
                id=group_id,
                service_code=incidents[0].service_code,
                created_at=now,
                created_by=actor,
            )
        )
        session.flush()
    everyone = {i.id: i for i in incidents}
    for other_group in group_ids:
        for member in members(session, other_group):
            everyone.setdefault(member.id, member)
    for incident in everyone.values():
        incident.group_id = group_id
        incident.updated_at = now
    session.flush()
    group = sorted(everyone.values(), key=lambda i: i.received_at)
    _set_pairs(session, [i.id for i in group], "same", now=now, actor=actor)
    document = group_document(group)
    for incident in group:
        record_event(session, incident, GROUPED, now, {"group": document, "by": actor})
    return group


def leave(session: Session, incident: Incident, *, now: dt.datetime, actor: str) -> None:
    """Take the incident out of its group (its pairs with the others become ``distinct``:
    not proposed again); a group left with one member is dissolved."""
    group_id = incident.group_id
    if group_id is None:
        return
    rest = [m for m in members(session, group_id) if m.id != incident.id]
    incident.group_id = None
    incident.updated_at = now
    for other in rest:
        _set_pairs(session, [incident.id, other.id], "distinct", now=now, actor=actor)
    if len(rest) == 1:
        rest[0].group_id = None
        rest[0].updated_at = now
    session.flush()
    remaining = [m for m in rest if m.group_id is not None]
    record_event(session, incident, UNGROUPED, now, {"group": None, "by": actor})
    if len(rest) == 1:
        record_event(session, rest[0], UNGROUPED, now, {"group": None, "by": actor})
    elif remaining:
        document = group_document(remaining)
        for member in remaining:
            record_event(session, member, GROUPED, now, {"group": document, "by": actor})


def decide_distinct(
    session: Session, incident: Incident, other: Incident, *, now: dt.datetime, actor: str
) -> None:
    _set_pairs(session, [incident.id, other.id], "distinct", now=now, actor=actor)


@dataclass(frozen=True)
class GroupView:
    """What the queue shows of an incident's group: is it the lead, of how many."""

    lead: bool = True
    size: int = 1
    proposed: int = 0


def queue_views(session: Session, incidents: Sequence[Incident]) -> dict[str, GroupView]:
    """For the queue's rows: each incident's place in its group (a member that is not the
    lead is shown under its lead), and how many candidates wait for a decision."""
    if not incidents:
        return {}
    group_ids = {i.group_id for i in incidents if i.group_id is not None}
    groups: dict[str, list[Incident]] = {}
    if group_ids:
        for member in session.scalars(select(Incident).where(Incident.group_id.in_(group_ids))):
            if member.status in OPEN_STATUSES:
                groups.setdefault(str(member.group_id), []).append(member)
    ids = [i.id for i in incidents]
    proposed: dict[str, int] = {}
    for first, second in session.execute(
        select(DuplicatePair.first_id, DuplicatePair.second_id).where(
            DuplicatePair.state == "proposed",
            or_(DuplicatePair.first_id.in_(ids), DuplicatePair.second_id.in_(ids)),
        )
    ):
        for key in (first, second):
            proposed[key] = proposed.get(key, 0) + 1
    views = {}
    for incident in incidents:
        group = groups.get(str(incident.group_id), []) if incident.group_id else []
        if len(group) > 1:
            lead = lead_of(group)
            views[incident.id] = GroupView(
                lead.id == incident.id, len(group), proposed.get(incident.id, 0)
            )
        else:
            views[incident.id] = GroupView(True, 1, proposed.get(incident.id, 0))
    return views
