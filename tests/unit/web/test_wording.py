"""One French table for the API's validation messages: every form says them alike."""

from __future__ import annotations

import pytest

from intake_service.web import gpo_forms, sheet_form_labels
from intake_service.web.wording import VALIDATION_MESSAGES

# What a form deliberately says in its own words (its other messages are the table's).
GPO_OWN = {"Shorter than minimum length 1.", "Length must be between 1 and 200."}


@pytest.mark.parametrize("message", sorted(VALIDATION_MESSAGES))
def test_the_sheet_form_and_the_gpo_forms_say_the_tables_words(message: str) -> None:
    french = VALIDATION_MESSAGES[message]
    assert sheet_form_labels.translate(message, "narrative_free_field") == french
    if message not in GPO_OWN:
        assert gpo_forms.french(message) == french


def test_no_message_is_left_in_english() -> None:
    assert all(french and french != message for message, french in VALIDATION_MESSAGES.items())
