"""``intake-service users``: add, disable and enable people's accounts for the pages."""

from __future__ import annotations

import sys

import click

from intake_service.access import accounts
from intake_service.access.rules.permissions import ROLES
from intake_service.cli.base import fail, main, transaction
from intake_service.platform.clock import utc_now


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
@click.option(
    "--supervisor",
    is_flag=True,
    help="A command centre's supervisor: reassigns the incidents its operators took.",
)
def users_add(email: str, role: str, scope: str, password_stdin: bool, supervisor: bool) -> None:
    """Create an account; the password is asked for (twice) unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with transaction() as session:
        try:
            user = accounts.add_user(
                session, email, password, role, scope, now=utc_now(), supervisor=supervisor
            )
        except accounts.AccountError as exc:
            fail(str(exc))
        click.echo(
            f"created account {user.id}: {user.email} ({role} on {scope}"
            f"{', supervisor' if supervisor else ''})"
        )


@users_group.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable an account: it can no longer sign in, and its page sessions end now.

    API tokens are not people's: revoke them with `intake-service tokens revoke`."""
    with transaction() as session:
        try:
            user, changed = accounts.disable_user(session, email, now=utc_now())
        except accounts.AccountError as exc:
            fail(str(exc))
        if changed:
            click.echo(f"disabled account {user.id}: {user.email} (its sessions are ended)")
        else:
            since = user.disabled_at.isoformat(timespec="seconds") if user.disabled_at else "?"
            click.echo(f"account {user.id}: {user.email} was already disabled (since {since})")


@users_group.command("enable")
@click.argument("email")
def users_enable(email: str) -> None:
    """Let a disabled account sign in again (the sessions it had stay ended)."""
    with transaction() as session:
        try:
            user, changed = accounts.enable_user(session, email, now=utc_now())
        except accounts.AccountError as exc:
            fail(str(exc))
        if changed:
            click.echo(f"enabled account {user.id}: {user.email}")
        else:
            click.echo(f"account {user.id}: {user.email} was not disabled")
