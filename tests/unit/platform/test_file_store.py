"""The attachments' store: incoming files, one rename under a key of ours, idempotent
deletes, and the sweep of what a crash left."""

from __future__ import annotations

import io
import os
import time
import uuid
from pathlib import Path

import pytest

from intake_service.platform.file_store import FileStore


def test_a_file_is_under_its_key_only_once_published(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    staged = store.stage(io.BytesIO(b"abc"), limit=10)
    assert staged.size == 3
    key = f"{uuid.uuid4()}/{uuid.uuid4()}"
    assert not store.exists(key)
    store.publish(staged, key)
    assert store.exists(key)
    assert not staged.path.exists()
    store.discard(staged)  # after the publish: nothing to remove
    with store.open(key) as file:
        assert file.read() == b"abc"
    store.delete(key)
    store.delete(key)  # idempotent
    assert not store.exists(key)


def test_over_the_limit_nothing_stays(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with pytest.raises(ValueError, match="more than 2 bytes"):
        store.stage(io.BytesIO(b"abc"), limit=2)
    assert list(store.incoming.iterdir()) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "a/b", "x" * 73, ""])
def test_only_keys_of_ours(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        FileStore(tmp_path).path_of(key)


def test_the_sweep_removes_old_incoming_files_only(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    old = store.stage(io.BytesIO(b"old"), limit=10)
    fresh = store.stage(io.BytesIO(b"new"), limit=10)
    long_ago = time.time() - 7200
    os.utime(old.path, (long_ago, long_ago))
    assert store.sweep(older_than_seconds=3600) == 1
    assert not old.path.exists()
    assert fresh.path.exists()
