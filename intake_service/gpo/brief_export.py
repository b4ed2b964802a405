"""The meeting brief as a document: JSON, CSV and PDF, in the caller's version
(referent or partners; see ``brief``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from intake_service.gpo import assessment
from intake_service.gpo.brief import (
    ACTION_STATUSES,
    PROBLEM_STATES,
    ActionLine,
    Brief,
    PartnerIncident,
    ReferentIncident,
)
from intake_service.gpo.rules import weekly_figures
from intake_service.gpo.rules.scope import NATURE_LABELS
from intake_service.gpo.rules.weekly_figures import BeforeAfter
from intake_service.platform import pdf
from intake_service.platform.clock import PARIS

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
                    weekly_figures.figures_document(p.figures) if p.figures is not None else None
                ),
            }
            for p in brief.problems
        ],
    }


# --- CSV and PDF --------------------------------------------------------------------------


def _paris(moment: dt.datetime, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(PARIS).strftime(pattern)


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
        document = weekly_figures.figures_document(figures) if figures is not None else None
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
    document = weekly_figures.figures_document(figures)
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
            for p in weekly_figures.PRIORITIES
        ),
        [
            "Avec blessés (soins ou plus)",
            str(sum(before["severities"][s] for s in weekly_figures.SEVERITIES[2:])),
            str(sum(after["severities"][s] for s in weekly_figures.SEVERITIES[2:])),
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
