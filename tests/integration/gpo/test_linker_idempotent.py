"""The linker applies each event once and is idempotent on its own; amendments re-evaluate
its proposals without touching a person's decisions; a watched problem reopens; strong
matches are confirmed when the GPO asks for it.

Each test on SQLite and PostgreSQL; the redelivery test on PostgreSQL + Redis.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from intake_service.access.rules.permissions import Principal
from intake_service.feed.topology import FeedPublisher, connect
from intake_service.gpo import gpos, linker, problems
from intake_service.gpo.links import confirm, read_incident, reject
from intake_service.models import (
    Gpo,
    OutboxEvent,
    Problem,
    ProblemJournalEntry,
    ProblemLink,
    ProblemScopeKey,
)
from intake_service.platform.db import Database
from intake_service.platform.errors import Forbidden, NotFound
from tests.brokers import broker_url, drop_namespace, fresh_namespace
from tests.factories import a_sheet, create_tokens
from workers.consumer import apply_once
from workers.linker import build

REFERENT = Principal(role="gpo_referent", scope="gpo-toulouse", actor="test referent")
STOP = "stop_point:SP_1121"
SCOPE = {
    "stops": [{"operator": "tisseo", "stop_id": STOP}],
    "natures": ["projectile"],
}


def setup(app: Any, clock: Any, *, auto_confirm: bool = False, scope: Any = None) -> Any:
    db: Database = app.extensions["intake.db"]
    headers = create_tokens(db, clock.now)
    with db.transaction() as session:
        gpos.add_gpo(
            session,
            "gpo-toulouse",
            "GPO Toulouse",
            services=[],
            operators=["tisseo"],
            auto_confirm_strong=auto_confirm,
            now=clock.now,
        )
        problem = problems.create_problem(
            session,
            REFERENT,
            "gpo-toulouse",
            {"title": "Jets de pierres", "scope": scope or SCOPE, "partners": []},
            clock.now,
        )
        problem_id = problem.id
    return db, headers, problem_id


def submit(app: Any, headers: Any, reference: str, nature: str = "projectile") -> str:
    sheet = a_sheet(reference, natures=[nature], primary_nature=nature)
    response = app.test_client().post("/api/v1/incidents", json=sheet, headers=headers["operator"])
    assert response.status_code == 201, response.get_json()
    incident_id: str = response.get_json()["id"]
    return incident_id


def amend(app: Any, headers: Any, incident_id: str, nature: str) -> None:
    response = app.test_client().post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json={"natures": [nature], "primary_nature": nature},
        headers=headers["operator"],
    )
    assert response.status_code == 200, response.get_json()


def last_event(db: Database, incident_id: str) -> dict[str, Any]:
    with db.reading() as session:
        envelope = session.scalars(
            select(OutboxEvent.envelope)
            .where(
                OutboxEvent.incident_id == incident_id,
                OutboxEvent.event_type.in_(["incident.submitted", "incident.amended"]),
            )
            .order_by(OutboxEvent.position.desc())
        ).first()
    assert envelope is not None
    return dict(envelope)


def apply(db: Database, envelope: dict[str, Any], now: dt.datetime) -> bool:
    return apply_once(
        db,
        "linker",
        envelope,
        lambda s, e: linker.relink_incident(s, str(e["payload"]["incident"]["id"]), now=now),
        now,
    )


def state_of(db: Database) -> list[tuple[Any, ...]]:
    """Everything the linker may write, to compare before and after."""
    with db.reading() as session:
        links = session.execute(
            select(
                ProblemLink.problem_id,
                ProblemLink.incident_id,
                ProblemLink.state,
                ProblemLink.origin,
                ProblemLink.reasons,
                ProblemLink.decided_by,
            ).order_by(ProblemLink.id)
        ).all()
        journal = session.scalar(select(func.count()).select_from(ProblemJournalEntry))
        states = session.execute(select(Problem.id, Problem.state).order_by(Problem.id)).all()
    return [*map(tuple, links), ("journal", journal), *map(tuple, states)]


def links_of(db: Database, incident_id: str) -> list[tuple[str, str, str | None]]:
    with db.reading() as session:
        rows = session.execute(
            select(ProblemLink.state, ProblemLink.origin, ProblemLink.decided_by).where(
                ProblemLink.incident_id == incident_id
            )
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_same_event_twice_changes_nothing(app: Any, clock: Any) -> None:
    db, headers, _ = setup(app, clock)
    incident_id = submit(app, headers, "IDEM-1")
    envelope = last_event(db, incident_id)
    assert apply(db, envelope, clock.now) is True
    after_first = state_of(db)
    assert links_of(db, incident_id) == [("proposed", "matcher", None)]
    # Delivered again: recognised by its id.
    assert apply(db, envelope, clock.now) is False
    # The handler alone, again (another event id, same facts): nothing changes either.
    for _ in range(2):
        with db.transaction() as session:
            linker.relink_incident(
                session, str(envelope["payload"]["incident"]["id"]), now=clock.now
            )
    assert state_of(db) == after_first


def test_an_amendment_withdraws_and_reproposes_but_never_touches_a_decision(
    app: Any, clock: Any
) -> None:
    db, headers, problem_id = setup(app, clock)
    withdrawn = submit(app, headers, "AMEND-1")
    decided = submit(app, headers, "AMEND-2")
    for incident_id in (withdrawn, decided):
        assert apply(db, last_event(db, incident_id), clock.now)
    with db.transaction() as session:
        reject(session, REFERENT, problem_id, decided, "pas lié", clock.now)

    # Out of scope after amendment: the linker's proposal is withdrawn, the person's
    # rejection stays as it was.
    for incident_id in (withdrawn, decided):
        amend(app, headers, incident_id, "vandalism")
        assert apply(db, last_event(db, incident_id), clock.now)
    assert links_of(db, withdrawn) == [("rejected", "matcher", "linker")]
    assert links_of(db, decided) == [("rejected", "matcher", "test referent")]
    with db.reading() as session:
        texts = session.scalars(
            select(ProblemJournalEntry.text).where(ProblemJournalEntry.kind == "link")
        ).all()
    assert any("ne correspond plus" in text for text in texts)

    # Back in scope: proposed again; the rejected one stays rejected.
    for incident_id in (withdrawn, decided):
        amend(app, headers, incident_id, "projectile")
        assert apply(db, last_event(db, incident_id), clock.now)
    assert links_of(db, withdrawn) == [("proposed", "matcher", None)]
    assert links_of(db, decided) == [("rejected", "matcher", "test referent")]

    # A confirmed link is kept whatever the amendment says.
    with db.transaction() as session:
        confirm(session, REFERENT, problem_id, withdrawn, clock.now)
    amend(app, headers, withdrawn, "drugs")
    assert apply(db, last_event(db, withdrawn), clock.now)
    assert links_of(db, withdrawn) == [("confirmed", "matcher", "test referent")]


def test_a_watched_problem_reopens_on_an_incident_in_its_scope(app: Any, clock: Any) -> None:
    db, headers, problem_id = setup(app, clock)
    with db.transaction() as session:
        problem = session.get(Problem, problem_id)
        assert problem is not None
        problem.state = "watch"
        problem.watch_until = clock.now + dt.timedelta(days=90)
        problems.reindex(session, problem)
    incident_id = submit(app, headers, "WATCH-1")
    assert apply(db, last_event(db, incident_id), clock.now)
    with db.reading() as session:
        problem = session.get(Problem, problem_id)
        assert problem is not None
        assert problem.state == "analysis"
        entry = session.scalars(
            select(ProblemJournalEntry)
            .where(ProblemJournalEntry.kind == "state_change")
            .order_by(ProblemJournalEntry.id.desc())
        ).first()
        assert entry is not None
        assert (entry.author, entry.detail["from"], entry.detail["to"]) == (
            "linker",
            "watch",
            "analysis",
        )
        keys = session.scalars(
            select(ProblemScopeKey.key).where(ProblemScopeKey.problem_id == problem_id)
        ).all()
        assert keys == [f"stop:tisseo:{STOP}+nature:projectile"]
    assert links_of(db, incident_id) == [("proposed", "matcher", None)]


def test_a_watch_that_has_ended_does_not_reopen(app: Any, clock: Any) -> None:
    db, headers, problem_id = setup(app, clock)
    with db.transaction() as session:
        problem = session.get(Problem, problem_id)
        assert problem is not None
        problem.state = "watch"
        problem.watch_until = clock.now - dt.timedelta(days=1)
    incident_id = submit(app, headers, "WATCH-2")
    assert apply(db, last_event(db, incident_id), clock.now)
    with db.reading() as session:
        problem = session.get(Problem, problem_id)
        assert problem is not None
        assert problem.state == "watch"


@pytest.mark.parametrize("auto_confirm", [True, False])
def test_strong_matches_are_confirmed_when_the_gpo_asks(
    app: Any, clock: Any, auto_confirm: bool
) -> None:
    db, headers, problem_id = setup(app, clock, auto_confirm=auto_confirm)
    with db.transaction() as session:
        weak = problems.create_problem(
            session,
            REFERENT,
            "gpo-toulouse",
            {
                "title": "Jets autour du point",
                "scope": {
                    "point": {"lat": 43.5839, "lon": 1.4435, "radius_m": 300},
                    "natures": ["projectile"],
                },
                "partners": [],
            },
            clock.now,
        )
        weak_id = weak.id
    incident_id = submit(app, headers, "STRONG-1")
    assert apply(db, last_event(db, incident_id), clock.now)
    with db.reading() as session:
        found = {
            link.problem_id: (link.state, link.origin, link.strong)
            for link in session.scalars(select(ProblemLink))
        }
        gpo = session.get(Gpo, "gpo-toulouse")
        assert gpo is not None
    assert found[weak_id] == ("proposed", "matcher", False)
    if auto_confirm:
        assert found[problem_id] == ("confirmed", "automatic", True)
    else:
        assert found[problem_id] == ("proposed", "matcher", True)


def test_a_redelivered_message_is_applied_once(pg_app: Any, clock: Any) -> None:
    broker = broker_url("redis")
    namespace = fresh_namespace()
    db, headers, _ = setup(pg_app, clock)
    incident_id = submit(pg_app, headers, "REDELIVER-1")
    envelope = last_event(db, incident_id)
    with connect(broker) as connection:
        publisher = FeedPublisher(connection, namespace)
        for _ in range(2):
            publisher.publish(envelope, service_code=None, priority="P1")
    consumer = build(db, broker, namespace)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while consumer.applied + consumer.duplicates < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
        drop_namespace(broker, namespace, (None,))
    assert (consumer.applied, consumer.duplicates) == (1, 1)
    assert links_of(db, incident_id) == [("proposed", "matcher", None)]


def test_decisions_over_http_answer_404_409_and_journal_each_one(app: Any, clock: Any) -> None:
    db, headers, problem_id = setup(app, clock)
    incident_id = submit(app, headers, "HTTP-1")
    assert apply(db, last_event(db, incident_id), clock.now)
    client, referent = app.test_client(), headers["gpo_referent"]
    base = f"/api/v1/problems/{problem_id}/links"
    unknown = client.post(f"{base}/00000000-0000-0000-0000-000000000000/confirm", headers=referent)
    assert unknown.status_code == 404
    assert client.delete(f"{base}/{incident_id}", headers=referent).status_code == 409
    rejected = client.post(f"{base}/{incident_id}/reject", json={"reason": "non"}, headers=referent)
    assert rejected.status_code == 200
    assert rejected.get_json()["state"] == "rejected"
    again = client.post(f"{base}/{incident_id}/reject", json={}, headers=referent)
    assert again.status_code == 409
    assert again.headers["Content-Type"].startswith("application/problem+json")
    # A manual link overrides the rejection; unlinking then takes it out.
    linked = client.post(base, json={"incident_id": incident_id}, headers=referent)
    assert linked.status_code == 201
    assert linked.get_json()["state"] == "confirmed"
    unlinked = client.delete(f"{base}/{incident_id}", headers=referent)
    assert unlinked.status_code == 200
    assert unlinked.get_json()["state"] == "unlinked"
    bad = client.post(base, json={"incident_id": "<script>"}, headers=referent)
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "incident_id"
    with db.reading() as session:
        kinds = session.scalars(
            select(ProblemJournalEntry.detail).where(ProblemJournalEntry.kind == "link")
        ).all()
    assert [detail["state"] for detail in kinds] == ["rejected", "confirmed", "unlinked"]
    # The linker, run again, leaves the person's decision alone.
    assert apply(db, last_event(db, incident_id) | {"id": "another-delivery"}, clock.now)
    [(state, origin, decided_by)] = links_of(db, incident_id)
    assert (state, origin) == ("unlinked", "matcher")
    assert decided_by is not None
    assert "gpo_referent" in decided_by


def test_only_the_gpo_referent_reads_an_incident_of_its_gpo(app: Any, clock: Any) -> None:
    db, headers, _ = setup(app, clock)
    incident_id = submit(app, headers, "READ-1")
    partner = Principal(role="gpo_partner", scope="gpo-toulouse", actor="partner")
    other = Principal(role="gpo_referent", scope="gpo-var", actor="other referent")
    with db.transaction() as session:
        with pytest.raises(Forbidden):
            read_incident(session, partner, "gpo-toulouse", incident_id, clock.now)
        with pytest.raises(NotFound):
            read_incident(session, other, "gpo-toulouse", incident_id, clock.now)
        with pytest.raises(NotFound):
            read_incident(session, REFERENT, "gpo-toulouse", "missing", clock.now)
        found = read_incident(session, REFERENT, "gpo-toulouse", incident_id, clock.now)
        assert found.id == incident_id
