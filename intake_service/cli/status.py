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

# SILENT shouts: a worker that stopped beating without saying goodbye crashed or hangs.
WORKER_WORDS = {"ok": "ok", "silent": "SILENT", "stopped": "stopped"}


@main.command("status")
@click.option(
    "--worker",
    "worker_name",
    metavar="NAME",
    help="Only this worker on this host: exit 0 while it beats (a container health check).",
)
def status_command(worker_name: str | None) -> None:
    """The deployment at a glance: database, broker, outbox, feeds, workers.

    Exits 1 when something needs attention (a dependency down, the outbox
    waiting more than a minute, no live relay), so scripts can use it.
    """
    if worker_name is not None:
        sys.exit(_worker_health(worker_name))
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
    database = Database.from_config(config)
    healthy = True
    database_check = check_database(database)
    healthy &= database_check == "ok"
    revision = migrate.current_revision(*config.migration_target) if database_check == "ok" else "?"
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
    for worker in state.workers:
        ago = (utc_now() - worker.seen_at).total_seconds()
        click.echo(
            f"workers   {worker.worker:<11} {worker.host} pid {worker.pid}  seen {ago:.0f} s ago  "
            f"{WORKER_WORDS[worker.state]}"
        )
    healthy &= any(worker.worker == "relay" and worker.alive for worker in state.workers)
    database.dispose()
    sys.exit(0 if healthy else 1)


def _worker_health(name: str) -> int:
    """0 while a process of worker ``name`` on this host beats, else 1 (and why)."""
    import socket

    from sqlalchemy.exc import SQLAlchemyError

    from intake_service.deployment import status

    config = read_config()
    database = Database.from_config(config)
    try:
        with database.transaction() as session:
            found = status.worker_states(session, utc_now(), worker=name, host=socket.gethostname())
    except SQLAlchemyError as exc:
        click.echo(f"{name}: the database is unreachable ({type(exc).__name__})", err=True)
        return 1
    finally:
        database.dispose()
    if not found:
        click.echo(f"{name}: no process on this host has reported (is it running?)", err=True)
        return 1
    latest = found[-1]
    click.echo(f"{name}: pid {latest.pid} {WORKER_WORDS[latest.state]}")
    return 0 if any(worker.alive for worker in found) else 1
