"""A deployment's own email texts: a file in the instance folder's ``emails/`` replaces the
packaged one; a broken one never blocks a notice (the packaged text is used, and the log
names the template, nothing of the message).

The instance folder is still found through ``INSTANCE_PATH`` (``notifications.override_dir``),
not through the application's ``Config``: ``instance_folder`` is the one place to change
when the notices take it from ``Config``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from intake_service import notifications

CONTEXT = {
    "station_name": "Commissariat central de Toulouse",
    "incident_reference": "TSO-42 (fiche 7d0c2f52)",
    "operator_name": "Tisséo",
    "priority": "P2",
    "book_by": "lundi 16 mars 2026 à 9 h 30",
    "created": "vendredi 13 mars 2026 à 18 h 05",
    "page_path": "/commissariat",
}


@pytest.fixture
def instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The deployment's instance folder, with an empty ``emails/``."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    (tmp_path / "emails").mkdir()
    return tmp_path


def test_without_an_override_the_packaged_text_is_used(instance_folder: Path) -> None:
    text = notifications.render("waiting_alert.txt", CONTEXT)
    assert text.startswith("Bonjour,\n\nUne victime prioritaire")
    assert "au Commissariat central de Toulouse : aucun créneau" in text
    assert text == notifications._environment(None).get_template("waiting_alert.txt").render(
        CONTEXT
    )


def test_an_override_in_the_instance_folder_replaces_the_packaged_text(
    instance_folder: Path,
) -> None:
    (instance_folder / "emails" / "waiting_alert.txt").write_text(
        "Texte du réseau : attente au {{ station_name }} ({{ priority }}).\n"
    )
    text = notifications.render("waiting_alert.txt", CONTEXT)
    assert text == "Texte du réseau : attente au Commissariat central de Toulouse (P2).\n"
    assert notifications.override_dir() == instance_folder.resolve() / "emails"


@pytest.mark.parametrize(
    "broken",
    [
        "Texte {% if %} sans condition",  # syntax
        "Bonjour {{ victim_name }}",  # a name the notice does not give (strict)
        "{% include '_absent.txt' %}",  # a part that exists nowhere
    ],
)
def test_a_broken_override_falls_back_to_the_packaged_text_and_is_logged(
    instance_folder: Path, broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    (instance_folder / "emails" / "waiting_alert.txt").write_text(broken)
    with caplog.at_level(logging.WARNING, logger="intake_service.notifications"):
        text = notifications.render("waiting_alert.txt", CONTEXT)
    assert text.startswith("Bonjour,\n\nUne victime prioritaire")
    (record,) = caplog.records
    assert "waiting_alert.txt" in record.getMessage()
    assert "Toulouse" not in record.getMessage()  # nothing of the message is logged


def test_an_instance_folder_without_emails_uses_the_packaged_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "absent"))
    assert notifications.render("waiting_alert.txt", CONTEXT).startswith("Bonjour,")
