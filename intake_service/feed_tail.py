"""Reading a service's feed from the command line, for operators and integrators."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from kombu import Connection, Consumer, Message, Queue

from intake_service.messaging import connect, exchange, feed_queue, is_amqp


class BrokerUnavailable(RuntimeError):
    pass


def describe(envelope: dict[str, Any], routing_key: str) -> str:
    """One line per message: when, what, priority, incident, operator, status."""
    incident = envelope.get("payload", {}).get("incident", {})
    return "  ".join(
        str(part)
        for part in (
            envelope.get("occurred_at", "?"),
            envelope.get("type", "?"),
            incident.get("priority", "?"),
            incident.get("id", "?"),
            incident.get("operator", "?"),
            incident.get("status", "?"),
            incident.get("sheet", {}).get("primary_nature", "?"),
            routing_key,
        )
    )


def _tap_queue(connection: Connection, service_code: str, namespace: str) -> Queue:
    """A private queue bound like the feed: sees new messages, takes none from the feed."""
    name = f"tail.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    return Queue(
        name,
        exchange(namespace),
        routing_key=f"incident.*.{service_code}.*",
        exclusive=is_amqp(connection),
        auto_delete=True,
        durable=False,
    )


def tail(
    url: str,
    service_code: str,
    *,
    consume: bool,
    count: int = 0,
    on_ready: Callable[[str], None] | None = None,
    namespace: str = "",
) -> Iterator[str]:
    """Yield a line per message until ``count`` messages (0: forever).

    ``on_ready(queue name)`` is called once the queue is bound and consumed.
    """
    connection = connect(url)
    try:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    except Exception as exc:
        raise BrokerUnavailable(type(exc).__name__) from exc
    queue = (
        feed_queue(service_code, namespace)
        if consume
        else _tap_queue(connection, service_code, namespace)
    )
    lines: list[str] = []

    def on_message(body: Any, message: Message) -> None:
        envelope = json.loads(body) if isinstance(body, str | bytes) else body
        lines.append(describe(envelope, message.delivery_info.get("routing_key", "")))
        message.ack()

    seen = 0
    bound = queue(connection.default_channel)
    try:
        with Consumer(
            connection, [bound], callbacks=[on_message], accept=["json"], prefetch_count=10
        ):
            if on_ready is not None:
                on_ready(bound.name)
            while count == 0 or seen < count:
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:
                    continue
                while lines and (count == 0 or seen < count):
                    seen += 1
                    yield lines.pop(0)
    finally:
        if not consume:
            # Redis keeps an auto-delete queue's binding after the consumer leaves.
            bound.delete()
        connection.release()
