"""The direct line on the pages: the incident's conversation between the command centre
(the console's incident page) and the operator (its follow-up page).

Both pages show the same section (``_conversation.html``) from their own side: the
messages and requests that side sees (never the other side's notes), the open requests
counted and the overdue ones marked, a form to write, and under each open request
addressed to that side a form to answer it; the operator's answer may amend the sheet
(the suspects' direction of flight, description and status) in the same step. The
rules and the transaction are the use case's (``direct_line.messages``); this module
reads the forms and words the refusals in French.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal
from intake_service.access.rules.permissions import actor_name as who
from intake_service.direct_line import messages
from intake_service.direct_line.rules.conversation import other_side
from intake_service.intake.rules import lifecycle
from intake_service.models import IncidentMessage
from intake_service.platform.errors import NotFound, Refused
from intake_service.platform.labels import SUSPECT_STATUS_LABELS, date_time, hour
from intake_service.serving.context import database, duplicate_settings, locator, reference_cache
from intake_service.web.auth import current_page_principal
from schemas.direct_line import DUE_MINUTES_MAX, TEXT_MAX, NewMessageSchema
from schemas.sheet import SuspectsSchema
from schemas.vocabulary import SUSPECT_STATUSES

SIDE_LABELS = {"command_centre": "Centre de commandement", "operator": "Exploitant"}
TO_SIDE = {"command_centre": "au centre de commandement", "operator": "à l'exploitant"}
KIND_LABELS = {
    "message": "Message",
    "rfi": "Demande d'information",
    "note": "Note interne",
}
# The facts an operator's answer may add to the sheet from the page (the API takes any
# merge patch): form field → the suspects' key.
AMENDABLE = {"fuite": "flight_direction", "signalement": "description", "statut": "status"}
_SUSPECT_TEXT_MAX = {
    key: next(v.max for v in SuspectsSchema().fields[key].validators if hasattr(v, "max"))
    for key in ("flight_direction", "description")
}
_new_message = NewMessageSchema()


@dataclass
class Posting:
    """A form read: what to post, or the errors to show under the fields."""

    new: messages.NewMessage | None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    # The request the form answered (its errors are shown under that request).
    answers: str | None = None
    # The page's status when refused: 422 for the form, 409 for a request already answered.
    status: int = 422


def _entry(message: IncidentMessage, side: str, now: dt.datetime) -> dict[str, Any]:
    return {
        **messages.message_document(message, now),
        "mine": message.side == side,
        "kind_label": KIND_LABELS[message.kind],
        "side_label": SIDE_LABELS[message.side],
        "person": who(message.author),
        "time": hour(message.created_at),
        "when": date_time(message.created_at),
        "due_label": hour(message.due_at) if message.due_at else "",
        "answered_label": hour(message.answered_at) if message.answered_at else "",
        "open": message.kind == "rfi" and message.answered_at is None,
        # An open request the viewer's side is asked: it gets an answer form.
        "to_answer": message.kind == "rfi"
        and message.answered_at is None
        and message.side == other_side(side),
    }


def conversation_context(
    session: Session,
    principal: Principal,
    incident_id: str,
    *,
    now: dt.datetime,
    action: str,
    part: str,
    posting: Posting | None = None,
) -> dict[str, Any]:
    """The section's content for the caller's side (an audited read of the messages):
    ``action`` is where its forms post, ``part`` where its script reads it again."""
    side = messages.side_for(principal)
    found = messages.list_messages(session, principal, incident_id, now=now)
    entries = [_entry(message, side, now) for message in found]
    by_id = {entry["id"]: entry for entry in entries}
    for entry in entries:
        if entry["answers"] and entry["answers"] in by_id:
            entry["answers_number"] = by_id[entry["answers"]]["number"]
    open_requests = [e for e in entries if e["open"]]
    posting = posting or Posting(new=None)
    # An answer refused because its request is closed has no form left to show it under.
    answerable = {e["id"] for e in entries if e["to_answer"]}
    stray = posting.errors if posting.answers and posting.answers not in answerable else {}
    return {
        "side": side,
        "to_other": TO_SIDE[other_side(side)],
        "messages": entries,
        "open_requests": len(open_requests),
        "overdue_requests": sum(1 for e in open_requests if e["overdue"]),
        "posting": posting,
        "stray_errors": list(stray.values()),
        "action": action,
        "part": part,
        "text_max": TEXT_MAX,
        "due_max": DUE_MINUTES_MAX,
        "suspect_statuses": [(s, SUSPECT_STATUS_LABELS.get(s, s)) for s in SUSPECT_STATUSES],
        "suspect_text_max": _SUSPECT_TEXT_MAX,
    }


def read_form(form: Mapping[str, str], side: str) -> Posting:
    """The message a page's form posts, checked as the API checks it, errors in French."""
    text = form.get("texte", "")[: TEXT_MAX * 2]
    kind = form.get("genre", "message")[:16]
    answers = form.get("repond_a", "").strip()[:64] or None
    delay = form.get("delai", "").strip()[:16]
    values = {"texte": text, "genre": kind, "delai": delay}
    body: dict[str, Any] = {"text": text, "kind": "message" if answers else kind}
    if answers:
        body["answers"] = answers
    errors: dict[str, str] = {}
    if delay and body["kind"] == "rfi":
        if delay.isdigit() and 1 <= int(delay) <= DUE_MINUTES_MAX:
            body["due_in_minutes"] = int(delay)
        else:
            errors["delai"] = f"Le délai est un nombre de minutes, de 1 à {DUE_MINUTES_MAX}."
    amendment: dict[str, str] = {}
    if answers and side == "operator":
        for name, key in AMENDABLE.items():
            value = form.get(name, "").strip()[:2000]
            values[name] = value
            if value:
                amendment[key] = value
    if amendment:
        body["amendment"] = {"suspects": amendment}
    try:
        checked = _new_message.load(body)
    except ValidationError as error:
        problems = error.messages if isinstance(error.messages, dict) else {}
        if "text" in problems:
            errors["texte"] = _text_error(text)
        if "kind" in problems:
            errors["genre"] = "Choisissez : message, demande d'information ou note interne."
        if "answers" in problems:
            errors["texte"] = "La demande à laquelle vous répondez est introuvable."
        checked = None
    if checked is None or errors:
        errors = errors or {"texte": "Valeur refusée."}
        return Posting(new=None, errors=errors, values=values, answers=answers)
    due = checked.get("due_in_minutes")
    return Posting(
        new=messages.NewMessage(
            kind=checked["kind"],
            text=checked["text"],
            answers=str(checked["answers"]) if checked.get("answers") else None,
            due_in=dt.timedelta(minutes=due) if due else None,
            amendment=checked.get("amendment"),
        ),
        values=values,
        answers=answers,
    )


