"""The directory's pages: ``/annuaire`` lists the entities the signed-in person works
with (hours, functional mailbox, referents to call or write to);
``/annuaire/<kind>/<code>/modifier`` is the form of one's own entity (the admin's: any).

The form posts flat fields; they are shaped into the API's body and judged by its schema
(``schemas.directory``) and use case (``directory.entities``), so an entity kept here
and one kept over the API are the same. Works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from intake_service.directory import entities
from intake_service.directory.mailbox import find_entity
from intake_service.directory.rules.notices import NOTICE_KINDS
from intake_service.directory.rules.visibility import own_entity
from intake_service.models import DirectoryEntity
from intake_service.platform.errors import Conflict, Forbidden, NotFound
from intake_service.serving.context import database, request_now
from intake_service.web.auth import current_page_principal, page_requires
from intake_service.web.wording import VALIDATION_MESSAGES
from schemas.directory import DirectoryEntityInSchema
from schemas.errors import flatten_errors

bp = Blueprint("directory_pages", __name__, url_prefix="/annuaire")

KIND_LABELS = {
    "operator": "Opérateur de transport",
    "police_service": "Service de police (CIC)",
    "police_station": "Commissariat",
    "gpo": "GPO transports",
    "partner": "Partenaire du GPO",
}
# Empty referent rows the form offers beyond the entity's own.
BLANK_REFERENTS = 2
# More rows than any form shows are not read (the schema refuses over 20 referents).
MAX_ROWS = 30
MESSAGES_FR = {
    **VALIDATION_MESSAGES,
    "Must not contain control characters or lone surrogates.": (
        "Caractères non autorisés (caractères de contrôle)."
    ),
    "Must not be blank.": "Ne doit pas être vide.",
    "Each notice kind at most once.": "Chaque avis une seule fois.",
}
CONFLICT = (
    "L'annuaire de cette entité a été modifié par quelqu'un d'autre depuis l'ouverture de "
    "cette page : rechargez-la, puis refaites vos changements."
)
_schema = DirectoryEntityInSchema()


def french(message: str) -> str:
    if message.startswith("Length must be between 1 and"):
        return "Obligatoire, " + message.rsplit(" ", 1)[-1].rstrip(".") + " caractères au plus."
    if message.startswith(("Longer than maximum length", "Length must be")):
        return "Trop long."
    if message.startswith("Not a notice kind"):
        return "Avis inconnu."
    return MESSAGES_FR.get(message, message)


def form_errors(errors: list[dict[str, str]]) -> dict[str, str]:
    """Errors by form field (``referents.0.phone``), in French."""
    shown: dict[str, str] = {}
    for error in errors:
        field = error["field"]
        if field.startswith("notices."):
            field = "notices"
        shown.setdefault(field or "formulaire", french(error["message"]))
    return shown


def form_to_body(form: Any) -> dict[str, Any]:
    """The posted fields shaped as the API's body; blank referent rows are left out."""
    referents = []
    raw = form.get("referents", "")
    count = min(int(raw), MAX_ROWS) if raw.isdigit() else 0
    for index in range(count):
        row = {
            name: form.get(f"referents-{index}-{name}", "")
            for name in ("name", "function", "phone", "email")
        }
        if not any(value.strip() for value in row.values()):
            continue
        referent: dict[str, Any] = {
            "name": row["name"].strip(),
            "function": row["function"].strip(),
        }
        referent["phone"] = row["phone"].strip() or None
        referent["email"] = row["email"].strip() or None
        referents.append(referent)
    return {
        "name": form.get("name", "").strip(),
        "mailbox": form.get("mailbox", "").strip() or None,
        "hours": form.get("hours", ""),
        "notices": form.getlist("notices"),
        "digest": form.get("digest") == "oui",
        "referents": referents,
    }


