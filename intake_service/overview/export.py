"""The national view as documents: its charts (SVG), CSV (one row per département or GPO,
and the total) and PDF (the figures' tables and the charts). Aggregates only, like the
view itself (``national``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from intake_service.intake.rules.natures import FAMILY_LABELS
from intake_service.overview.national import FAMILIES, Overview, Unit
from intake_service.overview.rules.charts import Series, bar_list_chart, monthly_chart
from intake_service.platform import pdf
from intake_service.platform.clock import PARIS

RHYTHM_LABELS = {"fortnightly": "bimensuel", "monthly": "mensuel", "dates": "à la demande"}
STATUS_LABELS = {"deployed": "déployé", "in_creation": "en création"}

CSV_COLUMNS = (
    "niveau",
    "code",
    "nom",
    "du",
    "au",
    "gpo_declares",
    "gpo_deployes",
    "gpo_en_creation",
    "gpo_actifs",
    "problemes_identifies",
    "problemes_en_cours",
    "problemes_resolus",
    "problemes_ameliores",
    "problemes_non_resolus",
    "problemes_abandonnes",
    "problemes_hors_champ",
    "delai_median_resolution_jours",
    "reunions_tenues",
    "derniere_reunion",
    "rythme_tenu",
    "gpo_rythme_tenu",
    "gpo_rythme_non_tenu",
    "incidents",
    *(f"incidents_{family}" for family in FAMILIES),
    "incidents_avec_agent_victime",
    "agents_victimes",
    "incidents_p1_p2",
    "part_p1_p2",
    "rdv_victimes_eligibles",
    "rdv_pris",
    "part_rdv_pris",
    "delai_median_rdv_heures",
    "rdv_passes",
    "rdv_honores",
    "part_rdv_honores",
)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("oui" if value else "non")


def _csv_row(level: str, unit: Unit, found: Overview) -> list[Any]:
    problems, meetings, incidents = unit.problems, unit.meetings, unit.incidents
    appointments = unit.appointments
    return [
        level,
        unit.key,
        unit.name,
        found.period.first.isoformat(),
        found.period.last.isoformat(),
        unit.gpos_deployed + unit.gpos_in_creation,
        unit.gpos_deployed,
        unit.gpos_in_creation,
        unit.gpos_active,
        problems.identified,
        problems.in_progress,
        *(
            problems.outcomes[o]
            for o in ("resolved", "improved", "not_resolved", "abandoned", "out_of_scope")
        ),
        problems.median_days_to_resolve if problems.median_days_to_resolve is not None else "",
        meetings.held,
        meetings.last_on.isoformat() if meetings.last_on else "",
        _yes_no(meetings.rhythm_kept),
        meetings.gpos_rhythm_kept,
        meetings.gpos_rhythm_missed,
        incidents.count,
        *(incidents.by_family.get(family, 0) for family in FAMILIES),
        incidents.staff_victim_incidents,
        incidents.staff_victims,
        incidents.p1_p2,
        incidents.share_p1_p2 if incidents.share_p1_p2 is not None else "",
        appointments.eligible,
        appointments.booked,
        _opt(appointments.share_booked),
        _opt(appointments.median_delay_hours),
        appointments.past,
        appointments.honoured,
        _opt(appointments.share_honoured),
    ]


def _opt(value: float | None) -> Any:
    return "" if value is None else round(value, 3)


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(found: Overview) -> str:
    """One row per département (national) or GPO (départemental), then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    row_level = "departement" if found.level == "national" else "gpo"
    for unit in found.rows:
        writer.writerow([_cell(v) for v in _csv_row(row_level, unit, found)])
    writer.writerow([_cell(v) for v in _csv_row(f"total_{found.level}", found.total, found)])
    return buffer.getvalue()


# --- charts -------------------------------------------------------------------------------