def _text_error(text: str) -> str:
    if not text.strip():
        return "Écrivez le message."
    if len(text) > TEXT_MAX:
        return f"Le message fait {TEXT_MAX:,} caractères au plus.".replace(",", "\u202f")
    return "Le message contient des caractères non autorisés (caractères de contrôle)."


def _amendment_errors(problems: Any) -> dict[str, str]:
    """The sheet's refusals of the suspects' facts, under the form's fields."""
    suspects = problems.get("amendment", {}) if isinstance(problems, dict) else {}
    suspects = suspects.get("suspects", {}) if isinstance(suspects, dict) else {}
    errors: dict[str, str] = {}
    for name, key in AMENDABLE.items():
        if isinstance(suspects, dict) and key in suspects:
            if key == "status":
                errors[name] = "Choisissez une situation des auteurs de la liste."
            else:
                limit = _SUSPECT_TEXT_MAX[key]
                errors[name] = f"{limit} caractères au plus, sans caractères de contrôle."
    return errors or {"texte": "La fiche ne peut pas être complétée ainsi."}


_SENT = {
    "message": "Message envoyé.",
    "rfi": "Demande d'information envoyée.",
    "note": "Note interne enregistrée.",
}


def sent(posting: Posting) -> str:
    """What the page says once the form is posted."""
    assert posting.new is not None
    if posting.new.answers and posting.new.amendment:
        return "Réponse envoyée ; la fiche est complétée (nouvelle version)."
    if posting.new.answers:
        return "Réponse envoyée."
    return _SENT[posting.new.kind]


def submit(
    principal: Principal, incident_id: str, form: Mapping[str, str], *, now: dt.datetime
) -> Posting:
    """Read the page's form and post it in one transaction; the posting, with errors
    when refused (then nothing is posted).

    Raises NotFound outside the caller's scope (the page answers 404); the pages'
    guards keep out the roles that are no party to the conversation.
    """
    posting = read_form(form, messages.side_for(principal))
    if posting.new is None:
        return posting
    line = messages.Line(
        locator=locator(),
        reference=reference_cache(),
        public_url=current_app.extensions["intake.config"].public_url,
        duplicates=duplicate_settings(),
    )
    try:
        with database().transaction() as session:
            messages.post_message(session, principal, incident_id, posting.new, now=now, line=line)
    except Refused as refused:
        wording = {
            "answers": "Cette demande a déjà reçu une réponse, ou n'est plus ouverte.",
            "amendment": "La fiche ne peut pas être complétée par cette réponse.",
        }.get(refused.field or "", "Le message n'a pas pu être envoyé : la fiche est close.")
        posting.errors = {"texte": wording}
        posting.status = 409 if refused.conflict else 422
    except ValidationError as error:
        posting.errors = _amendment_errors(error.messages)
    except lifecycle.TransitionRefused:
        posting.status = 409
        posting.errors = {
            "texte": "La fiche ne peut plus être complétée (elle est close ou retirée) : "
            "envoyez la réponse sans compléter la fiche."
        }
    return posting


# --- the pages' routes, the same on both sides ------------------------------------------
# ``page`` is the blueprint of the side's incident page: ``console`` or ``follow_up``;
# each has ``incident``, ``conversation_part`` and ``post_message`` endpoints.


def context_for(
    session: Session, principal: Principal, incident_id: str, page: str, posting: Posting | None
) -> dict[str, Any]:
    """The section's content for ``page``'s incident page (an audited read)."""
    return conversation_context(
        session,
        principal,
        incident_id,
        now=g.now,
        action=url_for(f"{page}.post_message", incident_id=incident_id),
        part=url_for(f"{page}.conversation_part", incident_id=incident_id),
        posting=posting,
    )


def part_response(page: str, incident_id: str) -> Any:
    """The section alone: the page's script reads it again when a message comes."""
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            conv = context_for(session, principal, incident_id, page, None)
            return render_template("_conversation.html", conv=conv)
    except NotFound:
        abort(404)


def post_response(page: str, incident_id: str, render_detail: Callable[..., Any]) -> Any:
    """Post the form; the incident page again with the errors, else back to the section."""
    try:
        posting = submit(current_page_principal(), incident_id, request.form, now=g.now)
    except NotFound:
        abort(404)
    if posting.errors or posting.new is None:
        return render_detail(incident_id, posting=posting, status=posting.status)
    flash(sent(posting), "succes")
    target = url_for(f"{page}.incident", incident_id=incident_id)
    return redirect(f"{target}#conversation", code=303)
