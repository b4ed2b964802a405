"""Prometheus metrics: each process's own at ``/metrics``, the deployment's at
``/metrics/deployment``.

Counters and histograms are kept by the process that sees the event: an API
instance serves them at ``/metrics`` (summed over its gunicorn workers with
``PROMETHEUS_MULTIPROC_DIR``, as the deployment sets), a worker process on its own
``METRICS_PORT`` (``serving_process_metrics``), or what the relay and the consumers
count would die with them. Gauges that describe the deployment (outbox lag, queue
depths, webhook deliveries) and the appointment delays are read at scrape time from
the database and the broker, at ``/metrics/deployment`` only: Prometheus scrapes it
through one target (deploy/prometheus.yml), so the database is read once per
scrape however many instances run, and the gauges are never counted twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from intake_service.feed import outbox
from intake_service.models import (
    Appointment,
    AppointmentRequest,
    ComplaintSlot,
    Incident,
    OutboxEvent,
    WebhookDelivery,
)
from intake_service.platform.clock import utc_now
from intake_service.platform.config import Config
from intake_service.platform.db import Database

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "intake_http_requests_total",
    "HTTP requests by route and status.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "intake_http_request_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SUBMISSIONS = Counter("intake_submissions_total", "Sheets accepted, by priority.", ["priority"])
TIME_TO_ACKNOWLEDGEMENT = Histogram(
    "intake_time_to_acknowledgement_seconds",
    "From acceptance to the command centre's acknowledgement, by priority.",
    ["priority"],
    buckets=(15, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400),
)
TIME_TO_TAKE = Histogram(
    "intake_time_to_take_seconds",
    "From acceptance to a command-centre operator taking the incident, by priority.",
    ["priority"],
    buckets=(15, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400),
)
TIME_TO_DISPATCH = Histogram(
    "intake_time_to_dispatch_seconds",
    "From acceptance to a patrol dispatched, by priority.",
    ["priority"],
    buckets=(15, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400),
)


def observe_status_change(priority: str, status: str, waited_seconds: float) -> None:
    """The command centre's delays, once the change is committed (API and console)."""
    if status == "acknowledged":
        TIME_TO_ACKNOWLEDGEMENT.labels(priority).observe(waited_seconds)
    elif status == "dispatched":
        TIME_TO_DISPATCH.labels(priority).observe(waited_seconds)
    elif status == "taken":
        TIME_TO_TAKE.labels(priority).observe(waited_seconds)


CONSUMER_EVENTS = Counter(
    "intake_consumer_events_total",
    "Events handled by the service's own consumers: applied, duplicate, failed, unreadable.",
    ["consumer", "outcome"],
)
RELAYED = Counter("intake_relayed_events_total", "Events published to the feed, by type.", ["type"])
# --- Priority complaint appointments ---
# Read from the database at scrape time (``DeploymentCollector``): every booking
# counts, whichever path made it (the worker, a freed slot given to the queue, an
# accepted offer), and only once it is committed.
# In seconds, Prometheus' base unit: 2 h, 6 h, 12 h, 1 to 3 days, 5 days, 1 and 2 weeks…
APPOINTMENT_DELAY_BUCKETS = tuple(
    hours * 3600 for hours in (2, 6, 12, 24, 48, 72, 120, 168, 240, 336)
)


def _seconds_between(dialect: str, start: Any, end: Any) -> Any:
    """SQL for the seconds from ``start`` to ``end``, at least 0 (a slot before its sheet
    cannot be booked; the floor keeps a clock skew out of the buckets)."""
    if dialect == "sqlite":
        seconds = (func.julianday(end) - func.julianday(start)) * 86400
    else:
        seconds = func.extract("epoch", end - start)
    return case((seconds < 0, 0), else_=seconds)


