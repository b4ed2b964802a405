"""GPO meetings as first-class records: planned, sent, reminded, held (attendance,
decisions, minutes), skipped or cancelled; and the partners' collegial evaluation.

Use cases take the caller's session and never commit. Scope: the referent of the GPO
manages its meetings; its partners read them (the agenda, the minutes in their
version) and, once a meeting is held, each partner present gives its view of a
problem's assessment. A meeting of another GPO is ``NotFound`` (404).

- The **next meeting** is proposed from the GPO's rhythm and its last meeting held
  (``rules/meetings.next_meeting_day``), at the same time of day and place.
- The **agenda** is generated from the partners' version of the meeting brief
  (``brief.meeting_brief``): titles and aggregates, never an incident's detail, so it
  can be emailed to the partners as it is.
- **Emails** are rows of ``email_messages`` written in the caller's transaction and
  sent by the mailer worker with its retries (as the appointments' and the notices'):
  the agenda to each invited partner's functional mailbox in the directory, else to
  the partner's accounts; the reminder to the GPO's referents once, ``REMINDER_BEFORE``
  the meeting (``send_due_reminders``, run by the ``meeting-reminders`` job).
- **Decisions** go through ``actions`` and ``problems`` in the same transaction: a
  refused move or a bad action refuses the whole decision, naming its field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal, partner_of
from intake_service.access.rules.redaction import BriefVersion, brief_version_for
from intake_service.directory.mailbox import find_entity
from intake_service.gpo import actions, brief, gpos, incident_facts, problems
from intake_service.gpo.journal import write_entry
from intake_service.gpo.problems import InvalidInput
from intake_service.gpo.rules import meetings as rules
from intake_service.gpo.rules.weekly_figures import paris_day
from intake_service.models import (
    EmailMessage,
    Gpo,
    GpoMeeting,
    GpoMeetingAttendee,
    GpoMeetingDecision,
    Incident,
    Problem,
    ProblemAction,
    ProblemEvaluation,
    User,
)
from intake_service.platform.clock import PARIS
from intake_service.platform.errors import Conflict, Forbidden, NotFound
from intake_service.platform.labels import date_time

DEFAULT_TIME = dt.time(14, 0)
MAIL_FOOTER = (
    "\n--\nMessage du service des GPO transports. L'ordre du jour ne contient aucune "
    "donnée personnelle ; ne répondez pas à ce message.\n"
)


class MeetingRefused(ValueError):
    """The meeting is not in a status that allows this (held twice, evaluated before being
    held): 409, naming ``field``."""

    def __init__(self, message: str, field: str = "status") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- reading ------------------------------------------------------------------------------


def _gpo(session: Session, principal: Principal, gpo_code: str) -> Gpo:
    return gpos.get_gpo(session, principal, gpo_code)


def _referent(session: Session, principal: Principal, gpo_code: str) -> Gpo:
    """The GPO, for its referent to change its meetings; a partner may not (Forbidden)."""
    gpo = _gpo(session, principal, gpo_code)
    if principal.role != "gpo_referent":
        raise Forbidden(gpo_code)
    return gpo


def get_meeting(
    session: Session, principal: Principal, gpo_code: str, meeting_id: str
) -> GpoMeeting:
    """The meeting if it is of the caller's GPO; NotFound otherwise."""
    _gpo(session, principal, gpo_code)
    meeting = session.get(GpoMeeting, meeting_id) if len(meeting_id) <= 36 else None
    if meeting is None or meeting.gpo_code != gpo_code:
        raise NotFound(meeting_id)
    return meeting


def list_meetings(session: Session, principal: Principal, gpo_code: str) -> list[GpoMeeting]:
    """The GPO's meetings, the latest planned first."""
    _gpo(session, principal, gpo_code)
    return list(
        session.scalars(
            select(GpoMeeting)
            .where(GpoMeeting.gpo_code == gpo_code)
            .order_by(GpoMeeting.planned_at.desc(), GpoMeeting.id)
        )
    )


def attendees_of(session: Session, meeting: GpoMeeting) -> list[GpoMeetingAttendee]:
    return list(
        session.scalars(
            select(GpoMeetingAttendee)
            .where(GpoMeetingAttendee.meeting_id == meeting.id)
            .order_by(GpoMeetingAttendee.partner_code)
        )
    )


def decisions_of(session: Session, meeting: GpoMeeting) -> list[GpoMeetingDecision]:
    return list(
        session.scalars(
            select(GpoMeetingDecision)
            .where(GpoMeetingDecision.meeting_id == meeting.id)
            .order_by(GpoMeetingDecision.id)
        )
    )


