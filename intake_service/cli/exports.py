"""``intake-service export``: the incident export of an operator or a service over a
period, written to a CSV file with its progress on stderr (issue 16).

The same export as the API's and the pages' (``reporting/incident_export.py``): the
same columns, no identity, streamed (an export of 100,000 rows holds one chunk at a
time), audited as the command line's. The file is written beside its final name and
renamed once complete, so a failed export leaves no half file behind.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from intake_service.access import audit
from intake_service.cli.base import fail, main, read_config, transaction
from intake_service.intake.places import service_for_code
from intake_service.platform.clock import utc_now
from intake_service.platform.db import Database
from intake_service.reporting import incident_export
from intake_service.reporting.incident_export import ExportScope, UnknownOperatorCode
from intake_service.reporting.rules import periods
from intake_service.territory.rules.routing import UNROUTED_SERVICE


@main.group("export")
def export_group() -> None:
    """Exports the field asks for: incidents over a period."""


def _date(option: str, text: str) -> dt.date:
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date: write it YYYY-MM-DD (e.g. 2026-03-01).")
        raise  # unreachable: fail exits
    if not periods.FIRST_DATE <= value <= periods.LAST_DATE:
        fail(f"{option} {text}: give a date between {periods.FIRST_DATE} and {periods.LAST_DATE}.")
    return value


class _Progress:
    """Rows written / total on stderr: rewritten in place on a terminal, else a line
    every tenth of the way (a log file gets ten lines, not a hundred)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()
        self.next_step = 1

    def __call__(self, written: int) -> None:
        line = f"  {written:,} / {self.total:,} rows written"
        if self.tty:
            click.echo(f"\r{line}", err=True, nl=False)
            return
        if self.total and written * 10 >= self.next_step * self.total:
            click.echo(line, err=True)
            while self.next_step * self.total <= written * 10:
                self.next_step += 1

    def done(self) -> None:
        if self.tty:
            click.echo("", err=True)


@export_group.command("incidents")
@click.option("--operator", "operator_code", help="An operator's code: its own sheets.")
@click.option(
    "--service",
    "service_code",
    help=f"A command centre's service (ddsp-31, ggd-31, pp; {UNROUTED_SERVICE} for the "
    "unrouted): the incidents routed to it.",
)
@click.option("--from", "date_from", required=True, help="First day (Paris time), YYYY-MM-DD.")
@click.option("--to", "date_to", required=True, help="Last day (Paris time), YYYY-MM-DD, included.")
@click.option(
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The CSV file to write (replaced if it exists).",
)
def export_incidents(
    operator_code: str | None,
    service_code: str | None,
    date_from: str,
    date_to: str,
    output: Path,
) -> None:
    """Export the incidents an operator sent, or a service received, over a period (CSV).

    Times received, acknowledged, dispatched, closed, the outcome, priority, natures and
    place: no name, phone, description or narrative. The export is audited.
    """
    if (operator_code is None) == (service_code is None):
        fail("give --operator CODE (its sheets) or --service CODE (its incidents), one of them.")
    first, last = _date("--from", date_from), _date("--to", date_to)
    try:
        period = periods.period(first, last, now=utc_now())
    except periods.PeriodRefused:
        fail(f"--from {first} comes after --to {last}: swap them, or fix one.")
        raise  # unreachable: fail exits
    partial = output.with_name(f".{output.name}.partial")
    try:
        handle = partial.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        fail(
            f"cannot write {output} ({exc.strerror or exc}): give a path in a folder that "
            "exists and that you may write to."
        )
        raise  # unreachable: fail exits
    try:
        with handle:
            total = _export(handle, operator_code, service_code, period)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(
        f"exported {total:,} incident{'s' if total != 1 else ''} received from {period.first} "
        f"to {period.last} to {output}"
    )


def _export(
    handle: TextIO, operator_code: str | None, service_code: str | None, period: periods.Period
) -> int:
    now = utc_now()
    with transaction() as session:
        scope: ExportScope
        if operator_code is not None:
            try:
                scope = incident_export.operator_scope(session, operator_code)
            except UnknownOperatorCode as exc:
                fail(str(exc))
                raise  # unreachable: fail exits
        else:
            assert service_code is not None
            if service_code != UNROUTED_SERVICE and service_for_code(session, service_code) is None:
                fail(
                    f"unknown service {service_code!r}: a police service of the zone table "
                    "(`intake-service zones import`), ggd-<département>, pp, or "
                    f"{UNROUTED_SERVICE}."
                )
            scope = incident_export.service_scope(service_code)
        total = incident_export.count(session, scope, period)
        incident_export.record_export(session, audit.COMMAND_LINE, scope, period, total, now=now)
    click.echo(
        f"exporting {total:,} incidents of {scope.label} ({period.first} to {period.last})",
        err=True,
    )
    progress = _Progress(total)
    database = Database.from_config(read_config())
    try:
        with database.reading() as session:
            for piece in incident_export.csv_chunks(session, scope, period, progress):
                handle.write(piece)
    except (OperationalError, ProgrammingError) as exc:
        fail(f"the database failed during the export ({type(exc.orig).__name__}); run it again.")
    finally:
        database.dispose()
    progress.done()
    return total
