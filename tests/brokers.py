"""Helpers for tests on a real broker: a fresh service code, a consumer that reads a feed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kombu import Connection

from intake_service.feed.topology import INTERNAL_CONSUMERS, connect, feed_queue, internal_queue
from tests.conftest import RABBITMQ_URL, REDIS_URL, require_service

BROKERS = {"redis": ("Redis", 6379, REDIS_URL), "rabbitmq": ("RabbitMQ", 5672, RABBITMQ_URL)}


def broker_url(name: str) -> str:
    label, port, url = BROKERS[name]
    require_service(label, "127.0.0.1", port)
    return url


def fresh_service_code(department: str = "31") -> str:
    """A service code no other test (or earlier run) uses: each test has its own feed queue."""
    return f"t{uuid.uuid4().hex[:8]}-{department}"


def fresh_namespace() -> str:
    """A broker namespace of the test's own: its internal queues see only its events."""
    return f"t{uuid.uuid4().hex[:10]}"


def drop_namespace(url: str, namespace: str, service_codes: tuple[str | None, ...] = ()) -> None:
    """Delete the namespace's internal queues and the given feeds (the broker outlives tests)."""
    with connect(url) as connection:
        channel = connection.default_channel
        for name in INTERNAL_CONSUMERS:
            internal_queue(name, namespace)(channel).delete()
        for code in service_codes:
            feed_queue(code, namespace)(channel).delete()


@contextmanager
def feed_reader(url: str, service_code: str | None) -> Iterator[FeedReader]:
    connection = connect(url)
    reader = FeedReader(connection, service_code)
    try:
        yield reader
    finally:
        try:
            feed_queue(service_code)(connection.default_channel).delete()
        finally:
            connection.release()


class FeedReader:
    """Reads one service's feed queue like a command centre's system would: get, then ack."""

    def __init__(self, connection: Connection, service_code: str | None) -> None:
        self.connection = connection
        self.queue = feed_queue(service_code)(connection.default_channel)
        self.queue.declare()

    def get(self, timeout: float = 5.0) -> tuple[dict[str, Any], Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.queue.get(no_ack=False, accept=["json"])
            if message is not None:
                message.ack()
                body = message.body if isinstance(message.body, str) else message.body.decode()
                return json.loads(body), message
            time.sleep(0.02)
        pytest.fail(f"no message on {self.queue.name} within {timeout} s")

    def drain(self, quiet: float = 0.5) -> list[dict[str, Any]]:
        """Every message until the queue stays empty for ``quiet`` seconds."""
        envelopes = []
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            message = self.queue.get(no_ack=False, accept=["json"])
            if message is None:
                time.sleep(0.02)
                continue
            message.ack()
            body = message.body if isinstance(message.body, str) else message.body.decode()
            envelopes.append(json.loads(body))
            last = time.monotonic()
        return envelopes
