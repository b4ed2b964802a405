"""The monthly statistics return of an operator's network, the kind transport
authorities send to the prefect: CSV and PDF, for any month that is over.

Reproducible: the return counts the sheets received in the month, each as it stood at
the month's end (the last of its versions created before then; an amendment made later
does not change a past month), leaving out the sheets withdrawn before the month's end.
Nothing depends on when the return is asked for: the same month gives the same CSV
bytes and the same PDF figures (the PDF's date is the month's end, not the moment of
the export). The current month and the months to come are refused
(``rules/periods.past_month``). Line and commune names come from the reference data
(the operator's GTFS routes, the commune index): a new GTFS feed may rename a line,
never change a figure.

Every export is audited (format, month, incidents counted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.intake.rules.natures import FAMILY_LABELS
from intake_service.models import GtfsRoute, Incident, IncidentVersion, Operator, StatusChange
from intake_service.platform import pdf
from intake_service.reporting.incident_export import UnknownOperatorCode
from intake_service.reporting.rules import monthly_figures
from intake_service.reporting.rules.monthly_figures import FAMILIES, Counts, MonthlyFigures
from intake_service.reporting.rules.periods import PARIS, Month
from intake_service.territory.operators import find_operator

CHUNK_ROWS = 1000
CommuneName = Callable[[str], str | None]


class MonthlyReturn:
    """The figures of one month, with the names their rows are labelled with."""

    def __init__(
        self,
        month: Month,
        operator: Operator,
        figures: MonthlyFigures,
        line_names: dict[str, str],
        commune_name: CommuneName,
    ) -> None:
        self.month = month
        self.operator_code = operator.code
        self.operator_name = operator.name
        self.figures = figures
        self.line_names = line_names
        self._commune_name = commune_name

    def line_name(self, route_id: str) -> str | None:
        return self.line_names.get(route_id)

    def commune_name(self, insee_code: str) -> str | None:
        try:
            return self._commune_name(insee_code)
        except Exception:  # noqa: BLE001 - a name is a nicety: the code is in the row
            return None


def _sheets(
    session: Session, operator_id: int, month: Month
) -> Iterator[monthly_figures.SheetFacts]:
    """Each sheet received in the month, as it stood at the month's end, streamed."""
    later = aliased(IncidentVersion)
    last_version = (
        select(func.max(later.version))
        .where(later.incident_id == Incident.id, later.created_at < month.ends_at)
        .scalar_subquery()
    )
    withdrawn = (
        select(StatusChange.id)
        .where(
            StatusChange.incident_id == Incident.id,
            StatusChange.status == "withdrawn",
            StatusChange.at < month.ends_at,
        )
        .exists()
    )
    statement = (
        select(IncidentVersion.sheet, Incident.insee_code)
        .join(Incident, Incident.id == IncidentVersion.incident_id)
        .where(
            Incident.operator_id == operator_id,
            Incident.received_at >= month.starts_at,
            Incident.received_at < month.ends_at,
            IncidentVersion.version == last_version,
            ~withdrawn,
        )
        .order_by(Incident.received_at, Incident.id)
        .execution_options(yield_per=CHUNK_ROWS)
    )
    for sheet, insee_code in session.execute(statement):
        yield monthly_figures.facts_of(sheet, insee_code)


def monthly_return(
    session: Session, operator_code: str, month: Month, commune_name: CommuneName
) -> MonthlyReturn:
    """The return of ``operator_code``'s network for ``month`` (already checked over)."""
    operator = find_operator(session, operator_code)
    if operator is None:
        raise UnknownOperatorCode(operator_code)
    figures = monthly_figures.compute(
        month.code, operator.code, _sheets(session, operator.id, month)
    )
    routes = [code for code in figures.lines if code]
    names: dict[str, str] = {}
    if routes:
        for route_id, short, long in session.execute(
            select(GtfsRoute.route_id, GtfsRoute.short_name, GtfsRoute.long_name).where(
                GtfsRoute.operator_id == operator.id, GtfsRoute.route_id.in_(routes)
            )
        ):
            names[route_id] = " – ".join(part for part in (short, long) if part) or route_id
    return MonthlyReturn(month, operator, figures, names, commune_name)


def record_export(
    session: Session,
    principal: Principal,
    found: MonthlyReturn,
    export_format: str,
    now: dt.datetime,
) -> None:
    """Every export is in the audit log: who, which network, which month, how much."""
    audit.record(
        session,
        principal,
        "statistics.monthly.export",
        "operator",
        found.operator_code,
        now=now,
        detail={
            "format": export_format,
            "month": found.month.code,
            "incidents": found.figures.network.incidents,
        },
    )


