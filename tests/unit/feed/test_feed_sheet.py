"""The sheet as the command-centre feed carries it: the victims without their contacts."""

from __future__ import annotations

import copy

from schemas.messages import IncidentEventPayloadSchema
from schemas.sheet import FeedSheetSchema, SheetSchema, evaluated_at
from tests.conftest import REFERENCE_INSTANT
from tests.factories import a_sheet


def _without_contacts(sheet: dict[str, object]) -> dict[str, object]:
    fed = copy.deepcopy(sheet)
    for victim in fed["victims"]:  # type: ignore[attr-defined]
        victim.pop("contact", None)
    return fed


def test_the_feed_sheet_holds_a_complainant_without_contact() -> None:
    sheet = a_sheet("FEED-SHEET")
    assert sheet["victims"][0]["wants_to_file_complaint"] == "yes"
    with evaluated_at(REFERENCE_INSTANT):
        # What an operator sends must name a contact for the appointment...
        assert "victims" in SheetSchema().validate(_without_contacts(sheet))
        # ...and what the feed carries never does.
        assert FeedSheetSchema().validate(_without_contacts(sheet)) == {}
        refused = FeedSheetSchema().validate(sheet)
    assert refused == {"victims": {0: {"contact": ["Unknown field."]}}}


def test_the_feed_payload_documents_the_feed_sheet() -> None:
    incident = IncidentEventPayloadSchema().fields["incident"]
    assert incident.schema.fields["sheet"].schema.__class__ is FeedSheetSchema  # type: ignore[attr-defined]
