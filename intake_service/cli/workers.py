"""``intake-service workers``: run the relay and the consumers."""

from __future__ import annotations

import click

from intake_service.cli.base import fail, main, read_config


@main.command("workers")
@click.argument("names", nargs=-1)
def workers_command(names: tuple[str, ...]) -> None:
    """Run the relay and the consumers (all by default, or those NAMES); stop on SIGTERM."""
    from workers.runner import run_configured

    try:
        run_configured(read_config(), names)
    except ValueError as exc:
        fail(str(exc))
