"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from intake_service.platform import pdf


@pytest.fixture(params=["unicode font", "core font"])
def font(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    pdf._unicode_fonts.cache_clear()
    if request.param == "core font":
        monkeypatch.setattr(pdf, "FONT_DIRS", ("/nonexistent",))
    elif pdf._unicode_fonts() is None:
        pytest.skip("no DejaVu font on this machine (Debian: fonts-dejavu-core)")
    yield request.param
    pdf._unicode_fonts.cache_clear()
