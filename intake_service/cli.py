"""``intake-service``: the administration command line.

Every error is printed with what to do about it, and exits non-zero.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from intake_service import accounts, demo, gtfs, logs, migrate, operators, tokens, zones
from intake_service.access import ROLES
from intake_service.config import Config, ConfigError
from intake_service.db import Database


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


def _config() -> Config:
    try:
        return Config.from_env()
    except ConfigError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


@contextmanager
def _transaction() -> Iterator[Session]:
    """One transaction on the configured database, with errors explained."""
    config = _config()
    if config.embedded:
        config.instance_path.mkdir(parents=True, exist_ok=True)
    database = Database(config.database_url)
    try:
        with database.transaction() as session:
            yield session
    except OperationalError as exc:
        if "no such table" in str(exc.orig):
            _fail("the database is not ready: run `intake-service db upgrade` first.")
        _fail(
            f"cannot reach the database ({type(exc.orig).__name__}): check DATABASE_URL "
            "and that the server runs."
        )
    except ProgrammingError as exc:
        _fail(f"the database is not ready ({exc.orig}): run `intake-service db upgrade` first.")
    finally:
        database.dispose()


@click.group()
def main() -> None:
    """Administer the GPO transports incident intake service.

    Settings come from the environment (DATABASE_URL, BROKER_URL, REDIS_URL,
    SECRET_KEY); with no DATABASE_URL the embedded SQLite database is used.
    """


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations (PostgreSQL or SQLite)."""
    config = _config()
    if config.embedded:
        config.instance_path.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(config.database_url, revision)
    except OperationalError as exc:
        _fail(f"cannot reach the database ({type(exc.orig).__name__}): check DATABASE_URL.")
    click.echo(f"database at revision {migrate.current_revision(config.database_url)}")


@main.group("operators")
def operators_group() -> None:
    """Transport operators."""


@operators_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The operator's name, e.g. 'Tisséo'.")
@click.option(
    "--referent-email",
    default=None,
    help="Where the operator's referent gets appointment notices (kept if not given).",
)
def operators_add(code: str, name: str, referent_email: str | None) -> None:
    """Add an operator (or rename it if CODE exists)."""
    with _transaction() as session:
        try:
            operator, created = operators.add_operator(session, code, name, now=_now())
        except operators.OperatorError as exc:
            _fail(str(exc))
        if referent_email is not None:
            if "@" not in referent_email:
                _fail(f"--referent-email {referent_email!r} is not an email address.")
            operator.referent_email = referent_email.strip() or None
        click.echo(f"{'added' if created else 'updated'} operator {operator.code}: {operator.name}")


@operators_group.command("list")
def operators_list() -> None:
    """List the operators."""
    with _transaction() as session:
        for operator in operators.list_operators(session):
            click.echo(f"{operator.code}\t{operator.name}")


@main.group("tokens")
def tokens_group() -> None:
    """API bearer tokens."""


@tokens_group.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--scope", required=True, help="Operator code, service code, GPO code, station code or '*'."
)
@click.option("--label", default="", help="Who or what uses the token.")
def tokens_create(role: str, scope: str, label: str) -> None:
    """Create a token; the secret is printed once, alone on the last line."""
    with _transaction() as session:
        try:
            new = tokens.create_token(session, role, scope, label, now=_now())
        except tokens.TokenError as exc:
            _fail(str(exc))
        click.echo(f"created token {new.token.id} for {role} on {scope}; it is not shown again:")
        click.echo(new.secret)


