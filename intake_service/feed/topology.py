"""The message feed's topology, in one place: exchange, queues, routing keys, priorities.

``incidents`` is a durable topic exchange. Every event is published with the
routing key ``incident.<event>.<service_code>.<priority>``; each competent
service has a durable queue ``feed.<service_code>`` bound to
``incident.*.<service_code>.*``, and incidents that could not be routed go to
``feed.unrouted``. The service's own consumers (the GPO linker, the
appointment booker) each have a durable queue ``internal.<name>`` bound to the
events they apply, whatever the service. Priority travels as broker priority: RabbitMQ delivers the
highest number first (queues declared with ``x-max-priority``); kombu's Redis
transport emulates priorities with one list per step and delivers the lowest
number first, so the numbers depend on the transport.

Deployments sharing one broker (staging beside production, or the test suite)
set ``BROKER_NAMESPACE``: every exchange and queue name is then prefixed with
``<namespace>.`` (``staging.incidents``, ``staging.feed.ddsp-83``), so nothing
crosses from one to the other. Without it the names are as above.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kombu import Connection, Exchange, Producer, Queue, binding

from intake_service.territory.rules.routing import UNROUTED_SERVICE


def qualified(name: str, namespace: str = "") -> str:
    """``name`` in the deployment's namespace on the broker (itself when none is set)."""
    return f"{namespace}.{name}" if namespace else name


def exchange(namespace: str = "") -> Exchange:
    return Exchange(qualified("incidents", namespace), type="topic", durable=True)


EXCHANGE = exchange()
MAX_PRIORITY = 4
AMQP_PRIORITY = {"P1": 4, "P2": 3, "P3": 2, "P4": 1}
# kombu's virtual transports (Redis) pop priority step 0 first; default steps are 0, 3, 6, 9.
VIRTUAL_PRIORITY = {"P1": 0, "P2": 3, "P3": 6, "P4": 9}
CONTENT_TYPE = "application/json"


def routing_key(event_type: str, service_code: str | None, priority: str) -> str:
    """``incident.submitted`` for ``ddsp-83`` at P1 → ``incident.submitted.ddsp-83.P1``."""
    event = event_type.removeprefix("incident.")
    return f"incident.{event}.{service_code or UNROUTED_SERVICE}.{priority}"


def feed_queue_name(service_code: str | None, namespace: str = "") -> str:
    return qualified(f"feed.{service_code or UNROUTED_SERVICE}", namespace)


def feed_queue(service_code: str | None, namespace: str = "") -> Queue:
    """The durable priority queue of one service's feed (or of the unrouted ones)."""
    code = service_code or UNROUTED_SERVICE
    return Queue(
        feed_queue_name(code, namespace),
        exchange(namespace),
        routing_key=f"incident.*.{code}.*",
        durable=True,
        max_priority=MAX_PRIORITY,
    )


# The service's own consumers and the events each applies (workers/consumer.py).
INTERNAL_CONSUMERS: dict[str, tuple[str, ...]] = {
    "linker": ("incident.submitted", "incident.amended"),
    # A withdrawal ends the incident's requests and frees its slots (appointments.py).
    "appointments": ("incident.submitted", "incident.amended", "incident.withdrawn"),
    # Functional-mailbox notices: new P1/P2, rejections, escalations (workers/notices.py).
    "notices": (
        "incident.submitted",
        "incident.amended",
        "incident.status_changed",
        "incident.escalated",
    ),
}


def internal_queue(name: str, namespace: str = "") -> Queue:
    """The durable queue of one of the service's own consumers, bound to its events."""
    bindings = [
        binding(exchange(namespace), routing_key=f"{event}.*.*")
        for event in INTERNAL_CONSUMERS[name]
    ]
    return Queue(
        qualified(f"internal.{name}", namespace),
        bindings=bindings,
        durable=True,
        max_priority=MAX_PRIORITY,
    )


def parked_queue(name: str, namespace: str = "") -> Queue:
    """Where a consumer puts the messages it cannot apply, for a person to look at."""
    parked = qualified(f"internal.{name}.parked", namespace)
    return Queue(parked, Exchange(""), routing_key=parked, durable=True)


def is_amqp(connection: Connection) -> bool:
    return bool(connection.transport.driver_type == "amqp")


def is_redis(connection: Connection) -> bool:
    return bool(connection.transport.driver_type == "redis")


def broker_priority(connection: Connection, priority: str) -> int:
    table = AMQP_PRIORITY if is_amqp(connection) else VIRTUAL_PRIORITY
    return table[priority]


# On Redis a message taken but never acknowledged (its consumer was killed) is given
# to a consumer again after this long; RabbitMQ does it as soon as the connection drops.
REDIS_VISIBILITY_SECONDS = 60.0


def connect(url: str, *, visibility_timeout: float = REDIS_VISIBILITY_SECONDS) -> Connection:
    """A connection to the broker; on RabbitMQ, publishes wait for the broker's confirm."""
    options: dict[str, Any] = {}
    if url.startswith(("amqp", "pyamqp")):
        options["confirm_publish"] = True
    if url.startswith(("redis", "rediss")):
        options["visibility_timeout"] = visibility_timeout
    return Connection(url, transport_options=options, connect_timeout=5)


class FeedPublisher:
    """Publishes envelopes to the feed; declares each service's queue before its first message.

    The queue must exist before the message: on Redis a message that matches no
    binding is silently dropped. The internal consumers' queues are declared with
    the first publish, so their events wait for them even before they first run.
    """

    def __init__(self, connection: Connection, namespace: str = "") -> None:
        self.connection = connection
        self.namespace = namespace
        self.producer = Producer(connection.default_channel, exchange=exchange(namespace))
        self.declared: set[str] = set()

    def publish(
        self,
        envelope: Mapping[str, Any],
        *,
        service_code: str | None,
        priority: str,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        if "internal" not in self.declared:
            for name in INTERNAL_CONSUMERS:
                internal_queue(name, self.namespace)(self.producer.channel).declare()
            self.declared.add("internal")
        queue_name = feed_queue_name(service_code, self.namespace)
        if queue_name not in self.declared:
            feed_queue(service_code, self.namespace)(self.producer.channel).declare()
            self.declared.add(queue_name)
        self.producer.publish(
            json.dumps(envelope, ensure_ascii=False),
            routing_key=routing_key(envelope["type"], service_code, priority),
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            delivery_mode=2,
            priority=broker_priority(self.connection, priority),
            message_id=envelope["id"],
            headers={"event_type": envelope["type"], **(headers or {})},
            retry=False,
        )
