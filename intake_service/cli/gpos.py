"""``intake-service gpos``: declare GPOs and their partners, list them."""

from __future__ import annotations

import click

from intake_service.cli.base import fail, main, transaction
from intake_service.platform.clock import utc_now
from intake_service.territory import operators

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
@click.option(
    "--department",
    default=None,
    help="The département it reports to in the national view (31, 2A, 974); by default "
    "the one its first service code names (ddsp-31 → 31).",
)
@click.option(
    "--status",
    type=click.Choice(["deployed", "in_creation"]),
    default=None,
    help="Deployed (the default for a new GPO) or still in creation.",
)
@click.option(
    "--rhythm",
    "meeting_rhythm",
    type=click.Choice(["fortnightly", "monthly", "dates"]),
    default=None,
    help="How often it meets: the next meeting is proposed from it (default monthly).",
)
def gpos_add(
    code: str,
    name: str,
    services: str,
    operator_codes: str,
    auto_confirm_strong: bool,
    department: str | None,
    status: str | None,
    meeting_rhythm: str | None,
) -> None:
    """Add a GPO (or update it if CODE exists)."""
    from intake_service.gpo import gpos

    with transaction() as session:
        try:
            gpo, created, warnings = gpos.add_gpo(
                session,
                code,
                name,
                _split_codes(services),
                _split_codes(operator_codes),
                auto_confirm_strong,
                utc_now(),
                department=department,
                status=status,
                meeting_rhythm=meeting_rhythm,
            )
        except gpos.GpoError as exc:
            fail(str(exc))
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
            f"operators: {', '.join(gpo.operators) or '-'}; "
            f"département: {gpo.department or '-'}; {gpo.status}; meets {gpo.meeting_rhythm})"
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
    from intake_service.gpo import gpos

    with transaction() as session:
        try:
            partner, created = gpos.add_partner(session, gpo_code, code, name)
        except gpos.GpoError as exc:
            fail(str(exc))
        click.echo(
            f"{'added' if created else 'updated'} partner {partner.code} of {gpo_code}: "
            f"{partner.name} (accounts: --role gpo_partner --scope {gpo_code}:{partner.code})"
        )


@gpos_group.command("list")
def gpos_list() -> None:
    """List the GPOs, their services, operators and partners."""
    from intake_service.gpo import gpos

    with transaction() as session:
        for gpo in gpos.list_gpos(session):
            partners = ", ".join(partner.code for partner in gpos.partners_of(session, gpo.code))
            click.echo(
                f"{gpo.code}\t{gpo.name}\tservices: {','.join(gpo.services) or '-'}\t"
                f"operators: {','.join(gpo.operators) or '-'}\tpartners: {partners or '-'}"
                + ("\tauto-confirm" if gpo.auto_confirm_strong else "")
            )


@gpos_group.command("remind-meetings")
def gpos_remind_meetings() -> None:
    """Remind the referents of the meetings within 48 hours (once per meeting).

    What the ``meeting-reminders`` worker does every five minutes, run once (from cron,
    say); a second run writes nothing twice.
    """
    from intake_service.cli.base import read_config
    from intake_service.gpo import meetings

    public_url = read_config().public_url
    with transaction() as session:
        reminded = meetings.send_due_reminders(session, utc_now(), public_url)
    click.echo(f"{len(reminded)} meeting reminder(s) written")