@tokens_group.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    with _transaction() as session:
        click.echo("id\tprefix\trole\tscope\tlabel\tcreated\trevoked")
        for token in tokens.list_tokens(session):
            revoked = token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "-"
            click.echo(
                f"{token.id}\t{token.prefix}…\t{token.role}\t{token.scope}\t{token.label}\t"
                f"{token.created_at.isoformat(timespec='seconds')}\t{revoked}"
            )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id (see `tokens list`)."""
    with _transaction() as session:
        try:
            token = tokens.revoke_token(session, token_id, now=_now())
        except tokens.TokenError as exc:
            _fail(str(exc))
        click.echo(f"revoked token {token.id} ({token.role} on {token.scope})")


@main.group("users")
def users_group() -> None:
    """People's accounts for the pages."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--scope", required=True, help="Operator code, service code, GPO code, station code or '*'."
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
def users_add(email: str, role: str, scope: str, password_stdin: bool) -> None:
    """Create an account; the password is asked for (twice) unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _transaction() as session:
        try:
            user = accounts.add_user(session, email, password, role, scope, now=_now())
        except accounts.AccountError as exc:
            _fail(str(exc))
        click.echo(f"created account {user.id}: {user.email} ({role} on {scope})")


@main.group("demo")
def demo_group() -> None:
    """Demo data (embedded mode only)."""


@demo_group.command("load")
def demo_load() -> None:
    """Load the demo operators and print a token for each role."""
    from intake_service import appointments

    config = _config()
    if not config.embedded:
        _fail("demo data is only for the embedded mode (unset DATABASE_URL).")
    migrate.upgrade(config.database_url)
    with _transaction() as session:
        loaded = demo.load(
            session,
            now=_now(),
            commune_of=_commune_of(config),
            policy=appointments.policy_of(config),
        )
    click.echo("Demo tokens (embedded mode only; do not use in production):")
    for role, scope, secret in loaded:
        click.echo(f"  {role:<16} {scope:<12} {secret}")
    click.echo(f"Demo accounts for the pages (password {demo.DEMO_PASSWORD!r}):")
    for email, role, scope in demo.USERS:
        click.echo(f"  {role:<16} {scope:<12} {email}")


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
        _fail(f"{path} does not exist: give the folder or the .zip of the GTFS feed.")
    # Fail on a mistyped operator before reading a feed that may take a while.
    with _transaction() as session:
        try:
            gtfs.require_operator(session, operator_code)
        except gtfs.UnknownOperator as exc:
            _fail(str(exc))

    started = time.monotonic()

    def progress(file: str, rows: int) -> None:
        click.echo(f"  {file}: {rows:,} row{'s' if rows != 1 else ''}", err=True)

    click.echo(f"reading {path}", err=True)
    try:
        feed = gtfs.read_feed(path, progress)
    except gtfs.GtfsError as exc:
        _fail(f"{exc} — the previous feed is kept.")
    except OSError as exc:
        _fail(f"cannot read {path} ({exc.strerror or exc}) — the previous feed is kept.")

    click.echo("placing the stops in their communes…", err=True)
    commune_of = _commune_of(_config())
    with _transaction() as session:
        try:
            record = gtfs.import_feed(
                session,
                operator_code,
                feed,
                source=str(path.resolve()),
                now=_now(),
                commune_of=commune_of,
            )
        except gtfs.UnknownOperator as exc:
            _fail(str(exc))
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


def _commune_of(config: Config) -> Callable[[float, float], str | None]:
    """The INSEE code of the commune at a point (the index loads on first use)."""
    from intake_service.places import SharedCommunes

    return SharedCommunes(config.communes_cache_dir or config.instance_path).commune_at


@gtfs_group.command("stops")
@click.option("--operator", "operator_code", required=True, help="The operator's code.")
@click.option("--limit", default=20, show_default=True)
@click.argument("text")
def gtfs_stops(operator_code: str, limit: int, text: str) -> None:
    """List the operator's stops whose name contains TEXT (id, name, INSEE code)."""
    with _transaction() as session:
        try:
            operator = gtfs.require_operator(session, operator_code)
        except gtfs.UnknownOperator as exc:
            _fail(str(exc))
        if not gtfs.has_feed(session, operator.id):
            _fail(
                f"{operator_code} has no GTFS feed yet: import one with "
                f"`intake-service gtfs import --operator {operator_code} PATH`."
            )
        stops = gtfs.search_stops(session, operator.id, text, limit=limit)
        for stop in stops:
            click.echo(f"{stop.stop_id}\t{stop.name}\t{stop.insee_code or '-'}")
    if not stops:
        click.echo(f"no stop of {operator_code} has {text!r} in its name", err=True)


@main.group("zones")
def zones_group() -> None:
    """The police-zone table (communes in a police zone and their service)."""


