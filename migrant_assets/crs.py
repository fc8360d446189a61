"""Coordinates in other reference systems, to WGS-84 degrees (SPEC §1: cells and estates are
WGS-84).

A careful operator exports towers in the network's own system, and housing prices scraped from
Chinese map services come in their datums, which sit a few hundred metres off WGS-84 inside the
city's box (no check can see it). The mapping says what its columns hold (``cells.crs``,
``estates.crs``; ``city.districts_crs`` for the outlines of the maps):

- ``wgs84`` (the default): degrees, as SPEC §1 asks;
- ``gcj02``: China's obfuscated datum (AMap/Gaode, Tencent, Apple and Google maps in China);
  inverted by the fixed-point iteration of its public forward formula to below 1e-9 degrees;
- ``bd09``: Baidu's datum on top of GCJ-02 (Baidu maps, Lianjia and Beike listings);
- ``EPSG:<code>``: any system pyproj knows (UTM, Lambert-93, a national grid): the mapping's
  ``lat`` column holds the northing (y) and ``lon`` the easting (x).

Outside China's box GCJ-02 and BD-09 add no offset (as the formula's reference code does).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

WGS84 = "wgs84"
#: The named datums besides WGS-84 (the mapping's words, lower case; the module docstring says
#: what uses them).
CHINESE_DATUMS = ("gcj02", "bd09")
#: Other names of those datums: Baidu's API calls its degrees bd09ll, GCJ-02's gcj02ll.
DATUM_ALIASES = {"bd09ll": "bd09", "gcj02ll": "gcj02"}
_EPSG = re.compile(r"^EPSG:\d{4,6}$")

# GCJ-02's public forward formula: the Krasovsky 1940 ellipsoid and its offset polynomials.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def normalise(crs: str) -> str:
    """The canonical spelling of a mapping's ``crs`` (``WGS-84`` is ``wgs84``, ``epsg:32651`` is
    ``EPSG:32651``), or a ValueError naming what is accepted. An EPSG code pyproj does not know
    is refused here, before any file is read."""
    word = re.sub(r"[\s_-]", "", crs.strip()).lower()
    if word in ("wgs84", "epsg:4326"):
        return WGS84
    if word in CHINESE_DATUMS:
        return word
    if word in DATUM_ALIASES:  # Baidu's own names of its coordinates (its API's coordtype)
        return DATUM_ALIASES[word]
    code = crs.strip().upper().replace(" ", "")
    if _EPSG.match(code):
        _transformer(code)  # raises for a code pyproj does not know
        return code
    raise ValueError(f"crs {crs!r} is not known: use wgs84 (degrees), gcj02, bd09, or "
                     "EPSG:<code> for a projected system (lat then holds the northing, lon the "
                     "easting)")


@lru_cache(maxsize=8)
def _transformer(code: str):  # noqa: ANN202 - pyproj's Transformer
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(code)
    except CRSError:
        raise ValueError(f"crs {code} is not a system pyproj knows (see epsg.io)") from None
    return Transformer.from_crs(source, "EPSG:4326", always_xy=True)


def _in_china(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _gcj_offset(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at the WGS-84 point (lat, lon), in degrees (the public formula)."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180.0 / (_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    inside = _in_china(lat, lon)
    return np.where(inside, dlat, 0.0), np.where(inside, dlon, 0.0)


def wgs84_to_gcj02(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The forward formula (what a Chinese map service does to a WGS-84 point)."""
    dlat, dlon = _gcj_offset(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_bd09(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baidu's formula on top of GCJ-02."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.sin(theta) + 0.006, z * np.cos(theta) + 0.0065


def _inverse(forward, lat: np.ndarray, lon: np.ndarray, start: tuple[np.ndarray, np.ndarray],
             steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The point p with forward(p) = (lat, lon), by the fixed-point iteration p -= forward(p) -
    (lat, lon) from ``start``: both datums' offsets change by under 1e-4 of a degree's shift,
    so each step gains about four digits."""
    plat, plon = start
    for _ in range(steps):
        flat, flon = forward(plat, plon)
        plat, plon = plat - (flat - lat), plon - (flon - lon)
    return plat, plon


def _bd09_to_gcj02(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From Baidu's published inverse (off by up to 1e-6 degrees), three steps of the fixed
    point of its forward formula (under 1e-12)."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _inverse(gcj02_to_bd09, lat, lon, (z * np.sin(theta), z * np.cos(theta)), 3)


def _gcj02_to_wgs84(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From the GCJ-02 point itself, six steps of the fixed point (under 1e-9 degrees)."""
    return _inverse(wgs84_to_gcj02, lat, lon, (lat, lon), 6)


def to_wgs84(lat: np.ndarray, lon: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 degrees of the points (``lat``, ``lon``) given in ``crs`` (:func:`normalise`d);
    for an EPSG system ``lat`` is the northing and ``lon`` the easting. A point pyproj cannot
    transform comes back infinite (a bad coordinate)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    if crs == WGS84:
        return lat, lon
    if crs == "gcj02":
        return _gcj02_to_wgs84(lat, lon)
    if crs == "bd09":
        return _gcj02_to_wgs84(*_bd09_to_gcj02(lat, lon))
    if _EPSG.match(crs):
        out_lon, out_lat = _transformer(crs).transform(lon, lat, errcheck=False)
        return np.asarray(out_lat, dtype=float), np.asarray(out_lon, dtype=float)
    raise ValueError(f"crs {crs!r} is not normalised")


#: Words in a column's name that say which datum it holds (``lat_bd09``, ``gcj_lng``, ``baidu_x``).
_DATUM_WORDS = {"bd09": re.compile(r"bd[_-]?09|baidu|百度", re.I),
                "gcj02": re.compile(r"gcj|amap|gaode|mars|高德|火星", re.I),
                WGS84: re.compile(r"wgs", re.I)}


def named_datum(column: str) -> str | None:
    """The datum a column's name announces (``lat_bd09`` is bd09), or None."""
    named = [crs for crs, word in _DATUM_WORDS.items() if word.search(column)]
    return named[0] if len(named) == 1 else None