def evaluations_of(session: Session, meeting: GpoMeeting) -> list[ProblemEvaluation]:
    return list(
        session.scalars(
            select(ProblemEvaluation)
            .where(ProblemEvaluation.meeting_id == meeting.id)
            .order_by(ProblemEvaluation.problem_id, ProblemEvaluation.partner_code)
        )
    )


def problem_evaluations(
    session: Session, principal: Principal, problem_id: str
) -> list[tuple[ProblemEvaluation, GpoMeeting]]:
    """The partners' views of a problem's assessment, the latest meeting first (what the
    referent's state change shows)."""
    problem = problems.get_problem(session, principal, problem_id)
    rows = session.execute(
        select(ProblemEvaluation, GpoMeeting)
        .join(GpoMeeting, GpoMeeting.id == ProblemEvaluation.meeting_id)
        .where(ProblemEvaluation.problem_id == problem.id)
        .order_by(GpoMeeting.held_at.desc(), ProblemEvaluation.partner_code)
    ).all()
    return [(evaluation, meeting) for evaluation, meeting in rows]


# --- the next meeting ---------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the plan form is pre-filled with."""

    rhythm: str
    last_held_at: dt.datetime | None
    planned_at: dt.datetime | None
    place: str


def last_held(
    session: Session, gpo_code: str, before: dt.datetime | None = None
) -> GpoMeeting | None:
    return brief.last_held_meeting(
        session, gpo_code, before or dt.datetime.max.replace(tzinfo=dt.UTC)
    )


def propose_next(
    session: Session, principal: Principal, gpo_code: str, now: dt.datetime
) -> Proposal:
    """The next meeting by the GPO's rhythm from its last meeting held: same time of day
    (Paris) and place; no date for the ``dates`` rhythm or before any meeting is held."""
    gpo = _referent(session, principal, gpo_code)
    held = last_held(session, gpo.code)
    last_at = held.held_at if held is not None else None
    day = rules.next_meeting_day(
        gpo.meeting_rhythm, paris_day(held.planned_at) if held is not None else None, paris_day(now)
    )
    at_time = held.planned_at.astimezone(PARIS).time() if held is not None else DEFAULT_TIME
    planned_at = (
        dt.datetime.combine(day, at_time.replace(tzinfo=None), tzinfo=PARIS).astimezone(dt.UTC)
        if day is not None
        else None
    )
    return Proposal(
        rhythm=gpo.meeting_rhythm,
        last_held_at=last_at,
        planned_at=planned_at,
        place=held.place if held is not None else "",
    )


# --- the agenda ---------------------------------------------------------------------------


def generate_agenda(
    session: Session, principal: Principal, gpo_code: str, day: dt.date, now: dt.datetime
) -> list[dict[str, Any]]:
    """The agenda of a meeting on ``day``, from the partners' version of its brief."""
    found = brief.meeting_brief(session, principal, gpo_code, day, now, version="partner")
    statuses: dict[str, list[str]] = {}
    for problem_id, status in session.execute(
        select(ProblemAction.problem_id, ProblemAction.status).where(
            ProblemAction.problem_id.in_([p.problem_id for p in found.problems])
        )
    ):
        statuses.setdefault(problem_id, []).append(status)

    def agenda_action(line: brief.ActionLine) -> rules.AgendaAction:
        return rules.AgendaAction(line.what, line.owner_partner, line.due_on)

    return rules.agenda_items(
        rules.AgendaProblem(
            problem_id=p.problem_id,
            title=p.title,
            state=p.state,
            new_count=p.new_count,
            new_linked_count=p.new_linked_count,
            actions_late=[agenda_action(a) for a in p.actions_late],
            actions_due=[agenda_action(a) for a in p.actions_due],
            action_statuses=statuses.get(p.problem_id, []),
        )
        for p in found.problems
    )


