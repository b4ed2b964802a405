"""The CCTV requisition's rules, as tables: its steps, the alerts before the erase
deadline, the countdown and the measure's count."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.direct_line.rules.cctv import (
    alert_due,
    check_step,
    countdown,
    extracted_in_time,
    may_step,
)

DEADLINE = dt.datetime(2026, 3, 15, 23, 30, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("state", "target", "given", "refused"),
    [
        ("requested", "extracted", ["extraction_reference"], None),
        ("requested", "extracted", [], ("extraction_reference", False)),
        ("requested", "handed_over", ["handed_over_to"], ("state", True)),
        ("extracted", "handed_over", ["handed_over_to"], None),
        ("extracted", "handed_over", [], ("handed_over_to", False)),
        ("requested", "refused", ["reason"], None),
        ("extracted", "refused", ["reason"], None),
        ("requested", "erased", ["reason"], None),
        ("extracted", "erased", ["reason"], None),
        ("requested", "erased", [], ("reason", False)),
        ("extracted", "extracted", ["extraction_reference"], ("state", True)),
        ("handed_over", "erased", ["reason"], ("state", True)),
        ("refused", "extracted", ["extraction_reference"], ("state", True)),
        ("erased", "refused", ["reason"], ("state", True)),
        ("requested", "requested", [], ("state", False)),
    ],
)
def test_steps(state: str, target: str, given: list[str], refused: tuple[str, bool] | None) -> None:
    found = check_step(state, target, given)
    assert (None if found is None else (found.field, found.conflict)) == refused


@pytest.mark.parametrize(
    ("role", "target", "may"),
    [
        ("operator", "extracted", True),
        ("operator", "handed_over", True),
        ("operator", "refused", True),
        ("operator", "erased", True),
        ("command_centre", "extracted", False),
        ("command_centre", "refused", False),
        ("station_officer", "handed_over", False),
        ("gpo_partner", "erased", False),
        ("operator", "requested", False),
    ],
)
def test_who_makes_each_step(role: str, target: str, may: bool) -> None:
    assert may_step(role, target) is may


NONE: dict[str, dt.datetime | None] = {"24h": None, "2h": None}
SENT_24 = {"24h": DEADLINE - 20 * H, "2h": None}
SENT_BOTH = {"24h": DEADLINE - 20 * H, "2h": DEADLINE - H}


@pytest.mark.parametrize(
    ("state", "before_deadline", "alerted", "due"),
    [
        ("requested", 30 * H, NONE, None),
        ("requested", 24 * H + dt.timedelta(seconds=1), NONE, None),
        ("requested", 24 * H, NONE, "24h"),
        ("requested", 10 * H, NONE, "24h"),
        ("requested", 10 * H, SENT_24, None),
        ("requested", 2 * H, SENT_24, "2h"),
        # Asked late: the 2 h alert only.
        ("requested", H, NONE, "2h"),
        ("requested", H, SENT_BOTH, None),
        ("requested", dt.timedelta(0), SENT_24, None),
        ("requested", -H, NONE, None),
        ("extracted", H, NONE, None),
        ("refused", 10 * H, NONE, None),
    ],
)
def test_alerts(
    state: str,
    before_deadline: dt.timedelta,
    alerted: dict[str, dt.datetime | None],
    due: str | None,
) -> None:
    assert alert_due(state, DEADLINE, alerted, DEADLINE - before_deadline) == due


def test_no_deadline_no_alert() -> None:
    assert alert_due("requested", None, NONE, DEADLINE) is None


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (5 * H + dt.timedelta(minutes=12), "effacement dans 5 h 12"),
        (H + dt.timedelta(minutes=5), "effacement dans 1 h 05"),
        (dt.timedelta(minutes=12, seconds=40), "effacement dans 12 min"),
        (2 * 24 * H + 3 * H, "effacement dans 2 j 3 h"),
        (dt.timedelta(0), "échéance d'effacement dépassée"),
        (-H, "échéance d'effacement dépassée"),
    ],
)
def test_countdown(left: dt.timedelta, text: str) -> None:
    assert countdown(DEADLINE, DEADLINE - left) == text


def test_countdown_without_deadline() -> None:
    assert countdown(None, DEADLINE) == "date d'effacement inconnue"


@pytest.mark.parametrize(
    ("extracted_at", "deadline", "in_time"),
    [
        (DEADLINE - H, DEADLINE, True),
        (DEADLINE, DEADLINE, True),
        (DEADLINE + H, DEADLINE, False),
        (None, DEADLINE, False),
        (DEADLINE, None, True),
    ],
)
def test_extracted_in_time(
    extracted_at: dt.datetime | None, deadline: dt.datetime | None, in_time: bool
) -> None:
    assert extracted_in_time(extracted_at, deadline) is in_time
