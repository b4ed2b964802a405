"""Distances on the Earth, once: great-circle (haversine) metres between WGS84 points.

Precise enough for what the service measures (a stop a few hundred metres from the
sheet's point, a problem's radius, the commune nearest a point on the coast).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

# The mean Earth radius (IUGG), in metres.
EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres between two points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distances_m(
    lat: float, lon: float, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The great-circle distances in metres from one point to many (vectorised)."""
    phi1, phi2 = math.radians(lat), np.radians(lats)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = np.radians(lons - lon) / 2
    h = np.sin(half_dphi) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    distances: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return distances
