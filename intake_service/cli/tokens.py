"""``intake-service tokens``: create, list and revoke API tokens."""

from __future__ import annotations

import click

from intake_service.access import tokens
from intake_service.access.rules.permissions import ROLES
from intake_service.cli.base import fail, main, transaction
from intake_service.platform.clock import utc_now


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
    with transaction() as session:
        try:
            new = tokens.create_token(session, role, scope, label, now=utc_now())
        except tokens.TokenError as exc:
            fail(str(exc))
        click.echo(f"created token {new.token.id} for {role} on {scope}; it is not shown again:")
        click.echo(new.secret)


@tokens_group.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    with transaction() as session:
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
    with transaction() as session:
        try:
            token = tokens.revoke_token(session, token_id, now=utc_now())
        except tokens.TokenError as exc:
            fail(str(exc))
        click.echo(f"revoked token {token.id} ({token.role} on {token.scope})")
