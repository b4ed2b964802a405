"""A real PgBouncer for the tests: Debian's, in transaction pooling mode, in front of the
machine's PostgreSQL (its own ini, port and process: the packaged service is never used).
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, require_service
from tests.processes import free_port, listening, require_program, running

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# Fewer server connections than the app's pool has clients: connections are shared
# between clients statement after statement, as in production.
SERVER_POOL_SIZE = 2


def through_pooler(url: str, port: int) -> str:
    """The same database as ``url``, reached through the PgBouncer on ``port``."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pgbouncer_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a PgBouncer (transaction mode) started for this test session."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_program(PGBOUNCER, "pgbouncer")
    server = make_url(POSTGRES_URL)
    # The tests' PostgreSQL trusts them (no password); PgBouncer's trust still wants the
    # user named in its auth file.
    user = server.username or getpass.getuser()
    folder = tmp_path_factory.mktemp("pgbouncer")
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    port = free_port()
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        # Any database name: each test worker makes its own.
        f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {SERVER_POOL_SIZE}\nmax_client_conn = 200\n"
        "server_reset_query =\n"
    )
    # PgBouncer refuses to run as root: it reads its files, then becomes postgres.
    command = [PGBOUNCER, str(config)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    log = folder / "pgbouncer.log"
    with (
        log.open("wb") as output,
        running(
            command,
            ready=lambda: listening(port),
            log=log,
            seconds=15,
            stdout=output,
            stderr=subprocess.STDOUT,
        ),
    ):
        yield port
