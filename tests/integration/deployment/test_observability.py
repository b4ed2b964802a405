"""Request ids from the HTTP request to the feed, JSON logs, Prometheus metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from intake_service.models import OutboxEvent
from intake_service.platform import logs
from intake_service.territory import zones
from tests.brokers import broker_url, feed_reader, fresh_service_code
from tests.conftest import _truncate, app_config
from tests.factories import a_sheet, create_tokens


@pytest.fixture
def headers(db: Any, clock: Any) -> dict[str, dict[str, str]]:
    return create_tokens(db, clock.now)


def test_the_request_id_is_echoed_or_made_and_kept_with_the_event(
    app: Any, headers: Any, db: Any
) -> None:
    client = app.test_client()
    given = client.post(
        "/api/v1/incidents",
        json=a_sheet("RID-1"),
        headers={**headers["operator"], "X-Request-ID": "op-42.a"},
    )
    assert given.headers["X-Request-ID"] == "op-42.a"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces"
    assert len(made.headers["X-Request-ID"]) == 32
    with db.transaction() as session:
        event = session.scalars(select(OutboxEvent)).one()
    assert event.request_id == "op-42.a"


def test_the_relay_carries_the_request_id_in_the_message_headers(
    app: Any, headers: Any, db: Any, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("one backend is enough for the broker side")
    url = broker_url("redis")
    service = fresh_service_code()
    with db.transaction() as session:
        zones.replace_zones(session, [("31555", service, "DIPN 31 — test")])
    sheet = a_sheet("RID-2")
    sheet["location"]["insee_code"] = "31555"
    app.test_client().post(
        "/api/v1/incidents", json=sheet, headers={**headers["operator"], "X-Request-ID": "trace-7"}
    )
    from workers.relay import Relay

    relay = Relay(db, url)
    with feed_reader(url, service) as reader:
        assert relay.relay_batch() == 1
        _, message = reader.get()
    relay._reset()
    assert message.headers["request_id"] == "trace-7"


def test_logs_are_json_lines_with_the_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logs.configure("INFO")
        token = logs.request_id.set("abc123")
        logging.getLogger("intake_service.test").info("incident accepted")
        logs.request_id.reset(token)
    finally:
        root.handlers, _ = saved[0], root.setLevel(saved[1])
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "incident accepted"
    assert line["request_id"] == "abc123"
    assert line["level"] == "INFO"
    assert line["logger"] == "intake_service.test"


def test_metrics_count_requests_submissions_and_show_the_outbox_lag(
    app: Any, headers: Any, clock: Any
) -> None:
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    client.post("/api/v1/incidents", json=a_sheet("MET-1"), headers=headers["operator"])
    after = client.get("/metrics").get_data(as_text=True)
    deployment = client.get("/metrics/deployment").get_data(as_text=True)

    def value(text: str, name: str) -> float:
        for line in text.splitlines():
            if line.startswith(name + " ") or (
                line.startswith(name + "{") and line.split(" ")[0] == name
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    submitted = 'intake_submissions_total{priority="P1"}'
    assert value(after, submitted) == value(before, submitted) + 1
    route = 'intake_http_requests_total{method="POST",route="/api/v1/incidents",status="201"}'
    assert value(after, route) == value(before, route) + 1
    # The event waits for the relay (none runs here): the lag is the event's age.
    assert "intake_outbox_unsent_events 1.0" in deployment
    assert "intake_outbox_lag_seconds" in deployment
    assert "intake_feed_queue_depth" in deployment
    # The deployment's gauges once, on their own endpoint; the process's counters on theirs.
    assert "intake_outbox_unsent_events" not in after
    assert "intake_submissions_total" not in deployment


def test_metrics_show_the_delay_of_every_booking_whatever_made_it(
    app: Any, db: Any, clock: Any
) -> None:
    from tests.integration.appointments.test_booking import MONDAY, book, open_slots, setup, submit

    headers = setup(db, clock)
    waiting = submit(app, headers, "DELAY-1")
    assert book(db, waiting, clock.now) == [(0, "waiting")]  # no slot yet
    open_slots(db, clock, MONDAY)  # the new slots go to the queue first: booked there
    assert book(db, submit(app, headers, "DELAY-2"), clock.now) == [(0, "booked")]

    text = app.test_client().get("/metrics/deployment").get_data(as_text=True)
    # Accepted Saturday 17:30 UTC; slots Monday 9:00 and 9:30 in Paris (8:00 UTC).
    # In seconds, Prometheus' base unit: 1 day, 2 days; 38.5 h + 39 h.
    assert 'intake_appointment_delay_seconds_bucket{le="86400.0",priority="P1"} 0.0' in text
    assert 'intake_appointment_delay_seconds_bucket{le="172800.0",priority="P1"} 2.0' in text
    assert 'intake_appointment_delay_seconds_count{priority="P1"} 2.0' in text
    assert 'intake_appointment_delay_seconds_sum{priority="P1"} 279000.0' in text
    assert "intake_appointment_delay_hours" not in text


def test_metrics_answer_on_their_own_port_only(config: Any, clock: Any) -> None:
    from intake_service import create_app

    app = create_app(config.with_overrides({"metrics_port": 9100}), clock=clock)
    client = app.test_client()
    try:
        assert client.get("/metrics").status_code == 404  # the public port
        assert client.get("/metrics/deployment").status_code == 404
        private = client.get("/metrics", environ_overrides={"SERVER_PORT": "9100"})
        assert private.status_code == 200
        assert "intake_http_requests_total" in private.get_data(as_text=True)
        deployment = client.get("/metrics/deployment", environ_overrides={"SERVER_PORT": "9100"})
        assert deployment.status_code == 200
        assert "intake_outbox_unsent_events" in deployment.get_data(as_text=True)
        assert client.get("/healthz").status_code == 200
    finally:
        app.extensions["intake.db"].dispose()


def test_two_instances_read_the_deployment_gauges_once_per_scrape(
    postgres_database: str, tmp_path: Path, clock: Any
) -> None:
    """Each instance's /metrics holds its own counters only and asks the database nothing;
    the gauges read from the database are served once, by the one scrape of
    /metrics/deployment (deploy/prometheus.yml scrapes it through one target)."""
    from intake_service import create_app

    _truncate(postgres_database)
    apps = [
        create_app(
            app_config(postgres_database, tmp_path / f"instance-{n}", metrics_port=9100),
            clock=clock,
        )
        for n in range(2)
    ]
    statements: list[list[str]] = [[], []]
    for application, seen in zip(apps, statements, strict=True):

        def note(*args: Any, seen: list[str] = seen) -> None:
            seen.append(args[2])  # (connection, cursor, statement, ...)

        event.listen(application.extensions["intake.db"].engine, "before_cursor_execute", note)
    private = {"SERVER_PORT": "9100"}
    try:
        clients = [application.test_client() for application in apps]
        for client in clients:
            own = client.get("/metrics", environ_overrides=private)
            assert own.status_code == 200
            assert "intake_outbox_unsent_events" not in own.get_data(as_text=True)
        assert statements == [[], []]  # no instance's /metrics runs a query

        first = clients[0].get("/metrics/deployment", environ_overrides=private)
        assert first.status_code == 200
        text = first.get_data(as_text=True)
        for gauge in ("intake_outbox_unsent_events ", "intake_outbox_lag_seconds "):
            assert sum(line.startswith(gauge) for line in text.splitlines()) == 1, gauge
        per_scrape = len(statements[0])
        assert per_scrape > 0
        assert statements[1] == []  # the other instance did not read them too
        clients[0].get("/metrics/deployment", environ_overrides=private)
        assert len(statements[0]) == 2 * per_scrape  # once per scrape, no more
        assert statements[1] == []
    finally:
        for application in apps:
            application.extensions["intake.db"].dispose()
