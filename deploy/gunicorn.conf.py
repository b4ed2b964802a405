"""gunicorn settings for production (see docker-compose.yml).

gunicorn -c deploy/gunicorn.conf.py 'intake_service:create_app()'
"""

import multiprocessing
import os

from intake_service.deployment import gunicorn_settings

bind = [os.environ.get("BIND", "0.0.0.0:8000")]
# /metrics answers on this port only (intake_service/serving/observability.py): the
# compose file publishes 8000, never this one.
# /metrics/deployment too: the database's gauges, scraped through one target
# (deploy/prometheus.yml).
if os.environ.get("METRICS_PORT"):
    metrics_host = os.environ.get("METRICS_HOST") or "0.0.0.0"  # noqa: S104 - exposed, not published
    bind.append(f"{metrics_host}:{os.environ['METRICS_PORT']}")
# One process per core; threads because live pages (server-sent events) keep
# their connection open for up to an hour. gunicorn's gthread worker, whose own refusals
# (414, 431, 400) are problem+json like the API's other errors.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = gunicorn_settings.WORKER_CLASS
threads = int(os.environ.get("WEB_THREADS", "32"))
# A request that takes longer than this is stuck: the worker is replaced.
timeout = 30
# On SIGTERM, in-flight requests get this long to finish before workers stop.
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# JSON lines like the application's, and a control socket per instance.
logconfig_dict = gunicorn_settings.logconfig_dict(os.environ.get("LOG_LEVEL", "INFO").upper())
access_log_format = gunicorn_settings.ACCESS_LOG_FORMAT
control_socket = gunicorn_settings.control_socket()
# Restart workers now and then: bounds any slow leak, spread so they never restart together.
max_requests = 20000
max_requests_jitter = 2000


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """Each worker logs JSON lines with request ids."""
    from intake_service.platform.logs import configure

    configure(os.environ.get("LOG_LEVEL", "INFO").upper())


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """Forget a dead worker's live gauges (metrics summed over processes)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
