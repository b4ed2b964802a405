"""``intake-service serve``: the API and pages under gunicorn, with the workers when
embedded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from intake_service.cli.base import main, read_config
from intake_service.platform import logs


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option(
    "--with-workers/--without-workers",
    default=None,
    help="Also run the relay and consumers (default: in the embedded mode only).",
)
def serve(host: str, port: int, workers: int, with_workers: bool | None) -> None:
    """Serve the API with gunicorn (the same app as `gunicorn 'intake_service:create_app()'`)."""
    import subprocess

    from gunicorn.app.base import BaseApplication

    from intake_service import create_app
    from intake_service.deployment import gunicorn_settings

    config = read_config()
    background: list[subprocess.Popen[bytes]] = []
    if config.embedded if with_workers is None else with_workers:
        background.append(subprocess.Popen([sys.executable, "-m", "workers"]))

    def stop_background(_server: Any) -> None:
        for process in background:
            process.terminate()
            process.wait(timeout=30)

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # Threads, not sync workers: a live page holds its connection open.
            self.cfg.set("worker_class", gunicorn_settings.WORKER_CLASS)
            self.cfg.set("threads", 32)
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("accesslog", "-")
            self.cfg.set("logconfig_dict", gunicorn_settings.logconfig_dict(config.log_level))
            self.cfg.set("access_log_format", gunicorn_settings.ACCESS_LOG_FORMAT)
            self.cfg.set("control_socket", gunicorn_settings.control_socket())
            self.cfg.set("on_exit", stop_background)

        def load(self) -> Callable[..., Any]:
            logs.configure(config.log_level)
            return create_app(config)

    click.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/api/v1/docs)")
    Server().run()
