"""Police stations and their complaint slots, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from intake_service import demo
from intake_service.appointments import stations
from intake_service.appointments.slots import (
    SlotRefused,
    close_slot,
    create_slot,
    generate_slots,
    release_reserved,
    reserved_positions,
)
from intake_service.cli import main
from intake_service.models import ComplaintSlot, PoliceStation, StationCommune
from intake_service.platform.clock import PARIS
from intake_service.platform.db import Database
from tests.conftest import REFERENCE_INSTANT
from tests.integration.appointments.test_booking import OFFICER, POLICY, STATIONS_CSV
from workers.appointments import SlotReleaser

HEADER = "code,name,address,lat,lon,service_code,communes,referent_email\n"
NOW = dt.datetime(2026, 4, 20, 8, 0, tzinfo=dt.UTC)  # Monday 20 April 2026
WEEKDAYS = {day: [("09:00", "12:00"), ("14:00", "17:00")] for day in range(5)}


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The database alone: nothing here needs the application."""
    database = Database(database_url)
    yield database
    database.dispose()


def paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS).astimezone(dt.UTC)


def communes(db: Database) -> set[tuple[str, str]]:
    with db.transaction() as session:
        return {
            (row.station_code, row.insee_code) for row in session.scalars(select(StationCommune))
        }


# --- import ------------------------------------------------------------------------------------


def test_import_adds_stations_and_their_communes_and_is_idempotent(db: Database) -> None:
    rows = stations.parse_stations(STATIONS_CSV)
    seen: list[tuple[str, int]] = []
    for _ in range(2):
        with db.transaction() as session:
            assert (
                stations.import_stations(session, rows, NOW, lambda what, n: seen.append((what, n)))
                == 2
            )
    assert seen == [("stations", 2), ("stations", 2)]
    assert communes(db) == {
        ("csp-toulouse", "31555"),
        ("csp-toulouse", "31069"),
        ("csp-colomiers", "31149"),
    }
    with db.transaction() as session:
        toulouse = session.get(PoliceStation, "csp-toulouse")
        assert toulouse is not None
        assert toulouse.service_code == "ddsp-31"
        assert toulouse.referent_email == "accueil.csp-toulouse@interieur.example"
        assert stations.competent_station(session, "31069") == toulouse
        assert stations.competent_station(session, "31004") is None
        assert stations.competent_station(session, None) is None

    # A commune moves to the station that now lists it.
    moved = HEADER + "csp-colomiers,Commissariat de Colomiers,Colomiers,,,ddsp-31,31149;31069,\n"
    with db.transaction() as session:
        stations.import_stations(session, stations.parse_stations(moved), NOW)
    assert ("csp-colomiers", "31069") in communes(db)
    assert ("csp-toulouse", "31069") not in communes(db)


BAD_LINES = [
    ("bad code", "CSP Toulouse,N,A,,,,31069,", "code"),
    ("no name", "csp-a,,A,,,,31069,", "name"),
    ("latitude not a number", "csp-a,N,A,nord,1.4,,31069,", "lat"),
    ("longitude out of range", "csp-a,N,A,43.6,200,,31069,", "lon"),
    ("only one coordinate", "csp-a,N,A,43.6,,,31069,", "lon"),
    ("bad service code", "csp-a,N,A,,,DDSP 31,31069,", "service_code"),
    ("no commune", "csp-a,N,A,,,,,", "communes"),
    ("bad commune", "csp-a,N,A,,,,31069;3155,", "communes"),
    ("bad email", "csp-a,N,A,,,,31069,accueil", "referent_email"),
    ("missing columns", "csp-a,N,A", "(line)"),
]


@pytest.mark.parametrize(
    ("line", "column"), [pytest.param(line, column, id=case) for case, line, column in BAD_LINES]
)
def test_a_bad_line_is_named_by_line_and_column(line: str, column: str) -> None:
    text = HEADER + "csp-ok,Bon,Adresse,43.6,1.4,ddsp-31,31555,\n" + line + "\n"
    with pytest.raises(stations.StationImportError) as refused:
        stations.parse_stations(text, "stations.csv")
    [issue] = refused.value.issues
    assert (issue.line, issue.column) == (3, column)
    assert str(refused.value).startswith(f"stations.csv line 3, column {column}: ")


def test_every_issue_is_listed_and_duplicates_are_refused() -> None:
    text = (
        HEADER
        + "csp-a,A,A,,,,31555,\n"
        + "csp-a,A again,A,,,,31069,\n"
        + "csp-b,B,B,,,,31555,\n"
        + "csp-c,,C,,,,x,\n"
    )
    with pytest.raises(stations.StationImportError) as refused:
        stations.parse_stations(text)
    assert [(issue.line, issue.column) for issue in refused.value.issues] == [
        (3, "code"),
        (4, "communes"),
        (5, "name"),
        (5, "communes"),
    ]
    with pytest.raises(stations.StationImportError, match="header"):
        stations.parse_stations("code,name\n")


