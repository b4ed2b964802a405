"""``intake-service operators``: add and list transport operators."""

from __future__ import annotations

import click

from intake_service.cli.base import fail, main, transaction
from intake_service.platform.clock import utc_now
from intake_service.territory import operators


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
    with transaction() as session:
        try:
            operator, created = operators.add_operator(session, code, name, now=utc_now())
        except operators.OperatorError as exc:
            fail(str(exc))
        if referent_email is not None:
            if "@" not in referent_email:
                fail(f"--referent-email {referent_email!r} is not an email address.")
            operator.referent_email = referent_email.strip() or None
        click.echo(f"{'added' if created else 'updated'} operator {operator.code}: {operator.name}")


@operators_group.command("list")
def operators_list() -> None:
    """List the operators."""
    with transaction() as session:
        for operator in operators.list_operators(session):
            click.echo(f"{operator.code}\t{operator.name}")
