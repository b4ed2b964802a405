"""Who may act on an incident a command-centre operator took ("je prends").

Pure: tested as a table in tests/unit/command_centre/. One operator holds an incident
so that two desks never dispatch it twice: the others of the service see it held and
are refused until the holder releases it or a supervisor reassigns it.
"""

from __future__ import annotations


def may_take(holder: str | None, actor: str) -> bool:
    """Taking a free incident, or one already one's own (taking again changes nothing)."""
    return holder is None or holder == actor


def may_act(holder: str | None, actor: str, supervisor: bool) -> bool:
    """Changing the status, or releasing: the holder, or anyone when nobody holds it;
    a supervisor always (the supervisor is the one who settles a desk's absence)."""
    return holder is None or holder == actor or supervisor


def may_reassign(supervisor: bool) -> bool:
    return supervisor
