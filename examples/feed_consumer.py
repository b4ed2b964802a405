"""An example consumer of the command-centre feed, for integrators (see docs/feed.md).

    python examples/feed_consumer.py --broker redis://127.0.0.1:6379/0 --service ddsp-31

It reads the durable queue ``feed.<service>`` with kombu, highest priority
first, hands each incident to ``handle`` and acknowledges the message only
after ``handle`` returned. Delivery is at least once: an event may come twice
(after a relay or a network failure), so it remembers the ids it has handled,
in a small SQLite file, and skips a repeat. Needs only ``kombu[redis]``
(or ``kombu`` alone for RabbitMQ).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import Any

from kombu import Connection, Exchange, Queue
from kombu.mixins import ConsumerMixin

EXCHANGE = Exchange("incidents", type="topic", durable=True)


def feed_queue(service: str) -> Queue:
    # Declared exactly as the service declares it (same name, binding and max priority).
    return Queue(
        f"feed.{service}",
        EXCHANGE,
        routing_key=f"incident.*.{service}.*",
        durable=True,
        max_priority=4,
    )


class SeenEvents:
    """Event ids already handled, kept across restarts."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY)")

    def seen(self, event_id: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM seen WHERE id = ?", (event_id,)).fetchone() is not None
        )

    def remember(self, event_id: str) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO seen (id) VALUES (?)", (event_id,))


def handle(envelope: dict[str, Any]) -> None:
    """Your integration goes here: create or update the event in your CAD system."""
    incident = envelope["payload"]["incident"]
    sheet = incident["sheet"]
    print(
        envelope["type"],
        incident["priority"],
        incident["id"],
        incident["status"],
        sheet["primary_nature"],
        sheet["location"].get("stop_id") or sheet["location"].get("insee_code") or "",
        flush=True,
    )


class FeedConsumer(ConsumerMixin):
    def __init__(self, connection: Connection, service: str, seen: SeenEvents, limit: int) -> None:
        self.connection = connection
        self.queue = feed_queue(service)
        self.seen = seen
        self.limit = limit
        self.handled = 0

    def get_consumers(self, Consumer: Any, channel: Any) -> list[Any]:
        # prefetch 1: the broker hands over the next message, by priority, only
        # when this one is done, so a P1 overtakes the P4s still queued.
        return [
            Consumer(
                queues=[self.queue], accept=["json"], callbacks=[self.on_message], prefetch_count=1
            )
        ]

    def on_message(self, body: Any, message: Any) -> None:
        try:
            envelope = json.loads(body) if isinstance(body, str | bytes) else body
            event_id = envelope["id"]
        except (ValueError, KeyError, TypeError):
            print("unreadable message: rejected", file=sys.stderr)
            message.reject()  # never retried forever
            return
        if envelope.get("version") != 1:
            # Give your queue a dead-letter exchange to keep these for a newer consumer.
            print(f"unknown envelope version {envelope.get('version')}: rejected", file=sys.stderr)
            message.reject()
            return
        if not self.seen.seen(event_id):
            handle(envelope)  # make it idempotent too: a crash before remember() repeats it
            self.seen.remember(event_id)
        message.ack()  # last: a crash before this line means redelivery, never loss
        self.handled += 1
        if self.limit and self.handled >= self.limit:
            self.should_stop = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", required=True, help="kombu URL: redis://… or amqp://…")
    parser.add_argument("--service", required=True, help="your service code, e.g. ddsp-31")
    parser.add_argument("--seen", default="seen-events.sqlite", help="where handled ids are kept")
    parser.add_argument("--count", type=int, default=0, help="stop after this many messages")
    args = parser.parse_args()
    with Connection(args.broker) as connection:
        FeedConsumer(connection, args.service, SeenEvents(args.seen), args.count).run()


if __name__ == "__main__":
    main()
