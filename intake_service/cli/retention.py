"""``intake-service retention``: pseudonymise what is due (or show it, ``--dry-run``)."""

from __future__ import annotations

import click

from intake_service.cli.base import main, read_config, transaction
from intake_service.platform.clock import utc_now


@main.group("retention")
def retention_group() -> None:
    """Pseudonymisation of old personal data (RETENTION_DAYS)."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Say what would be pseudonymised; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Pseudonymise the personal data of incidents finished more than RETENTION_DAYS ago."""
    from intake_service.access.retention import run_retention
    from intake_service.gpo.meetings import forget_incident
    from intake_service.platform.file_store import FileStore

    config = read_config()
    with transaction() as session:
        report = run_retention(
            session,
            utc_now(),
            config.retention,
            dry_run=dry_run,
            files=FileStore(config.attachments_path),
            before_pseudonymising=forget_incident,
        )
    verb = "would pseudonymise" if dry_run else "pseudonymised"
    click.echo(
        f"{verb} {len(report.incidents)} incidents ({report.versions} versions, "
        f"{report.events} events, {report.attachments} attachments) finished more than "
        f"{config.retention.days} days ago"
    )
