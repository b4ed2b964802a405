"""``python -m workers [NAME ...]``: the same as ``intake-service workers``."""

import sys

from intake_service.platform.config import Config
from workers.runner import run_configured

if __name__ == "__main__":
    run_configured(Config.from_env(), sys.argv[1:])
