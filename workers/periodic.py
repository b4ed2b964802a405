"""Workers that run a database job at a steady pace: escalation, retention, webhook
delivery, the functional mailboxes' daily digest, the direct line's alerts and the GPO
meetings' reminders."""

from __future__ import annotations

import collections
import datetime as dt
import functools
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from intake_service.access import retention
from intake_service.command_centre import escalation
from intake_service.direct_line import cctv, messages
from intake_service.directory import digest
from intake_service.directory.rules.digest import is_due
from intake_service.feed import webhook_transport, webhooks
from intake_service.gpo import meetings
from intake_service.platform.clock import utc_now
from intake_service.platform.db import Database
from intake_service.platform.file_store import FileStore

log = logging.getLogger(__name__)

# Webhook deliveries in flight at once, per sender, and of one operator among them.
PARALLEL_SENDS = 8
PER_OPERATOR_SENDS = 2
# One incident's deliveries claimed at once, sent in order on one connection.
DELIVERIES_PER_CONNECTION = 4


class PeriodicJob(ABC):
    """A job run every ``interval_seconds`` until stopped: ``run_once`` does one round in
    its own transactions and returns what it did; ``done`` says it in a log line (None:
    nothing worth a line). A failed round (the database down) is retried at the next."""

    name: str
    interval_seconds: float

    @abstractmethod
    def run_once(self) -> Any:
        """One round; what it did, for ``done``."""

    def done(self, result: Any) -> str | None:
        return None

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                said = self.done(self.run_once())
                if said:
                    log.info("%s: %s", self.name, said)
            except Exception as exc:  # noqa: BLE001 - database down: retry at the next tick
                log.warning("%s failed (%s); retrying", self.name, type(exc).__name__)
            stop.wait(self.interval_seconds)


