"""Reading and checking a GTFS feed: tiny feeds written to tmp_path, no database."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from intake_service.territory import gtfs_feed
from intake_service.territory.gtfs_feed import GtfsError, read_feed

AGENCY = "agency_id,agency_name,agency_url,agency_timezone\nA1,Réseau,https://x.fr,Europe/Paris\n"
ROUTES = (
    "route_id,agency_id,route_short_name,route_long_name,route_type\n"
    "R1,A1,1,Centre / Gare,3\n"
    "R2,A1,T,Tram,0\n"
)
STOPS = (
    "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
    "ST,Gare,43.6,1.45,1,\n"
    "P1,Gare quai 1,43.6001,1.4501,0,ST\n"
    "P2,Gare quai 2,43.6002,1.4502,0,ST\n"
    "C,Centre,43.61,1.44,,\n"
)
TRIPS = "route_id,service_id,trip_id\nR1,S,T1\nR2,S,T2\n"
STOP_TIMES = (
    "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
    "T1,08:00:00,08:00:00,C,1\n"
    "T1,08:05:00,08:05:00,P1,2\n"
    "T2,09:00:00,09:00:00,P2,1\n"
)
BASE = {
    "agency.txt": AGENCY,
    "routes.txt": ROUTES,
    "stops.txt": STOPS,
    "trips.txt": TRIPS,
    "stop_times.txt": STOP_TIMES,
}


def write_feed(folder: Path, **changes: str | None) -> Path:
    """The base feed with some files replaced (``stops_txt="..."``) or left out (None)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(BASE)
    for key, content in changes.items():
        name = key.replace("_txt", ".txt")
        if content is None:
            files.pop(name)
        else:
            files[name] = content
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def refused(folder: Path) -> GtfsError:
    with pytest.raises(GtfsError) as caught:
        read_feed(folder)
    return caught.value


def test_a_valid_feed_gives_routes_stops_and_served_pairs(tmp_path: Path) -> None:
    feed = read_feed(write_feed(tmp_path))
    assert feed.agencies == ["Réseau"]
    assert [route.route_id for route in feed.routes] == ["R1", "R2"]
    stops = {stop.stop_id: stop for stop in feed.stops}
    assert stops["P1"] == gtfs_feed.ParsedStop("P1", "Gare quai 1", 43.6001, 1.4501, 0, "ST")
    assert stops["C"].location_type == 0  # empty location_type
    assert feed.stations_count == 1
    assert feed.route_stops == {("R1", "C"), ("R1", "P1"), ("R2", "P2")}
    assert feed.row_counts == {
        "agency.txt": 1,
        "routes.txt": 2,
        "stops.txt": 4,
        "trips.txt": 2,
        "stop_times.txt": 3,
    }


def test_without_stop_times_which_stops_a_route_serves_is_unknown(tmp_path: Path) -> None:
    feed = read_feed(write_feed(tmp_path, stop_times_txt=None))
    assert feed.route_stops is None
    assert feed.row_counts["trips.txt"] == 2
    assert read_feed(write_feed(tmp_path / "bare", trips_txt=None, stop_times_txt=None)).routes


def test_bom_crlf_and_quoted_commas_are_read(tmp_path: Path) -> None:
    folder = write_feed(tmp_path)
    routes = ROUTES.replace("Centre / Gare", '"Centre, Gare ""Nord"""').replace("\n", "\r\n")
    (folder / "routes.txt").write_bytes(b"\xef\xbb\xbf" + routes.encode())
    (folder / "stops.txt").write_bytes(b"\xef\xbb\xbf" + STOPS.encode())
    feed = read_feed(folder)
    assert feed.routes[0].route_id == "R1"
    assert feed.routes[0].long_name == 'Centre, Gare "Nord"'
    assert feed.stops[0].stop_id == "ST"


@pytest.mark.parametrize("inside", ["", "feed-2026/"])
def test_a_zip_is_read_with_its_files_at_the_root_or_in_one_folder(
    tmp_path: Path, inside: str
) -> None:
    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, content in BASE.items():
            bundle.writestr(inside + name, content)
    feed = read_feed(archive)
    assert len(feed.stops) == 4
    assert feed.route_stops == {("R1", "C"), ("R1", "P1"), ("R2", "P2")}


