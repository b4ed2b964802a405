"""Celery baseline for bench/feed_latency.py, end to end: the request, then a Celery worker.

The same endpoint as bench/baseline_celery.py (the body validated by
`schemas.sheet.SheetSchema`, one row inserted with the ORM and committed, then
`.delay()` on Celery with the same Redis), except that the task carries the
sheet's `operator_reference` and, when a Celery worker runs it, stamps its
receipt: the task pushes `[reference, clock]` to the Redis list `RECEIPTS`, where
the bench reads it. The clock is `time.perf_counter()`, CLOCK_MONOTONIC on Linux,
the same clock in every process of the machine, so it compares with the client's
send stamps.

    celery -A baseline_celery_e2e worker --pool solo --concurrency 1   # from bench/

Environment: DATABASE_URL, CELERY_BROKER_URL (Redis, its own db number),
BENCH_CONSUMER_MS (optional: work per message after the stamp, as the feed
consumer of the bench does).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import redis
from baseline_celery import CeleryIncident, celery, create_table
from flask import Flask, request
from marshmallow import ValidationError
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from schemas.sheet import SheetSchema

RECEIPTS = "bench:celery:receipts"
CONSUMER_SECONDS = float(os.environ.get("BENCH_CONSUMER_MS", "0") or 0) / 1000
_receipts: redis.Redis | None = None

__all__ = ["RECEIPTS", "celery", "create_app", "create_table", "incident_received"]


@celery.task(name="bench.incident_received")
def incident_received(incident_id: int, reference: str) -> None:
    """The consumer: stamp the receipt first, then do the consumer's work (if any)."""
    arrived = time.perf_counter()
    global _receipts
    if _receipts is None:
        _receipts = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    _receipts.rpush(RECEIPTS, json.dumps([reference, arrived]))
    if CONSUMER_SECONDS:
        time.sleep(CONSUMER_SECONDS)


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=False)
    schema = SheetSchema()

    @app.post("/api/v1/incidents")
    def submit() -> Any:
        payload = request.get_json()
        try:
            sheet = schema.load(payload)
        except ValidationError as error:
            return {"errors": error.messages}, 422
        with Session(engine, expire_on_commit=False) as session:
            incident = CeleryIncident(reference=sheet["operator_reference"], sheet=payload)
            session.add(incident)
            session.commit()
            incident_id = incident.id
        incident_received.delay(incident_id, sheet["operator_reference"])
        return {"id": incident_id, "operator_reference": sheet["operator_reference"]}, 202

    return app
