"""Baseline (b) for bench/intake_throughput.py: the obvious alternative a team would write.

The same body validated by a marshmallow schema (the service's own
`schemas.sheet.SheetSchema`), one row inserted with the SQLAlchemy ORM and
committed, then handed to Celery with `.delay()` on the same Redis. No priority,
no routing, no outbox. Served by gunicorn with the same settings as the service;
no Celery worker is needed to measure intake throughput.

Environment: DATABASE_URL (the bench database, table created by
`create_table`), CELERY_BROKER_URL (Redis, its own db number).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from flask import Flask, request
from marshmallow import ValidationError
from sqlalchemy import BigInteger, String, create_engine
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from schemas.sheet import SheetSchema


class Base(DeclarativeBase):
    pass


class CeleryIncident(Base):
    __tablename__ = "celery_incidents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    sheet: Mapped[dict[str, Any]] = mapped_column(JSONB)


celery = Celery("bench_intake", broker=os.environ.get("CELERY_BROKER_URL"))


@celery.task(name="bench.process_incident")
def process_incident(incident_id: int) -> None:
    """Would route and notify; never run during the throughput measure."""


def create_table(database_url: str) -> None:
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()


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
        process_incident.delay(incident_id)
        return {"id": incident_id, "operator_reference": sheet["operator_reference"]}, 202

    return app
