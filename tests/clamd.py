"""A real ClamAV daemon for the tests: Debian's clamd, started on a private socket with
a signature database of one signature, EICAR's (freshclam never runs: no network)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import require_program, running

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
# The antivirus test file (eicar.org): every scanner names it, it harms nothing.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The socket of a clamd started for this test session."""
    require_program(CLAMD, "clamav-daemon")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    # A body signature, matched anywhere in any file (a PDF carrying it included).
    (folder / "db" / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n")
    socket_path = folder / "clamd.sock"
    config = folder / "clamd.conf"
    config.write_text(
        "Foreground yes\n"
        f"LocalSocket {socket_path}\n"
        f"DatabaseDirectory {folder / 'db'}\n"
        f"LogFile {folder / 'clamd.log'}\n"
        f"PidFile {folder / 'clamd.pid'}\n"
        "StreamMaxLength 100M\nMaxFileSize 100M\nMaxScanSize 100M\n"
    )
    with running(
        [CLAMD, "-c", str(config)], ready=socket_path.exists, log=folder / "clamd.log", seconds=60
    ):
        yield socket_path
