"""GPO meetings over the API, on SQLite and PostgreSQL: planning with the agenda from the
brief, the next date proposed, the agenda emailed (directory mailbox, else accounts),
holding with decisions applied in one transaction, the partners' minutes without
personal data (JSON, CSV, PDF), collegial evaluation by the partners present only,
the referent's reminder sent once, the brief counting from the last meeting held,
named errors and scopes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from intake_service.access.accounts import add_user
from intake_service.access.rules.permissions import Principal
from intake_service.access.tokens import create_token
from intake_service.directory.entities import set_mailbox
from intake_service.gpo import gpos, meetings
from intake_service.models import (
    AuditEntry,
    EmailMessage,
    GpoMeeting,
    Problem,
    ProblemAction,
    ProblemJournalEntry,
)
from intake_service.platform.clock import PARIS
from intake_service.platform.db import Database
from tests.access_seeds.gpo_assessment import (
    PERSONAL,
    REPORTER_NAME,
    TITLE,
    VICTIM_NAME,
    VICTIM_PHONE,
    Scenario,
    build_scenario,
)
from tests.conftest import Clock
from tests.factories import create_tokens
from workers.periodic import MeetingReminders

PROBLEM = "application/problem+json"
BASE = "/api/v1/gpos/gpo-toulouse/meetings"
ADMIN = Principal(role="admin", scope="*", actor="test:admin")


@pytest.fixture
def setup(app: Any, db: Database, clock: Clock) -> tuple[FlaskClient, dict[str, Any], Scenario]:
    tokens = create_tokens(db, clock.now)
    scenario = build_scenario(app, clock.now)
    with db.transaction() as session:
        for key, scope in (("pm", "gpo-toulouse:pm-toulouse"), ("tisseo", "gpo-toulouse:tisseo")):
            made = create_token(session, "gpo_partner", scope, f"test {key}", now=clock.now)
            tokens[key] = {"Authorization": f"Bearer {made.secret}"}
        var = create_token(session, "gpo_referent", "gpo-var", "test var", now=clock.now)
        tokens["var_referent"] = {"Authorization": f"Bearer {var.secret}"}
    return app.test_client(), tokens, scenario


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def plan(client: FlaskClient, tokens: dict[str, Any], at: dt.datetime, **extra: Any) -> Any:
    response = client.post(
        BASE,
        json={"planned_at": _iso(at), "place": "Commissariat central, salle 2", **extra},
        headers=tokens["gpo_referent"],
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def audits(db: Database, action: str) -> list[AuditEntry]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def emails(db: Database, kind: str) -> list[EmailMessage]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(EmailMessage).where(EmailMessage.kind == kind).order_by(EmailMessage.id)
            )
        )


def test_plan_generates_the_agenda_and_sends_it(setup: Any, db: Database, clock: Clock) -> None:
    client, tokens, scenario = setup
    meeting = plan(client, tokens, clock.now + dt.timedelta(days=1))
    assert meeting["status"] == "planned"
    assert [(a["partner_code"], a["invited"], a["present"]) for a in meeting["attendees"]] == [
        ("pm-toulouse", True, False),
        ("tisseo", True, False),
    ]
    mine = [item for item in meeting["agenda"] if item["problem_id"] == scenario.problem_id]
    assert [item["kind"] for item in mine] == ["new_incidents", "actions_late", "actions_due"]
    assert mine[0]["title"] == TITLE
    assert mine[0]["text"].startswith("2 nouveaux incidents depuis la dernière réunion")
    assert "Patrouilles renforcées le soir" in mine[1]["text"]
    assert "Intervention au collège voisin" in mine[2]["text"]
    agenda = str(meeting["agenda"])
    assert [value for value in PERSONAL if value in agenda] == []

    # pm-toulouse has a functional mailbox; tisseo only an account; nobody for smtc.
    with db.transaction() as session:
        set_mailbox(
            session, ADMIN, "partner", "gpo-toulouse:pm-toulouse", "gpo@pm.example.org", clock.now
        )
        add_user(
            session,
            "agent@tisseo-gpo.test",
            "mot-de-passe-long",
            "gpo_partner",
            "gpo-toulouse:tisseo",
            now=clock.now,
        )
        gpos.add_partner(session, "gpo-toulouse", "smtc", "Tisséo Collectivités")
    third = plan(client, tokens, clock.now + dt.timedelta(days=3))
    response = client.post(f"{BASE}/{third['id']}/agenda/send", headers=tokens["gpo_referent"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["reached"] == ["pm-toulouse", "tisseo"]
    assert body["unreachable"] == ["smtc"]
    assert body["meeting"]["agenda_sent_at"] is not None
    sent = emails(db, "gpo_agenda")
    assert [(e.recipients, e.state) for e in sent] == [
        (["gpo@pm.example.org"], "pending"),
        ([], "failed"),
        (["agent@tisseo-gpo.test"], "pending"),
    ]
    assert "Ordre du jour" in sent[0].subject
    assert "Patrouilles renforcées le soir" in sent[0].body
    assert f"/gpo/gpo-toulouse/reunions/{third['id']}" in sent[0].body
    assert [value for value in PERSONAL if value in sent[0].body] == []
    # Partners read the meeting.
    assert client.get(f"{BASE}/{third['id']}", headers=tokens["pm"]).status_code == 200
    assert len(client.get(BASE, headers=tokens["gpo_partner"]).get_json()["items"]) == 2


def _hold(client: FlaskClient, tokens: dict[str, Any], scenario: Scenario, meeting_id: str) -> Any:
    with_action = client.get(
        f"/api/v1/problems/{scenario.problem_id}/actions", headers=tokens["gpo_referent"]
    ).get_json()["items"]
    late = next(a for a in with_action if a["what"] == "Patrouilles renforcées le soir")
    response = client.post(
        f"{BASE}/{meeting_id}/hold",
        json={
            "present": ["pm-toulouse"],
            "minutes": (
                f"Point sur l'agression de {VICTIM_NAME} ({VICTIM_PHONE}) signalée par "
                f"M. Roucayrol ; les patrouilles continuent."
            ),
            "decisions": [
                {"kind": "note", "text": f"Suivi mensuel ; rappeler {VICTIM_NAME}."},
                {
                    "kind": "action_created",
                    "problem_id": scenario.problem_id,
                    "action": {"what": "Médiation au collège", "owner_partner": "tisseo"},
                },
                {
                    "kind": "action_changed",
                    "problem_id": scenario.problem_id,
                    "action_id": late["id"],
                    "changes": {"status": "done"},
                },
                {
                    "kind": "state_changed",
                    "problem_id": scenario.problem_id,
                    "to": "action_plan",
                    "text": f"Plan d'action validé, M. {REPORTER_NAME} prévenu.",
                },
            ],
        },
        headers=tokens["gpo_referent"],
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_hold_applies_decisions_and_the_partners_minutes_hold_no_personal_data(
    setup: Any, db: Database, clock: Clock
) -> None:
    client, tokens, scenario = setup
    meeting = plan(client, tokens, clock.now + dt.timedelta(hours=2))
    held = _hold(client, tokens, scenario, meeting["id"])
    assert held["status"] == "held"
    assert held["held_at"] is not None
    assert {a["partner_code"]: a["present"] for a in held["attendees"]} == {
        "pm-toulouse": True,
        "tisseo": False,
    }
    assert [d["kind"] for d in held["decisions"]] == [
        "note",
        "action_created",
        "action_changed",
        "state_changed",
    ]
    with db.transaction() as session:
        problem = session.get(Problem, scenario.problem_id)
        assert problem is not None
        assert problem.state == "action_plan"
        whats = {a.what: a.status for a in session.scalars(select(ProblemAction))}
        assert whats["Médiation au collège"] == "planned"
        assert whats["Patrouilles renforcées le soir"] == "done"
        kinds = [
            e.kind
            for e in session.scalars(
                select(ProblemJournalEntry).where(
                    ProblemJournalEntry.problem_id == scenario.problem_id
                )
            )
        ]
        assert kinds.count("decision") == 3
        assert "meeting" in kinds
    # The partners read the decisions, and the problem's journal, with the name masked.
    for path, masked in (
        (f"{BASE}/{meeting['id']}", "Suivi mensuel ; rappeler [masqué]."),
        (f"/api/v1/problems/{scenario.problem_id}/journal", "M. [masqué] prévenu."),
    ):
        read = json.dumps(client.get(path, headers=tokens["pm"]).get_json(), ensure_ascii=False)
        assert [value for value in PERSONAL if value in read] == [], path
        assert masked in read, path
    as_referent = client.get(f"{BASE}/{meeting['id']}", headers=tokens["gpo_referent"])
    assert VICTIM_NAME in as_referent.get_json()["decisions"][0]["text"]
    # Holding twice is refused, naming the status.
    again = client.post(f"{BASE}/{meeting['id']}/hold", json={}, headers=tokens["gpo_referent"])
    assert again.status_code == 409
    assert again.get_json()["errors"][0]["field"] == "status"

    # The partners' minutes: JSON, CSV, PDF without any personal data.
    url = f"{BASE}/{meeting['id']}/minutes"
    partner = client.get(url, headers=tokens["pm"])
    assert partner.status_code == 200, partner.get_json()
    body = partner.get_json()
    assert body["version"] == "partner"
    assert "[masqué]" in body["minutes"]
    assert "les patrouilles continuent" in body["minutes"]
    assert all(
        set(line) == {"problem_id", "occurred_on", "stop", "natures"} for line in body["incidents"]
    )
    assert len(body["incidents"]) >= 2
    csv_response = client.get(url + ".csv", headers=tokens["pm"])
    assert csv_response.status_code == 200
    assert csv_response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True))))
    assert {"presence", "ordre_du_jour", "decision", "incident", "compte_rendu"} <= {
        r["rubrique"] for r in rows
    }
    pdf_response = client.get(url + ".pdf", headers=tokens["pm"])
    assert pdf_response.status_code == 200
    assert pdf_response.mimetype == "application/pdf"
    text = pdf_text(pdf_response.data)
    assert "sans données personnelles" in text
    assert "Médiation au collège" in text
    assert "Capitole" in text
    outputs = {
        "json": json.dumps(body, ensure_ascii=False),
        "csv": csv_response.get_data(as_text=True),
        "pdf": text,
    }
    leaks = [(kind, value) for kind, out in outputs.items() for value in PERSONAL if value in out]
    assert leaks == []
    assert audits(db, "gpo.meeting.minutes.read") == []
    exports = audits(db, "gpo.meeting.minutes.export")
    assert sorted(e.detail["format"] for e in exports) == ["csv", "pdf"]

    # The referent's version holds them, and its read is audited.
    referent = client.get(url, headers=tokens["gpo_referent"]).get_json()
    assert referent["version"] == "referent"
    assert VICTIM_NAME in referent["minutes"]
    assert any("Zéphyrin" in line["excerpt"] for line in referent["incidents"])
    (read,) = audits(db, "gpo.meeting.minutes.read")
    assert read.resource_id == meeting["id"]
    reads = [e for e in audits(db, "incident.read") if e.detail.get("via") == "gpo.meeting.minutes"]
    assert len(reads) == len(referent["incidents"])


def test_collegial_evaluation_by_partners_present_only(
    setup: Any, app: Any, db: Database, clock: Clock
) -> None:
    client, tokens, scenario = setup
    meeting = plan(client, tokens, clock.now + dt.timedelta(hours=1))
    url = f"{BASE}/{meeting['id']}/evaluations"
    view = {"problem_id": scenario.problem_id, "view": "improved", "comment": "Moins de jets."}
    # Not held yet.
    assert client.post(url, json=view, headers=tokens["pm"]).status_code == 409
    _hold(client, tokens, scenario, meeting["id"])
    response = client.post(url, json=view, headers=tokens["pm"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["partner_code"] == "pm-toulouse"
    # Again: the view is replaced, not added.
    again = client.post(url, json={**view, "view": "resolved"}, headers=tokens["pm"])
    assert again.status_code == 201
    # Absent, or of no organisation: refused.
    assert client.post(url, json=view, headers=tokens["tisseo"]).status_code == 403
    assert client.post(url, json=view, headers=tokens["gpo_partner"]).status_code == 403
    # The referent writes a present partner's view, not an absent one's.
    absent = client.post(
        url, json={**view, "partner_code": "tisseo"}, headers=tokens["gpo_referent"]
    )
    assert absent.status_code == 422
    assert absent.get_json()["errors"][0]["field"] == "partner_code"
    bad = client.post(
        url, json={"problem_id": scenario.var_problem_id, "view": "meh"}, headers=tokens["pm"]
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == ["view"]
    other = client.post(
        url, json={"problem_id": scenario.var_problem_id, "view": "resolved"}, headers=tokens["pm"]
    )
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["field"] == "problem_id"
    evaluations = client.get(f"{BASE}/{meeting['id']}", headers=tokens["gpo_referent"]).get_json()[
        "evaluations"
    ]
    assert [(e["partner_code"], e["view"]) for e in evaluations] == [("pm-toulouse", "resolved")]
    # The referent's state change page shows the views.
    app.config["WTF_CSRF_ENABLED"] = False
    with db.transaction() as session:
        add_user(
            session,
            "ref@meetings.test",
            "mot-de-passe-long",
            "gpo_referent",
            "gpo-toulouse",
            now=clock.now,
        )
    pages = app.test_client()
    pages.post("/connexion", data={"email": "ref@meetings.test", "password": "mot-de-passe-long"})
    html = pages.get(f"/gpo/problemes/{scenario.problem_id}").get_data(as_text=True)
    assert "Avis des partenaires" in html
    assert "Moins de jets." in html
    assert "Résolu" in html


def test_bad_input_names_each_field(setup: Any, clock: Clock) -> None:
    client, tokens, scenario = setup
    headers = tokens["gpo_referent"]
    response = client.post(BASE, json={"planned_at": "demain", "place": " "}, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert sorted(e["field"] for e in response.get_json()["errors"]) == ["place", "planned_at"]
    past = client.post(
        BASE,
        json={"planned_at": _iso(clock.now - dt.timedelta(days=1)), "place": "Salle 2"},
        headers=headers,
    )
    assert past.status_code == 422
    assert [e["field"] for e in past.get_json()["errors"]] == ["planned_at"]
    far = client.post(
        BASE, json={"planned_at": "9999-12-31T10:00:00+00:00", "place": "Salle 2"}, headers=headers
    )
    assert far.status_code == 422
    assert [e["field"] for e in far.get_json()["errors"]] == ["planned_at"]
    stranger = client.post(
        BASE,
        json={
            "planned_at": _iso(clock.now + dt.timedelta(days=1)),
            "place": "Salle 2",
            "invited": ["inconnu"],
        },
        headers=headers,
    )
    assert [e["field"] for e in stranger.get_json()["errors"]] == ["invited"]

    meeting = plan(client, tokens, clock.now + dt.timedelta(days=1))
    hold = f"{BASE}/{meeting['id']}/hold"
    cases = [
        ({"decisions": [{"kind": "state_changed", "to": "resolved"}]}, ["decisions.0.problem_id"]),
        (
            {
                "decisions": [
                    {
                        "kind": "action_created",
                        "problem_id": scenario.problem_id,
                        "action": {"what": "X", "owner_partner": "inconnu"},
                    }
                ]
            },
            ["decisions.0.action.owner_partner"],
        ),
        (
            {
                "decisions": [
                    {"kind": "note", "text": "ok"},
                    {"kind": "state_changed", "problem_id": scenario.problem_id, "to": "resolved"},
                ]
            },
            ["decisions.1.to"],
        ),
        (
            {
                "decisions": [
                    {
                        "kind": "action_changed",
                        "problem_id": scenario.problem_id,
                        "action_id": 999999,
                        "changes": {"status": "done"},
                    }
                ]
            },
            ["decisions.0.action_id"],
        ),
        ({"present": ["inconnu"], "held_at": "hier"}, ["held_at"]),
        ({"held_at": "0001-01-02T00:00:00+00:00"}, ["held_at"]),
        ({"present": ["inconnu"]}, ["present"]),
        ({"decisions": [{"kind": "vote"}]}, ["decisions.0.kind"]),
    ]
    for body, fields in cases:
        response = client.post(hold, json=body, headers=headers)
        assert response.status_code == 422, (body, response.get_json())
        assert response.mimetype == PROBLEM
        assert sorted(e["field"] for e in response.get_json()["errors"]) == fields, body
    # Nothing of a refused hold was kept: still planned, no action added.
    still = client.get(f"{BASE}/{meeting['id']}", headers=headers).get_json()
    assert still["status"] == "planned"
    assert still["decisions"] == []
    close = client.post(f"{BASE}/{meeting['id']}/close", json={"status": "held"}, headers=headers)
    assert [e["field"] for e in close.get_json()["errors"]] == ["status"]


def test_scopes_answer_404_outside_the_gpo(setup: Any, clock: Clock) -> None:
    client, tokens, _ = setup
    meeting = plan(client, tokens, clock.now + dt.timedelta(days=1))
    item = f"{BASE}/{meeting['id']}"
    assert client.get(item, headers=tokens["var_referent"]).status_code == 404
    assert client.get(BASE, headers=tokens["var_referent"]).status_code == 404
    assert client.post(item + "/hold", json={}, headers=tokens["var_referent"]).status_code == 404
    # The Var referent's own GPO does not hold Toulouse's meeting.
    other = f"/api/v1/gpos/gpo-var/meetings/{meeting['id']}"
    assert client.get(other, headers=tokens["var_referent"]).status_code == 404
    assert client.get(f"{BASE}/nope", headers=tokens["gpo_referent"]).status_code == 404
    assert client.get(f"{BASE}/{'x' * 300}", headers=tokens["gpo_referent"]).status_code == 404
    # Partners read, never manage; other roles are refused; no token is 401.
    assert client.post(item + "/hold", json={}, headers=tokens["pm"]).status_code == 403
    assert client.post(BASE, json={}, headers=tokens["pm"]).status_code == 403
    assert client.get(item, headers=tokens["operator"]).status_code == 403
    assert client.get(item, headers=tokens["national"]).status_code == 403
    assert client.get(item).status_code == 401
    # No minutes before the meeting is held.
    assert client.get(item + "/minutes", headers=tokens["pm"]).status_code == 409


def test_reminder_is_sent_once(setup: Any, app: Any, db: Database, clock: Clock) -> None:
    client, tokens, _ = setup
    with db.transaction() as session:
        add_user(
            session,
            "referent@gpo-toulouse.test",
            "mot-de-passe-long",
            "gpo_referent",
            "gpo-toulouse",
            now=clock.now,
        )
    soon = plan(client, tokens, clock.now + dt.timedelta(hours=30))
    later = plan(client, tokens, clock.now + dt.timedelta(days=5))
    job = MeetingReminders(db, public_url="https://gpo.example.org", clock=clock)
    assert job.run_once() == [soon["id"]]
    assert job.run_once() == []
    (email,) = emails(db, "gpo_reminder")
    assert email.recipients == ["referent@gpo-toulouse.test"]
    assert "Rappel" in email.subject
    assert f"https://gpo.example.org/gpo/gpo-toulouse/reunions/{soon['id']}" in email.body
    body = client.get(f"{BASE}/{soon['id']}", headers=tokens["gpo_referent"]).get_json()
    assert body["reminded_at"] is not None
    # Three days on, the later one is due; the first is not reminded again.
    clock.advance(days=3, hours=12)
    assert job.run_once() == [later["id"]]
    assert len(emails(db, "gpo_reminder")) == 2
    # A cancelled meeting is never reminded.
    gone = plan(client, tokens, clock.now + dt.timedelta(hours=5))
    client.post(
        f"{BASE}/{gone['id']}/close", json={"status": "cancelled"}, headers=tokens["gpo_referent"]
    )
    assert job.run_once() == []


def test_the_brief_counts_from_the_last_meeting_held(
    setup: Any, db: Database, clock: Clock
) -> None:
    client, tokens, scenario = setup

    def new_count() -> int:
        body = client.get(
            f"/api/v1/gpos/gpo-toulouse/brief?date={scenario.meeting_date.isoformat()}",
            headers=tokens["gpo_partner"],
        ).get_json()
        return next(p["new_count"] for p in body["problems"] if p["id"] == scenario.problem_id)

    # No meeting held: the journal's meeting ten days ago (old data) counts.
    assert new_count() == 2
    # Planned or skipped meetings do not count.
    skipped = plan(client, tokens, clock.now + dt.timedelta(hours=1))
    client.post(
        f"{BASE}/{skipped['id']}/close", json={"status": "skipped"}, headers=tokens["gpo_referent"]
    )
    plan(client, tokens, clock.now + dt.timedelta(hours=2))
    assert new_count() == 2
    # A meeting held five days ago: since then, one new incident (three days ago).
    held = plan(client, tokens, clock.now + dt.timedelta(hours=3))
    response = client.post(
        f"{BASE}/{held['id']}/hold",
        json={"held_at": _iso(clock.now - dt.timedelta(days=5)), "present": ["pm-toulouse"]},
        headers=tokens["gpo_referent"],
    )
    assert response.status_code == 200, response.get_json()
    assert new_count() == 1
    with db.transaction() as session:
        found = meetings.last_held(session, "gpo-toulouse")
        assert found is not None
        assert found.id == held["id"]


def test_the_next_meeting_is_proposed_from_the_rhythm(
    setup: Any, db: Database, clock: Clock
) -> None:
    client, tokens, _ = setup
    url = f"{BASE}/proposal"
    # Nothing held yet: no date proposed.
    assert client.get(url, headers=tokens["gpo_referent"]).get_json()["planned_at"] is None
    at = dt.datetime(2026, 3, 17, 14, 30, tzinfo=PARIS)  # the 3rd Tuesday of March
    meeting = plan(client, tokens, at.astimezone(dt.UTC))
    clock.advance(days=4)
    client.post(
        f"{BASE}/{meeting['id']}/hold", json={"present": []}, headers=tokens["gpo_referent"]
    )
    proposal = client.get(url, headers=tokens["gpo_referent"]).get_json()
    assert proposal["rhythm"] == "monthly"
    assert dt.datetime.fromisoformat(proposal["planned_at"]).astimezone(PARIS) == dt.datetime(
        2026, 4, 21, 14, 30, tzinfo=PARIS
    )  # the 3rd Tuesday of April, same time
    assert proposal["place"] == "Commissariat central, salle 2"
    with db.transaction() as session:
        gpo = gpos.get_gpo(session, Principal("gpo_referent", "gpo-toulouse", "t"), "gpo-toulouse")
        gpo.meeting_rhythm = "fortnightly"
    proposal = client.get(url, headers=tokens["gpo_referent"]).get_json()
    assert dt.datetime.fromisoformat(proposal["planned_at"]).astimezone(PARIS).date() == dt.date(
        2026, 3, 31
    )
    with db.transaction() as session:
        gpo = gpos.get_gpo(session, Principal("gpo_referent", "gpo-toulouse", "t"), "gpo-toulouse")
        gpo.meeting_rhythm = "dates"
    assert client.get(url, headers=tokens["gpo_referent"]).get_json()["planned_at"] is None
    assert client.get(url, headers=tokens["pm"]).status_code == 403
    with db.transaction() as session:
        assert session.scalar(select(GpoMeeting.status)) == "held"


def test_referent_minutes_without_personal_data_are_not_audited(
    setup: Any, db: Database, clock: Clock
) -> None:
    client, tokens, _ = setup
    headers = tokens["gpo_referent"]
    first = plan(client, tokens, clock.now + dt.timedelta(hours=1))
    client.post(
        f"{BASE}/{first['id']}/hold",
        json={"held_at": _iso(clock.now - dt.timedelta(days=2)), "present": ["pm-toulouse"]},
        headers=headers,
    )
    # Held now: nothing came in since the first (two days ago), the summary names nobody.
    second = plan(client, tokens, clock.now + dt.timedelta(hours=2))
    client.post(
        f"{BASE}/{second['id']}/hold",
        json={"present": ["pm-toulouse"], "minutes": "Rien de neuf ; suivi maintenu."},
        headers=headers,
    )
    clock.advance(hours=3)
    body = client.get(f"{BASE}/{second['id']}/minutes", headers=headers).get_json()
    assert body["version"] == "referent"
    assert body["incidents"] == []
    assert body["minutes"] == "Rien de neuf ; suivi maintenu."
    assert audits(db, "gpo.meeting.minutes.read") == []
    # The first one's minutes show the incidents since the journal's meeting: audited.
    assert client.get(f"{BASE}/{first['id']}/minutes", headers=headers).get_json()["incidents"]
    assert len(audits(db, "gpo.meeting.minutes.read")) == 1
