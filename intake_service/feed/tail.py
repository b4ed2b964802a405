"""Reading a service's feed from the command line, for operators and integrators."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from kombu import Connection, Consumer, Message, Queue

from intake_service.feed.topology import connect, exchange, feed_queue, is_amqp, is_redis, qualified

# On Redis a tap queue says it is alive with a key its run renews; a run killed
# without cleaning up (SIGKILL) leaves a binding that would copy every message of
# the feed into a list nobody reads: ``prune_dead_taps`` removes it once the key
# has expired. RabbitMQ deletes an exclusive queue with its connection.
TAP_PREFIX = "tail."
TAP_ALIVE_SECONDS = 30
TAP_RENEW_SECONDS = 10.0


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


@contextlib.contextmanager
def _redis(connection: Connection) -> Iterator[Any]:
    """A Redis client from the pool of kombu's channel: not ``channel.client``, whose
    connection may be waiting on the consumer's BRPOP (its reply would be read as ours)."""
    channel: Any = connection.default_channel
    with channel.conn_or_acquire() as client:
        yield client


def _renew(connection: Connection, bound: Any) -> None:
    """Say the tap is alive; if its key had expired (the run was suspended for more
    than TAP_ALIVE_SECONDS), a pruner may have unbound it: bind it again."""
    with _redis(connection) as client:
        was_alive = client.set(_alive_key(bound.name), "1", ex=TAP_ALIVE_SECONDS, get=True)
    if was_alive is None:
        # kombu's channel still holds the binding in memory and would skip a plain
        # queue_bind: write it to Redis as kombu does (private, pinned and tested).
        channel: Any = connection.default_channel
        name = bound.exchange.name
        meta = channel.typeof(name).prepare_bind(
            bound.name, name, bound.routing_key, bound.binding_arguments
        )
        channel._queue_bind(name, *meta)


def _alive_key(queue_name: str) -> str:
    return f"{queue_name}.alive"


def prune_dead_taps(connection: Connection, namespace: str = "") -> list[str]:
    """Unbind and empty the tap queues of ``feed tail`` runs that died (Redis only)."""
    if not is_redis(connection):
        return []
    channel: Any = connection.default_channel
    exchange_name = exchange(namespace).name
    prefix = qualified(TAP_PREFIX, namespace)
    pruned = []
    with _redis(connection) as client:
        for routing_key, pattern, queue in channel.get_table(exchange_name):
            if queue.startswith(prefix) and not client.exists(_alive_key(queue)):
                # kombu's own unbinding (private: kombu is pinned below 6 and
                # tests/integration/feed/test_feed_tail.py checks it): the binding and the
                # queue's priority lists.
                channel._delete(queue, exchange_name, routing_key, pattern)
                pruned.append(queue)
    return pruned


def _tap_queue(connection: Connection, service_code: str, namespace: str) -> Queue:
    """A private queue bound like the feed: sees new messages, takes none from the feed."""
    name = qualified(
        f"{TAP_PREFIX}{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}", namespace
    )
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
    tap = not consume and is_redis(connection)
    if tap:
        prune_dead_taps(connection, namespace)
    bound = queue(connection.default_channel)
    if tap:
        # Alive before it is bound: a pruner must never find it bound and silent.
        with _redis(connection) as client:
            client.set(_alive_key(bound.name), "1", ex=TAP_ALIVE_SECONDS)
    renewed = time.monotonic()
    try:
        with Consumer(
            connection, [bound], callbacks=[on_message], accept=["json"], prefetch_count=10
        ):
            if on_ready is not None:
                on_ready(bound.name)
            while count == 0 or seen < count:
                if tap and time.monotonic() - renewed > TAP_RENEW_SECONDS:
                    _renew(connection, bound)
                    renewed = time.monotonic()
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
        if tap:
            with _redis(connection) as client:
                client.delete(_alive_key(bound.name))
        # Interrupted mid-poll (Ctrl-C, SIGTERM), kombu may fail to close the
        # connection: the process is leaving and the broker drops it anyway.
        with contextlib.suppress(Exception):
            connection.release()


def follow_outbox(
    db: Any,
    service_code: str,
    *,
    count: int = 0,
    on_ready: Callable[[str], None] | None = None,
    poll_seconds: float = 0.5,
) -> Iterator[str]:
    """The embedded broker's tail without --ack: the events the relay has put on the
    service's feed, read from the outbox (new ones only, as a tap queue would see them).

    kombu's SQLAlchemy transport keeps an exchange's bindings in each process's memory:
    a tap queue bound here would never be seen by the relay's process.
    """
    from sqlalchemy import func, select

    from intake_service.feed.topology import routing_key
    from intake_service.models import OutboxEvent

    with db.transaction() as session:
        last = int(session.scalar(select(func.max(OutboxEvent.position))) or 0)
    if on_ready is not None:
        on_ready(f"the outbox of {service_code} (embedded broker)")
    seen = 0
    waiting: list[int] = []  # positions written but not relayed yet: shown once relayed
    while count == 0 or seen < count:
        with db.transaction() as session:
            rows = session.execute(
                select(
                    OutboxEvent.position,
                    OutboxEvent.envelope,
                    OutboxEvent.event_type,
                    OutboxEvent.priority,
                    OutboxEvent.sent_at,
                )
                .where(
                    OutboxEvent.service_code == service_code,
                    (OutboxEvent.position > last) | OutboxEvent.position.in_(waiting),
                )
                .order_by(OutboxEvent.position)
            ).all()
        for position, envelope, event_type, priority, sent_at in rows:
            last = max(last, position)
            if sent_at is None:
                if position not in waiting:
                    waiting.append(position)
                continue
            if position in waiting:
                waiting.remove(position)
            seen += 1
            yield describe(envelope, routing_key(event_type, service_code, priority))
            if count and seen >= count:
                return
        time.sleep(poll_seconds)
