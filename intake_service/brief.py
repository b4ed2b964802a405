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
partners read too).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake_service import (
    assessment,
    audit,
    labels,
    linking,
    pdf,
    problem_lifecycle,
    problems,
)
from intake_service.access import Principal
from intake_service.assessment import Assessment, BeforeAfter, paris_day, paris_midnight
from intake_service.gpo_scope import NATURE_LABELS
from intake_service.models import (
    GtfsRoute,
    GtfsStop,
    Incident,
    Problem,
    ProblemAction,
    ProblemJournalEntry,
)

Version = Literal["referent", "partner"]

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
    weekly: Assessment | None


@dataclass(frozen=True)
class Brief:
    gpo_code: str
    gpo_name: str
    meeting_date: dt.date
    version: Version
    generated_at: dt.datetime
    problems: Sequence[ProblemBrief]


def version_for(principal: Principal) -> Version:
    """The referent's version for referents; everybody else gets the partners'."""
    return "referent" if principal.role == "gpo_referent" else "partner"


def _last_meeting(session: Session, problem: Problem, before: dt.datetime) -> dt.datetime | None:
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


def _partner_incident(session: Session, incident: Incident) -> PartnerIncident:
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


def _new_incidents(
    session: Session, problem: Problem, since: dt.datetime, until: dt.datetime
) -> list[tuple[Incident, bool]]:
    """In scope or linked, occurred in [since, until), oldest first, with whether linked."""
    linked = {
        incident.id: incident
        for incident in assessment.linked_incidents(session, problem, since, until)
    }
    found = {
        incident.id: incident
        for incident, _ in linking.in_scope_incidents(session, problem, since, until)
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
) -> ProblemBrief:
    meeting_start = paris_midnight(meeting_date)
    since = _last_meeting(session, problem, meeting_start) or paris_midnight(
        meeting_date - dt.timedelta(days=DEFAULT_SINCE_DAYS)
    )
    until = min(paris_midnight(meeting_date + dt.timedelta(days=1)), now)
    new = _new_incidents(session, problem, since, until) if since < until else []
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
                detail={"via": "gpo.brief", "problem": problem.id},
            )
    else:
        incidents = [_partner_incident(session, incident) for incident, _ in new]
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
) -> Brief:
    """The brief of the caller's GPO for the meeting of ``meeting_date``.

    ``problems.NotFound`` for another GPO. The version follows the caller's role.
    ``with_chart``: each problem's weekly chart data too (what the PDF draws).
    """
    gpo = problems.get_gpo(session, principal, gpo_code)
    version = version_for(principal)
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
            _problem_brief(session, principal, problem, meeting_date, version, now, with_chart)
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


# --- documents ----------------------------------------------------------------------------


def _action_document(action: ActionLine) -> dict[str, Any]:
    return {
        "what": action.what,
        "owner_partner": action.owner_partner,
        "starts_on": action.starts_on,
        "due_on": action.due_on,
        "status": action.status,
        "late": action.late,
    }


def brief_document(brief: Brief) -> dict[str, Any]:
    """The brief as the API returns it (the partners' version has no incident detail
    beyond day, stop and natures)."""

    def incident(line: ReferentIncident | PartnerIncident) -> dict[str, Any]:
        if isinstance(line, PartnerIncident):
            return {
                "occurred_on": line.occurred_on,
                "stop": line.stop,
                "natures": list(line.natures),
            }
        return {
            "id": line.id,
            "occurred_at": line.occurred_at,
            "place": line.place,
            "natures": list(line.natures),
            "priority": line.priority,
            "linked": line.linked,
            "excerpt": line.excerpt,
        }

    return {
        "gpo_code": brief.gpo_code,
        "gpo_name": brief.gpo_name,
        "meeting_date": brief.meeting_date,
        "version": brief.version,
        "generated_at": brief.generated_at,
        "problems": [
            {
                "id": p.problem_id,
                "title": p.title,
                "state": p.state,
                "since": p.since,
                "until": p.until,
                "new_count": p.new_count,
                "new_linked_count": p.new_linked_count,
                "incidents": [incident(line) for line in p.incidents],
                "actions_due": [_action_document(a) for a in p.actions_due],
                "actions_late": [_action_document(a) for a in p.actions_late],
                "assessment": (
                    assessment.figures_document(p.figures) if p.figures is not None else None
                ),
            }
            for p in brief.problems
        ],
    }