def to_csv(found: MonthlyReturn) -> bytes:
    return monthly_figures.to_csv(found.figures, found.line_name, found.commune_name)


def filename(found: MonthlyReturn, extension: str) -> str:
    return f"statistiques-{found.operator_code}-{found.month.code}.{extension}"


MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def month_label(month: Month) -> str:
    return f"{MONTHS_FR[month.month - 1]} {month.year}"


def _families_text(counts: Counts) -> str:
    """The non-zero families, largest first: « atteintes aux personnes 3, stupéfiants 1 »."""
    found = sorted(
        ((n, family) for family, n in counts.families.items() if n),
        key=lambda item: (-item[0], FAMILIES.index(item[1])),
    )
    return ", ".join(f"{FAMILY_LABELS[family]} {n}" for n, family in found) or "—"


def _counts_row(label: str, counts: Counts) -> list[str]:
    return [
        label,
        str(counts.incidents),
        str(counts.staff_victims),
        str(counts.passenger_victims),
        _families_text(counts),
    ]


def _headers(first: str) -> list[str]:
    return [first, "Incidents", "Victimes agents", "Victimes voyageurs", "Familles de faits"]


WIDTHS = (2.2, 0.9, 0.9, 1, 3.6)


def to_pdf(found: MonthlyReturn) -> bytes:
    """The return on A4: the network's figures, then by line and by commune."""
    figures = found.figures
    network = figures.network
    blocks: list[pdf.Block] = [
        pdf.Facts(
            [
                ("Réseau", f"{found.operator_name} ({found.operator_code})"),
                ("Mois", month_label(found.month)),
                ("Incidents signalés", str(network.incidents)),
                ("Victimes parmi les agents", str(network.staff_victims)),
                ("Victimes parmi les voyageurs", str(network.passenger_victims)),
            ]
        ),
        pdf.Heading("Par famille de faits"),
        pdf.Paragraph(
            "Un incident compte dans chaque famille de ses natures : les familles peuvent "
            "totaliser plus que les incidents."
        ),
        pdf.Table(
            headers=["Famille de faits", "Incidents"],
            rows=[
                [FAMILY_LABELS[family].capitalize(), str(network.families[family])]
                for family in FAMILIES
            ],
            widths=(3, 1),
        ),
        pdf.Heading("Par ligne"),
    ]
    if figures.lines:
        blocks.append(
            pdf.Table(
                headers=_headers("Ligne"),
                rows=[
                    _counts_row((found.line_name(code) or code) if code else "Sans ligne", counts)
                    for code, counts in figures.lines.items()
                ],
                widths=WIDTHS,
            )
        )
    else:
        blocks.append(pdf.Paragraph("Aucun incident ce mois-ci."))
    blocks.append(pdf.Heading("Par commune"))
    if figures.communes:
        blocks.append(
            pdf.Table(
                headers=_headers("Commune"),
                rows=[
                    _counts_row(
                        (
                            f"{found.commune_name(code) or 'Commune'} ({code})"
                            if code
                            else "Sans commune"
                        ),
                        counts,
                    )
                    for code, counts in figures.communes.items()
                ],
                widths=WIDTHS,
            )
        )
    else:
        blocks.append(pdf.Paragraph("Aucun incident ce mois-ci."))
    blocks.append(
        pdf.Paragraph(
            "Fiches reçues dans le mois (heure de Paris), chacune telle qu'elle était à la fin "
            "du mois ; les fiches retirées par l'exploitant avant la fin du mois sont exclues."
        )
    )
    # The month's end, not the export's moment: the same month gives the same document.
    closed_at = found.month.ends_at
    return pdf.render(
        pdf.Document(
            title=f"Statistiques mensuelles — {found.operator_name} — {month_label(found.month)}",
            subtitle="Incidents signalés par le réseau : sans données personnelles",
            footer=(
                f"{found.operator_name} · {month_label(found.month)} · arrêté au "
                f"{closed_at.astimezone(PARIS):%d/%m/%Y %H:%M}"
            ),
            created_at=closed_at,
            blocks=blocks,
        )
    )


def commune_names(cache_dir: object) -> CommuneName:
    """Commune names from the process's commune index (loaded by routing already)."""

    def name(insee_code: str) -> str | None:
        from pathlib import Path

        from intake_service.territory.communes import shared_index

        folder = Path(str(cache_dir)) if cache_dir is not None else None
        commune = shared_index(folder).by_code(insee_code)
        return commune.name if commune is not None else None

    return name
