"""``intake-service stations``: import police stations and the communes they cover."""

from __future__ import annotations

from pathlib import Path

import click

from intake_service.cli.base import fail, main, read_config, transaction
from intake_service.platform.clock import utc_now

# --- Police stations taking complaints ---------------------------------------


@main.group("stations")
def stations_group() -> None:
    """Police stations taking complaints and the communes they cover."""


@stations_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
def stations_import(path: Path) -> None:
    """Add or update stations from a CSV:
    code,name,address,lat,lon,service_code,communes,referent_email
    (communes: INSEE codes separated by ';'). Nothing is imported if a line is wrong."""
    from intake_service.appointments import stations

    if not path.is_file():
        fail(f"{path} is not a file.")
    try:
        rows = stations.read_stations(path)
    except stations.StationImportError as exc:
        fail(f"{exc}\nnothing was imported.")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path} ({exc}): give a UTF-8 CSV file.")

    def progress(what: str, count: int) -> None:
        click.echo(f"  {what}: {count:,}", err=True)

    from intake_service.appointments import incident_events, policy

    with transaction() as session:
        count = stations.import_stations(session, rows, utc_now(), progress)
        # Staff victims who waited for a station covering their commune get one now.
        placed = incident_events.place_requests_without_station(
            session, utc_now(), policy=policy.policy_of(read_config())
        )
    communes = sum(len(row.communes) for row in rows)
    click.echo(f"imported {count} police stations covering {communes} communes")
    if placed:
        click.echo(f"{placed} waiting requests now have a station (booked, or in its queue)")
