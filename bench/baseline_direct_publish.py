"""Baseline for bench/feed_latency.py: the obvious shortcut, publishing from the request.

A bare Flask endpoint that reads the JSON body and publishes it with kombu
straight to the broker (pooled producer), then answers 202: no validation, no
database, no outbox. Served by gunicorn with the same settings as the service.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from flask import Flask, request
from kombu import Connection, Exchange, Queue

EXCHANGE = Exchange("incidents", type="topic", durable=True)


def create_app() -> Flask:
    app = Flask(__name__)
    connection = Connection(os.environ["BROKER_URL"])
    service = os.environ["BENCH_SERVICE"]
    queue = Queue(
        f"feed.{service}",
        EXCHANGE,
        routing_key=f"incident.*.{service}.*",
        durable=True,
        max_priority=4,
    )
    producer = connection.Producer(exchange=EXCHANGE)
    queue(producer.channel).declare()

    @app.post("/api/v1/incidents")
    def submit() -> Any:
        sheet = request.get_json()
        envelope = {
            "id": sheet["operator_reference"],
            "type": "incident.submitted",
            "version": 1,
            "occurred_at": time.time(),
            "payload": {
                "incident": {"operator_reference": sheet["operator_reference"], "sheet": sheet}
            },
        }
        producer.publish(
            json.dumps(envelope),
            routing_key=f"incident.submitted.{service}.P1",
            content_type="application/json",
            delivery_mode=2,
            priority=0,
        )
        return {"accepted": True}, 202

    return app