def _row_index(errors: dict[str, str], position: int) -> dict[str, str]:
    """The errors of the ``position``-th kept referent, keyed by field name."""
    prefix = f"referents.{position}."
    return {key[len(prefix) :]: value for key, value in errors.items() if key.startswith(prefix)}


@bp.route("", methods=["GET"])
@page_requires("directory.read")
def index() -> Any:
    """The entities the signed-in person works with, and its own to keep."""
    principal = current_page_principal()
    with database().transaction() as session:
        found = entities.list_entities(session, principal)
        shown = [
            {
                "kind": entity.kind,
                "code": entity.code,
                "kind_label": KIND_LABELS.get(entity.kind, entity.kind),
                "name": entity.name,
                "hours": entity.hours,
                "mailbox": entity.mailbox,
                "referents": list(entity.referents),
                "editable": entities.editable(principal, (entity.kind, entity.code)),
            }
            for entity in found
        ]
        own = own_entity(principal.role, principal.scope)
        missing_own = (
            own
            if own is not None
            and not any((e["kind"], e["code"]) == own for e in shown)
            and entities.reference_name(session, *own) is not None
            else None
        )
    return render_template(
        "directory_list.html", entities=shown, missing_own=missing_own, kind_labels=KIND_LABELS
    )


def _values(entity: DirectoryEntity | None, default_name: str) -> dict[str, Any]:
    if entity is None:
        return {
            "name": default_name,
            "mailbox": "",
            "hours": "",
            "notices": list(NOTICE_KINDS),
            "digest": False,
            "referents": [],
            "version": None,
        }
    return {
        "name": entity.name,
        "mailbox": entity.mailbox or "",
        "hours": entity.hours,
        "notices": list(entity.notices),
        "digest": entity.digest,
        "referents": [
            {"name": r.name, "function": r.function, "phone": r.phone or "", "email": r.email or ""}
            for r in entity.referents
        ],
        "version": entity.version,
    }


@bp.route("/<kind>/<code>/modifier", methods=["GET", "POST"])
@page_requires("directory.edit")
def edit(kind: str, code: str) -> Any:
    """The form of one's own entity: name, mailbox, hours, referents, notices, digest."""
    principal = current_page_principal()
    errors: dict[str, str] = {}
    status = 200
    with database().transaction() as session:
        try:
            entities.check_editable(session, principal, kind, code)
        except NotFound:
            abort(404)
        except Forbidden:
            abort(403)
        entity = find_entity(session, kind, code)
        values = _values(entity, entities.reference_name(session, kind, code) or code)
    if request.method == "POST":
        posted = form_to_body(request.form)
        version = request.form.get("version", "")
        values = {**posted, "mailbox": posted["mailbox"] or "", "version": values["version"]}
        values["referents"] = [
            {key: (value or "") for key, value in referent.items()}
            for referent in posted["referents"]
        ]
        try:
            body = _schema.load(posted)
            with database().transaction() as session:
                entities.put_entity(
                    session,
                    principal,
                    kind,
                    code,
                    body,
                    request_now(),
                    int(version) if version.isdigit() else None,
                )
            flash("Annuaire enregistré.", "succes")
            return redirect(url_for("directory_pages.index"), 303)
        except ValidationError as exc:
            errors = form_errors(flatten_errors(exc.messages))
            status = 422
        except (Conflict, entities.VersionRequired, entities.NotCreated):
            errors = {"formulaire": CONFLICT}
            status = 409
        except NotFound:
            abort(404)
        except Forbidden:
            abort(403)
    rows = values["referents"] + [
        {"name": "", "function": "", "phone": "", "email": ""} for _ in range(BLANK_REFERENTS)
    ]
    return (
        render_template(
            "directory_form.html",
            kind=kind,
            code=code,
            kind_label=KIND_LABELS.get(kind, kind),
            values=values,
            rows=[(index, row, _row_index(errors, index)) for index, row in enumerate(rows)],
            errors=errors,
            notice_kinds=NOTICE_KINDS,
        ),
        status,
    )
