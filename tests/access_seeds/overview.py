"""Seeds of the national view's rows: ``<department>`` is 31, the département of the GPO
seeds' gpo-toulouse (ddsp-31) and of the matrix's ``departement`` caller. Its figures
count the seeded Toulouse incident, whose sheet holds personal data none of these
rows may show (the planted-secrets check)."""

from __future__ import annotations

from typing import Any


def seed(setting: Any) -> dict[str, str]:
    return {"department": "31"}
