"""``intake-service demo``: load the embedded mode's demo data."""

from __future__ import annotations

import click

from intake_service import demo
from intake_service.cli.base import fail, main, read_config, transaction
from intake_service.cli.gtfs import commune_lookup
from intake_service.platform import migrate
from intake_service.platform.clock import utc_now


@main.group("demo")
def demo_group() -> None:
    """Demo data (embedded mode only)."""


@demo_group.command("load")
def demo_load() -> None:
    """Load the demo operators and print a token for each role."""
    from intake_service.appointments import policy

    config = read_config()
    if not config.embedded:
        fail("demo data is only for the embedded mode (unset DATABASE_URL).")
    migrate.upgrade(config.database_url)
    with transaction() as session:
        loaded = demo.load(
            session,
            now=utc_now(),
            commune_of=commune_lookup(config),
            policy=policy.policy_of(config),
        )
    click.echo("Demo tokens (embedded mode only; do not use in production):")
    for role, scope, secret in loaded:
        click.echo(f"  {role:<16} {scope:<12} {secret}")
    click.echo(f"Demo accounts for the pages (password {demo.DEMO_PASSWORD!r}):")
    for email, role, scope in demo.USERS:
        click.echo(f"  {role:<16} {scope:<12} {email}")
