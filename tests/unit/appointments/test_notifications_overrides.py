"""A deployment's own email texts: a file in the overrides folder replaces the packaged
one; a broken one never blocks a notice (the packaged text is used, and the log names
the template, nothing of the message).

The folder is given to every notice (``overrides``); the entry points take it from their
``Config`` (``policy.policy_of``: ``instance_path / "emails"``), never from the
``INSTANCE_PATH`` environment variable. Through the app and the worker:
``tests/integration/appointments/test_mailer.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from intake_service.appointments import notifications
from intake_service.appointments.policy import policy_of
from intake_service.platform.config import Config

CONTEXT = {
    "station_name": "Commissariat central de Toulouse",
    "incident_reference": "TSO-42 (fiche 7d0c2f52)",
    "operator_name": "Tisséo",
    "priority": "P2",
    "book_by": "lundi 16 mars 2026 à 9 h 30",
    "created": "vendredi 13 mars 2026 à 18 h 05",
    "page_path": "/commissariat",
}
PACKAGED = notifications._environment(None).get_template("waiting_alert.txt").render(CONTEXT)


@pytest.fixture
def overrides(tmp_path: Path) -> Path:
    """A deployment's overrides folder, empty."""
    folder = tmp_path / "emails"
    folder.mkdir()
    return folder


def test_without_an_override_the_packaged_text_is_used(overrides: Path) -> None:
    text = notifications.render("waiting_alert.txt", CONTEXT, overrides=overrides)
    assert text.startswith("Bonjour,\n\nUne victime prioritaire")
    assert "au Commissariat central de Toulouse : aucun créneau" in text
    assert text == PACKAGED


def test_an_override_in_the_folder_replaces_the_packaged_text(overrides: Path) -> None:
    (overrides / "waiting_alert.txt").write_text(
        "Texte du réseau : attente au {{ station_name }} ({{ priority }}).\n"
    )
    text = notifications.render("waiting_alert.txt", CONTEXT, overrides=overrides)
    assert text == "Texte du réseau : attente au Commissariat central de Toulouse (P2).\n"


@pytest.mark.parametrize(
    "broken",
    [
        "Texte {% if %} sans condition",  # syntax
        "Bonjour {{ victim_name }}",  # a name the notice does not give (strict)
        "{% include '_absent.txt' %}",  # a part that exists nowhere
    ],
)
def test_a_broken_override_falls_back_to_the_packaged_text_and_is_logged(
    overrides: Path, broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    (overrides / "waiting_alert.txt").write_text(broken)
    with caplog.at_level(logging.WARNING, logger="intake_service.appointments.notifications"):
        text = notifications.render("waiting_alert.txt", CONTEXT, overrides=overrides)
    assert text == PACKAGED
    (record,) = caplog.records
    assert "waiting_alert.txt" in record.getMessage()
    assert "Toulouse" not in record.getMessage()  # nothing of the message is logged


def test_an_absent_folder_or_none_uses_the_packaged_text(tmp_path: Path) -> None:
    assert notifications.render("waiting_alert.txt", CONTEXT, overrides=tmp_path / "absent") == (
        PACKAGED
    )
    assert notifications.render("waiting_alert.txt", CONTEXT, overrides=None) == PACKAGED


def test_the_folder_is_the_configured_instance_folder(tmp_path: Path) -> None:
    configured = tmp_path / "configured"
    (configured / "emails").mkdir(parents=True)
    (configured / "emails" / "waiting_alert.txt").write_text("Texte de la configuration.\n")
    config = Config.from_env(
        {"INSTANCE_PATH": str(configured), "SECRET_KEY": "test", "DATABASE_URL": ""}
    )

    policy = policy_of(config)

    assert policy.email_overrides == configured.resolve() / "emails"
    text = notifications.render("waiting_alert.txt", CONTEXT, overrides=policy.email_overrides)
    assert text == "Texte de la configuration.\n"
