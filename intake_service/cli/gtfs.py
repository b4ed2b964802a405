"""``intake-service gtfs``: import an operator's GTFS feed, search its stops."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from intake_service.cli.base import fail, main, read_config, transaction
from intake_service.platform.clock import utc_now
from intake_service.platform.config import Config
from intake_service.territory import gtfs, gtfs_feed


@main.group("gtfs")
def gtfs_group() -> None:
    """Operators' GTFS feeds: their routes and stops, to check and route sheets."""


@gtfs_group.command("import")
@click.option("--operator", "operator_code", required=True, help="The operator's code.")
@click.argument("path", type=click.Path(path_type=Path))
def gtfs_import(operator_code: str, path: Path) -> None:
    """Import the operator's GTFS feed (a folder or a .zip), replacing the previous one.

    The feed is checked first: a broken feed is refused with the file and line at
    fault, and the previous feed stays.
    """
    if not path.exists():
        fail(f"{path} does not exist: give the folder or the .zip of the GTFS feed.")
    # Fail on a mistyped operator before reading a feed that may take a while.
    with transaction() as session:
        try:
            gtfs.require_operator(session, operator_code)
        except gtfs.UnknownOperator as exc:
            fail(str(exc))

    started = time.monotonic()

    def progress(file: str, rows: int) -> None:
        click.echo(f"  {file}: {rows:,} row{'s' if rows != 1 else ''}", err=True)

    click.echo(f"reading {path}", err=True)
    try:
        feed = gtfs_feed.read_feed(path, progress)
    except gtfs_feed.GtfsError as exc:
        fail(f"{exc} — the previous feed is kept.")
    except OSError as exc:
        fail(f"cannot read {path} ({exc.strerror or exc}) — the previous feed is kept.")

    click.echo("placing the stops in their communes…", err=True)
    commune_of = commune_lookup(read_config())
    with transaction() as session:
        try:
            record = gtfs.import_feed(
                session,
                operator_code,
                feed,
                source=str(path.resolve()),
                now=utc_now(),
                commune_of=commune_of,
            )
        except gtfs.UnknownOperator as exc:
            fail(str(exc))
        summary = gtfs.feed_summary(session, record.operator_id)
    elapsed = time.monotonic() - started
    click.echo(
        f"imported the GTFS feed of {operator_code} in {elapsed:.1f} s: "
        f"{summary.routes:,} routes, {summary.stops:,} stops "
        f"({summary.stations:,} stations), {summary.route_stops:,} served route–stop pairs"
    )
    click.echo(
        f"communes found for {summary.with_commune:,} stops; "
        f"{summary.without_commune:,} stops without commune"
    )
    if feed.route_stops is None:
        click.echo(
            "no trips.txt + stop_times.txt: which stops each route serves is unknown, "
            "so sheets get no warning for a stop off their route."
        )


def commune_lookup(config: Config) -> Callable[[float, float], str | None]:
    """The INSEE code of the commune at a point (the index loads on first use)."""
    from intake_service.intake.places import SharedCommunes

    return SharedCommunes(config.communes_cache_dir or config.instance_path).commune_at


@gtfs_group.command("stops")
@click.option("--operator", "operator_code", required=True, help="The operator's code.")
@click.option("--limit", default=20, show_default=True)
@click.argument("text")
def gtfs_stops(operator_code: str, limit: int, text: str) -> None:
    """List the operator's stops whose name contains TEXT (id, name, INSEE code)."""
    with transaction() as session:
        try:
            operator = gtfs.require_operator(session, operator_code)
        except gtfs.UnknownOperator as exc:
            fail(str(exc))
        if not gtfs.has_feed(session, operator.id):
            fail(
                f"{operator_code} has no GTFS feed yet: import one with "
                f"`intake-service gtfs import --operator {operator_code} PATH`."
            )
        stops = gtfs.search_stops(session, operator.id, text, limit=limit)
        for stop in stops:
            click.echo(f"{stop.stop_id}\t{stop.name}\t{stop.insee_code or '-'}")
    if not stops:
        click.echo(f"no stop of {operator_code} has {text!r} in its name", err=True)