def test_a_file_that_is_neither_folder_nor_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("not a zip")
    error = refused(path)
    assert (error.file, error.line) == ("feed.zip", None)


def test_progress_is_reported_per_file_and_every_so_many_stop_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gtfs_feed, "PROGRESS_EVERY", 2)
    calls: list[tuple[str, int]] = []
    read_feed(write_feed(tmp_path), lambda file, rows: calls.append((file, rows)))
    assert calls == [
        ("agency.txt", 1),
        ("routes.txt", 2),
        ("stops.txt", 4),
        ("trips.txt", 2),
        ("stop_times.txt", 2),
        ("stop_times.txt", 3),
    ]


STOPS_HEADER = "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"routes_txt": None}, ("routes.txt", None), "routes.txt: missing"),
        ({"agency_txt": None}, ("agency.txt", None), "agency.txt: missing"),
        (
            {"trips_txt": None},
            ("trips.txt", None),
            "trips.txt: missing: stop_times.txt needs it",
        ),
        ({"stops_txt": ""}, ("stops.txt", 1), "the header line is missing"),
        (
            {"stops_txt": "stop_id,stop_name,stop_lon\nS,x,1.4\n"},
            ("stops.txt", 1),
            "stops.txt line 1: missing required column stop_lat",
        ),
        (
            {"agency_txt": "agency_id,agency_name\n"},
            ("agency.txt", None),
            "no agency is listed",
        ),
        (
            {"stops_txt": STOPS + ",Sans id,43.6,1.4,0,\n"},
            ("stops.txt", 6),
            "stops.txt line 6: stop_id is empty",
        ),
        (
            {"stops_txt": STOPS + "P1,Doublon,43.6,1.4,0,\n"},
            ("stops.txt", 6),
            "stops.txt line 6: duplicate stop_id 'P1' (first on line 3)",
        ),
        (
            {"stops_txt": STOPS.replace("43.6001", "abc")},
            ("stops.txt", 3),
            "stops.txt line 3: stop_lat is not a number: 'abc'",
        ),
        (
            {"stops_txt": STOPS.replace("1.4502", "181")},
            ("stops.txt", 4),
            "stop_lon is out of range (-180 to 180)",
        ),
        (
            {"stops_txt": STOPS.replace("43.6,1.45,1", ",,1")},
            ("stops.txt", 2),
            "stop_lat is missing: a stop or station needs coordinates",
        ),
        (
            {"stops_txt": STOPS + "E,Entrée,43.6,,2,ST\n"},
            ("stops.txt", 6),
            "stop_lon is missing while the other coordinate is given",
        ),
        (
            {"stops_txt": STOPS + "N,Noeud,43.6,1.4,9,\n"},
            ("stops.txt", 6),
            "location_type must be 0 to 4, not '9'",
        ),
        (
            {"stops_txt": STOPS.replace("0,ST\nP2", "0,NOWHERE\nP2")},
            ("stops.txt", 3),
            "parent_station 'NOWHERE' is not a stop_id of stops.txt",
        ),
        (
            {"stops_txt": STOPS + "L,Boucle,43.6,1.4,0,L\n"},
            ("stops.txt", 6),
            "is its own parent_station",
        ),
        (
            {"stops_txt": STOPS + "X" * 65 + ",Long,43.6,1.4,0,\n"},
            ("stops.txt", 6),
            "stop_id is longer than 64 characters",
        ),
        (
            {"stops_txt": STOPS + "LONG," + "n" * 256 + ",43.6,1.4,0,\n"},
            ("stops.txt", 6),
            "stop_name is longer than 255 characters",
        ),
        (
            {"routes_txt": ROUTES.replace(",T,", "," + "t" * 65 + ",")},
            ("routes.txt", 3),
            "route_short_name is longer than 64 characters",
        ),
        (
            {"routes_txt": ROUTES.replace("Tram,0", "Tram,42")},
            ("routes.txt", 3),
            "routes.txt line 3: unknown route_type 42",
        ),
        (
            {"routes_txt": ROUTES.replace("Tram,0", "Tram,tram")},
            ("routes.txt", 3),
            "route_type is not an integer: 'tram'",
        ),
        (
            {"routes_txt": ROUTES + "R1,A1,1b,Doublon,3\n"},
            ("routes.txt", 4),
            "duplicate route_id 'R1' (first on line 2)",
        ),
        (
            {
                "agency_txt": AGENCY + "A2,Autre,https://y.fr,Europe/Paris\n",
                "routes_txt": ROUTES.replace("R2,A1", "R2,A9"),
            },
            ("routes.txt", 3),
            "agency_id 'A9' is not in agency.txt",
        ),
        (
            {
                "agency_txt": AGENCY + "A2,Autre,https://y.fr,Europe/Paris\n",
                "routes_txt": ROUTES.replace("R2,A1", "R2,"),
            },
            ("routes.txt", 3),
            "agency_id is required: agency.txt lists several agencies",
        ),
        (
            {"trips_txt": TRIPS + "R9,S,T3\n"},
            ("trips.txt", 4),
            "trips.txt line 4: route_id 'R9' is not in routes.txt",
        ),
        (
            {"trips_txt": TRIPS + "R1,S,T1\n"},
            ("trips.txt", 4),
            "duplicate trip_id 'T1'",
        ),
        (
            {"stop_times_txt": STOP_TIMES + "T9,10:00:00,10:00:00,C,1\n"},
            ("stop_times.txt", 5),
            "stop_times.txt line 5: trip_id 'T9' is not in trips.txt",
        ),
        (
            {"stop_times_txt": STOP_TIMES + "T1,10:00:00,10:00:00,GHOST,3\n"},
            ("stop_times.txt", 5),
            "stop_id 'GHOST' is not in stops.txt",
        ),
    ],
)
def test_a_broken_feed_is_refused_with_its_file_and_line(
    tmp_path: Path, changes: dict[str, str | None], where: tuple[str, int | None], message: str
) -> None:
    error = refused(write_feed(tmp_path, **changes))
    assert (error.file, error.line) == where
    assert message in str(error)


