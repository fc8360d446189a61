"""Maps: the integration study's Figure 1 (where each group lives relative to everyone) and the
departure study's Figure 2 (housing prices over the city).

- Figure 1 (``sql/reports/group_map.sql``): each integration-labelled user is placed at the mean
  of their weekly centres of mass (``center_lat``/``center_lon``) over W2..W4, the weeks all
  three groups are active (new migrants are silent in W1), so one noisy week does not decide a
  user's place. Users are counted on a grid of ``cell_km``-km cells over the study area's
  bounding box (``cfg.city``; a degree of latitude is π R / 180 km, a degree of longitude that
  times cos(centre latitude)). Panel (a) is ln P_all, the share of all placed users per cell;
  panels (b)–(d) are ln P_group − ln P_all per group (red: the group is over-represented).
  A (cell, group) of fewer than ``min_group_size`` users, or in a cell of fewer, is suppressed
  and left blank (SPEC §1); the table keeps the flag, not the count.
- District outlines are drawn when ``cfg.city.districts_geojson`` names a WGS-84 GeoJSON
  (read with shapely).
- Figure 2 (``sql/reports/price_map.sql``, ``price_histogram.sql``, ``price_summary.sql``):
  the mean ``price_per_sqm`` of the estates of each grid cell, and the histogram of estate
  prices with their mean and standard deviation beside the paper's (000 Section 2.2,
  :data:`~migrant_assets.papers.PAPER_HOUSING_PRICES`). Estates are not people: no suppression.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, TwoSlopeNorm

from migrant_assets.config import StudyConfig
from migrant_assets.crs import WGS84, to_wgs84
from migrant_assets.db import run_sql
from migrant_assets.features import EARTH_RADIUS_KM
from migrant_assets.papers import PAPER_HOUSING_PRICES
from migrant_assets.reports.plots import (
    GROUP_NAMES,
    STUDY_GROUPS,
    message_figure,
    panel_message,
    to_png,
)

KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180


def grid_params(cfg: StudyConfig, cell_km: float) -> dict[str, float]:
    """The grid of the study area: bounding box and cell size in degrees."""
    c = cfg.city
    dlat = cell_km / KM_PER_DEGREE
    return {
        "min_lat": c.min_lat, "max_lat": c.max_lat, "min_lon": c.min_lon, "max_lon": c.max_lon,
        "dlat": dlat, "dlon": dlat / math.cos(math.radians(c.center_lat)),
    }


def district_outlines(path: Path, crs: str = WGS84) -> list[np.ndarray]:
    """The rings (exterior and holes) of every polygon of a GeoJSON file, as (n, 2) lon/lat
    arrays in WGS-84 degrees (the file's coordinates are in ``crs``, :mod:`migrant_assets.crs`)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    features = data["features"] if data.get("type") == "FeatureCollection" else [data]
    geoms = [shapely.from_geojson(json.dumps(f.get("geometry", f))) for f in features]
    polygons = shapely.get_parts(shapely.get_parts(geoms))
    polygons = polygons[shapely.get_type_id(polygons) == 3]  # Polygon
    rings = [shapely.get_exterior_ring(polygons)]
    rings += [shapely.get_interior_ring(polygons, i)
              for i in range(int(shapely.get_num_interior_rings(polygons).max(initial=0)))]
    out = []
    for ring in np.concatenate(rings):
        if ring is not None:
            lon, lat = shapely.get_coordinates(ring).T
            lat, lon = to_wgs84(lat, lon, crs)
            out.append(np.column_stack([lon, lat]))
    return out


def _raster(cells: pd.DataFrame, value: str, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[cells["cell_row"].to_numpy(), cells["cell_col"].to_numpy()] = cells[value].to_numpy()
    return out


def _map_axes(ax: Axes, cfg: StudyConfig, extent: tuple[float, float, float, float],
              outlines: list[np.ndarray]) -> None:
    for ring in outlines:
        ax.plot(ring[:, 0], ring[:, 1], color="0.35", lw=0.5)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect(1 / math.cos(math.radians(cfg.city.center_lat)))
    ax.set_xlabel("longitude (°, east positive)")
    ax.set_ylabel("latitude (°, north positive)")


def _extent(cells: pd.DataFrame, g: dict[str, float]) -> tuple[float, float, float, float]:
    """Bounding box of the cells with data, one cell of margin."""
    r0, r1 = cells["cell_row"].min() - 1, cells["cell_row"].max() + 2
    c0, c1 = cells["cell_col"].min() - 1, cells["cell_col"].max() + 2
    return (g["min_lon"] + c0 * g["dlon"], g["min_lon"] + c1 * g["dlon"],
            g["min_lat"] + r0 * g["dlat"], g["min_lat"] + r1 * g["dlat"])


def _mesh(g: dict[str, float]) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    rows = math.ceil((g["max_lat"] - g["min_lat"]) / g["dlat"])
    cols = math.ceil((g["max_lon"] - g["min_lon"]) / g["dlon"])
    lon = g["min_lon"] + np.arange(cols + 1) * g["dlon"]
    lat = g["min_lat"] + np.arange(rows + 1) * g["dlat"]
    return lon, lat, (rows, cols)


def _outlines(cfg: StudyConfig) -> list[np.ndarray]:
    path = cfg.city.districts_geojson
    return district_outlines(path, cfg.city.districts_crs) if path is not None else []


def group_maps(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, cell_km: float = 1.0
) -> tuple[pd.DataFrame, bytes]:
    """Write ``group_map`` (cell_row, cell_col, lat_min, lat_max, lon_min, lon_max, label, n,
    log_p, log_ratio, suppressed; label 'all' or a group) and return it with the PNG of 001
    Figure 1 (module docstring)."""
    g = grid_params(cfg, cell_km)
    weeks = [w.window_id for w in cfg.calendar.windows("integration_week")[1:]]
    cells = run_sql(con, "reports/group_map.sql", {
        **g, "window_ids": weeks, "min_group_size": cfg.thresholds.min_group_size,
    }).df()
    title = "Where each group lives (cf. 001 Figure 1)"
    shown = cells[~cells["suppressed"]]
    if cells.empty:  # no user has a centre: no cell location, or no labelled user in W2-W4
        return cells, message_figure(title, "no user has a centre in W2-W4 (no cell locations, "
                                            "or no labelled user active then)")
    if shown.empty:
        return cells, message_figure(title, "no grid cell has min_group_size users or more")
    lon, lat, shape = _mesh(g)
    extent, outlines = _extent(shown, g), _outlines(cfg)
    ratios = shown[shown["label"] != "all"]
    vmax = max(float(np.abs(ratios["log_ratio"]).max()) if not ratios.empty else 0.0, 0.1)
    fig, axes = plt.subplots(1, 4, figsize=(22, 6.2), layout="constrained")
    fig.suptitle(f"{title}: users at the centre of their active area, W2–W4, "
                 f"{cell_km:g} km cells (blank: fewer than "
                 f"{cfg.thresholds.min_group_size} users)", fontsize=13)
    all_cells = shown[shown["label"] == "all"]
    mesh = axes[0].pcolormesh(lon, lat, _raster(all_cells, "log_p", shape), cmap="viridis")
    fig.colorbar(mesh, ax=axes[0], shrink=0.8, label="ln P_all")
    axes[0].set_title("(a) all users: ln P_all")
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax)
    for ax, letter, label in zip(axes[1:], "bcd", STUDY_GROUPS["integration"], strict=True):
        group = shown[shown["label"] == label]
        mesh = ax.pcolormesh(lon, lat, _raster(group, "log_ratio", shape), cmap="RdBu_r",
                             norm=norm)
        ax.set_title(f"({letter}) {GROUP_NAMES[label]}: ln P_group − ln P_all")
    fig.colorbar(mesh, ax=axes[1:], shrink=0.8, label="ln P_group − ln P_all")
    for ax in axes:
        _map_axes(ax, cfg, extent, outlines)
    for ax, label in zip(axes[1:], STUDY_GROUPS["integration"], strict=True):
        if shown[shown["label"] == label].empty:  # a blank panel says why
            panel_message(ax, f"no {GROUP_NAMES[label]} in W2–W4"
                          if cells[cells["label"] == label].empty else
                          f"every cell suppressed: fewer than "
                          f"{cfg.thresholds.min_group_size} {GROUP_NAMES[label]}")
    return cells, to_png(fig, dpi=90)


def price_distribution(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, cell_km: float = 1.0,
    bin_width: float = 5000.0,
) -> bytes:
    """PNG of 000 Figure 2: mean estate price per grid cell, and the price histogram with the
    mean and standard deviation beside the paper's (module docstring)."""
    g = grid_params(cfg, cell_km)
    cells = run_sql(con, "reports/price_map.sql", g).df()
    title = "Housing price distribution over the city (cf. 000 Figure 2)"
    if cells.empty:
        return message_figure(title, "no estate with a price inside the study area")
    hist = run_sql(con, "reports/price_histogram.sql", {"bin_width": bin_width}).df()
    summary = run_sql(con, "reports/price_summary.sql").df().iloc[0]
    lon, lat, shape = _mesh(g)
    fig, (ax_map, ax_hist) = plt.subplots(
        1, 2, figsize=(15, 6.2), layout="constrained", width_ratios=[1.2, 1]
    )
    fig.suptitle(title, fontsize=13)
    mesh = ax_map.pcolormesh(lon, lat, _raster(cells, "mean_price", shape), cmap="magma_r",
                             norm=LogNorm())
    currency = cfg.city.currency
    fig.colorbar(mesh, ax=ax_map, shrink=0.85,
                 label=f"mean price of the cell's estates ({currency}/m²)")
    ax_map.set_title(f"mean estate price per {cell_km:g} km cell")
    _map_axes(ax_map, cfg, _extent(cells, g), _outlines(cfg))
    ax_hist.bar(hist["bin_start"] / 1000, hist["n_estates"], width=bin_width / 1000,
                align="edge", color="#8c6bb1", edgecolor="white", linewidth=0.4)
    paper = PAPER_HOUSING_PRICES
    for value, style, name in [
        (summary["mean_price"], "-", f"mean {summary['mean_price'] / 1000:.1f}K"),
        (summary["mean_price"] + summary["sd_price"], ":",
         f"mean + s.d. (s.d. {summary['sd_price'] / 1000:.1f}K)"),
        *([(paper["mean_yuan_per_m2"], "--",
            f"paper's mean {paper['mean_yuan_per_m2'] / 1000:.1f}K")] if currency == "yuan"
          else []),  # the paper's prices are in yuan
    ]:
        if pd.notna(value):
            ax_hist.axvline(value / 1000, ls=style, color="black", lw=1.2, label=name)
    ax_hist.set_xlabel(f"price per m² (thousand {currency})")
    ax_hist.set_ylabel("estates")
    ax_hist.set_title(f"{int(summary['n_estates']):,} estates, bins of {bin_width / 1000:g}K")
    ax_hist.legend()
    ax_hist.grid(alpha=0.3)
    return to_png(fig, dpi=90)
