"""Runs several workers in one process, and stops them all cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from intake_service.deployment import metrics, status
from intake_service.platform import logs
from intake_service.platform.clock import utc_now
from intake_service.platform.config import Config
from intake_service.platform.db import Database
from intake_service.platform.file_store import FileStore

log = logging.getLogger(__name__)


class Worker(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


def build_workers(config: Config, db: Database, names: Sequence[str]) -> list[Worker]:
    from workers import linker  # GPO problems
    from workers.appointments import AppointmentWorker  # complaint appointments
    from workers.mailer import Mailer  # appointment emails
    from workers.notices import NoticeWorker  # functional-mailbox notices
    from workers.periodic import (
        DigestJob,
        DirectLineAlerts,
        Escalator,
        MeetingReminders,
        RetentionJob,
        WebhookSender,
    )
    from workers.relay import Relay

    factories: dict[str, Any] = {
        "relay": lambda: Relay(
            db,
            config.broker_url,
            batch_size=config.relay_batch_size,
            namespace=config.broker_namespace,
        ),
        "escalation": lambda: Escalator(db, delays=config.escalation_delays),
        "webhooks": lambda: WebhookSender(db, allow_private=config.webhook_allow_private),
        "retention": lambda: RetentionJob(
            db, keep_for=config.retention, files=FileStore(config.attachments_path)
        ),
        # Appointment emails.
        "mailer": lambda: Mailer(db, config.smtp_url, config.mail_from),
        # Links incidents to GPO problems.
        "linker": lambda: linker.build(db, config.broker_url, config.broker_namespace),
        # Books complaint appointments, releases unused reserved slots.
        "appointments": lambda: AppointmentWorker(config, db),
        # Functional-mailbox notices of incidents' events, and their daily digest.
        "notices": lambda: NoticeWorker(config, db),
        "digest": lambda: DigestJob(db, hour=config.digest_hour),
        # The direct line's alerts: CCTV erase deadlines, overdue requests for information.
        "direct-line-alerts": lambda: DirectLineAlerts(db, public_url=config.public_url),
        # The GPO referents' reminder before each meeting (once).
        "meeting-reminders": lambda: MeetingReminders(db, public_url=config.public_url),
    }
    names = list(names) or list(factories)
    unknown = [name for name in names if name not in factories]
    if unknown:
        raise ValueError(f"unknown worker(s): {', '.join(unknown)}; known: {', '.join(factories)}")
    return [factories[name]() for name in names]


def run_configured(config: Config, names: Sequence[str]) -> None:
    """Run the named workers (all when none) with logs on stderr, until SIGTERM/SIGINT.

    Raises ValueError, before starting anything, for an unknown worker name.
    """
    database = Database.from_config(config)
    try:
        workers = build_workers(config, database, names)
        logs.configure(config.log_level)
        # What the workers count (relayed events, consumer outcomes) is served by this
        # process on METRICS_PORT, or it would die with it; closed once they stopped.
        with metrics.serving_process_metrics(config):
            run_workers(workers, db=database)
    finally:
        database.dispose()


HEARTBEAT_SECONDS = 30.0


def _heartbeat(db: Database, names: list[str], stop: threading.Event) -> None:
    """Tell ``intake-service status`` these workers are alive, every HEARTBEAT_SECONDS."""
    started_at = utc_now()
    while not stop.is_set():
        try:
            with db.transaction() as session:
                for name in names:
                    status.beat(session, name, started_at=started_at, now=utc_now())
        except Exception:
            log.debug("heartbeat failed", exc_info=True)
        stop.wait(HEARTBEAT_SECONDS)


def _say_stopped(db: Database, names: list[str]) -> None:
    """A clean stop is not a silence: ``intake-service status`` says "stopped"."""
    try:
        with db.transaction() as session:
            for name in names:
                status.stopped(session, name, now=utc_now())
    except Exception:
        log.warning("could not record the workers' stop", exc_info=True)


def run_workers(
    workers: Sequence[Worker], stop: threading.Event | None = None, db: Database | None = None
) -> None:
    """Run each worker in a thread until SIGTERM/SIGINT (or ``stop``); then let each finish."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    threads = [
        threading.Thread(target=worker.run, args=(stop,), name=worker.name, daemon=True)
        for worker in workers
    ]
    if db is not None:
        names = [worker.name for worker in workers]
        threads.append(threading.Thread(target=_heartbeat, args=(db, names, stop), daemon=True))
    for thread in threads:
        thread.start()
    log.info("workers running: %s", ", ".join(worker.name for worker in workers))
    stop.wait()
    log.info("stopping workers")
    for thread in threads:
        thread.join(timeout=30)
    if db is not None:
        _say_stopped(db, [worker.name for worker in workers])
