"""The scope index finds exactly what a scan of every scope finds; ``match`` table tests."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake_service.gpo.rules import scope as gpo_scope
from intake_service.gpo.rules.scope import IncidentFacts
from intake_service.platform import geo

OPERATORS = ["tisseo", "sncf"]
STOPS = [f"S{i}" for i in range(6)]
ROUTES = ["line:1", "line:12", "line:A"]
NATURES = ["projectile", "vandalism", "theft", "drugs", "physical_assault_staff"]
# Around Toulouse, within a couple of kilometres, so circles and points meet often.
LATS = st.floats(min_value=43.59, max_value=43.62)
LONS = st.floats(min_value=1.42, max_value=1.46)


def _subset(items: list[str], max_size: int = 3) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(items), max_size=max_size, unique=True)


scopes = st.fixed_dictionaries(
    {},
    optional={
        "operators": _subset(OPERATORS, 2),
        "routes": st.lists(
            st.builds(
                lambda op, r: {"operator": op, "route_id": r},
                st.sampled_from(OPERATORS),
                st.sampled_from(ROUTES),
            ),
            max_size=2,
        ),
        "stops": st.lists(
            st.builds(
                lambda op, s: {"operator": op, "stop_id": s},
                st.sampled_from(OPERATORS),
                st.sampled_from(STOPS),
            ),
            max_size=3,
        ),
        "point": st.none()
        | st.builds(
            lambda lat, lon, r: {"lat": lat, "lon": lon, "radius_m": r},
            LATS,
            LONS,
            st.integers(min_value=0, max_value=3000),
        ),
        "natures": _subset(NATURES),
        "weekdays": st.lists(st.integers(0, 6), max_size=4, unique=True),
        "hours": st.none()
        | st.builds(lambda a, b: {"from": a, "to": b}, st.integers(0, 23), st.integers(0, 24)),
        "start_date": st.none() | st.dates(dt.date(2025, 6, 1), dt.date(2026, 6, 1)).map(str),
    },
)

incidents = st.builds(
    lambda i, op, route, stops, located, lat, lon, natures, at: IncidentFacts(
        incident_id=f"i{i}",
        operator=op,
        service_code="ddsp-31",
        route_id=route,
        stop_ids=frozenset(stops),
        lat=lat if located else None,
        lon=lon if located else None,
        natures=frozenset(natures),
        occurred_at=at,
        priority="P3",
        has_staff_victim=False,
        injury_severity="none",
    ),
    st.integers(0, 10**6),
    st.sampled_from(OPERATORS),
    st.none() | st.sampled_from(ROUTES),
    _subset(STOPS, 3),
    st.booleans(),
    LATS,
    LONS,
    st.lists(st.sampled_from(NATURES), min_size=1, max_size=3, unique=True),
    st.datetimes(dt.datetime(2025, 6, 1), dt.datetime(2026, 6, 1), timezones=st.just(dt.UTC)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(scopes, min_size=1, max_size=25), st.lists(incidents, min_size=1, max_size=10))
def test_the_index_finds_what_a_scan_of_every_scope_finds(
    scope_list: list[dict], facts_list: list[IncidentFacts]
) -> None:
    index: dict[str, set[int]] = {}
    for number, scope in enumerate(scope_list):
        for key in gpo_scope.scope_keys(scope):
            index.setdefault(key, set()).add(number)
    for facts in facts_list:
        brute = {
            n for n, scope in enumerate(scope_list) if gpo_scope.match(scope, facts) is not None
        }
        candidates = set().union(*(index.get(k, set()) for k in gpo_scope.incident_keys(facts)))
        indexed = {n for n in candidates if gpo_scope.match(scope_list[n], facts) is not None}
        assert indexed == brute


@settings(max_examples=300, deadline=None)
@given(
    LATS,
    LONS,
    st.integers(min_value=1, max_value=2000),
    st.floats(min_value=0, max_value=360),
    st.floats(min_value=0, max_value=1),
)
def test_a_point_inside_the_circle_is_in_one_of_its_cells(
    lat: float, lon: float, radius: int, bearing: float, share: float
) -> None:
    """Points near the edge of the circle (the hardest case) fall in an indexed cell."""
    import math

    distance = radius * share
    angular = distance / geo.EARTH_RADIUS_M
    phi1, lmb1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(angular) + math.cos(phi1) * math.sin(angular) * math.cos(theta)
    )
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(angular) * math.cos(phi1),
        math.cos(angular) - math.sin(phi1) * math.sin(phi2),
    )
    plat, plon = math.degrees(phi2), math.degrees(lmb2)
    scope = {"point": {"lat": lat, "lon": lon, "radius_m": radius}}
    if geo.distance_m(lat, lon, plat, plon) <= radius:
        assert gpo_scope.cell_key(*gpo_scope.cell_of(plat, plon)) in gpo_scope.scope_keys(scope)


# --- table tests of match -------------------------------------------------------------------


def facts(
    *,
    at: dt.datetime = dt.datetime(2026, 3, 4, 19, 30, tzinfo=dt.UTC),  # Wednesday 20:30 Paris
    stops: frozenset[str] = frozenset({"SA_1"}),
    lat: float | None = 43.6,
    lon: float | None = 1.44,
    natures: frozenset[str] = frozenset({"projectile"}),
    route: str | None = "line:12",
    operator: str = "tisseo",
) -> IncidentFacts:
    return IncidentFacts(
        incident_id="i1",
        operator=operator,
        service_code="ddsp-31",
        route_id=route,
        stop_ids=stops,
        lat=lat,
        lon=lon,
        natures=natures,
        occurred_at=at,
        priority="P3",
        has_staff_victim=False,
        injury_severity="none",
    )


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=gpo_scope.PARIS).astimezone(dt.UTC)


EVENING = {"hours": {"from": 18, "to": 2}}


@pytest.mark.parametrize(
    ("scope", "incident", "fits"),
    [
        # Hours wrapping past midnight (Paris time; "to" exclusive).
        (EVENING, facts(at=paris(2026, 3, 4, 18)), True),
        (EVENING, facts(at=paris(2026, 3, 4, 23, 59)), True),
        (EVENING, facts(at=paris(2026, 3, 5, 1, 59)), True),
        (EVENING, facts(at=paris(2026, 3, 5, 2)), False),
        (EVENING, facts(at=paris(2026, 3, 4, 17, 59)), False),
        # 17:30 UTC is 19:30 in Paris in summer (UTC+2), 18:30 in winter (UTC+1).
        (
            {"hours": {"from": 19, "to": 20}},
            facts(at=dt.datetime(2026, 7, 1, 17, 30, tzinfo=dt.UTC)),
            True,
        ),
        (
            {"hours": {"from": 19, "to": 20}},
            facts(at=dt.datetime(2026, 1, 7, 17, 30, tzinfo=dt.UTC)),
            False,
        ),
        ({"hours": {"from": 8, "to": 12}}, facts(at=paris(2026, 3, 4, 12)), False),
        # Weekdays: 0 = Monday, in Paris time (23:30 UTC on Sunday is Monday in Paris).
        ({"weekdays": [2]}, facts(at=paris(2026, 3, 4, 10)), True),
        ({"weekdays": [5, 6]}, facts(at=paris(2026, 3, 4, 10)), False),
        ({"weekdays": [0]}, facts(at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)), True),
        # Radius edge: 0.001° of latitude is about 111 m.
        ({"point": {"lat": 43.6, "lon": 1.44, "radius_m": 112}}, facts(lat=43.601), True),
        ({"point": {"lat": 43.6, "lon": 1.44, "radius_m": 110}}, facts(lat=43.601), False),
        ({"point": {"lat": 43.6, "lon": 1.44, "radius_m": 500}}, facts(lat=None, lon=None), False),
        # Stops: a parent station in the scope fits an incident at one of its platforms
        # (facts carry the parent station, resolved from gtfs_stops).
        (
            {"stops": [{"operator": "tisseo", "stop_id": "SA_1"}]},
            facts(stops=frozenset({"SP_11", "SA_1"})),
            True,
        ),
        (
            {"stops": [{"operator": "tisseo", "stop_id": "SA_1"}]},
            facts(stops=frozenset({"SP_11"})),
            False,
        ),
        ({"stops": [{"operator": "sncf", "stop_id": "SA_1"}]}, facts(), False),
        # Place alternatives: the route fits even if the stop does not.
        (
            {
                "stops": [{"operator": "tisseo", "stop_id": "SA_9"}],
                "routes": [{"operator": "tisseo", "route_id": "line:12"}],
            },
            facts(),
            True,
        ),
        # Natures: any shared one.
        ({"natures": ["projectile", "vandalism"]}, facts(natures=frozenset({"vandalism"})), True),
        ({"natures": ["projectile"]}, facts(natures=frozenset({"drugs"})), False),
        # Start date, in Paris time (23:30 UTC on 31 Dec is 1 Jan in Paris).
        (
            {"start_date": "2026-01-01"},
            facts(at=dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC)),
            True,
        ),
        (
            {"start_date": "2026-01-01"},
            facts(at=dt.datetime(2025, 12, 31, 22, 30, tzinfo=dt.UTC)),
            False,
        ),
        # Operators.
        ({"operators": ["sncf"]}, facts(), False),
        # Empty scope: anything.
        ({}, facts(), True),
    ],
)
def test_match(scope: dict, incident: IncidentFacts, fits: bool) -> None:
    assert (gpo_scope.match(scope, incident) is not None) is fits


def test_reasons_name_the_stop_and_nature_and_make_a_strong_match() -> None:
    scope = {
        "stops": [{"operator": "tisseo", "stop_id": "SA_1"}],
        "natures": ["projectile"],
        "hours": {"from": 18, "to": 2},
    }
    reasons = gpo_scope.match(scope, facts(), {"stop:tisseo:SA_1": "Beaucaire"})
    assert reasons == [
        {"dimension": "stop", "text": "même arrêt (Beaucaire)"},
        {"dimension": "nature", "text": "même nature (jet de projectile)"},
        {"dimension": "hours", "text": "entre 18 h et 2 h"},
    ]
    assert gpo_scope.is_strong(reasons)
    point_reasons = gpo_scope.match(
        {"point": {"lat": 43.6, "lon": 1.44, "radius_m": 300}, "natures": ["projectile"]},
        facts(lat=43.601),
    )
    assert point_reasons is not None
    assert point_reasons[0] == {"dimension": "point", "text": "à 111 m du point (rayon 300 m)"}
    assert not gpo_scope.is_strong(point_reasons)


def test_keys_of_a_scope_use_its_most_selective_place_with_its_natures() -> None:
    assert gpo_scope.scope_keys(
        {"stops": [{"operator": "tisseo", "stop_id": "SA_1"}], "operators": ["tisseo"]}
    ) == {"stop:tisseo:SA_1"}
    assert gpo_scope.scope_keys(
        {"stops": [{"operator": "tisseo", "stop_id": "SA_1"}], "natures": ["drugs", "theft"]}
    ) == {"stop:tisseo:SA_1+nature:drugs", "stop:tisseo:SA_1+nature:theft"}
    assert gpo_scope.scope_keys({"operators": ["tisseo"], "natures": ["drugs"]}) == {
        "operator:tisseo+nature:drugs"
    }
    assert gpo_scope.scope_keys({"natures": ["drugs"]}) == {"nature:drugs"}
    assert gpo_scope.scope_keys({}) == {"any"}
    cells = gpo_scope.scope_keys({"point": {"lat": 43.6, "lon": 1.44, "radius_m": 300}})
    assert all(key.startswith("cell:") for key in cells)
    assert 1 < len(cells) <= 9
    # A circle too large for the grid falls back to the broader keys.
    huge = {"point": {"lat": 43.6, "lon": 1.44, "radius_m": 200_000}, "natures": ["drugs"]}
    assert gpo_scope.scope_keys(huge) == {"nature:drugs"}
    # Keys never exceed the column (problem_scope_keys.key, 160 characters).
    long_id = {"stops": [{"operator": "o" * 64, "stop_id": "s" * 64}], "natures": ["drugs"]}
    assert all(len(key) <= gpo_scope.KEY_MAX for key in gpo_scope.scope_keys(long_id))
    facts_keys = gpo_scope.incident_keys(facts())
    assert "stop:tisseo:SA_1+nature:projectile" in facts_keys
    assert "cell:288:8720" in facts_keys


@settings(max_examples=200, deadline=None)
@given(st.lists(incidents, max_size=30), st.integers(min_value=50, max_value=1500))
def test_cluster_neighbours_found_by_grid_are_those_of_a_scan(
    facts_list: list[IncidentFacts], radius: int
) -> None:
    from intake_service.gpo.rules import clusters

    found = clusters._neighbours(facts_list, radius)
    for index, facts in enumerate(facts_list):
        scanned = {
            other
            for other, candidate in enumerate(facts_list)
            if other == index or clusters._near(facts, candidate, radius)
        }
        assert found[index] == scanned
