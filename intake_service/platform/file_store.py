"""Where the attachments' bytes are kept: a folder of the instance (``ATTACHMENT_DIR``),
outside the web root, never served as static files.

A file is first written under ``.incoming/`` (``stage``), checked and cleaned there,
and moved to its key by one atomic rename (``publish``) only after the row naming it
has committed. A cut upload, a refused file or a rolled-back transaction leaves at most
an incoming file, removed by ``discard`` (or by ``sweep`` after a crash): no row, no
file under a key, nothing earlier touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

_CHUNK = 1024 * 1024
# Keys are ours (``<incident id>/<attachment id>``): never a name a caller chose.
_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}$")


@dataclass(frozen=True)
class Staged:
    """An incoming file, not yet under a key: its path, size and SHA-256."""

    path: Path
    size: int
    sha256: str


class FileStore:
    """A folder of files under keys, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / ".incoming"

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def stage(self, stream: IO[bytes], *, limit: int) -> Staged:
        """Copy ``stream`` to an incoming file, at most ``limit`` bytes (ValueError past it).

        Whatever goes wrong while reading (a client gone mid-way), the incoming file is
        removed before the error goes on.
        """
        self.incoming.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, name = tempfile.mkstemp(dir=self.incoming, prefix="upload-")
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(descriptor, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ValueError(f"more than {limit} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Staged(path, size, digest.hexdigest())

    def restage(self, staged: Staged, data: bytes) -> Staged:
        """Replace an incoming file's bytes (an image rewritten without its metadata)."""
        staged.path.write_bytes(data)
        return Staged(staged.path, len(data), hashlib.sha256(data).hexdigest())

    def publish(self, staged: Staged, key: str) -> None:
        """Move the incoming file under ``key``: one rename, on the same file system."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(staged.path, path)

    def discard(self, staged: Staged) -> None:
        staged.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """The file under ``key`` (FileNotFoundError when there is none)."""
        with self._path(key).open("rb") as file:
            yield file

    def path_of(self, key: str) -> Path:
        return self._path(key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file under ``key``; removing a missing one is not an error (idempotent)."""
        self._path(key).unlink(missing_ok=True)

    def sweep(self, older_than_seconds: float = 3600) -> int:
        """Remove incoming files left by a crash (older than any upload in flight)."""
        if not self.incoming.is_dir():
            return 0
        limit = time.time() - older_than_seconds
        removed = 0
        for path in self.incoming.iterdir():
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
