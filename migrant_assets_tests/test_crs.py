"""Coordinates in other systems (migrant_assets/crs.py): the Chinese datums against the
published test vectors and against real listings converted by their curator, projected systems
through pyproj, the mapping's rules, and the cells and estates landed in WGS-84 degrees."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from extracts import SHANGHAI
from pyproj import Transformer

from migrant_assets.config import StudyConfig
from migrant_assets.contract import DataContract, contract_for
from migrant_assets.crs import gcj02_to_bd09, named_datum, normalise, to_wgs84, wgs84_to_gcj02
from migrant_assets.errors import MappingError
from migrant_assets.ingest import ingest_places
from migrant_assets.reports.maps import district_outlines

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
#: Listings with the curator's own BD-09 -> WGS-84 columns (shanghai_*/README.md: "standard
#: formulas", rounded to 6 decimals): file, BD-09 lat/lon columns, WGS-84 lat/lon columns.
LISTINGS = [
    ("shanghai_xiaoqu_price_lianjia_2018/xiaoqu_coords_bd09.csv",
     "lat_bd09", "lon_bd09", "lat_wgs84", "lon_wgs84"),
    ("shanghai_listings_beike_2022/listings_clean.csv",
     "lat_bd09", "lng_bd09", "lat_wgs84", "lng_wgs84"),
    ("shanghai_rentals_lianjia_2020/rentals_2020-10.csv",
     "lat_bd09", "lon_bd09", "lat_wgs84", "lon_wgs84"),
]


def test_the_published_test_vectors() -> None:
    """coordTransform's README (wandergis/coordTransform_py): Tiananmen (39.915, 116.404)."""
    lat, lon = wgs84_to_gcj02(np.array(39.915), np.array(116.404))
    assert (lat, lon) == pytest.approx((39.91640428150164, 116.41024449916938), abs=1e-12)
    lat, lon = gcj02_to_bd09(np.array(39.915), np.array(116.404))
    assert (lat, lon) == pytest.approx((39.92133699351022, 116.41036949371029), abs=1e-12)


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_the_inverse_undoes_the_forward_formula(crs: str) -> None:
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(18, 53, 5_000), rng.uniform(74, 134, 5_000)
    shifted = wgs84_to_gcj02(lat, lon)
    if crs == "bd09":
        shifted = gcj02_to_bd09(*shifted)
    back = to_wgs84(*shifted, crs)
    assert np.abs(back[0] - lat).max() < 1e-9 and np.abs(back[1] - lon).max() < 1e-9
    # the offset it removes is the datum's: hundreds of metres, not noise
    assert np.abs(shifted[1] - lon).max() > 1e-3


def test_outside_china_no_offset() -> None:
    lat, lon = np.array([48.8566, 19.43]), np.array([2.3522, -99.13])
    assert to_wgs84(lat, lon, "gcj02") == (pytest.approx(lat), pytest.approx(lon))


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data absent")
@pytest.mark.parametrize(("path", "blat", "blon", "wlat", "wlon"), LISTINGS)
def test_real_listings_against_their_curators_conversion(
    path: str, blat: str, blon: str, wlat: str, wlon: str
) -> None:
    """The curator converted with Baidu's approximate inverse and rounded to 6 decimals: within
    2e-6 degrees (0.2 m) of ours for every listing inside China's box."""
    df = pd.read_csv(SHARED / path).dropna(subset=[blat, blon, wlat, wlon])
    df = df[df[blon].between(73, 135)]  # one record of the 2018 file has a longitude of 21.49
    lat, lon = to_wgs84(df[blat].to_numpy(), df[blon].to_numpy(), "bd09")
    assert len(df) > 5_000
    assert np.abs(lat - df[wlat]).max() < 2e-6 and np.abs(lon - df[wlon]).max() < 2e-6


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data absent")
def test_district_outlines_in_gcj02() -> None:
    """DataV's outlines (GCJ-02) against the curator's WGS-84 copy (iterative inverse, 6
    decimals)."""
    folder = SHARED / "shanghai_districts_geojson"
    ours = district_outlines(folder / "shanghai_districts_gcj02.json", normalise("GCJ-02"))
    theirs = district_outlines(folder / "shanghai_districts_wgs84.json")
    assert len(ours) == len(theirs) > 10
    assert max(np.abs(a - b).max() for a, b in zip(ours, theirs, strict=True)) < 1e-6


def test_a_projected_system_through_pyproj() -> None:
    """lat holds the northing and lon the easting; a point the system cannot hold is infinite
    (a bad coordinate), not a wrong place."""
    lat, lon = np.array([31.2304, 30.9]), np.array([121.4737, 121.9])
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True).transform(lon, lat)
    got = to_wgs84(y, x, normalise("epsg:32651"))
    assert np.abs(got[0] - lat).max() < 1e-9 and np.abs(got[1] - lon).max() < 1e-9
    far = to_wgs84(np.array([1e30]), np.array([1e30]), "EPSG:32651")
    assert not np.isfinite(far[0]).all()


def test_the_study_config_names_the_outlines_system() -> None:
    assert StudyConfig(city={"districts_crs": "GCJ-02"}).city.districts_crs == "gcj02"
    assert StudyConfig().city.districts_crs == "wgs84"
    with pytest.raises(ValueError, match="is not known"):
        StudyConfig(city={"districts_crs": "baidu"})