def test_error_message_format() -> None:
    assert str(GtfsError("stops.txt", 42, "stop_lat is not a number")) == (
        "stops.txt line 42: stop_lat is not a number"
    )
    assert str(GtfsError("routes.txt", None, "missing")) == "routes.txt: missing"


def test_invalid_utf8_is_refused_on_its_line(tmp_path: Path) -> None:
    folder = write_feed(tmp_path)
    (folder / "stops.txt").write_bytes(STOPS.encode().replace(b"Centre", b"Centr\xe9"))
    error = refused(folder)
    assert (error.file, error.line) == ("stops.txt", 5)
    assert "UTF-8" in error.message


@pytest.mark.parametrize("route_type", ["0", "7", "11", "12", "100", "700", "1300", "1700"])
def test_basic_and_extended_route_types_are_accepted(tmp_path: Path, route_type: str) -> None:
    feed = read_feed(
        write_feed(tmp_path, routes_txt=ROUTES.replace("Tram,0", f"Tram,{route_type}"))
    )
    assert feed.routes[1].route_type == int(route_type)


def test_nodes_and_boarding_areas_may_have_no_coordinates(tmp_path: Path) -> None:
    stops = STOPS + "E,Entrée,,,2,ST\nB,Zone,,,4,P1\n"
    feed = read_feed(write_feed(tmp_path, stops_txt=stops))
    assert [(stop.lat, stop.lon) for stop in feed.stops[-2:]] == [(None, None), (None, None)]


def test_a_parent_station_may_come_after_its_children(tmp_path: Path) -> None:
    stops = STOPS_HEADER + "P1,Quai,43.6,1.45,0,ST\nP2,Quai,43.6,1.45,0,ST\nC,C,43.6,1.4,0,\n"
    stops += "ST,Gare,43.6,1.45,1,\n"
    assert len(read_feed(write_feed(tmp_path, stops_txt=stops)).stops) == 4


def test_with_one_agency_routes_need_no_matching_agency_id(tmp_path: Path) -> None:
    feed = read_feed(write_feed(tmp_path, routes_txt=ROUTES.replace("R2,A1", "R2,")))
    assert len(feed.routes) == 2
