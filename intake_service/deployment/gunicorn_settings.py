"""gunicorn's own settings that every way of running it shares (``deploy/gunicorn.conf.py``
and ``intake-service serve``): the worker class (gthread, answering its own errors as
problem+json), its logs as the application's JSON lines, and a control socket of its own
per instance (gunicorn's default, ``~/.gunicorn/gunicorn.ctl``, is one path for every
instance of the user: a second one on the machine would take it over).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

# The application's line (platform/logs.py): time, level, logger, message. gunicorn's
# access line is the message; its error log (worker boots, timeouts) the same shape.
_JSON = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "{asctime}{levelname}{name}{message}",
    "style": "{",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}

# gthread (threads: a live page holds its connection open), its own error pages as
# problem+json (intake_service/deployment/gunicorn_worker.py).
WORKER_CLASS = "intake_service.deployment.gunicorn_worker.ProblemThreadWorker"

ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def logconfig_dict(level: str = "INFO") -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": dict(_JSON)},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        # gunicorn merges this over its own defaults, whose root logger names a handler
        # replaced here: the root is given too.
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


def control_socket(pid: int | None = None) -> str:
    """This instance's control socket: ``GUNICORN_CONTROL_SOCKET``, else one per master."""
    return os.environ.get("GUNICORN_CONTROL_SOCKET") or os.path.join(
        tempfile.gettempdir(), f"intake-gunicorn-{pid or os.getpid()}.ctl"
    )
