"""``intake-service users``: add people's accounts for the pages."""

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