class DeploymentCollector(Collector):
    """Gauges read from the database and the broker when Prometheus scrapes."""

    def __init__(self, db: Database, broker_url: str, namespace: str = "") -> None:
        self.db = db
        self.broker_url = broker_url
        self.namespace = namespace

    def collect(self) -> Iterator[Any]:
        now = utc_now()
        lag = GaugeMetricFamily(
            "intake_outbox_lag_seconds", "Age of the oldest event not yet published (0: none)."
        )
        unsent = GaugeMetricFamily("intake_outbox_unsent_events", "Events waiting for the relay.")
        webhooks = GaugeMetricFamily(
            "intake_webhook_deliveries", "Webhook deliveries by state.", labels=["state"]
        )
        services: list[str | None] = []
        try:
            with self.db.transaction() as session:
                age = outbox.oldest_unsent_age(session, now)
                lag.add_metric([], age.total_seconds() if age else 0.0)
                unsent.add_metric(
                    [],
                    session.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None))) or 0,
                )
                for state, count in session.execute(
                    select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)
                ):
                    webhooks.add_metric([state], count)
                since = now - dt.timedelta(days=1)
                services = list(
                    session.scalars(
                        select(OutboxEvent.service_code)
                        .where(OutboxEvent.created_at >= since)
                        .distinct()
                    )
                )
        except Exception as exc:  # noqa: BLE001 - a scrape reports what it can
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
        yield lag
        yield unsent
        yield webhooks
        yield self._appointment_delays()
        yield self._queue_depths(services)

    def _appointment_delays(self) -> HistogramMetricFamily:
        """From a sheet's acceptance to the start of its request's first appointment.

        Over every request that got one (a move or a cancellation later does not
        change it), so the buckets only grow, as a histogram's must.
        """
        family = HistogramMetricFamily(
            "intake_appointment_delay_seconds",
            "From the sheet's acceptance to the start of the first booked appointment, "
            "by priority.",
            labels=["priority"],
        )
        first = (
            select(func.min(Appointment.id).label("id")).group_by(Appointment.request_id).subquery()
        )
        try:
            with self.db.reading() as session:
                seconds = _seconds_between(
                    session.get_bind().dialect.name, Incident.received_at, ComplaintSlot.starts_at
                )
                # Counted by the database: the rows are never read into the process.
                rows = session.execute(
                    select(
                        AppointmentRequest.priority,
                        *(
                            func.sum(case((seconds <= bound, 1), else_=0))
                            for bound in APPOINTMENT_DELAY_BUCKETS
                        ),
                        func.count(),
                        func.sum(seconds),
                    )
                    .select_from(Appointment)
                    .join(first, first.c.id == Appointment.id)
                    .join(ComplaintSlot, ComplaintSlot.id == Appointment.slot_id)
                    .join(AppointmentRequest, AppointmentRequest.id == Appointment.request_id)
                    .join(Incident, Incident.id == AppointmentRequest.incident_id)
                    .group_by(AppointmentRequest.priority)
                    .order_by(AppointmentRequest.priority)
                ).all()
        except Exception as exc:  # noqa: BLE001 - a scrape reports what it can
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            return family
        for priority, *within, total, total_seconds in rows:
            buckets = [
                (str(float(bound)), float(count))
                for bound, count in zip(APPOINTMENT_DELAY_BUCKETS, within, strict=True)
            ]
            family.add_metric(
                [priority], [*buckets, ("+Inf", float(total))], sum_value=float(total_seconds)
            )
        return family

    def _queue_depths(self, services: list[str | None]) -> GaugeMetricFamily:
        depths = GaugeMetricFamily(
            "intake_feed_queue_depth", "Messages waiting in each service's feed.", labels=["queue"]
        )
        if not services:
            return depths
        from intake_service.feed.topology import connect, feed_queue

        try:
            with connect(self.broker_url) as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
                channel = connection.default_channel
                for service in services:
                    # A normal declare, as the relay does: passive fails on an empty Redis queue.
                    bound = feed_queue(service, self.namespace)(channel)
                    depths.add_metric([bound.name], bound.queue_declare().message_count)
        except Exception as exc:  # noqa: BLE001 - a scrape reports what it can
            log.warning("metrics: broker unavailable (%s)", type(exc).__name__)
        return depths


def process_registry(config: Config) -> CollectorRegistry:
    """This process's counters, or those of every process sharing the multiprocess dir."""
    if config.metrics_dir is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(config.metrics_dir))
    return registry


def process_exposition(config: Config) -> bytes:
    """The text of ``/metrics``: what this process (this instance's workers) counted."""
    return generate_latest(process_registry(config))


def deployment_exposition(config: Config, db: Database) -> bytes:
    """The text of ``/metrics/deployment``: the gauges read from the database and broker."""
    deployment = CollectorRegistry()
    deployment.register(DeploymentCollector(db, config.broker_url, config.broker_namespace))
    return generate_latest(deployment)


@contextlib.contextmanager
def serving_process_metrics(config: Config) -> Iterator[int | None]:
    """A worker process's counters on METRICS_PORT, while the block runs (none unset).

    Only the process's own: the deployment's gauges are the API's to serve once. A
    port that cannot be bound raises (OSError) before any work starts: a worker
    nobody can scrape would count in silence.
    """
    if config.metrics_port is None:
        yield None
        return
    server, thread = start_http_server(
        config.metrics_port, addr=config.metrics_host, registry=process_registry(config)
    )
    log.info("metrics on %s:%s", config.metrics_host, config.metrics_port)
    try:
        yield config.metrics_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
