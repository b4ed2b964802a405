"""A real nginx for the tests: Debian's, started from the stack's own configuration
(deploy/nginx/nginx.conf) with the test's stack/ include (the API's address, the port,
the header and body timeouts), as a foreground process on a free port."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import IN_CI

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "nginx.conf"


def require_nginx() -> None:
    if not Path(NGINX).is_file():
        message = "nginx is not installed (apt-get install nginx-light)"
        if IN_CI:
            pytest.fail(f"{message}; CI=true requires it (./dev test installs it).", pytrace=False)
        pytest.skip(message)


@contextmanager
def nginx(
    folder: Path, port: int, upstream_port: int, header_timeout: str = "10s"
) -> Iterator[subprocess.Popen[bytes]]:
    """nginx on 127.0.0.1:port in front of 127.0.0.1:upstream_port, logs in ``folder``."""
    require_nginx()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFIG, folder / "nginx.conf")  # its includes are read next to it
    (folder / "stack").mkdir(exist_ok=True)
    (folder / "stack" / "upstream.conf").write_text(f"server 127.0.0.1:{upstream_port};\n")
    (folder / "stack" / "listen.conf").write_text(
        f"listen 127.0.0.1:{port};\n"
        f"client_header_timeout {header_timeout};\n"
        f"client_body_timeout {header_timeout};\n"
        # Debian's compiled-in temporary folders belong to www-data: the test's own.
        f"client_body_temp_path {folder / 'body'};\n"
        f"proxy_temp_path {folder / 'proxy'};\n"
    )
    user = pwd.getpwuid(os.geteuid()).pw_name  # the workers' user when run as root
    with (folder / "stderr.log").open("wb") as errors, (folder / "access.log").open("wb") as out:
        daemon = f"daemon off; pid {folder / 'nginx.pid'};"
        if os.geteuid() == 0:
            daemon += f" user {user};"
        command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]
        process = subprocess.Popen(
            [*command, "-g", daemon],
            stdout=out,
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + 20
        while not (folder / "nginx.pid").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "stderr.log").read_text(errors="replace")
                pytest.fail(f"nginx did not start: {log[-2000:]}", pytrace=False)
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
