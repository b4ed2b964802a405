"""Seeds of the export rows (issue 16): ``<month>`` is February 2026, the last month
over at the matrix's clock (14 March 2026). The incident export needs none: its
default period (the last 31 days) holds the matrix's seeded tisseo incident in
Toulouse, so the planted-secrets check of those rows reads a real row."""

from __future__ import annotations

from typing import Any


def seed(setting: Any) -> dict[str, str]:
    return {"month": "2026-02"}
