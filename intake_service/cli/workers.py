"""workers"""

from __future__ import annotations

import click

from intake_service.cli.base import _config, _fail, main


@main.command("workers")
@click.argument("names", nargs=-1)
def workers_command(names: tuple[str, ...]) -> None:
    """Run the relay and the consumers (all by default, or those NAMES); stop on SIGTERM."""
    from workers.runner import run_configured

    try:
        run_configured(_config(), names)
    except ValueError as exc:
        _fail(str(exc))