def _bump(session: Session, meeting: GpoMeeting, expected: int | None, now: dt.datetime) -> None:
    """Take the next version of the meeting, if nobody took it since ``expected``."""
    seen = meeting.version if expected is None else expected
    done = session.execute(
        update(GpoMeeting)
        .where(GpoMeeting.id == meeting.id, GpoMeeting.version == seen)
        .values(version=seen + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(meeting)
    if done.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise Conflict(meeting.version)


def _planned(meeting: GpoMeeting, doing: str) -> None:
    if meeting.status != "planned":
        raise MeetingRefused(f"The meeting is {meeting.status}: it cannot be {doing}.")


def plan_meeting(
    session: Session,
    principal: Principal,
    gpo_code: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> GpoMeeting:
    """Plan a meeting (``planned_at``, ``place``), invite the GPO's partners (all, or
    ``invited``), and generate its agenda."""
    gpo = _referent(session, principal, gpo_code)
    planned_at: dt.datetime = data["planned_at"]
    if planned_at < now:
        raise InvalidInput([{"field": "planned_at", "message": "Must not be in the past."}])
    partners = [partner.code for partner in gpos.partners_of(session, gpo.code)]
    invited = list(data["invited"]) if data.get("invited") is not None else partners
    problems.check_partners(session, gpo.code, invited, "invited")
    meeting = GpoMeeting(
        id=str(uuid.uuid4()),
        gpo_code=gpo.code,
        planned_at=planned_at,
        place=data["place"].strip(),
        status="planned",
        held_at=None,
        agenda=generate_agenda(session, principal, gpo.code, paris_day(planned_at), now),
        agenda_sent_at=None,
        reminded_at=None,
        minutes=None,
        created_at=now,
        created_by=principal.actor[:200],
        updated_at=now,
        version=1,
    )
    session.add(meeting)
    session.flush()
    for code in dict.fromkeys(invited):
        session.add(
            GpoMeetingAttendee(
                meeting_id=meeting.id, partner_code=code, invited=True, present=False
            )
        )
    session.flush()
    audit.record(
        session,
        principal,
        "gpo.meeting.plan",
        "gpo_meeting",
        meeting.id,
        now=now,
        detail={"gpo": gpo.code, "planned_at": planned_at.isoformat()},
    )
    return meeting


def regenerate_agenda(
    session: Session, principal: Principal, gpo_code: str, meeting_id: str, now: dt.datetime
) -> GpoMeeting:
    """The agenda made again from today's brief (a planned meeting only)."""
    _referent(session, principal, gpo_code)
    meeting = get_meeting(session, principal, gpo_code, meeting_id)
    _planned(meeting, "given a new agenda")
    agenda = generate_agenda(session, principal, gpo_code, paris_day(meeting.planned_at), now)
    _bump(session, meeting, None, now)
    meeting.agenda = agenda
    session.flush()
    return meeting


# --- emails -------------------------------------------------------------------------------


def partner_addresses(session: Session, gpo_code: str, partner_code: str) -> list[str]:
    """Where a partner is written to: its functional mailbox in the directory, else the
    emails of its active accounts."""
    entity = find_entity(session, "partner", f"{gpo_code}:{partner_code}")
    if entity is not None and entity.mailbox:
        return [entity.mailbox]
    return list(
        session.scalars(
            select(User.email)
            .where(
                User.role == "gpo_partner",
                User.scope == f"{gpo_code}:{partner_code}",
                User.disabled_at.is_(None),
            )
            .order_by(User.email)
        )
    )


def referent_addresses(session: Session, gpo_code: str) -> list[str]:
    """The GPO's referents' emails (active accounts), else the GPO's functional mailbox."""
    found = list(
        session.scalars(
            select(User.email)
            .where(
                User.role == "gpo_referent",
                User.scope == gpo_code,
                User.disabled_at.is_(None),
            )
            .order_by(User.email)
        )
    )
    if found:
        return found
    entity = find_entity(session, "gpo", gpo_code)
    return [entity.mailbox] if entity is not None and entity.mailbox else []


def _email(
    kind: str, recipients: list[str], subject: str, body: str, now: dt.datetime
) -> EmailMessage:
    return EmailMessage(
        kind=kind,
        recipients=recipients,
        subject=subject[:300],
        body=body,
        ics=None,
        state="pending" if recipients else "failed",
        attempts=0,
        next_attempt_at=now,
        last_error=None if recipients else "aucune adresse : ni boîte fonctionnelle, ni compte",
        created_at=now,
    )


def _agenda_text(meeting: GpoMeeting) -> str:
    if not meeting.agenda:
        return "Aucun point particulier : tour de table des problèmes suivis.\n"
    lines = []
    current = None
    for item in meeting.agenda:
        if item.get("title") != current:
            current = item.get("title")
            lines.append(f"\n{current}")
        lines.append(f"  - {item.get('text')}")
    return "\n".join(lines).lstrip("\n") + "\n"


def agenda_email_body(gpo: Gpo, meeting: GpoMeeting, link: str) -> str:
    return (
        f"Réunion du {gpo.name} le {date_time(meeting.planned_at)}\n"
        f"Lieu : {meeting.place}\n\n"
        f"Ordre du jour :\n\n{_agenda_text(meeting)}\n"
        f"L'ordre du jour et, après la réunion, son compte rendu : {link}\n" + MAIL_FOOTER
    )


def meeting_link(public_url: str, meeting: GpoMeeting) -> str:
    return f"{public_url.rstrip('/')}/gpo/{meeting.gpo_code}/reunions/{meeting.id}"


@dataclass(frozen=True)
class AgendaSent:
    reached: list[str]
    unreachable: list[str]


def send_agenda(
    session: Session,
    principal: Principal,
    gpo_code: str,
    meeting_id: str,
    now: dt.datetime,
    public_url: str,
) -> AgendaSent:
    """Email the agenda to each invited partner (one email per partner); a partner with
    no address gets a ``failed`` email, listed in ``unreachable`` (visible, not lost)."""
    gpo = _referent(session, principal, gpo_code)
    meeting = get_meeting(session, principal, gpo_code, meeting_id)
    _planned(meeting, "announced")
    subject = f"Ordre du jour – réunion du {gpo.name} du {date_time(meeting.planned_at)}"
    body = agenda_email_body(gpo, meeting, meeting_link(public_url, meeting))
    reached: list[str] = []
    unreachable: list[str] = []
    for attendee in attendees_of(session, meeting):
        if not attendee.invited:
            continue
        recipients = partner_addresses(session, gpo.code, attendee.partner_code)
        session.add(_email("gpo_agenda", recipients, subject, body, now))
        (reached if recipients else unreachable).append(attendee.partner_code)
    _bump(session, meeting, None, now)
    meeting.agenda_sent_at = now
    session.flush()
    audit.record(
        session,
        principal,
        "gpo.meeting.agenda_sent",
        "gpo_meeting",
        meeting.id,
        now=now,
        detail={"reached": reached, "unreachable": unreachable},
    )
    return AgendaSent(reached, unreachable)


def send_due_reminders(session: Session, now: dt.datetime, public_url: str) -> list[str]:
    """Remind the referents of each planned meeting starting within ``REMINDER_BEFORE``,
    once per meeting (``reminded_at``); return the meetings reminded. Rows are locked
    (SKIP LOCKED on PostgreSQL), so two jobs never remind twice."""
    due = session.scalars(
        select(GpoMeeting)
        .where(
            GpoMeeting.status == "planned",
            GpoMeeting.reminded_at.is_(None),
            GpoMeeting.planned_at > now,
            GpoMeeting.planned_at <= now + rules.REMINDER_BEFORE,
        )
        .order_by(GpoMeeting.planned_at)
        .with_for_update(skip_locked=True)
    ).all()
    reminded = []
    for meeting in due:
        if not rules.reminder_due(meeting.planned_at, now, meeting.reminded_at is not None):
            continue
        gpo = session.get(Gpo, meeting.gpo_code)
        assert gpo is not None  # a foreign key
        body = (
            f"Rappel : la réunion du {gpo.name} a lieu le {date_time(meeting.planned_at)}, "
            f"{meeting.place}.\n"
            + (
                "L'ordre du jour a été envoyé aux partenaires le "
                f"{date_time(meeting.agenda_sent_at)}.\n"
                if meeting.agenda_sent_at
                else "L'ordre du jour n'a pas encore été envoyé aux partenaires.\n"
            )
            + f"\nOrdre du jour :\n\n{_agenda_text(meeting)}\n"
            f"Préparer la réunion (dossier, ordre du jour, présences) : "
            f"{meeting_link(public_url, meeting)}\n" + MAIL_FOOTER
        )
        session.add(
            _email(
                "gpo_reminder",
                referent_addresses(session, gpo.code),
                f"Rappel – réunion du {gpo.name} le {date_time(meeting.planned_at)}",
                body,
                now,
            )
        )
        meeting.reminded_at = now
        reminded.append(meeting.id)
    session.flush()
    return reminded


# --- holding it ---------------------------------------------------------------------------


def _problem_of_gpo(session: Session, gpo_code: str, problem_id: Any, field: str) -> Problem:
    problem = session.get(Problem, str(problem_id)) if problem_id else None
    if problem is None or problem.gpo_code != gpo_code:
        raise InvalidInput([{"field": field, "message": "No such problem in this GPO."}])
    return problem


def _prefixed(prefix: str, errors: Sequence[Mapping[str, str]]) -> InvalidInput:
    return InvalidInput(
        [{"field": f"{prefix}.{error['field']}", "message": error["message"]} for error in errors]
    )


def _decide(
    session: Session,
    principal: Principal,
    meeting: GpoMeeting,
    data: Mapping[str, Any],
    now: dt.datetime,
    prefix: str,
    terms: Sequence[str],
) -> GpoMeetingDecision:
    """Apply one decision (a note, an action created or changed, a problem moved) and
    record it; errors name their field under ``prefix``. The problem's journal, which the
    partners read, gets the text with ``terms`` (and contacts) masked."""
    kind = data["kind"]
    problem = (
        _problem_of_gpo(session, meeting.gpo_code, data.get("problem_id"), f"{prefix}.problem_id")
        if data.get("problem_id") or kind != "note"
        else None
    )
    text = (data.get("text") or "").strip()
    action_id: int | None = None
    detail: dict[str, Any] = {}
    try:
        if kind == "action_created":
            assert problem is not None
            action = actions.add_action(session, principal, problem.id, data["action"], now)
            action_id, detail = action.id, {"what": action.what}
            text = text or f"Action décidée : {action.what}"
        elif kind == "action_changed":
            assert problem is not None
            action = actions.update_action(
                session, principal, problem.id, int(data["action_id"]), data["changes"], now
            )
            action_id = action.id
            detail = {"what": action.what, "changed": sorted(data["changes"])}
            text = text or f"Action modifiée : {action.what}"
        elif kind == "state_changed":
            assert problem is not None
            before = problem.state
            moved = problems.transition(
                session, principal, problem.id, data["to"], data.get("reason"), now
            )
            detail = {"from": before, "to": data["to"], "state": moved.state}
            text = text or (data.get("reason") or "")
    except InvalidInput as exc:
        field = "action" if kind == "action_created" else "changes"
        raise _prefixed(f"{prefix}.{field}", exc.errors) from exc
    except NotFound as exc:
        raise InvalidInput(
            [{"field": f"{prefix}.action_id", "message": "No such action of this problem."}]
        ) from exc
    except problems.TransitionRefused as exc:
        raise InvalidInput([{"field": f"{prefix}.{exc.field}", "message": exc.message}]) from exc
    if not text:
        raise InvalidInput(
            [{"field": f"{prefix}.text", "message": "Missing data for required field."}]
        )
    decision = GpoMeetingDecision(
        meeting_id=meeting.id,
        problem_id=problem.id if problem is not None else None,
        kind=kind,
        text=text,
        action_id=action_id,
        detail=detail,
        created_at=now,
        author=principal.actor[:200],
    )
    session.add(decision)
    if problem is not None:
        write_entry(
            session,
            problem.id,
            principal.actor,
            "decision",
            rules.redact(text, terms),
            now,
            {"meeting_id": meeting.id, "decision": kind},
        )
    session.flush()
    return decision


def hold_meeting(
    session: Session,
    principal: Principal,
    gpo_code: str,
    meeting_id: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> GpoMeeting:
    """Record the meeting as held: the partners ``present``, the ``minutes``, when
    (``held_at``, default the planned time if past, else now) and its ``decisions``."""
    _referent(session, principal, gpo_code)
    meeting = get_meeting(session, principal, gpo_code, meeting_id)
    _planned(meeting, "held")
    held_at: dt.datetime = data.get("held_at") or min(meeting.planned_at, now)
    if held_at > now:
        raise InvalidInput([{"field": "held_at", "message": "Must not be in the future."}])
    present = list(dict.fromkeys(data.get("present") or []))
    problems.check_partners(session, gpo_code, present, "present")
    _bump(session, meeting, data.get("version"), now)
    attendees = {a.partner_code: a for a in attendees_of(session, meeting)}
    for code in present:
        if code not in attendees:  # came without an invitation
            attendees[code] = GpoMeetingAttendee(
                meeting_id=meeting.id, partner_code=code, invited=False, present=True
            )
            session.add(attendees[code])
    for code, attendee in attendees.items():
        attendee.present = code in present
    meeting.status = "held"
    meeting.held_at = held_at
    meeting.minutes = (data.get("minutes") or "").strip() or None
    session.flush()
    decisions = data.get("decisions") or []
    terms = meeting_terms(session, principal, meeting, now) if decisions else []
    for index, decision in enumerate(decisions):
        _decide(session, principal, meeting, decision, now, f"decisions.{index}", terms)
    for problem_id in dict.fromkeys(
        str(item["problem_id"]) for item in meeting.agenda if item.get("problem_id")
    ):
        if session.get(Problem, problem_id) is not None:
            write_entry(
                session,
                problem_id,
                principal.actor,
                "meeting",
                f"Réunion du GPO du {date_time(held_at)} ({meeting.place})",
                held_at,
                {"meeting_id": meeting.id},
            )
    audit.record(
        session,
        principal,
        "gpo.meeting.hold",
        "gpo_meeting",
        meeting.id,
        now=now,
        detail={"present": present, "decisions": len(data.get("decisions") or [])},
    )
    session.flush()
    return meeting


def add_decision(
    session: Session,
    principal: Principal,
    gpo_code: str,
    meeting_id: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> GpoMeetingDecision:
    """One more decision of a held meeting (recorded after the attendance)."""
    _referent(session, principal, gpo_code)
    meeting = get_meeting(session, principal, gpo_code, meeting_id)
    if meeting.status != "held":
        raise MeetingRefused(f"The meeting is {meeting.status}: decisions are of a held meeting.")
    terms = meeting_terms(session, principal, meeting, now)
    decision = _decide(session, principal, meeting, data, now, "decision", terms)
    _bump(session, meeting, None, now)
    audit.record(
        session,
        principal,
        "gpo.meeting.decision",
        "gpo_meeting",
        meeting.id,
        now=now,
        detail={"kind": decision.kind, "problem": decision.problem_id},
    )
    return decision


def close_meeting(
    session: Session,
    principal: Principal,
    gpo_code: str,
    meeting_id: str,
    status: str,
    now: dt.datetime,
) -> GpoMeeting:
    """Mark a planned meeting ``skipped`` (it did not take place) or ``cancelled``."""
    if status not in ("skipped", "cancelled"):
        raise InvalidInput([{"field": "status", "message": "Must be one of: skipped, cancelled."}])
    _referent(session, principal, gpo_code)
    meeting = get_meeting(session, principal, gpo_code, meeting_id)
    _planned(meeting, status)
    _bump(session, meeting, None, now)
    meeting.status = status
    session.flush()
    audit.record(session, principal, f"gpo.meeting.{status}", "gpo_meeting", meeting.id, now=now)
    return meeting


# --- collegial evaluation -----------------------------------------------------------------


def record_evaluation(
    session: Session,
    principal: Principal,
    gpo_code: str,
    meeting_id: str,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> ProblemEvaluation:
    """A partner present at a held meeting gives its view of a problem's assessment
    (again: its view is replaced). The referent may write it for a present partner
    (``partner_code``); a partner absent, or of no named organisation, may not."""
    meeting = get_meeting(session, principal, gpo_code, meeting_id)
    if principal.role == "gpo_referent":
        partner = data.get("partner_code")
        if not partner:
            raise InvalidInput(
                [{"field": "partner_code", "message": "Name the partner whose view this is."}]
            )
    else:
        partner = partner_of(principal)
        if partner is None or data.get("partner_code") not in (None, partner):
            raise Forbidden(meeting_id)
    if meeting.status != "held":
        raise MeetingRefused(f"The meeting is {meeting.status}: views are given at a held meeting.")
    attendee = session.get(GpoMeetingAttendee, (meeting.id, partner))
    if attendee is None or not attendee.present:
        if principal.role == "gpo_referent":
            raise InvalidInput(
                [{"field": "partner_code", "message": "This partner was not present."}]
            )
        raise Forbidden(meeting_id)
    problem = _problem_of_gpo(session, gpo_code, data.get("problem_id"), "problem_id")
    evaluation = session.scalars(
        select(ProblemEvaluation).where(
            ProblemEvaluation.problem_id == problem.id,
            ProblemEvaluation.meeting_id == meeting.id,
            ProblemEvaluation.partner_code == partner,
        )
    ).first()
    values = {
        "view": data["view"],
        "comment": (data.get("comment") or "").strip(),
        "recorded_at": now,
        "recorded_by": principal.actor[:200],
    }
    if evaluation is None:
        try:
            # In a SAVEPOINT: the same partner's view sent twice at once meets the unique
            # constraint; the second then replaces the first, as one sent later does.
            with session.begin_nested():
                evaluation = ProblemEvaluation(
                    problem_id=problem.id, meeting_id=meeting.id, partner_code=partner, **values
                )
                session.add(evaluation)
                session.flush()
        except IntegrityError:
            evaluation = session.scalars(
                select(ProblemEvaluation).where(
                    ProblemEvaluation.problem_id == problem.id,
                    ProblemEvaluation.meeting_id == meeting.id,
                    ProblemEvaluation.partner_code == partner,
                )
            ).one()
    for name, value in values.items():
        setattr(evaluation, name, value)
    session.flush()
    audit.record(
        session,
        principal,
        "gpo.meeting.evaluation",
        "problem",
        problem.id,
        now=now,
        detail={"meeting": meeting.id, "partner": partner, "view": data["view"]},
    )
    return evaluation


# --- documents ----------------------------------------------------------------------------


def meeting_document(session: Session, meeting: GpoMeeting) -> dict[str, Any]:
    """The meeting as the API returns it (no personal data: the agenda is aggregates,
    decisions and views are written for the partners)."""
    names = {p.code: p.name for p in gpos.partners_of(session, meeting.gpo_code)}
    titles = dict(
        session.execute(
            select(Problem.id, Problem.title).where(Problem.gpo_code == meeting.gpo_code)
        ).all()
    )
    return {
        "id": meeting.id,
        "gpo_code": meeting.gpo_code,
        "planned_at": meeting.planned_at,
        "place": meeting.place,
        "status": meeting.status,
        "held_at": meeting.held_at,
        "agenda": list(meeting.agenda),
        "agenda_sent_at": meeting.agenda_sent_at,
        "reminded_at": meeting.reminded_at,
        "attendees": [
            {
                "partner_code": a.partner_code,
                "name": names.get(a.partner_code, a.partner_code),
                "invited": a.invited,
                "present": a.present,
            }
            for a in attendees_of(session, meeting)
        ],
        "decisions": [decision_document(d, titles) for d in decisions_of(session, meeting)],
        "evaluations": [evaluation_document(e, titles) for e in evaluations_of(session, meeting)],
        "created_at": meeting.created_at,
        "updated_at": meeting.updated_at,
        "version": meeting.version,
    }


def decision_document(decision: GpoMeetingDecision, titles: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": decision.id,
        "kind": decision.kind,
        "problem_id": decision.problem_id,
        "problem_title": titles.get(decision.problem_id or "", None),
        "text": decision.text,
        "action_id": decision.action_id,
        "detail": dict(decision.detail),
        "created_at": decision.created_at,
    }


def evaluation_document(evaluation: ProblemEvaluation, titles: Mapping[str, str]) -> dict[str, Any]:
    return {
        "problem_id": evaluation.problem_id,
        "problem_title": titles.get(evaluation.problem_id),
        "partner_code": evaluation.partner_code,
        "view": evaluation.view,
        "comment": evaluation.comment,
        "recorded_at": evaluation.recorded_at,
    }


# --- the minutes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Minutes:
    """A meeting's minutes in one version: the referent's (the incidents discussed with
    their excerpts, the texts as written) or the partners' (the incidents at day, stop
    and natures; the texts with whatever could name someone masked)."""

    version: BriefVersion
    gpo_name: str
    meeting: dict[str, Any]
    brief: brief.Brief
    minutes_text: str
    # Whether the referent's version holds personal data (incidents, or texts the
    # partners' version masks): its read is audited then.
    personal: bool


def _personal_terms(session: Session, found: brief.Brief) -> list[str]:
    """What must be masked in the partners' texts: the personal values of the sheets of
    the incidents discussed (the brief's new incidents, whatever the version)."""
    values: list[str] = []
    for problem_brief in found.problems:
        problem = session.get(Problem, problem_brief.problem_id)
        if problem is None:
            continue
        for incident, _ in brief.new_incidents(
            session, problem, problem_brief.since, problem_brief.until
        ):
            values += rules.sheet_personal_values(incident.sheet)
    return rules.personal_terms(values)


def meeting_terms(
    session: Session, principal: Principal, meeting: GpoMeeting, now: dt.datetime
) -> list[str]:
    """What to mask in the texts partners read of this meeting: the personal values of
    the sheets of the incidents since the previous meeting held (its day's brief, in the
    partners' version: no audited read)."""
    day = paris_day(meeting.held_at or meeting.planned_at)
    found = brief.meeting_brief(session, principal, meeting.gpo_code, day, now, version="partner")
    return _personal_terms(session, found)


def meeting_view(
    session: Session, principal: Principal, meeting: GpoMeeting, now: dt.datetime
) -> dict[str, Any]:
    """The meeting as the caller reads it: a partner's with the decisions' and views'
    texts masked (``rules.redact``), the referent's as written."""
    document = meeting_document(session, meeting)
    if brief_version_for(principal) == "referent":
        return document
    if not document["decisions"] and not document["evaluations"]:
        return document
    return _masked(document, meeting_terms(session, principal, meeting, now))


def _masked(document: dict[str, Any], terms: Sequence[str]) -> dict[str, Any]:
    masked = dict(document)
    masked["decisions"] = [
        {
            **d,
            "text": rules.redact(d["text"], terms),
            "detail": {
                key: rules.redact(value, terms) if isinstance(value, str) else value
                for key, value in d["detail"].items()
            },
        }
        for d in document["decisions"]
    ]
    masked["evaluations"] = [
        {**e, "comment": rules.redact(e["comment"], terms)} for e in document["evaluations"]
    ]
    return masked


def minutes_of(
    session: Session,
    principal: Principal,
    gpo_code: str,
    meeting_id: str,
    now: dt.datetime,
    *,
    with_chart: bool = False,
) -> Minutes:
    """The minutes of a held meeting in the caller's version. The referent's read is
    audited when it holds personal data (each incident shown as an ``incident.read``)."""
    meeting = get_meeting(session, principal, gpo_code, meeting_id)
    if meeting.status != "held" or meeting.held_at is None:
        raise MeetingRefused(f"The meeting is {meeting.status}: it has no minutes.")
    version = brief_version_for(principal)
    gpo = _gpo(session, principal, gpo_code)
    day = paris_day(meeting.held_at)
    # The incidents discussed: the brief of the meeting's day, in the caller's version
    # (the referent's reads audited as read for the minutes).
    found = brief.meeting_brief(
        session, principal, gpo_code, day, now, with_chart=with_chart, via="gpo.meeting.minutes"
    )
    document = meeting_document(session, meeting)
    terms = _personal_terms(session, found)
    text = meeting.minutes or ""
    masked_text = rules.redact(text, terms)
    masked_document = _masked(document, terms)
    personal = (
        any(p.incidents for p in found.problems)
        or masked_text != text
        or (masked_document != document)
    )
    if version == "partner":
        document, text = masked_document, masked_text
    elif personal:
        audit.record(
            session,
            principal,
            "gpo.meeting.minutes.read",
            "gpo_meeting",
            meeting.id,
            now=now,
            detail={"incidents": sum(p.new_count for p in found.problems)},
        )
    return Minutes(
        version=version,
        gpo_name=gpo.name,
        meeting=document,
        brief=found,
        minutes_text=text,
        personal=personal,
    )


def record_minutes_export(
    session: Session, principal: Principal, minutes: Minutes, export_format: str, now: dt.datetime
) -> None:
    """Every export of the minutes is audited, whatever the version."""
    audit.record(
        session,
        principal,
        "gpo.meeting.minutes.export",
        "gpo_meeting",
        minutes.meeting["id"],
        now=now,
        detail={"format": export_format, "version": minutes.version},
    )


def incident_count(found: brief.Brief) -> int:
    return sum(p.new_count for p in found.problems)


def forget_incident(session: Session, incident: Incident) -> int:
    """Before retention pseudonymises ``incident``: mask its personal values in the texts
    of the meetings that may have discussed it (minutes, decisions, partners' views), for
    good. The partners' version masks them by reading the sheets; once the sheet is
    pseudonymised there would be nothing left to mask them with. The number of meetings
    changed."""
    terms = rules.personal_terms(rules.sheet_personal_values(incident.sheet))
    if not terms:
        return 0
    covering = [
        gpo.code for gpo in session.scalars(select(Gpo)) if incident_facts.gpo_covers(gpo, incident)
    ]
    if not covering:
        return 0
    changed = 0
    for meeting in session.scalars(
        select(GpoMeeting).where(
            GpoMeeting.gpo_code.in_(covering), GpoMeeting.planned_at >= incident.occurred_at
        )
    ):
        before = meeting.minutes
        if meeting.minutes:
            meeting.minutes = rules.redact(meeting.minutes, terms)
        touched = before != meeting.minutes
        for decision in decisions_of(session, meeting):
            text = rules.redact(decision.text, terms)
            detail = {
                key: rules.redact(value, terms) if isinstance(value, str) else value
                for key, value in (decision.detail or {}).items()
            }
            if (text, detail) != (decision.text, decision.detail):
                decision.text, decision.detail = text, detail
                touched = True
        for evaluation in evaluations_of(session, meeting):
            comment = rules.redact(evaluation.comment, terms)
            if comment != evaluation.comment:
                evaluation.comment = comment
                touched = True
        changed += touched
    return changed
