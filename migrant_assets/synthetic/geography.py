"""The city's geography (SPEC §7): cell towers denser toward the centre, and housing estates whose
price per m² falls with distance from the centre, calibrated to the departure study's
mean 54.3K and s.d. 29.4K yuan/m² (paper 000, §2.2).

Positions are drawn as (distance, bearing) from the centre on a local flat projection (km) and
redrawn until they fall inside the study city's bounding box (``config.City``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from migrant_assets.config import City

CITY = City()
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * np.cos(np.radians(CITY.center_lat))

PRICE_MEAN = 54_300.0
PRICE_SD = 29_400.0


def to_latlon(x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return CITY.center_lat + y_km / KM_PER_DEG_LAT, CITY.center_lon + x_km / KM_PER_DEG_LON


def to_xy(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (lon - CITY.center_lon) * KM_PER_DEG_LON, (lat - CITY.center_lat) * KM_PER_DEG_LAT


def inside_bbox(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    in_lat = (lat >= CITY.min_lat) & (lat <= CITY.max_lat)
    return in_lat & (lon >= CITY.min_lon) & (lon <= CITY.max_lon)


def bearings(u: np.ndarray, mean: np.ndarray | float = 0.0,
             focus: np.ndarray | float = 0.0) -> np.ndarray:
    """Bearings (radians) from uniform draws ``u`` in [0, 1): a wrapped Cauchy law around
    ``mean`` with concentration ``focus`` (0: any bearing, exactly ``2 pi u``; 0.7: 89% of the
    bearings within a quarter turn of ``mean``), by its inverse CDF, so one draw per bearing
    whatever the focus."""
    focus = np.broadcast_to(np.asarray(focus, dtype=float), u.shape)
    mean = np.broadcast_to(np.asarray(mean, dtype=float), u.shape)
    ratio = (1 - focus) / (1 + focus)
    focused = mean + 2 * np.arctan(ratio * np.tan(np.pi * (u - 0.5)))
    return np.where(focus > 0, focused, 2 * np.pi * u)


def place(
    rng: np.random.Generator, x0: np.ndarray, y0: np.ndarray, dist_km: np.ndarray,
    bearing: np.ndarray | float = 0.0, focus: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``dist_km`` away from (x0, y0) in a random bearing (:func:`bearings` around
    ``bearing`` with ``focus``; by default any), kept inside the bounding box (bearing redrawn,
    and the distance shortened, for points that fall outside)."""
    x0, y0 = np.broadcast_to(x0, dist_km.shape), np.broadcast_to(y0, dist_km.shape)
    bearing = np.broadcast_to(np.asarray(bearing, dtype=float), dist_km.shape)
    focus = np.broadcast_to(np.asarray(focus, dtype=float), dist_km.shape)
    x, y = np.empty_like(dist_km), np.empty_like(dist_km)
    pending = np.arange(dist_km.size)
    dist = dist_km.astype(float).copy()
    while pending.size:
        theta = bearings(rng.uniform(0, 1, pending.size), bearing[pending], focus[pending])
        x[pending] = x0[pending] + dist[pending] * np.cos(theta)
        y[pending] = y0[pending] + dist[pending] * np.sin(theta)
        lat, lon = to_latlon(x[pending], y[pending])
        pending = pending[~inside_bbox(lat, lon)]
        dist[pending] *= 0.8
    return x, y


@dataclass(frozen=True)
class Geography:
    """Cells (towers) and estates, in lat/lon and in km around the centre."""

    cell_x: np.ndarray
    cell_y: np.ndarray
    estate_x: np.ndarray
    estate_y: np.ndarray
    price: np.ndarray
    tree: cKDTree

    @property
    def n_cells(self) -> int:
        return self.cell_x.size

    def nearest_cell(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.tree.query(np.column_stack([x, y]))[1].astype(np.int32)


def _calibrate(log_raw: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """exp(a + b·log_raw) with b, a chosen so the prices have exactly ``mean`` and ``sd``; the
    transformation is monotone, so the price-distance profile keeps its ranks."""
    z = log_raw - log_raw.mean()
    lo, hi = 0.01, 5.0
    for _ in range(60):
        b = (lo + hi) / 2
        p = np.exp(b * z)
        if p.std() / p.mean() < sd / mean:
            lo = b
        else:
            hi = b
    p = np.exp(lo * z)
    return p * (mean / p.mean())


def build_geography(rng: np.random.Generator, n_cells: int, n_estates: int) -> Geography:
    """Cells: three quarters around the centre (lognormal distance, median 7 km), the rest spread
    uniformly over a 45 km disc. Estates: lognormal distance (median 10 km, like Shanghai's
    estates); price = calibrated lognormal noise around 12K + 120K·exp(−r/8 km)."""
    central = rng.random(n_cells) < 0.75
    r_cell = np.where(
        central, rng.lognormal(np.log(7.0), 0.75, n_cells), 45.0 * np.sqrt(rng.random(n_cells))
    )
    cx, cy = place(rng, np.zeros(1), np.zeros(1), r_cell)
    r_est = rng.lognormal(np.log(10.0), 0.8, n_estates)
    ex, ey = place(rng, np.zeros(1), np.zeros(1), r_est)
    r_est = np.hypot(ex, ey)
    profile = 12_000 + 120_000 * np.exp(-r_est / 8.0)
    price = _calibrate(np.log(profile) + rng.normal(0, 0.22, n_estates), PRICE_MEAN, PRICE_SD)
    return Geography(cx, cy, ex, ey, np.round(price, 0), cKDTree(np.column_stack([cx, cy])))
