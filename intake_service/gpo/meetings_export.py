"""A meeting's minutes as CSV and PDF, in the caller's version (``meetings.Minutes``),
and the meetings' French words (the pages use them too)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from typing import Any

from intake_service.gpo.brief import PartnerIncident, ReferentIncident
from intake_service.gpo.brief_export import _cell, _natures_text
from intake_service.gpo.meetings import Minutes
from intake_service.platform import pdf
from intake_service.platform.clock import PARIS

MEETING_STATUS_LABELS = {
    "planned": "Prévue",
    "held": "Tenue",
    "skipped": "Non tenue",
    "cancelled": "Annulée",
}
DECISION_KIND_LABELS = {
    "note": "Relevé de décision",
    "action_created": "Action créée",
    "action_changed": "Action modifiée",
    "state_changed": "Changement d'état",
}
VIEW_LABELS = {"resolved": "Résolu", "improved": "Amélioré", "not_resolved": "Non résolu"}
AGENDA_KIND_LABELS = {
    "new_incidents": "Nouveaux incidents",
    "actions_late": "Action en retard",
    "actions_due": "Action à échéance",
    "assessment_due": "Évaluation à faire",
}
RHYTHM_LABELS = {
    "fortnightly": "tous les quinze jours",
    "monthly": "tous les mois",
    "dates": "à dates choisies",
}


def paris(moment: dt.datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(PARIS).strftime(pattern) if moment is not None else ""


def _incident_rows(minutes: Minutes) -> Iterator[tuple[str, Sequence[str]]]:
    """(problem title, cells) per incident discussed, in the minutes' version."""
    for problem in minutes.brief.problems:
        for line in problem.incidents:
            if isinstance(line, PartnerIncident):
                yield (
                    problem.title,
                    [
                        line.occurred_on.strftime("%d/%m/%Y"),
                        line.stop,
                        _natures_text(line.natures),
                    ],
                )
            elif isinstance(line, ReferentIncident):
                yield (
                    problem.title,
                    [
                        paris(line.occurred_at),
                        line.place,
                        _natures_text(line.natures),
                        line.priority,
                        line.excerpt,
                    ],
                )


CSV_COLUMNS = ("rubrique", "probleme", "element", "detail")


def to_csv(minutes: Minutes) -> str:
    """One row per fact of the minutes: attendance, agenda items, decisions, views, the
    incidents discussed and the summary (the partners' version: no personal data)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    meeting = minutes.meeting

    def row(*values: Any) -> None:
        writer.writerow([_cell(value) for value in values])

    row("reunion", "", "date", paris(meeting["held_at"]))
    row("reunion", "", "lieu", meeting["place"])
    for attendee in meeting["attendees"]:
        row("presence", "", attendee["name"], "présent" if attendee["present"] else "absent")
    for item in meeting["agenda"]:
        row(
            "ordre_du_jour",
            item.get("title", ""),
            AGENDA_KIND_LABELS.get(item["kind"], ""),
            item["text"],
        )
    for decision in meeting["decisions"]:
        row(
            "decision",
            decision["problem_title"] or "",
            DECISION_KIND_LABELS.get(decision["kind"], decision["kind"]),
            decision["text"],
        )
    for evaluation in meeting["evaluations"]:
        row(
            "avis",
            evaluation["problem_title"] or "",
            evaluation["partner_code"],
            f"{VIEW_LABELS.get(evaluation['view'], evaluation['view'])}"
            + (f" — {evaluation['comment']}" if evaluation["comment"] else ""),
        )
    for title, cells in _incident_rows(minutes):
        row("incident", title, cells[0], " · ".join(cells[1:]))
    if minutes.minutes_text:
        row("compte_rendu", "", "", minutes.minutes_text)
    return buffer.getvalue()


def to_pdf(minutes: Minutes) -> bytes:
    """The minutes on A4, the version named on every page."""
    meeting = minutes.meeting
    partner = minutes.version == "partner"
    blocks: list[pdf.Block] = [
        pdf.Facts(
            [
                ("Date", paris(meeting["held_at"])),
                ("Lieu", meeting["place"]),
                (
                    "Présents",
                    ", ".join(a["name"] for a in meeting["attendees"] if a["present"]) or "—",
                ),
                (
                    "Absents",
                    ", ".join(
                        a["name"] for a in meeting["attendees"] if a["invited"] and not a["present"]
                    )
                    or "—",
                ),
            ]
        ),
        pdf.Heading("Ordre du jour"),
    ]
    if meeting["agenda"]:
        blocks.append(
            pdf.Table(
                headers=["Problème", "Point"],
                rows=[[item.get("title", ""), item["text"]] for item in meeting["agenda"]],
                widths=(2, 4),
            )
        )
    else:
        blocks.append(pdf.Paragraph("Aucun point particulier."))
    blocks.append(pdf.Heading("Décisions"))
    if meeting["decisions"]:
        blocks.append(
            pdf.Table(
                headers=["Problème", "Décision", "Texte"],
                rows=[
                    [
                        d["problem_title"] or "—",
                        DECISION_KIND_LABELS.get(d["kind"], d["kind"]),
                        d["text"],
                    ]
                    for d in meeting["decisions"]
                ],
                widths=(2, 1.3, 3.5),
            )
        )
    else:
        blocks.append(pdf.Paragraph("Aucune décision."))
    if meeting["evaluations"]:
        blocks.append(pdf.Heading("Évaluation collégiale"))
        blocks.append(
            pdf.Table(
                headers=["Problème", "Partenaire", "Avis", "Commentaire"],
                rows=[
                    [
                        e["problem_title"] or "",
                        e["partner_code"],
                        VIEW_LABELS.get(e["view"], e["view"]),
                        e["comment"],
                    ]
                    for e in meeting["evaluations"]
                ],
                widths=(2, 1.2, 1, 3),
            )
        )
    incidents = list(_incident_rows(minutes))
    if incidents:
        blocks.append(pdf.Heading("Incidents depuis la réunion précédente"))
        blocks.append(
            pdf.Table(
                headers=["Problème", "Date", "Arrêt", "Natures"]
                if partner
                else [
                    "Problème",
                    "Date et heure",
                    "Lieu",
                    "Natures",
                    "Priorité",
                    "Extrait du récit",
                ],
                rows=[[title, *cells] for title, cells in incidents],
                widths=(2, 1, 2, 2) if partner else (1.6, 1.3, 1.5, 1.5, 0.8, 3),
            )
        )
    blocks.append(pdf.Heading("Compte rendu"))
    blocks.append(pdf.Paragraph(minutes.minutes_text or "Pas de compte rendu rédigé."))
    held_on = paris(meeting["held_at"], "%d/%m/%Y")
    edited = paris(minutes.brief.generated_at)
    return pdf.render(
        pdf.Document(
            title=f"Compte rendu — réunion du {minutes.gpo_name} du {held_on}",
            subtitle=(
                "Version partenaires : sans données personnelles"
                if partner
                else "Version du référent : diffusion restreinte (données personnelles)"
            ),
            footer=f"{minutes.gpo_name} · compte rendu édité le {edited}",
            created_at=minutes.brief.generated_at,
            blocks=blocks,
        )
    )
