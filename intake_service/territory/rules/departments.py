"""Which département a service code or a commune names. Pure."""

from __future__ import annotations

import re

# ddsp-31, ggd-2a, dipn-974: a service code that names its département.
SERVICE_DEPARTMENT = re.compile(r"^(?:ddsp|ggd|dipn)-(\d[\dab]\d?)$", re.IGNORECASE)


def department_of_service(code: str | None) -> str | None:
    """ddsp-31 → "31", ggd-2a → "2A", dipn-974 → "974"; None when the code names none."""
    match = SERVICE_DEPARTMENT.match(code or "")
    return match.group(1).upper() if match else None


def department_of_commune(insee_code: str | None) -> str | None:
    """The département of an INSEE commune code: 31555 → "31", 2A004 → "2A",
    97411 → "974"."""
    if not insee_code or len(insee_code) != 5:
        return None
    return insee_code[:3] if insee_code.startswith("97") else insee_code[:2].upper()