def test_the_command_imports_or_refuses_the_whole_file(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("BROKER_URL", "memory://")
    bad = tmp_path / "stations.csv"
    bad.write_text(STATIONS_CSV + "csp-x,X,X,,,,99,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["stations", "import", str(bad)])
    assert result.exit_code == 2
    assert "stations.csv line 4, column communes: '99' is not an INSEE code" in result.output
    assert "nothing was imported" in result.output
    assert communes(Database(database_url)) == set()

    good = tmp_path / "good.csv"
    good.write_text(STATIONS_CSV, encoding="utf-8")
    result = CliRunner().invoke(main, ["stations", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 2 police stations covering 3 communes" in result.output
    missing = CliRunner().invoke(main, ["stations", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2


# --- slots -------------------------------------------------------------------------------------


def _import(db: Database) -> None:
    with db.transaction() as session:
        stations.import_stations(session, stations.parse_stations(STATIONS_CSV), NOW)


def slots(db: Database) -> list[ComplaintSlot]:
    with db.transaction() as session:
        return list(session.scalars(select(ComplaintSlot).order_by(ComplaintSlot.starts_at)))


def test_generation_skips_public_holidays_weekends_and_the_past(db: Database) -> None:
    _import(db)
    # Monday 27 April to Sunday 17 May 2026: 1 May (Friday), 8 May (Friday) and
    # Ascension (Thursday 14 May) are public holidays.
    with db.transaction() as session:
        created = generate_slots(
            session,
            "csp-toulouse",
            dt.date(2026, 4, 27),
            dt.date(2026, 5, 17),
            WEEKDAYS,
            30,
            0.25,
            NOW,
            policy=POLICY,
        )
    days = sorted({slot.starts_at.astimezone(PARIS).date() for slot in created})
    assert dt.date(2026, 5, 1) not in days
    assert dt.date(2026, 5, 8) not in days
    assert dt.date(2026, 5, 14) not in days
    assert all(day.weekday() < 5 for day in days)
    assert len(days) == 15 - 3
    assert len(created) == 12 * len(days)
    first_day = [s for s in created if s.starts_at.astimezone(PARIS).date() == days[0]]
    assert [s.starts_at for s in first_day[:2]] == [paris(days[0], 9), paris(days[0], 9, 30)]
    assert first_day[-1].ends_at == paris(days[0], 17)
    # A quarter reserved, spread through the day: the 4th, 8th and 12th slots.
    assert [index for index, s in enumerate(first_day) if s.reserved] == [3, 7, 11]

    # Generating again adds nothing; a slot already past is never created.
    with db.transaction() as session:
        assert (
            generate_slots(
                session,
                "csp-toulouse",
                dt.date(2026, 4, 27),
                dt.date(2026, 5, 17),
                WEEKDAYS,
                30,
                0.25,
                NOW,
                policy=POLICY,
            )
            == []
        )
        today = generate_slots(
            session,
            "csp-toulouse",
            dt.date(2026, 4, 20),
            dt.date(2026, 4, 20),
            WEEKDAYS,
            30,
            1,
            NOW,
            policy=POLICY,
        )
    # 08:00 UTC is 10:00 in Paris: the morning's slots before it are past.
    assert today[0].starts_at == paris(dt.date(2026, 4, 20), 10, 30)


def test_reserved_positions_are_spread() -> None:
    assert reserved_positions(6, 0.5) == {1, 3, 5}
    assert reserved_positions(10, 0.3) == {3, 6, 9}
    assert reserved_positions(4, 0) == set()
    assert reserved_positions(4, 1) == {0, 1, 2, 3}


def test_single_slots_are_checked(db: Database) -> None:
    _import(db)
    day = dt.date(2026, 5, 14)  # Ascension
    with db.transaction() as session:
        for starts, ends, field in [
            (paris(day, 9), paris(day, 9, 30), "starts_at"),
            (paris(dt.date(2026, 4, 21), 9), paris(dt.date(2026, 4, 21), 9), "ends_at"),
            (NOW - dt.timedelta(hours=1), NOW, "starts_at"),
        ]:
            with pytest.raises(SlotRefused) as refused:
                create_slot(
                    session, "csp-toulouse", starts, ends, reserved=True, now=NOW, policy=POLICY
                )
            assert refused.value.field == field
        with pytest.raises(SlotRefused):
            generate_slots(
                session,
                "csp-toulouse",
                dt.date(2026, 5, 2),
                dt.date(2026, 5, 1),
                WEEKDAYS,
                30,
                0.5,
                NOW,
                policy=POLICY,
            )


def test_release_frees_unused_reserved_slots_shortly_before_they_start(db: Database) -> None:
    _import(db)
    tomorrow = dt.date(2026, 4, 21)
    with db.transaction() as session:
        generate_slots(
            session,
            "csp-toulouse",
            tomorrow,
            tomorrow + dt.timedelta(days=1),
            {1: [("09:00", "10:00")], 2: [("09:00", "10:00")]},
            30,
            1,
            NOW,
            policy=POLICY,
        )
        closed = close_slot(session, OFFICER, slots_ids(session)[1], NOW)
        assert closed.closed_at == NOW
    release_before = dt.timedelta(hours=24)
    at = paris(tomorrow, 8, 45)  # tomorrow's slots start within 24 h, the next day's not all
    with db.transaction() as session:
        released = release_reserved(session, at, release_before)
    assert released == 1 + 0  # tomorrow 09:00 (09:30 is closed); Wednesday 09:00 is > 24 h
    with db.transaction() as session:
        assert release_reserved(session, at, release_before) == 0
        later = paris(tomorrow + dt.timedelta(days=1), 8, 0)
        assert release_reserved(session, later, release_before) == 2
    states = [(s.starts_at, s.released_at is not None, s.closed_at is not None) for s in slots(db)]
    assert states == [
        (paris(tomorrow, 9), True, False),
        (paris(tomorrow, 9, 30), False, True),
        (paris(tomorrow + dt.timedelta(days=1), 9), True, False),
        (paris(tomorrow + dt.timedelta(days=1), 9, 30), True, False),
    ]


def slots_ids(session: Any) -> list[int]:
    return list(session.scalars(select(ComplaintSlot.id).order_by(ComplaintSlot.starts_at)))


def test_the_demo_stations_and_a_week_of_slots(db: Database) -> None:
    with db.transaction() as session:
        demo.load_stations(session, now=REFERENCE_INSTANT, policy=POLICY)
        demo.load_stations(session, now=REFERENCE_INSTANT, policy=POLICY)  # idempotent
        assert stations.competent_station(session, "31555").code == "csp-toulouse"  # type: ignore[union-attr]
        assert stations.competent_station(session, "83137").code == "csp-toulon"  # type: ignore[union-attr]
        counts = dict(
            session.execute(
                select(ComplaintSlot.station_code, func.count()).group_by(
                    ComplaintSlot.station_code
                )
            ).all()
        )
    # Saturday 14 March: the week to Friday 20 March has five working days of 12 slots.
    assert counts == {"csp-toulouse": 60, "csp-toulon": 60}


def test_the_worker_releases_on_its_tick(db: Database) -> None:
    _import(db)
    tomorrow = dt.date(2026, 4, 21)
    with db.transaction() as session:
        generate_slots(
            session,
            "csp-toulouse",
            tomorrow,
            tomorrow,
            {1: [("09:00", "10:00")]},
            30,
            0.5,
            NOW,
            policy=POLICY,
        )
    releaser = SlotReleaser(
        db, release_before=dt.timedelta(hours=24), clock=lambda: paris(tomorrow, 8)
    )
    assert releaser.run_once() == 1  # the reserved one of the two
    assert releaser.run_once() == 0


# --- public holidays where the station is (issue 17) -------------------------------------------

REGIONAL_STATIONS = (
    HEADER
    + "csp-metz,CSP de Metz,1 rue Belle-Isle 57000 Metz,,,ddsp-57,57463,\n"
    + "csp-toulouse-hol,CSP de Toulouse,Bd de l'Embouchure,,,ddsp-31,31555,\n"
    + "csp-saint-denis,CSP de Saint-Denis,Rue Malartic 97400 Saint-Denis,,,,97411,\n"
)


@pytest.mark.parametrize(
    ("station", "day", "offered"),
    [
        # Good Friday and 26 December: holidays in Moselle, working days in Toulouse.
        ("csp-metz", dt.date(2027, 3, 26), False),
        ("csp-toulouse-hol", dt.date(2027, 3, 26), True),
        ("csp-metz", dt.date(2028, 12, 26), False),
        ("csp-toulouse-hol", dt.date(2028, 12, 26), True),
        # 20 December in La Réunion (the département from the station's commune).
        ("csp-saint-denis", dt.date(2027, 12, 20), False),
        ("csp-toulouse-hol", dt.date(2027, 12, 20), True),
    ],
)
def test_slots_follow_the_holidays_of_the_stations_departement(
    db: Database, station: str, day: dt.date, offered: bool
) -> None:
    with db.transaction() as session:
        stations.import_stations(session, stations.parse_stations(REGIONAL_STATIONS), NOW)
        created = generate_slots(session, station, day, day, WEEKDAYS, 60, 0.5, NOW, policy=POLICY)
    assert bool(created) is offered
