"""Live pages share their reads: one query per change and scope, however many streams."""

from __future__ import annotations

import threading
from typing import Any

from intake_service.web.live import LiveHub


class CountingRead:
    def __init__(self) -> None:
        self.calls: list[int] = []
        self.lock = threading.Lock()
        self.release = threading.Event()

    def __call__(self, after: int) -> list[tuple[int, str, dict[str, Any]]]:
        with self.lock:
            self.calls.append(after)
        self.release.wait(5)  # the other streams arrive while this read runs
        return [(after + 1, "incident", {"n": len(self.calls)})]


def hub() -> LiveHub:
    return LiveHub(db=None)  # type: ignore[arg-type]  # the watcher is never started here


def test_two_hundred_streams_of_one_scope_make_one_read_per_change() -> None:
    live, read = hub(), CountingRead()
    results: list[Any] = []

    def one_stream() -> None:
        results.append(live.shared_read(("console", "ddsp-31"), 10, 3, read))

    threads = [threading.Thread(target=one_stream) for _ in range(200)]
    for thread in threads:
        thread.start()
    read.release.set()
    for thread in threads:
        thread.join(5)
    assert read.calls == [10]
    assert len(results) == 200
    assert all(rows == [(11, "incident", {"n": 1})] for rows in results)


def test_a_new_change_another_scope_or_another_position_reads_again() -> None:
    live, read = hub(), CountingRead()
    read.release.set()
    live.shared_read("ddsp-31", 10, 3, read)
    live.shared_read("ddsp-31", 10, 3, read)  # the same change: shared
    live.shared_read("ddsp-31", 10, 2, read)  # an older change: the newer rows serve it
    live.shared_read("ddsp-31", 10, 4, read)  # a new change
    live.shared_read("ddsp-83", 10, 4, read)  # another scope
    live.shared_read("ddsp-31", 12, 4, read)  # a stream further on
    assert read.calls == [10, 10, 10, 12]