@zones_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
def zones_import(path: Path) -> None:
    """Replace the police-zone table with a CSV: insee_code,service_code,service_name."""
    if not path.is_file():
        _fail(f"{path} is not a file.")
    try:
        rows = zones.read_zones(path)
    except zones.ZoneError as exc:
        _fail(f"{path.name} {exc} — the previous table is kept.")
    with _transaction() as session:
        count = zones.replace_zones(session, rows)
    services = len({service for _, service, _ in rows})
    click.echo(f"imported {count} communes in a police zone, {services} services")


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
    from intake_service import stations

    if not path.is_file():
        _fail(f"{path} is not a file.")
    try:
        rows = stations.read_stations(path)
    except stations.StationImportError as exc:
        _fail(f"{exc}\nnothing was imported.")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path} ({exc}): give a UTF-8 CSV file.")

    def progress(what: str, count: int) -> None:
        click.echo(f"  {what}: {count:,}", err=True)

    from intake_service import appointments

    with _transaction() as session:
        count = stations.import_stations(session, rows, _now(), progress)
        # Staff victims who waited for a station covering their commune get one now.
        placed = appointments.place_requests_without_station(
            session, _now(), policy=appointments.policy_of(_config())
        )
    communes = sum(len(row.communes) for row in rows)
    click.echo(f"imported {count} police stations covering {communes} communes")
    if placed:
        click.echo(f"{placed} waiting requests now have a station (booked, or in its queue)")


@main.command("workers")
@click.argument("names", nargs=-1)
def workers_command(names: tuple[str, ...]) -> None:
    """Run the relay and the consumers (all by default, or those NAMES); stop on SIGTERM."""
    from workers.runner import run_configured

    try:
        run_configured(_config(), names)
    except ValueError as exc:
        _fail(str(exc))


@main.group("feed")
def feed_group() -> None:
    """The command-centre feed on the broker."""


@feed_group.command("tail")
@click.argument("service_code")
@click.option("--ack", is_flag=True, help="Consume from the feed queue (removes the messages).")
@click.option("--count", type=int, default=0, help="Stop after this many messages (0: never).")
def feed_tail(service_code: str, ack: bool, count: int) -> None:
    """Print a service's feed live, one line per message.

    Without --ack, a private tap queue sees new messages and the feed keeps its
    own; with --ack, messages are taken from feed.SERVICE_CODE and acknowledged.
    """
    from intake_service import feed_tail as tail

    config = _config()
    # A closed terminal (SIGHUP) or a stop (SIGTERM) ends the run as Ctrl-C does, so
    # the tap queue is unbound on the way out.
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, _interrupt)
    try:
        for line in tail.tail(
            config.broker_url,
            service_code,
            consume=ack,
            count=count,
            on_ready=lambda queue: click.echo(f"listening on {queue}", err=True),
            namespace=config.broker_namespace,
        ):
            click.echo(line)
    except KeyboardInterrupt:
        pass
    except tail.BrokerUnavailable as exc:
        _fail(f"cannot reach the broker ({exc}): check BROKER_URL and that the broker runs.")


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


@main.group("retention")
def retention_group() -> None:
    """Pseudonymisation of old personal data (RETENTION_DAYS)."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Say what would be pseudonymised; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Pseudonymise the personal data of incidents finished more than RETENTION_DAYS ago."""
    from intake_service.retention import run_retention

    config = _config()
    with _transaction() as session:
        report = run_retention(session, _now(), config.retention, dry_run=dry_run)
    verb = "would pseudonymise" if dry_run else "pseudonymised"
    click.echo(
        f"{verb} {len(report.incidents)} incidents ({report.versions} versions, "
        f"{report.events} events) finished more than {config.retention.days} days ago"
    )


