"""Live pages: server-sent events read from the outbox, fanned out in each process.

One thread per process waits for new outbox rows (PostgreSQL ``NOTIFY`` at
commit, or a short poll on SQLite) and wakes every open stream of that process;
each stream then reads the rows after the last position it sent, for its own
scope. Streams of the same scope share that read: two hundred consoles of one
command centre cost one query per change, not two hundred. A browser that
reconnects sends ``Last-Event-ID`` and gets what it missed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from flask import Response, current_app, request, stream_with_context

from intake_service.feed import commit_listener, outbox
from intake_service.platform.db import Database

HEARTBEAT_SECONDS = 15.0
# Shared reads kept per process (scope × position); older generations are dropped.
SHARED_READS_MAX = 512

Read = Callable[[int], list[tuple[int, str, dict[str, Any]]]]


class LiveHub:
    """Wakes the streams of this process when the outbox grows."""

    def __init__(self, db: Database, poll_seconds: float = 0.25) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.changed = threading.Condition()
        self.generation = 0
        self.started = False
        self.lock = threading.Lock()
        self.stop = threading.Event()
        # (scope key, after position) → (generation, rows): one read per change and scope.
        self.reads: dict[tuple[Hashable, int], tuple[int, list[Any]]] = {}
        self.read_locks: dict[tuple[Hashable, int], threading.Lock] = {}

    def _ensure_started(self) -> None:
        with self.lock:
            if not self.started:
                threading.Thread(target=self._watch, name="live-hub", daemon=True).start()
                self.started = True

    def _watch(self) -> None:
        listener = commit_listener.CommitListener(self.db)
        last = -1
        while not self.stop.is_set():
            committed = listener.wait(self.poll_seconds, self.stop)
            try:
                with self.db.reading() as session:
                    position = outbox.last_position(session)
            except Exception:  # noqa: BLE001 - the database may be restarting: retry at the next tick
                time.sleep(self.poll_seconds)
                continue
            # A late commit (a position below the last) changes no maximum: its
            # notification still wakes the streams.
            if committed or position != last:
                last = position
                with self.changed:
                    self.generation += 1
                    self.changed.notify_all()

    def current(self) -> int:
        with self.changed:
            return self.generation

    def shared_read(self, key: Hashable, after: int, generation: int, read: Read) -> list[Any]:
        """``read(after)`` for ``key``, done once per generation by the first stream asking.

        A read done at generation *g* started after the outbox change that made *g*
        (the watcher bumps the generation only after the commit is visible), so it
        sees that change; a later change makes a new generation and a new read.
        """
        entry_key = (key, after)
        with self.lock:
            entry = self.reads.get(entry_key)
            if entry is not None and entry[0] >= generation:
                return entry[1]
            key_lock = self.read_locks.setdefault(entry_key, threading.Lock())
        with key_lock:  # the others of this scope wait for the first one's rows
            with self.lock:
                entry = self.reads.get(entry_key)
                if entry is not None and entry[0] >= generation:
                    return entry[1]
            try:
                rows = read(after)
            except BaseException:
                with self.lock:
                    self.read_locks.pop(entry_key, None)
                raise
            with self.lock:
                self.reads[entry_key] = (generation, rows)
                if len(self.reads) > SHARED_READS_MAX:
                    for stale in [k for k, (g, _) in self.reads.items() if g < generation]:
                        self.reads.pop(stale, None)
                        self.read_locks.pop(stale, None)
            return rows

    def wait(self, generation: int, timeout: float) -> int:
        self._ensure_started()
        with self.changed:
            self.changed.wait_for(lambda: self.generation != generation, timeout=timeout)
            return self.generation


def resume_position() -> int | None:
    """Where a browser resumes: ``Last-Event-ID`` (a reconnection) over ``?apres=``
    (the position the page was rendered at); None when neither is given."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("apres")):
        value = (raw or "").strip()
        if value.isdigit() and len(value) <= 18:
            return int(value)
    return None


def event_stream(db: Database, read: Read, *, shared_by: Hashable | None = None) -> Response:
    """The SSE response of a live page: from where the browser resumes, else from now.

    Streams given the same ``shared_by`` (the scope their ``read`` depends on)
    share each read.
    """
    after = resume_position()
    if after is None:
        with db.reading() as session:
            after = outbox.last_position(session)
    hub: LiveHub = current_app.extensions["intake.live"]
    response = Response(
        stream_with_context(stream(hub, after, read, shared_by=shared_by)),
        mimetype="text/event-stream",
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # no proxy buffering of a live stream
    return response


def sse(event_id: int | None, event: str, data: dict[str, Any]) -> str:
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines += [f"event: {event}", f"data: {json.dumps(data, ensure_ascii=False, default=str)}"]
    return "\n".join(lines) + "\n\n"


# Outbox positions are taken at insert and become visible at commit, so a
# transaction that commits late shows a position below one already sent. Each
# stream reads again the positions of the last few seconds and skips what it has
# sent: a late commit within that window is still delivered, once.
SETTLE_SECONDS = 10.0


def stream(
    hub: LiveHub,
    after: int,
    read: Read,
    *,
    max_seconds: float = 3600.0,
    shared_by: Hashable | None = None,
) -> Iterator[str]:
    """Events after ``after`` as SSE text; ``read(after)`` returns (position, event, data).

    Ends after ``max_seconds`` (the browser reconnects with Last-Event-ID), so a
    worker thread is never held forever by a forgotten tab.
    """
    yield "retry: 2000\n\n"
    generation = hub.current()
    started = time.monotonic()
    settled = after  # every position up to here has been dealt with for good
    recent: dict[int, float] = {}  # positions sent lately, and when
    while time.monotonic() - started < max_seconds:
        now = time.monotonic()
        for position in [p for p, sent_at in recent.items() if now - sent_at > SETTLE_SECONDS]:
            del recent[position]
            settled = max(settled, position)
        rows = (
            read(settled)
            if shared_by is None
            else hub.shared_read(shared_by, settled, generation, read)
        )
        for position, event, data in rows:
            if position in recent or position <= settled:
                continue
            recent[position] = time.monotonic()
            yield sse(position, event, data)
        generation = hub.wait(generation, HEARTBEAT_SECONDS)
        yield ": keep-alive\n\n"
