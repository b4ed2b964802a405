"""CCTV requisitions on the pages: the section of the console's incident page (the CIC
requests the footage) and of the operator's follow-up page (the operator answers each
step), with the erase deadline counting down; and ``/videoprotection/indicateurs``, the
share extracted before the deadline.

The forms are judged by the API's schema (``schemas.cctv``) and use cases
(``direct_line.cctv``); each answers with a redirect to its page and a message in
French. ``cctv_context`` is what the partial ``_cctv.html`` shows. Works without
JavaScript. A station officer requests over the API only (it has no incident page).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from intake_service.access.rules.permissions import Principal, may
from intake_service.direct_line import cctv, cctv_measures, messages
from intake_service.direct_line.rules import cctv as rules
from intake_service.models import CctvRequisition, Incident
from intake_service.platform.errors import Conflict, Forbidden, NotFound, Refused
from intake_service.platform.labels import date_time
from intake_service.serving.context import database, locator, reference_cache
from intake_service.web.auth import current_page_principal, page_requires
from schemas.cctv import NEEDS, NewRequisitionSchema, RequisitionStepSchema

bp = Blueprint("cctv_pages", __name__)

STATE_LABELS = {
    "requested": "demandée",
    "extracted": "extraite",
    "handed_over": "remise",
    "refused": "refusée",
    "erased": "images effacées",
}
# The operator's steps, as its forms offer them: button, and the label of the one field.
STEP_FORMS = {
    "extracted": ("Images extraites", "Référence d'extraction"),
    "handed_over": ("Extrait remis", "Remis à (nom, service)"),
    "refused": ("Refuser", "Motif du refus"),
    "erased": ("Images déjà effacées", "Précision"),
}
REQUESTER_LABELS = {"command_centre": "CIC", "station_officer": "commissariat"}
# Under this, the countdown is shown as urgent.
URGENT = dt.timedelta(hours=2)
CONFLICT = (
    "La réquisition a changé depuis l'ouverture de la page : elle est affichée à jour, "
    "refaites l'étape si elle est encore utile."
)
FIELD_LABELS = {
    "what": "Images demandées",
    "extraction_reference": "Référence d'extraction",
    "handed_over_to": "Remis à",
    "reason": "Motif",
    "state": "Étape",
}


def _item(requisition: CctvRequisition, side: str, now: dt.datetime) -> dict[str, Any]:
    deadline = requisition.erase_deadline
    left = rules.time_left(deadline, now)
    is_open = requisition.state in rules.OPEN_STATES
    steps = []
    if side == "operator" and is_open:
        for target, (button, label) in STEP_FORMS.items():
            if rules.check_step(requisition.state, target, [NEEDS[target]]) is None:
                steps.append(
                    {"state": target, "button": button, "field": NEEDS[target], "label": label}
                )
    return {
        "id": requisition.id,
        "state": requisition.state,
        "state_label": STATE_LABELS.get(requisition.state, requisition.state),
        "what": requisition.what,
        "requested_label": date_time(requisition.requested_at),
        "requester": f"{REQUESTER_LABELS.get(requisition.requested_by_role, '')} "
        f"{requisition.requested_by_org}".strip(),
        "deadline_label": date_time(deadline) if deadline else "inconnue",
        "deadline": deadline.isoformat() if deadline else None,
        "countdown": rules.countdown(deadline, now) if is_open else "",
        "urgent": is_open and left is not None and left <= URGENT,
        "extraction_reference": requisition.extraction_reference,
        "extracted_label": date_time(requisition.extracted_at),
        "in_time": rules.extracted_in_time(requisition.extracted_at, deadline),
        "handed_over_to": requisition.handed_over_to,
        "handed_over_label": date_time(requisition.handed_over_at),
        "reason": requisition.reason,
        "version": requisition.version,
        "steps": steps,
        "step_url": url_for("cctv_pages.step", requisition_id=requisition.id) if steps else None,
    }


def cctv_context(
    principal: Principal, incident: Incident, now: dt.datetime, session: Session | None = None
) -> dict[str, Any]:
    """What ``_cctv.html`` shows of the incident's requisitions to ``principal``'s side
    (the read is audited). Opens its own transaction when not given one."""
    if session is None:
        with database().transaction() as own:
            return cctv_context(principal, incident, now, own)
    side = "operator" if principal.role == "operator" else "command_centre"
    found = cctv.list_requisitions(session, principal, incident.id, now=now)
    video = (incident.sheet.get("video") or {}).get("exists") == "yes"
    may_request = (
        side == "command_centre"
        and may(principal, "cctv.request")
        and video
        and incident.pseudonymised_at is None
    )
    return {
        "side": side,
        "items": [_item(requisition, side, now) for requisition in found],
        "video": video,
        "request_url": url_for("cctv_pages.request_footage", incident_id=incident.id)
        if may_request
        else None,
    }


def _problem(error: ValidationError) -> str:
    messages_ = error.messages if isinstance(error.messages, dict) else {}
    fields = [FIELD_LABELS.get(str(name), str(name)) for name in messages_]
    return "Formulaire incomplet ou refusé : " + (", ".join(fields) or "vérifiez les champs") + "."


@bp.route("/console/incidents/<incident_id>/videoprotection", methods=["POST"])
@page_requires("command_centre.queue")
def request_footage(incident_id: str) -> Any:
    """The CIC requests the incident's footage (the console's form)."""
    back = redirect(url_for("console.incident", incident_id=incident_id) + "#videoprotection", 303)
    try:
        body = NewRequisitionSchema().load({"what": request.form.get("what", "")[:4000]})
    except ValidationError as exc:
        flash(_problem(exc), "erreur")
        return back
    line = messages.Line(
        locator=locator(),
        reference=reference_cache(),
        public_url=current_app.extensions["intake.config"].public_url,
    )
    try:
        with database().transaction() as session:
            cctv.request_footage(
                session, current_page_principal(), incident_id, body["what"], now=g.now, line=line
            )
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except Refused as exc:
        flash(f"Réquisition impossible : {exc.message}", "erreur")
        return back
    flash("Réquisition envoyée à l'opérateur.", "succes")
    return back


@bp.route("/operateur/videoprotection/<requisition_id>", methods=["POST"])
@page_requires("cctv.update")
def step(requisition_id: str) -> Any:
    """The operator answers a requisition, one step (the follow-up page's forms)."""
    target = request.form.get("state", "")[:32]
    body: dict[str, Any] = {"state": target}
    needed = NEEDS.get(target)
    if needed is not None and request.form.get(needed, "").strip():
        body[needed] = request.form.get(needed, "").strip()[:2000]
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = 0
    principal = current_page_principal()
    try:
        with database().transaction() as session:
            found = cctv.get_requisition(session, principal, requisition_id, now=g.now)
            incident_id = found.incident_id
    except NotFound:
        abort(404)
    back = redirect(
        url_for("follow_up.incident", incident_id=incident_id) + "#videoprotection", 303
    )
    try:
        checked = RequisitionStepSchema().load(body)
        with database().transaction() as session:
            cctv.step(
                session, principal, requisition_id, checked, expected_version=version, now=g.now
            )
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except ValidationError as exc:
        flash(_problem(exc), "erreur")
        return back
    except Conflict:
        flash(CONFLICT, "erreur")
        return back
    except Refused as exc:
        label = FIELD_LABELS.get(exc.field or "", "Étape")
        flash(f"{label} : étape impossible ou incomplète.", "erreur")
        return back
    flash(f"Réquisition {STATE_LABELS.get(target, target)}.", "succes")
    return back


@bp.route("/videoprotection/indicateurs")
@page_requires("cctv.measures")
def measures() -> Any:
    """The share of requisitions extracted before the deadline, per operator and service."""
    try:
        days = min(max(int(request.args.get("jours", "90")), 1), 3 * 366)
    except ValueError:
        days = 90
    with database().transaction() as session:
        counted = cctv_measures.measure(
            session,
            current_page_principal(),
            since=g.now - dt.timedelta(days=days),
            until=g.now,
            now=g.now,
        )
    return render_template("cctv_measures.html", measures=counted, days=days)
