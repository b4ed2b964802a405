"""``intake-service zones``: import the police-zone table."""

from __future__ import annotations

from pathlib import Path

import click

from intake_service.cli.base import fail, main, transaction
from intake_service.territory import zones


@main.group("zones")
def zones_group() -> None:
    """The police-zone table (communes in a police zone and their service)."""


@zones_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
def zones_import(path: Path) -> None:
    """Replace the police-zone table with a CSV: insee_code,service_code,service_name."""
    if not path.is_file():
        fail(f"{path} is not a file.")
    try:
        rows = zones.read_zones(path)
    except zones.ZoneError as exc:
        fail(f"{path.name} {exc} — the previous table is kept.")
    with transaction() as session:
        count = zones.replace_zones(session, rows)
    services = len({service for _, service, _ in rows})
    click.echo(f"imported {count} communes in a police zone, {services} services")