@main.command("status")
def status_command() -> None:
    """The deployment at a glance: database, broker, outbox, feeds, workers.

    Exits 1 when something needs attention (a dependency down, the outbox
    waiting more than a minute, no live relay), so scripts can use it.
    """
    from kombu.utils.url import maybe_sanitize_url

    from intake_service import status
    from intake_service.health import check_broker, check_database
    from intake_service.messaging import (
        INTERNAL_CONSUMERS,
        connect,
        feed_queue,
        internal_queue,
        parked_queue,
    )

    config = _config()
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
        state = status.read_status(session, _now())
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
    if not state.workers:
        click.echo("workers   none has reported (intake-service workers)")
    for worker, host, pid, seen_at, alive in state.workers:
        ago = (_now() - seen_at).total_seconds()
        click.echo(
            f"workers   {worker:<11} {host} pid {pid}  seen {ago:.0f} s ago  "
            f"{'ok' if alive else 'SILENT'}"
        )
    healthy &= any(worker == "relay" and alive for worker, *_, alive in state.workers)
    database.dispose()
    sys.exit(0 if healthy else 1)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option(
    "--with-workers/--without-workers",
    default=None,
    help="Also run the relay and consumers (default: in the embedded mode only).",
)
def serve(host: str, port: int, workers: int, with_workers: bool | None) -> None:
    """Serve the API with gunicorn (the same app as `gunicorn 'intake_service:create_app()'`)."""
    import subprocess

    from gunicorn.app.base import BaseApplication

    from intake_service import create_app

    config = _config()
    background: list[subprocess.Popen[bytes]] = []
    if config.embedded if with_workers is None else with_workers:
        background.append(subprocess.Popen([sys.executable, "-m", "workers"]))

    def stop_background(_server: Any) -> None:
        for process in background:
            process.terminate()
            process.wait(timeout=30)

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # Threads, not sync workers: a live page holds its connection open.
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 32)
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("accesslog", "-")
            self.cfg.set("on_exit", stop_background)

        def load(self) -> Callable[..., Any]:
            logs.configure(config.log_level)
            return create_app(config)

    click.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/api/v1/docs)")
    Server().run()


# --- GPO transports: GPOs and their partners ---------------------------------


@main.group("gpos")
def gpos_group() -> None:
    """GPO transports: the GPOs, the services and operators they cover, their partners."""


def _split_codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


@gpos_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The GPO's name, e.g. 'GPO transports Toulouse'.")
@click.option(
    "--services",
    default="",
    help="Command-centre service codes it covers, comma-separated (ddsp-31,ddsp-83).",
)
@click.option(
    "--operators", "operator_codes", default="", help="Operator codes it covers, comma-separated."
)
@click.option(
    "--auto-confirm-strong",
    is_flag=True,
    help="Link strong matches (same stop and same nature) without the referent's review.",
)
def gpos_add(
    code: str, name: str, services: str, operator_codes: str, auto_confirm_strong: bool
) -> None:
    """Add a GPO (or update it if CODE exists)."""
    from intake_service import problems

    with _transaction() as session:
        try:
            gpo, created, warnings = problems.add_gpo(
                session,
                code,
                name,
                _split_codes(services),
                _split_codes(operator_codes),
                auto_confirm_strong,
                _now(),
            )
        except problems.GpoError as exc:
            _fail(str(exc))
        known = {operator.code for operator in operators.list_operators(session)}
        for operator in gpo.operators:
            if operator not in known:
                warnings.append(
                    f"no operator {operator!r} yet: add it (intake-service operators add "
                    f"{operator} --name NAME)"
                )
        for warning in warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)
        click.echo(
            f"{'added' if created else 'updated'} GPO {gpo.code}: {gpo.name} "
            f"(services: {', '.join(gpo.services) or '-'}; "
            f"operators: {', '.join(gpo.operators) or '-'})"
        )


@gpos_group.group("partners")
def gpo_partners_group() -> None:
    """The organisations taking part in a GPO (municipal police, transport authority...)."""


@gpo_partners_group.command("add")
@click.argument("gpo_code")
@click.argument("code")
@click.option("--name", required=True, help="The partner's name, e.g. 'Police municipale'.")
def gpo_partners_add(gpo_code: str, code: str, name: str) -> None:
    """Add a partner to a GPO (or rename it). Its accounts' scope is GPO_CODE:CODE."""
    from intake_service import problems

    with _transaction() as session:
        try:
            partner, created = problems.add_partner(session, gpo_code, code, name)
        except problems.GpoError as exc:
            _fail(str(exc))
        click.echo(
            f"{'added' if created else 'updated'} partner {partner.code} of {gpo_code}: "
            f"{partner.name} (accounts: --role gpo_partner --scope {gpo_code}:{partner.code})"
        )


@gpos_group.command("list")
def gpos_list() -> None:
    """List the GPOs, their services, operators and partners."""
    from intake_service import problems

    with _transaction() as session:
        for gpo in problems.list_gpos(session):
            partners = ", ".join(
                partner.code for partner in problems.partners_of(session, gpo.code)
            )
            click.echo(
                f"{gpo.code}\t{gpo.name}\tservices: {','.join(gpo.services) or '-'}\t"
                f"operators: {','.join(gpo.operators) or '-'}\tpartners: {partners or '-'}"
                + ("\tauto-confirm" if gpo.auto_confirm_strong else "")
            )
