"""The lifecycle of an incident in the command centre (``command-centre.md``), as a table."""

from __future__ import annotations

from dataclasses import dataclass

# status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"queued", "acknowledged", "rejected", "withdrawn"}),
    "queued": frozenset({"acknowledged", "rejected", "withdrawn"}),
    "acknowledged": frozenset({"dispatched", "closed", "rejected"}),
    "dispatched": frozenset({"closed"}),
    "closed": frozenset(),
    # Rejected as not competent and sent to the competent service: received again.
    "rejected": frozenset({"received"}),
    "withdrawn": frozenset(),
}
# What the command centre may set through the API.
COMMAND_CENTRE_STATUSES = ("acknowledged", "dispatched", "closed", "rejected")
# Not yet acknowledged: escalated when left waiting too long.
UNACKNOWLEDGED = frozenset({"received", "queued"})
# Statuses in which the operator may still amend the sheet (a returned sheet too:
# amending it sends it again).
AMENDABLE = frozenset({"received", "queued", "acknowledged", "dispatched", "closed", "rejected"})
# No command centre has the incident: an amended place may send it elsewhere.
REROUTABLE = frozenset({"received", "queued", "rejected"})


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


@dataclass
class TransitionRefused(Exception):
    """The incident's status does not allow the change asked for."""

    status: str
    message: str
