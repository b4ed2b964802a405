"""``intake-service``: the administration command line, one module per command group.

Every error is printed with what to do about it, and exits non-zero.
"""

from __future__ import annotations

from intake_service.cli import (  # noqa: F401 - each module registers its commands on main
    db,
    demo,
    directory,
    examples,
    exports,
    feed,
    gpos,
    gtfs,
    operators,
    retention,
    serve,
    stations,
    status,
    tokens,
    users,
    workers,
    zones,
)
from intake_service.cli.base import main

__all__ = ["main"]
