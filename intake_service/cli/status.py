"""``intake-service status``: the deployment at a glance, with what to do about each
problem found.
"""

from __future__ import annotations

import sys

import click

from intake_service.cli.base import main, read_config
from intake_service.platform import migrate
from intake_service.platform.clock import utc_now
from intake_service.platform.db import Database


@main.command("status")
def status_command() -> None:
    """The deployment at a glance: database, broker, outbox, feeds, workers.

    Exits 1 when something needs attention (a dependency down, the outbox
    waiting more than a minute, no live relay), so scripts can use it.
    """
    from kombu.utils.url import maybe_sanitize_url

    from intake_service.deployment import status
    from intake_service.feed.topology import (
        INTERNAL_CONSUMERS,
        connect,
        feed_queue,
        internal_queue,
        parked_queue,
    )
    from intake_service.platform.health import check_broker, check_database

    config = read_config()
    database = Database(config.database_url)
    healthy = True
    database_check = check_database(database)
    healthy &= database_check == "ok"
    revision = migrate.current_revision(config.database_url) if database_check == "ok" else "?"
    click.echo(
        f"database  {database_check:<12} {database.engine.url.render_as_string()}  "
        f"revision {revision}"
    )
    broker_check = check_broker(config.broker_url)
    healthy &= broker_check == "ok"
    click.echo(f"broker    {broker_check:<12} {maybe_sanitize_url(config.broker_url)}")
    if database_check != "ok":
        database.dispose()
        sys.exit(1)
    with database.transaction() as session:
        state = status.read_status(session, utc_now())
    lag = state.outbox_lag.total_seconds() if state.outbox_lag else 0.0
    healthy &= lag < 60
    click.echo(f"outbox    {state.outbox_unsent} waiting, oldest {lag:.0f} s")
    for position, error in state.outbox_failing:
        click.echo(f"          event {position} failing: {error}")
    if broker_check == "ok" and state.recent_services:
        with connect(config.broker_url) as connection:
            depths = [
                f"{bound.name} {bound.queue_declare().message_count}"
                for bound in (
                    feed_queue(code, config.broker_namespace)(connection.default_channel)
                    for code in state.recent_services
                )
            ]
        click.echo("feeds     " + "   ".join(depths))
    if broker_check == "ok":
        with connect(config.broker_url) as connection:
            channel = connection.default_channel
            internal = []
            for name in INTERNAL_CONSUMERS:
                for queue in (
                    internal_queue(name, config.broker_namespace),
                    parked_queue(name, config.broker_namespace),
                ):
                    bound = queue(channel)
                    internal.append(f"{bound.name} {bound.queue_declare().message_count}")
        click.echo("consumers " + "   ".join(internal))
    click.echo(
        f"emails    {state.emails_pending} waiting to be sent, {state.emails_failed} failed"
        f"{' (see the station page)' if state.emails_failed else ''}"
    )
    click.echo(f"requests  {state.requests_waiting} staff victims waiting for a complaint slot")
    placed = [(code, n) for code, n in state.requests_without_station if code is not None]
    unplaced = sum(n for code, n in state.requests_without_station if code is None)
    if placed:
        communes = ", ".join(f"{code} ({n})" for code, n in placed)
        click.echo(
            f"          no station covers {communes}: import one covering it "
            "(intake-service stations import), which books them"
        )
    if unplaced:
        click.echo(
            f"          {unplaced} with no commune: the operator must amend the sheet's place"
        )
    if state.assumed_routing:
        departments = ", ".join(
            f"{department} ({assumed} fiche{'s' if assumed > 1 else ''}"
            f"{f', {corrected} réorientée' + ('s' if corrected > 1 else '') if corrected else ''})"
            for department, (assumed, corrected) in sorted(state.assumed_routing.items())
        )
        click.echo(f"routing   départements sans table des zones : {departments}")
        click.echo(
            "          routed to the gendarmerie by guess (30 days): add their police-zone "
            "communes to the table (intake-service zones import)"
        )
    if not state.workers:
        click.echo("workers   none has reported (intake-service workers)")
    for worker, host, pid, seen_at, alive in state.workers:
        ago = (utc_now() - seen_at).total_seconds()
        click.echo(
            f"workers   {worker:<11} {host} pid {pid}  seen {ago:.0f} s ago  "
            f"{'ok' if alive else 'SILENT'}"
        )
    healthy &= any(worker == "relay" and alive for worker, *_, alive in state.workers)
    database.dispose()
    sys.exit(0 if healthy else 1)