class Escalator(PeriodicJob):
    """Every few seconds, escalates incidents left unacknowledged past their delay."""

    name = "escalation"

    def __init__(
        self,
        db: Database,
        *,
        delays: Mapping[str, dt.timedelta] = escalation.DEFAULT_DELAYS,
        interval_seconds: float = 5.0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.db = db
        self.delays = delays
        self.interval_seconds = interval_seconds
        self.clock = clock

    def run_once(self) -> list[str]:
        with self.db.transaction() as session:
            return escalation.escalate_overdue(session, self.clock(), self.delays)

    def done(self, result: list[str]) -> str | None:
        return f"{len(result)} incidents escalated" if result else None


class RetentionJob(PeriodicJob):
    """Once an hour, pseudonymises what the retention setting says is due, deletes its
    attached files, and removes the incoming files a crash left in the store."""

    name = "retention"

    def __init__(
        self,
        db: Database,
        *,
        keep_for: dt.timedelta,
        interval_seconds: float = 3600.0,
        clock: Callable[[], dt.datetime] = utc_now,
        files: FileStore | None = None,
    ) -> None:
        self.db = db
        self.files = files
        self.keep_for = keep_for
        self.interval_seconds = interval_seconds
        self.clock = clock

    def run_once(self) -> retention.RetentionReport:
        with self.db.transaction() as session:
            report = retention.run_retention(
                session,
                self.clock(),
                self.keep_for,
                files=self.files,
                before_pseudonymising=meetings.forget_incident,
            )
        if self.files is not None:
            self.files.sweep()
        return report

    def done(self, result: retention.RetentionReport) -> str | None:
        return f"{len(result.incidents)} incidents pseudonymised" if result.incidents else None


class DigestJob(PeriodicJob):
    """Every few minutes from ``hour`` (Europe/Paris) on, writes the day's digests.

    ``send_digests`` sends each entity's digest once a day whatever the number of runs
    or of jobs, so a restart past the hour, or a second job, sends nothing twice.
    """

    name = "digest"

    def __init__(
        self,
        db: Database,
        *,
        hour: int,
        interval_seconds: float = 300.0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.db = db
        self.hour = hour
        self.interval_seconds = interval_seconds
        self.clock = clock

    def run_once(self) -> list[int]:
        now = self.clock()
        if not is_due(now, self.hour):
            return []
        with self.db.transaction() as session:
            return digest.send_digests(session, now)

    def done(self, result: list[int]) -> str | None:
        return f"{len(result)} daily digests written" if result else None


class DirectLineAlerts(PeriodicJob):
    """Every 30 seconds, the direct line's alerts to the functional mailboxes: CCTV
    requisitions 24 h and 2 h before the footage is erased, requests for information
    unanswered past their due time. Each notice is written once (its dedup key), so a
    second job or a run after a restart writes nothing twice."""

    name = "direct-line-alerts"

    def __init__(
        self,
        db: Database,
        *,
        public_url: str,
        interval_seconds: float = 30.0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.db = db
        self.public_url = public_url
        self.interval_seconds = interval_seconds
        self.clock = clock

    def run_once(self) -> tuple[int, int]:
        """The CCTV alerts and the overdue requests found, each in its own transaction."""
        with self.db.transaction() as session:
            footage = cctv.alert_due(session, self.clock(), self.public_url)
        with self.db.transaction() as session:
            overdue = messages.notice_overdue_requests(session, self.clock(), self.public_url)
        return footage, overdue

    def done(self, result: tuple[int, int]) -> str | None:
        footage, overdue = result
        if not (footage or overdue):
            return None
        return f"{footage} CCTV alerts, {overdue} overdue requests"


class WebhookSender:
    """Sends due webhook deliveries; a slow or failing operator endpoint delays only itself.

    At most ``PARALLEL_SENDS`` connections at once, of which ``PER_OPERATOR_SENDS`` per
    operator (one incident's deliveries go on one, in order): an operator whose endpoint
    trickles or hangs fills only its own share, and the others' deliveries go out beside
    it at once. A send starts as soon as a share is free, not after the slowest of a
    batch.
    """

    name = "webhooks"

    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = PARALLEL_SENDS,
        timeout_seconds: float = 5.0,
        interval_seconds: float = 1.0,
        allow_private: bool = False,
        clock: Callable[[], dt.datetime] = utc_now,
        resolver: webhooks.Resolver = webhooks.resolve,
    ) -> None:
        self.db = db
        self.allow_private = allow_private
        self.resolver = resolver
        self.batch_size = min(batch_size, PARALLEL_SENDS)
        self.timeout_seconds = timeout_seconds
        self.interval_seconds = interval_seconds
        self.clock = clock
        self.pool = ThreadPoolExecutor(PARALLEL_SENDS, thread_name_prefix="webhook")
        # What is in flight in this process: connections per operator, and the incidents
        # whose next delivery waits for the one being sent.
        self.lock = threading.Lock()
        self.sending_by_operator: collections.Counter[int] = collections.Counter()
        self.sending_incidents: set[str] = set()
        self.share_freed = threading.Event()

    @property
    def lease(self) -> dt.timedelta:
        """Long enough for one incident's claimed deliveries, sent one after the other,
        each within its deadline (they start at once: a thread is free for them)."""
        return dt.timedelta(seconds=self.timeout_seconds * DELIVERIES_PER_CONNECTION + 30)

    def start_due(self) -> list[Future[int]]:
        """Claim what is due and start sending it; return the sends started."""
        with self.lock:
            free = min(self.batch_size, PARALLEL_SENDS - sum(self.sending_by_operator.values()))
            room = {
                operator_id: PER_OPERATOR_SENDS - sending
                for operator_id, sending in self.sending_by_operator.items()
                if sending
            }
            busy = set(self.sending_incidents)
        if free <= 0:
            return []
        with self.db.transaction() as session:
            claimed = webhooks.claim_due(
                session,
                self.clock(),
                free,
                self.lease,
                per_operator=PER_OPERATOR_SENDS,
                per_incident=DELIVERIES_PER_CONNECTION,
                room=room,
                skip_incidents=busy,
            )
        # One incident's deliveries go in order, one after the other (the operator
        # must not see "acknowledged" before "queued"); incidents go side by side.
        by_incident: dict[str, list[webhooks.ClaimedDelivery]] = {}
        for delivery in claimed:
            by_incident.setdefault(delivery.incident_id, []).append(delivery)
        started = []
        for incident_id, deliveries in by_incident.items():
            operator_id = deliveries[0].operator_id
            with self.lock:
                self.sending_by_operator[operator_id] += 1
                self.sending_incidents.add(incident_id)
            sending = self.pool.submit(self._send_in_order, deliveries)
            sending.add_done_callback(functools.partial(self._done, operator_id, incident_id))
            started.append(sending)
        return started

    def send_due(self) -> int:
        """Send what is due now and wait for it; return how many deliveries were attempted."""
        started = self.start_due()
        attempted = 0
        for sending in started:
            attempted += sending.result()
        return attempted

    def _done(self, operator_id: int, incident_id: str, _sending: Any) -> None:
        with self.lock:
            self.sending_by_operator[operator_id] -= 1
            self.sending_incidents.discard(incident_id)
        self.share_freed.set()

    def _send_in_order(self, deliveries: list[webhooks.ClaimedDelivery]) -> int:
        for delivery in deliveries:
            self._send(delivery.id, delivery.url, delivery.secret, delivery.body, delivery.event_id)
        return len(deliveries)

    def _send(
        self, delivery_id: int, url: str, secret: str, body: bytes, message_id: str = ""
    ) -> None:
        timestamp = str(int(self.clock().timestamp()))
        status_code, error = None, None
        try:
            # Checked again at each send (the name may resolve elsewhere by now), and
            # the POST goes to the addresses checked, within one total deadline.
            addresses = webhooks.addresses_for(
                url, allow_private=self.allow_private, resolver=self.resolver
            )
            status_code = webhook_transport.post(
                url,
                body,
                webhooks.signed_headers(secret, message_id or str(delivery_id), timestamp, body),
                addresses=addresses,
                deadline_seconds=self.timeout_seconds,
            )
        except (webhooks.WebhookRefused, webhook_transport.DeliveryFailed) as exc:
            error = str(exc)[:500]
        with self.db.transaction() as session:
            webhooks.record_attempt(
                session, delivery_id, now=self.clock(), status_code=status_code, error=error
            )

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.share_freed.clear()
            try:
                started = self.start_due()
            except Exception as exc:  # noqa: BLE001 - database down: retry at the next tick
                log.warning("webhooks failed (%s); retrying", type(exc).__name__)
                started = []
            if not started:
                # Nothing due, or every share in use: until a send ends or the next tick.
                self.share_freed.wait(self.interval_seconds)
        # In-flight sends end within their deadline and record their attempt.
        self.pool.shutdown(wait=True)


class MeetingReminders(PeriodicJob):
    """Every five minutes, reminds each GPO's referents of a meeting within 48 hours, once
    per meeting (``meetings.send_due_reminders``: ``reminded_at``, rows locked), so a
    second job or a run after a restart reminds nobody twice."""

    name = "meeting-reminders"

    def __init__(
        self,
        db: Database,
        *,
        public_url: str,
        interval_seconds: float = 300.0,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.db = db
        self.public_url = public_url
        self.interval_seconds = interval_seconds
        self.clock = clock

    def run_once(self) -> list[str]:
        with self.db.transaction() as session:
            return meetings.send_due_reminders(session, self.clock(), self.public_url)

    def done(self, result: list[str]) -> str | None:
        return f"{len(result)} referents' reminders written" if result else None
