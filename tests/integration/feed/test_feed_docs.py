"""docs/feed.md stays true: its example envelope validates, its tables match the code,
and its example consumer really consumes the feed of a real broker."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from intake_service.feed.topology import AMQP_PRIORITY, VIRTUAL_PRIORITY, connect, feed_queue
from schemas.messages import EVENT_TYPES, EnvelopeSchema
from schemas.sheet import evaluated_at
from tests.brokers import broker_url, fresh_service_code

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "feed.md").read_text()


def test_the_documented_envelope_is_valid() -> None:
    example = json.loads(re.findall(r"```json\n(.*?)```", DOC, flags=re.S)[0])
    with evaluated_at(dt.datetime.fromisoformat(example["occurred_at"])):
        assert EnvelopeSchema().validate(example) == {}


def test_the_documented_priorities_are_the_ones_published() -> None:
    rabbit = re.search(r"\| RabbitMQ \| (\d) \| (\d) \| (\d) \| (\d) \|", DOC)
    redis = re.search(r"\| Redis \(kombu\) \| (\d) \| (\d) \| (\d) \| (\d) \|", DOC)
    assert rabbit is not None
    assert redis is not None
    assert [int(n) for n in rabbit.groups()] == [AMQP_PRIORITY[p] for p in ("P1", "P2", "P3", "P4")]
    assert [int(n) for n in redis.groups()] == [
        VIRTUAL_PRIORITY[p] for p in ("P1", "P2", "P3", "P4")
    ]


def test_every_event_type_is_documented() -> None:
    for event_type in EVENT_TYPES:
        assert f"`{event_type}`" in DOC


@pytest.mark.parametrize("broker_name", ["redis", "rabbitmq"])
def test_the_example_consumer_consumes_deduplicates_and_acks(
    broker_name: str, tmp_path: Path
) -> None:
    url = broker_url(broker_name)
    service = fresh_service_code()
    envelope: dict[str, Any] = json.loads(re.findall(r"```json\n(.*?)```", DOC, flags=re.S)[0])
    connection = connect(url)
    try:
        from intake_service.feed.topology import FeedPublisher

        publisher = FeedPublisher(connection)
        for _ in range(2):  # the same event twice, as after a relay restart
            publisher.publish(envelope, service_code=service, priority="P1")
        second = {**envelope, "id": "00000000-0000-4000-8000-000000000002"}
        publisher.publish(second, service_code=service, priority="P1")
        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "feed_consumer.py"),
                "--broker",
                url,
                "--service",
                service,
                "--seen",
                str(tmp_path / "seen.sqlite"),
                "--count",
                "3",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        handled = [line for line in result.stdout.splitlines() if line.startswith("incident.")]
        assert len(handled) == 2  # the repeat was skipped
        incident_id = envelope["payload"]["incident"]["id"]
        assert all(incident_id in line for line in handled)
        remaining = feed_queue(service)(connection.default_channel).queue_declare(passive=False)
        assert remaining.message_count == 0  # all acknowledged
    finally:
        feed_queue(service)(connection.default_channel).delete()
        connection.release()
