"""Virus scanning of attached files through a ClamAV daemon (``CLAMD_URL``), by the
maintained ``clamav-client``: the file's bytes are streamed to clamd (INSTREAM), so
clamd needs no access to the store.

Without ``CLAMD_URL`` nothing is scanned (docs/decisions.md). With it, a scanner that
cannot answer refuses the file (fail closed): an unscanned file is never visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clamav_client.scanner import get_scanner


class ScannerUnavailable(RuntimeError):
    """clamd could not be reached or did not finish the scan."""


@dataclass(frozen=True)
class VirusScanner:
    """clamd at ``address``: ``unix:///run/clamav/clamd.ctl``, a socket path, or
    ``tcp://host:3310``."""

    address: str
    timeout_seconds: float = 60.0

    @classmethod
    def from_url(cls, url: str) -> VirusScanner:
        for prefix in ("unix://", "tcp://"):
            if url.startswith(prefix):
                return cls(url[len(prefix) :])
        return cls(url)

    def threat(self, path: Path) -> str | None:
        """The name of what clamd found in the file, or None for a clean file."""
        scanner = get_scanner(
            {
                "backend": "clamd",
                "address": self.address,
                "timeout": self.timeout_seconds,
                "stream": True,
            }
        )
        result = scanner.scan(str(path))
        if result.state == "FOUND":
            return result.details or "unknown"
        if result.state != "OK":
            raise ScannerUnavailable(result.details or "no answer from clamd")
        return None