# --- CSV and PDF --------------------------------------------------------------------------


def _paris(moment: dt.datetime, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(assessment.PARIS).strftime(pattern)


def _date(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day is not None else ""


def _natures_text(natures: Sequence[str]) -> str:
    return ", ".join(NATURE_LABELS.get(n, n) for n in natures)


def _pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f} %".replace(".", ",")


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


REFERENT_CSV = (
    "probleme",
    "probleme_id",
    "incident_id",
    "date_heure",
    "lieu",
    "natures",
    "priorite",
    "rattache",
    "extrait_recit",
)
PARTNER_CSV = (
    "probleme",
    "etat",
    "depuis",
    "nouveaux_incidents",
    "dont_rattaches",
    "actions_a_echeance",
    "actions_en_retard",
    "pivot",
    "fenetre_jours",
    "avant",
    "apres",
    "evolution_pct",
    "part_victimes_agents_avant_pct",
    "part_victimes_agents_apres_pct",
)


def to_csv(brief: Brief) -> str:
    """The referent's: one row per new incident. The partners': one row per problem."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if brief.version == "referent":
        writer.writerow(REFERENT_CSV)
        for problem in brief.problems:
            for line in problem.incidents:
                assert isinstance(line, ReferentIncident)
                writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            problem.title,
                            problem.problem_id,
                            line.id,
                            _paris(line.occurred_at),
                            line.place,
                            _natures_text(line.natures),
                            line.priority,
                            "oui" if line.linked else "non",
                            line.excerpt,
                        )
                    ]
                )
        return buffer.getvalue()
    writer.writerow(PARTNER_CSV)
    for problem in brief.problems:
        figures = problem.figures
        document = assessment.figures_document(figures) if figures is not None else None
        writer.writerow(
            [
                _cell(v)
                for v in (
                    problem.title,
                    PROBLEM_STATES.get(problem.state, problem.state),
                    _paris(problem.since, "%d/%m/%Y"),
                    problem.new_count,
                    problem.new_linked_count,
                    len(problem.actions_due),
                    len(problem.actions_late),
                    document["pivot"].isoformat() if document else "",
                    document["window_days"] if document else "",
                    document["before"]["count"] if document else "",
                    document["after"]["count"] if document else "",
                    document["change"]["count_pct"] if document else "",
                    document["before"]["staff_share_pct"] if document else "",
                    document["after"]["staff_share_pct"] if document else "",
                )
            ]
        )
    return buffer.getvalue()


def _figures_table(figures: BeforeAfter) -> pdf.Table:
    document = assessment.figures_document(figures)
    before, after, change = document["before"], document["after"], document["change"]

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f} %".replace(".", ",")

    rows = [
        ["Incidents", str(before["count"]), str(after["count"]), _pct(change["count_pct"])],
        *(
            [
                f"dont {p}",
                str(before["priorities"][p]),
                str(after["priorities"][p]),
                _pct(change["priorities_pct"][p]),
            ]
            for p in assessment.PRIORITIES
        ),
        [
            "Avec blessés (soins ou plus)",
            str(sum(before["severities"][s] for s in assessment.SEVERITIES[2:])),
            str(sum(after["severities"][s] for s in assessment.SEVERITIES[2:])),
            "",
        ],
        [
            "Part avec agent victime",
            share(before["staff_share_pct"]),
            share(after["staff_share_pct"]),
            "—"
            if change["staff_share_points"] is None
            else f"{change['staff_share_points']:+.1f} pt".replace(".", ","),
        ],
    ]
    return pdf.Table(
        headers=[
            "",
            f"Avant ({_date(before['start'])} – {_date(before['end'])})",
            f"Après ({_date(after['start'])} – {_date(after['end'])})",
            "Évolution",
        ],
        rows=rows,
        widths=(2, 2, 2, 1),
    )


def _actions_table(actions: Sequence[ActionLine]) -> pdf.Table:
    return pdf.Table(
        headers=["Action", "Partenaire", "Échéance", "Statut"],
        rows=[
            [a.what, a.owner_partner, _date(a.due_on), ACTION_STATUSES.get(a.status, a.status)]
            for a in actions
        ],
        widths=(4, 1.5, 1.2, 1.2),
    )


def to_pdf(brief: Brief) -> bytes:
    """The brief on A4, the version named on every page."""
    partner = brief.version == "partner"
    blocks: list[pdf.Block] = []
    for problem in brief.problems:
        blocks.append(pdf.Heading(problem.title))
        blocks.append(
            pdf.Facts(
                [
                    ("État", PROBLEM_STATES.get(problem.state, problem.state)),
                    ("Depuis la dernière réunion", _paris(problem.since, "%d/%m/%Y")),
                    (
                        "Nouveaux incidents",
                        f"{problem.new_count} (dont {problem.new_linked_count} rattachés)",
                    ),
                ]
            )
        )
        if problem.incidents:
            if partner:
                blocks.append(
                    pdf.Table(
                        headers=["Date", "Arrêt", "Natures"],
                        rows=[
                            [_date(line.occurred_on), line.stop, _natures_text(line.natures)]
                            for line in problem.incidents
                            if isinstance(line, PartnerIncident)
                        ],
                        widths=(1, 2, 3),
                    )
                )
            else:
                blocks.append(
                    pdf.Table(
                        headers=[
                            "Date et heure",
                            "Lieu",
                            "Natures",
                            "Priorité",
                            "Extrait du récit",
                        ],
                        rows=[
                            [
                                _paris(line.occurred_at),
                                line.place,
                                _natures_text(line.natures),
                                line.priority + (" · rattaché" if line.linked else ""),
                                line.excerpt,
                            ]
                            for line in problem.incidents
                            if isinstance(line, ReferentIncident)
                        ],
                        widths=(1.4, 1.6, 1.8, 0.9, 3.3),
                    )
                )
        if problem.actions_late:
            blocks.append(pdf.Paragraph("Actions en retard", strong=True))
            blocks.append(_actions_table(problem.actions_late))
        if problem.actions_due:
            blocks.append(pdf.Paragraph("Actions à échéance dans les 14 jours"))
            blocks.append(_actions_table(problem.actions_due))
        if problem.weekly is not None:
            blocks.append(pdf.Chart(assessment.chart(problem.weekly)))
        if problem.figures is not None:
            blocks.append(
                pdf.Paragraph(
                    f"Avant / après le {_date(problem.figures.pivot)} "
                    f"(fenêtres de {problem.figures.window_days} jours)"
                )
            )
            blocks.append(_figures_table(problem.figures))
        else:
            blocks.append(pdf.Paragraph("Pas encore d'action commencée : pas de comparaison."))
    if not brief.problems:
        blocks.append(pdf.Paragraph("Aucun problème suivi par ce GPO."))
    return pdf.render(
        pdf.Document(
            title=f"Réunion du {brief.gpo_name} — {_date(brief.meeting_date)}",
            subtitle=(
                "Version partenaires : sans données personnelles"
                if partner
                else "Version du référent : diffusion restreinte (données personnelles)"
            ),
            footer=f"{brief.gpo_name} · préparé le {_paris(brief.generated_at)}",
            created_at=brief.generated_at,
            blocks=blocks,
        )
    )
