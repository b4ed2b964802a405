"""When two reports may be one event, and which one leads, as tables."""

from __future__ import annotations

import datetime as dt

import pytest

from intake_service.intake.rules.duplicates import Report, Settings, compare, lead_of, ordered

AT = dt.datetime(2026, 3, 14, 17, 30, tzinfo=dt.UTC)
RECOLLETS = (43.58391, 1.44349)
SETTINGS = Settings()


def report(ident: str = "a", **changes: object) -> Report:
    fields: dict[str, object] = {
        "id": ident,
        "operator": "tisseo",
        "occurred_at": AT,
        "natures": ("physical_assault_staff",),
        "vehicle_id": "1742",
        "route_id": "line:142",
        "direction_id": 0,
        "stop_id": "stop_point:SP_1121",
        "point": RECOLLETS,
    }
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return (point[0] + metres / 111_195, point[1])


@pytest.mark.parametrize(
    ("other", "expected", "strong"),
    [
        # The same vehicle a minute later: strong.
        (report("b", occurred_at=AT + dt.timedelta(minutes=1)), "même véhicule (1742)", True),
        # The same vehicle 20 minutes later: a candidate, not strong.
        (report("b", occurred_at=AT + dt.timedelta(minutes=20)), "même véhicule (1742)", False),
        # Another vehicle, the same line and direction.
        (report("b", vehicle_id="1800", stop_id=None, point=None), "même ligne, même sens", False),
        # The same stop, another line.
        (report("b", vehicle_id=None, route_id="line:14", point=None), "même arrêt", False),
        # Another operator 250 m away: by distance only.
        (
            report("b", operator="sncf", vehicle_id="1742", point=north_of(RECOLLETS, 250)),
            "à 250 m",
            False,
        ),
    ],
)
def test_candidates_and_their_reasons(other: Report, expected: str, strong: bool) -> None:
    match = compare(report(), other, SETTINGS)
    assert match is not None
    assert expected in match.reasons
    assert match.strong is strong
    assert any(
        r.startswith("même famille de faits : atteintes aux personnes") for r in match.reasons
    )


@pytest.mark.parametrize(
    "other",
    [
        report("b", occurred_at=AT + dt.timedelta(minutes=31)),  # out of the window
        report("b", natures=("vandalism",)),  # no family in common
        # Another operator: its vehicle, line and stop ids mean nothing here; 2 km away.
        report("b", operator="sncf", point=north_of(RECOLLETS, 2000)),
        # The same line, the other direction, elsewhere.
        report("b", vehicle_id=None, direction_id=1, stop_id=None, point=north_of(RECOLLETS, 900)),
    ],
)
def test_not_candidates(other: Report) -> None:
    assert compare(report(), other, SETTINGS) is None


def test_another_operator_is_said() -> None:
    match = compare(report(), report("b", operator="sncf"), SETTINGS)
    assert match is not None
    assert "signalé par un autre exploitant" in match.reasons


def test_the_settings_decide_the_window_and_the_distance() -> None:
    wide = Settings(window=dt.timedelta(hours=1), distance_m=2500)
    far = report(
        "b",
        operator="sncf",
        point=north_of(RECOLLETS, 2000),
        occurred_at=AT + dt.timedelta(minutes=45),
    )
    assert compare(report(), far, SETTINGS) is None
    assert compare(report(), far, wide) is not None


def test_the_lead_is_the_highest_priority_then_the_earliest() -> None:
    early_p2 = report("a", priority="P2", received_at=AT)
    late_p1 = report("b", priority="P1", received_at=AT + dt.timedelta(minutes=5))
    later_p1 = report("c", priority="P1", received_at=AT + dt.timedelta(minutes=9))
    assert lead_of([early_p2, late_p1, later_p1]).id == "b"  # a P1 is never behind a P2
    assert (
        lead_of([early_p2, report("d", priority="P2", received_at=AT + dt.timedelta(1))]).id == "a"
    )


def test_a_pair_has_one_key() -> None:
    assert ordered("b", "a") == ordered("a", "b") == ("a", "b")
