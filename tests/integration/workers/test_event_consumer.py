"""The internal consumers' base: each event applied once, with its effect, or not at all."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from kombu import Producer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake_service.access import audit
from intake_service.access.rules.permissions import Principal
from intake_service.feed.topology import connect, exchange, internal_queue, parked_queue
from intake_service.models import AppliedEvent, AuditEntry
from intake_service.platform.db import Database
from tests.brokers import broker_url, drop_namespace, fresh_namespace
from workers.consumer import EventConsumer, apply_once

PRINCIPAL = Principal(role="admin", scope="*", actor="consumer-test")


def an_envelope(incident_id: str = "inc-1") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "incident.submitted",
        "version": 1,
        "occurred_at": "2026-03-14T17:30:00Z",
        "payload": {"incident": {"id": incident_id}, "sequence": 1},
    }


def record_effect(session: Session, envelope: Mapping[str, Any]) -> None:
    audit.record(
        session,
        PRINCIPAL,
        "test.effect",
        "incident",
        envelope["payload"]["incident"]["id"],
        now=dt.datetime.now(dt.UTC),
    )


def effects(db: Database) -> int:
    with db.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "test.effect")
            )
            or 0
        )


def test_an_event_is_applied_once_however_often_it_comes(db: Database, clock: Any) -> None:
    envelope = an_envelope()
    assert apply_once(db, "linker", envelope, record_effect, clock.now) is True
    assert apply_once(db, "linker", envelope, record_effect, clock.now) is False
    assert effects(db) == 1
    # Another consumer applies it for itself.
    assert apply_once(db, "appointments", envelope, record_effect, clock.now) is True
    assert effects(db) == 2


def test_a_failed_handler_leaves_no_trace_and_the_event_can_be_applied_again(
    db: Database, clock: Any
) -> None:
    envelope = an_envelope()

    def failing(session: Session, envelope: Mapping[str, Any]) -> None:
        record_effect(session, envelope)
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        apply_once(db, "linker", envelope, failing, clock.now)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AppliedEvent)) == 0
    assert effects(db) == 0  # the effect was rolled back with the record
    assert apply_once(db, "linker", envelope, record_effect, clock.now) is True
    assert effects(db) == 1


@pytest.mark.parametrize("broker_name", ["redis", "rabbitmq"])
def test_the_consumer_drops_an_unreadable_message_and_goes_on(
    db: Database, broker_name: str
) -> None:
    url = broker_url(broker_name)
    namespace = fresh_namespace()
    consumer = EventConsumer("linker", db, url, record_effect, namespace=namespace)
    # The queue exists before anything is published to it (the relay declares it too).
    with connect(url) as connection:
        internal_queue("linker", namespace)(connection.default_channel).declare()
        producer = Producer(connection.default_channel, exchange=exchange(namespace))
        producer.publish(
            "{not json", routing_key="incident.submitted.ddsp-31.P1", content_type="text/plain"
        )
        producer.publish(
            json.dumps(an_envelope("inc-2")),
            routing_key="incident.submitted.ddsp-31.P1",
            content_type="application/json",
            content_encoding="utf-8",
        )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and effects(db) < 1:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
        drop_namespace(url, namespace)
        with connect(url) as connection:
            parked = parked_queue("linker", namespace)(connection.default_channel)
            message = parked.get(no_ack=True)
            parked.delete()
    assert effects(db) == 1
    assert consumer.applied == 1
    # The unreadable message was kept aside, with why, for a person to look at.
    assert message is not None
    assert message.body in ("{not json", b"{not json")
    assert "undecodable" in message.headers["parked_reason"]


@pytest.mark.parametrize("broker_name", ["redis", "rabbitmq"])
def test_a_poison_message_is_parked_after_five_tries_whatever_the_number_of_consumers(
    db: Database, broker_name: str
) -> None:
    """Two instances of one consumer share the message's failure count (in the database):
    five tries in all, not five each."""
    from workers.consumer import MAX_ATTEMPTS

    url = broker_url(broker_name)
    namespace = fresh_namespace()
    tries: list[str] = []
    lock = threading.Lock()

    def poison(session: Session, envelope: Mapping[str, Any]) -> None:
        with lock:
            tries.append(threading.current_thread().name)
        raise ValueError("this event breaks the handler every time")

    consumers = [EventConsumer("linker", db, url, poison, namespace=namespace) for _ in range(2)]
    with connect(url) as connection:
        internal_queue("linker", namespace)(connection.default_channel).declare()
        envelope = an_envelope("inc-poison")
        Producer(connection.default_channel, exchange=exchange(namespace)).publish(
            json.dumps(envelope),
            routing_key="incident.submitted.ddsp-31.P1",
            content_type="application/json",
            content_encoding="utf-8",
            message_id=envelope["id"],
        )
    stop = threading.Event()
    threads = [
        threading.Thread(target=c.run, args=(stop,), daemon=True, name=f"consumer-{n}")
        for n, c in enumerate(consumers)
    ]
    for thread in threads:
        thread.start()
    parked_message = None
    try:
        deadline = time.monotonic() + 40
        with connect(url) as connection:
            parked = parked_queue("linker", namespace)(connection.default_channel)
            while time.monotonic() < deadline and parked_message is None:
                parked.declare()
                parked_message = parked.get(no_ack=True)
                time.sleep(0.2)
        time.sleep(1.0)  # a sixth try would come now
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        drop_namespace(url, namespace)
    assert parked_message is not None
    assert f"failed {MAX_ATTEMPTS} times" in parked_message.headers["parked_reason"]
    assert len(tries) == MAX_ATTEMPTS, tries
