"""``intake-service directory``: the direct line's functional mailboxes, for deployments."""

from __future__ import annotations

import click
from marshmallow import ValidationError, validate

from intake_service.access.rules.permissions import Principal
from intake_service.cli.base import fail, main, transaction
from intake_service.directory import entities
from intake_service.directory.rules.notices import ENTITY_KINDS
from intake_service.platform.clock import utc_now
from intake_service.platform.errors import NotFound

CLI = Principal(role="admin", scope="*", actor="cli (intake-service directory)")
# What to do when the entity describes nothing the deployment knows yet.
ADD_FIRST = {
    "operator": "add the operator first: intake-service operators add {code} --name NAME",
    "police_service": "import the police zones that route to it first: "
    "intake-service zones import FILE",
    "police_station": "import the station first: intake-service stations import FILE",
    "gpo": "add the GPO first: intake-service gpos add {code} ...",
    "partner": "a partner's code is <gpo>:<partner>; add the partner first: "
    "intake-service gpos partners add GPO CODE --name NAME",
}


@main.group("directory")
def directory_group() -> None:
    """The directory: entities, referents and functional mailboxes."""


@directory_group.command("set-mailbox")
@click.argument("kind")
@click.argument("code")
@click.argument("email")
def set_mailbox(kind: str, code: str, email: str) -> None:
    """Set the functional mailbox of KIND CODE (creating the entity with every notice).

    KIND is operator, police_service, police_station, gpo or partner; CODE the scope its
    accounts carry (tisseo, ddsp-31, csp-toulouse, gpo-toulouse, gpo-toulouse:pm-toulouse).
    """
    if kind not in ENTITY_KINDS:
        fail(f"unknown kind {kind!r}: use one of {', '.join(ENTITY_KINDS)}.")
    email = email.strip()
    try:
        validate.Email()(email)
    except ValidationError:
        fail(f"{email!r} is not an email address (e.g. cic@ddsp31.interieur.gouv.fr).")
    if len(email) > 254:
        fail("the address is longer than 254 characters.")
    with transaction() as session:
        try:
            entity = entities.set_mailbox(session, CLI, kind, code, email, utc_now())
        except NotFound:
            fail(f"no {kind} {code!r} in this deployment: {ADD_FIRST[kind].format(code=code)}.")
        click.echo(f"{kind} {code}: mailbox {entity.mailbox} (version {entity.version})")


@directory_group.command("show")
@click.argument("kind", required=False)
def show(kind: str | None) -> None:
    """List the entities (of KIND), with their mailbox, notices and referents."""
    if kind is not None and kind not in ENTITY_KINDS:
        fail(f"unknown kind {kind!r}: use one of {', '.join(ENTITY_KINDS)}.")
    with transaction() as session:
        found = [
            entity
            for entity in entities.list_entities(session, CLI)
            if kind is None or entity.kind == kind
        ]
        if not found:
            click.echo(
                "the directory is empty: intake-service directory set-mailbox KIND CODE EMAIL"
            )
        for entity in found:
            mode = "daily digest" if entity.digest else "one email each"
            click.echo(
                f"{entity.kind:<15} {entity.code:<28} {entity.mailbox or '(no mailbox)'}  "
                f"{mode}; notices: {', '.join(entity.notices) or 'none'}"
            )
            for referent in entity.referents:
                contacts = " ".join(c for c in (referent.phone, referent.email) if c)
                click.echo(f"{'':<16}{referent.name} ({referent.function or '—'}) {contacts}")
