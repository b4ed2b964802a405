"""Real programs the tests start themselves (clamd, nginx, PgBouncer): found or refused
the same way, started, waited for, stopped."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import IN_CI


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def require_program(path: str, package: str) -> None:
    """Skip without the program, fail under CI=true (``./dev test`` installs it)."""
    if not Path(path).is_file():
        message = f"{Path(path).name} is not installed (apt-get install {package})"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it (./dev test installs it).", pytrace=False)
        pytest.skip(message)


@contextmanager
def running(
    command: Sequence[str],
    *,
    ready: Callable[[], bool],
    log: Path,
    seconds: float,
    stdout: IO[Any] | int = subprocess.DEVNULL,
    stderr: IO[Any] | int = subprocess.DEVNULL,
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running until the block ends, once ``ready()``; a start that fails or
    takes longer than ``seconds`` fails the test with the end of ``log``."""
    process = subprocess.Popen(list(command), stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + seconds
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else ""
                name = Path(command[0]).name
                pytest.fail(f"{name} did not start: {text[-2000:]}", pytrace=False)
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