def charts(found: Overview) -> dict[str, str]:
    """The page's and the PDF's four charts, by name."""
    total = found.total
    months = list(total.problems.identified_by_month)
    per = "département" if found.level == "national" else "GPO"
    return {
        "problems": monthly_chart(
            months,
            [
                Series("Identifiés", [total.problems.identified_by_month[m] for m in months]),
                Series("Résolus", [total.problems.resolved_by_month[m] for m in months]),
            ],
            title="Problèmes identifiés et résolus par mois",
            ident="graphique-problemes",
        ),
        "meetings": bar_list_chart(
            [(unit.name, unit.meetings.held) for unit in found.rows],
            title=f"Réunions tenues par {per}",
            ident="graphique-reunions",
            unit="réunions",
        ),
        "incidents_by_month": monthly_chart(
            months,
            [
                Series(
                    "Incidents",
                    [sum(total.incidents.by_month.get(m, {}).values()) for m in months],
                ),
            ],
            title="Incidents par mois",
            ident="graphique-incidents-mois",
        ),
        "incidents": bar_list_chart(
            [
                (FAMILY_LABELS[family], total.incidents.by_family.get(family, 0))
                for family in FAMILIES
            ],
            title="Incidents par famille de faits",
            ident="graphique-incidents",
            unit="incidents",
        ),
    }


# --- PDF ----------------------------------------------------------------------------------


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)
    return text + unit


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def _table(found: Overview) -> list[pdf.Block]:
    units = [*found.rows, found.total]
    first = "Département" if found.level == "national" else "GPO"
    return [
        pdf.Heading("GPO et réunions"),
        pdf.Table(
            headers=[first, "Déclarés", "Actifs", "Réunions", "Rythme tenu"],
            rows=[
                [
                    u.name,
                    f"{u.gpos_deployed + u.gpos_in_creation} ({u.gpos_in_creation} en création)",
                    str(u.gpos_active),
                    str(u.meetings.held),
                    _yes_no(u.meetings.rhythm_kept)
                    if u.meeting_rhythm is not None
                    else f"{u.meetings.gpos_rhythm_kept} oui / {u.meetings.gpos_rhythm_missed} non",
                ]
                for u in units
            ],
            widths=(3, 2, 1, 1, 2),
        ),
        pdf.Heading("Problèmes"),
        pdf.Table(
            headers=[
                first,
                "Identifiés",
                "En cours",
                "Résolus",
                "Améliorés",
                "Non résolus",
                "Abandonnés",
                "Délai médian (j)",
            ],
            rows=[
                [
                    u.name,
                    str(u.problems.identified),
                    str(u.problems.in_progress),
                    str(u.problems.outcomes["resolved"]),
                    str(u.problems.outcomes["improved"]),
                    str(u.problems.outcomes["not_resolved"]),
                    str(u.problems.outcomes["abandoned"]),
                    _num(u.problems.median_days_to_resolve),
                ]
                for u in units
            ],
            widths=(3, 1, 1, 1, 1, 1, 1, 1.2),
        ),
        pdf.Heading("Incidents et rendez-vous de plainte"),
        pdf.Table(
            headers=[
                first,
                "Incidents",
                "Agents victimes",
                "Part P1/P2",
                "RDV pris",
                "Délai médian (h)",
                "Honorés",
            ],
            rows=[
                [
                    u.name,
                    str(u.incidents.count),
                    str(u.incidents.staff_victims),
                    _pct(u.incidents.share_p1_p2),
                    f"{u.appointments.booked}/{u.appointments.eligible}",
                    _num(u.appointments.median_delay_hours),
                    _pct(u.appointments.share_honoured),
                ]
                for u in units
            ],
            widths=(3, 1, 1, 1, 1, 1.2, 1),
        ),
    ]


def to_pdf(found: Overview) -> bytes:
    drawn = charts(found)
    title = (
        "Vue nationale des GPO transports"
        if found.level == "national"
        else f"GPO transports — département {found.department}"
    )
    period = f"du {found.period.first:%d/%m/%Y} au {found.period.last:%d/%m/%Y}"
    blocks: list[pdf.Block] = [
        *_table(found),
        pdf.Heading("Graphiques"),
        pdf.Chart(drawn["problems"]),
        pdf.Chart(drawn["meetings"]),
        pdf.Chart(drawn["incidents_by_month"]),
        pdf.Chart(drawn["incidents"]),
    ]
    return pdf.render(
        pdf.Document(
            title=title,
            subtitle=f"Période {period} · chiffres agrégés, sans données personnelles",
            footer=f"Préparé le {found.generated_at.astimezone(PARIS):%d/%m/%Y %H:%M}",
            created_at=found.generated_at,
            blocks=blocks,
        )
    )


def filename(found: Overview, extension: str) -> str:
    scope = found.department or "national"
    return (
        f"gpo-{scope}-{found.period.first.isoformat()}-{found.period.last.isoformat()}.{extension}"
    )
