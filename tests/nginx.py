"""A real nginx for the tests: Debian's, started from the stack's own configuration
(deploy/nginx/nginx.conf) with the test's stack/ include (the API's address, the port,
the header and body timeouts), as a foreground process on a free port."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import require_program, running

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "nginx.conf"


def require_nginx() -> None:
    require_program(NGINX, "nginx-light")


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
    daemon = f"daemon off; pid {folder / 'nginx.pid'};"
    if os.geteuid() == 0:
        daemon += f" user {user};"
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]
    with (
        (folder / "stderr.log").open("wb") as errors,
        (folder / "access.log").open("wb") as out,
        running(
            [*command, "-g", daemon],
            ready=(folder / "nginx.pid").exists,
            log=folder / "stderr.log",
            seconds=20,
            stdout=out,
            stderr=errors,
        ) as process,
    ):
        yield process