def test_names_of_systems() -> None:
    assert [normalise(w) for w in ("WGS-84", "wgs_84", "EPSG:4326", "GCJ-02", "BD09")] == \
        ["wgs84", "wgs84", "wgs84", "gcj02", "bd09"]
    for bad in ("mercator", "EPSG:99999999", "EPSG:1"):
        with pytest.raises(ValueError, match="crs"):
            normalise(bad)
    assert [named_datum(c) for c in ("lat_bd09", "LNG_GCJ02", "baidu_y", "lat_wgs84", "lat",
                                     "y")] == ["bd09", "gcj02", "bd09", "wgs84", None, None]
    # Baidu's API names of its degrees, and Chinese column names of the services' coordinates
    assert [normalise(w) for w in ("bd09ll", "BD09LL", "gcj02ll")] == ["bd09", "bd09", "gcj02"]
    assert [named_datum(c) for c in ("百度纬度", "高德经度", "火星坐标_lng", "纬度")] == [
        "bd09", "gcj02", "gcj02", None]


def _mapping(tmp_path: Path, cells: dict, estates: dict) -> Path:
    mapping = {"calls": {"path": "calls.csv"}, "subscribers": {"path": "subs.csv"},
               "cells": cells, "estates": estates}
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    return tmp_path / "mapping.yaml"


def test_the_mapping_names_its_system(tmp_path: Path) -> None:
    named = {"path": "e.csv", "columns": {"lat": "lat_bd09", "lon": "lng_bd09"}}
    with pytest.raises(MappingError) as e:
        DataContract.load(_mapping(tmp_path, {"path": "c.csv"}, named))
    assert "a bd09 coordinate by its name" in str(e.value) and "crs: bd09" in str(e.value)
    with pytest.raises(MappingError, match="crs"):
        DataContract.load(_mapping(tmp_path, {"path": "c.csv", "crs": "gcj02"},
                                   {**named, "crs": "gcj02"}))  # says bd09, told gcj02
    with pytest.raises(MappingError, match="is not known"):
        DataContract.load(_mapping(tmp_path, {"path": "c.csv", "crs": "baidu"},
                                   {"path": "e.csv"}))
    # a WGS-84 column told it is BD-09: the fix is to leave crs out, not to map WGS-84 columns
    wgs = {"path": "e.csv", "crs": "bd09", "columns": {"lat": "lat_wgs84", "lon": "lon_wgs84"}}
    with pytest.raises(MappingError) as e:
        DataContract.load(_mapping(tmp_path, {"path": "c.csv"}, wgs))
    assert "a wgs84 coordinate by its name" in str(e.value)
    assert "leave out estates.crs" in str(e.value) and "map the file's WGS-84" not in str(e.value)
    contract = DataContract.load(_mapping(tmp_path, {"path": "c.csv", "crs": "EPSG:32651"},
                                          {**named, "crs": "BD-09"}))
    assert (contract.cells.crs, contract.estates.crs, contract.calls.crs) == \
        ("EPSG:32651", "bd09", "wgs84")
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(
        {"calls": {"path": "c.csv", "crs": "bd09"}, "subscribers": {"path": "s.csv"}}))
    with pytest.raises(MappingError, match="only cells and estates"):
        DataContract.load(tmp_path / "m.yaml")


@pytest.mark.parametrize("crs", ["bd09", "gcj02", "wgs84"])
def test_estates_and_cells_land_in_wgs84(tmp_path: Path, crs: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Estates exported in ``crs`` land at their WGS-84 points with ``crs`` set; left at the
    default, the same file lands hundreds of metres off and passes the box (what the option
    is for); the quarantine keeps the file's own text, and a bad row is still judged."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", "k" * 32)
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(31.0, 31.4, 40), rng.uniform(121.2, 121.7, 40)
    flat, flon = (lat, lon) if crs == "wgs84" else wgs84_to_gcj02(lat, lon)
    if crs == "bd09":
        flat, flon = gcj02_to_bd09(flat, flon)
    rows = [f"E{i},{float(a)!r},{float(o)!r},50000"
            for i, (a, o) in enumerate(zip(flat, flon, strict=True))]
    rows += ["BAD,north,121.5,50000", "FAR,31.2,130.0,50000"]
    (tmp_path / "e.csv").write_text("\n".join(["id,y,x,price", *rows]) + "\n")
    (tmp_path / "c.csv").write_text("cell,y,x\nC1,31.2,121.5\n")
    landed = {}
    for told in (crs, "wgs84"):
        columns = {"lat": "y", "lon": "x"}
        _mapping(tmp_path, {"path": "c.csv", "columns": {"cell_id": "cell", **columns},
                            "crs": told},
                 {"path": "e.csv", "crs": told,
                  "columns": {"estate_id": "id", "price_per_sqm": "price", **columns}})
        study = {"source": {"kind": "files", "mapping": str(tmp_path / "mapping.yaml")},
                 "workdir": str(tmp_path / "work"), "city": dict(SHANGHAI)}
        (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
        cfg = StudyConfig.load(tmp_path / "study.yaml")
        con = duckdb.connect()
        stats = ingest_places(con, cfg, contract_for(cfg), "estates")
        assert stats.accepted == 40 and stats.quarantined_by_reason == \
            {"bad_coordinates": 1, "outside_bbox": 1}
        got = con.execute("SELECT lat, lon FROM estates ORDER BY CAST(estate_id[2:] AS INT)"
                          ).fetchnumpy()
        landed[told] = (got["lat"], got["lon"])
        assert con.execute("SELECT record FROM quarantine_estates WHERE reason = "
                           "'outside_bbox'").fetchone()[0] == \
            '{"estate_id":"FAR","lat":"31.2","lon":"130.0","price_per_sqm":"50000"}'
    right = landed[crs]
    assert np.abs(right[0] - lat).max() < 1e-9 and np.abs(right[1] - lon).max() < 1e-9
    if crs != "wgs84":
        off = np.hypot(landed["wgs84"][0] - lat, (landed["wgs84"][1] - lon) * np.cos(0.545))
        assert off.min() * 111_000 > 300  # metres: every estate misplaced, none outside
