"""Per-user features of one window (SPEC §5), computed in DuckDB by the SQL of ``sql/features/``.

Choices the SPEC leaves open, made here and in the SQL files' headers:

- **Which users.** A window of family ``integration_week`` featurises the users with an
  ``integration_label``, ``departure_week`` and ``first_k_days`` those with a
  ``departure_label``; only those active in the window (a party of its ``window_graph``: at
  least one call made or received in its dates) get a row. Degrees, neighbourhoods and
  neighbour prices use every party of the window, attributes or not.
- **Distances** are haversine km on a sphere of radius :data:`EARTH_RADIUS_KM` (6371.0088 km,
  the IUGG mean radius), in plain SQL arithmetic.
- **Location order.** L is ordered by ``(start_ts, cell_id)``: calls starting in the same second
  are taken in cell order, so the moving distance does not depend on row order.
- **Home / work** use the call's local start time: home ``[20:00, 07:00)``, work
  ``[09:00, 16:00)``.
- **price(point).** :func:`cell_prices` prices every cell once with shapely's STRtree over a
  local equirectangular projection (km), used as a padded prefilter; the 1 km / 5 km rule is then
  applied to exact haversine distances, and a tie for the nearest estate takes the mean of the
  tied prices. Centres (of L, home, work) are points, not cells, so ``housing_price.sql`` applies
  the same rule to them in SQL against ``estates``, once per distinct position: candidates from
  an equi-join on a grid of >= r/2-km cells (5 x 5 neighbourhood), distances compared through the
  chord between unit vectors, which is the haversine distance exactly (d = 2 R asin(chord / 2));
  a centre at a cell's position gets that cell's price.
- **townsman** is 0 for a user born in the study province when any contact's province is known
  (null otherwise, like every demographic fraction); it is flagged ``excluded_with_locals``.
- ``neighbor_avg_price`` / ``neighbor_center_price`` average over the contacts with a defined
  value; those values are computed for every party with a location, labelled or not.
- **Ids.** Parties keep their BIGINT ids: measured on the `large` city, dense integer ids would
  cost a mapping join per edge and call side and save nothing in the hash joins that follow.

Each family function runs ``sql/features/prepare.sql`` (unless ``prepared=True``; it reads the
``cell_prices`` table, :func:`write_cell_prices`) and its own SQL file, and returns the name of
the connection-local table it wrote: one row per featurised user. :func:`clustering` is a step of
its own (``sql/features/clustering.sql``), run by :func:`ego_network`. :func:`build_features`
prepares once, runs the four families and writes ``features``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import shapely

from migrant_assets.config import StudyConfig, Window
from migrant_assets.db import first_row, run_sql, transaction

EARTH_RADIUS_KM = 6371.0088  # IUGG mean earth radius; the SQL files use the same number
NEAR_KM = 1.0  # SPEC §5: mean price of the estates within 1 km ...
FAR_KM = 5.0  # ... else the nearest estate within 5 km

STUDY_OF_FAMILY = {
    "integration_week": "integration",
    "departure_week": "departure",
    "first_k_days": "departure",
}

Family = Literal["ego_network", "call_behavior", "geography", "housing_price"]


@dataclass(frozen=True)
class Feature:
    """One column of ``features``: its family, SPEC §5 definition, inputs and ablation groups.

    The departure study's group is the family (ego network includes demographics); the
    integration study's groups are D, E, C, G, and housing prices are not in it.
    """

    family: Family
    definition: str
    inputs: tuple[str, ...]
    demographic: bool = False
    excluded_with_locals: bool = False

    @property
    def departure_group(self) -> str:
        return self.family

    @property
    def integration_group(self) -> str | None:
        if self.demographic:
            return "D"
        return {"ego_network": "E", "call_behavior": "C", "geography": "G"}.get(self.family)


_GRAPH = ("window_graph.src", "window_graph.dst")
_CALLS = ("window_graph.src", "window_graph.dst", "window_graph.n_calls")
_DURATIONS = ("calls.caller", "calls.callee", "calls.call_date", "calls.duration_s")
_LOCATIONS = (
    "calls.caller", "calls.callee", "calls.call_date", "calls.start_ts",
    "calls.caller_cell", "calls.callee_cell", "cells.lat", "cells.lon",
)
_PRICES = (*_LOCATIONS, "cell_prices.price", "estates.lat", "estates.lon",
           "estates.price_per_sqm")

#: Every feature column of ``features``, in table order.
FEATURES: dict[str, Feature] = {
    "degree": Feature("ego_network", "d_v = |N(v)|, contacts in the undirected view", _GRAPH),
    "in_degree": Feature("ego_network", "|{u: u->v}|", _GRAPH),
    "out_degree": Feature("ego_network", "|{u: v->u}|", _GRAPH),
    "weighted_degree": Feature("ego_network", "number of calls v made or received", _CALLS),
    "neighbor_degree": Feature("ego_network", "mean d_u over u in N(v)", _GRAPH),
    "clustering": Feature(
        "ego_network", "2 |edges among N(v)| / (d_v (d_v - 1)) undirected; 0 when d_v < 2", _GRAPH
    ),
    "similar_age": Feature(
        "ego_network",
        "fraction of contacts with |age_u - age_v| <= 5 (departure) or 10 (integration) years, "
        "over contacts of known age; null if v's age is unknown",
        (*_GRAPH, "subscribers.age"),
        demographic=True,
    ),
    "same_sex": Feature(
        "ego_network", "fraction of contacts of v's sex, over contacts of known sex",
        (*_GRAPH, "subscribers.sex"), demographic=True,
    ),
    "local": Feature(
        "ego_network", "fraction of contacts born in the study city's province",
        (*_GRAPH, "subscribers.birth_province"), demographic=True,
    ),
    "townsman": Feature(
        "ego_network", "fraction of contacts born in v's province; 0 for locals",
        (*_GRAPH, "subscribers.birth_province"), demographic=True, excluded_with_locals=True,
    ),
    "in_calls": Feature("call_behavior", "number of calls v received", _CALLS),
    "out_calls": Feature("call_behavior", "number of calls v made", _CALLS),
    "out_minus_in": Feature("call_behavior", "out_calls - in_calls", _CALLS),
    "call_duration": Feature("call_behavior", "mean duration (s) of v's calls", _DURATIONS),
    "duration_variance": Feature(
        "call_behavior", "sample variance (ddof=1) of v's call durations; null for one call",
        _DURATIONS,
    ),
    "local_call_duration": Feature(
        "call_behavior", "mean duration (s) of v's calls with locals",
        (*_DURATIONS, "subscribers.birth_province"),
    ),
    "local_duration_variance": Feature(
        "call_behavior", "sample variance (ddof=1) of v's call durations with locals",
        (*_DURATIONS, "subscribers.birth_province"),
    ),
    "province_diversity": Feature(
        "call_behavior", "-sum p_i log2 p_i over the birth provinces of v's contacts (known)",
        (*_GRAPH, "subscribers.birth_province"),
    ),
    "reciprocal_call": Feature(
        "call_behavior", "|out(v) & in(v)| / |out(v)|; null when out_degree = 0", _GRAPH
    ),
    "communication_diversity": Feature(
        "call_behavior",
        "-sum_j p_vj log p_vj / log k_v, k_v = out_degree, p_vj = calls v->j / calls made by v; "
        "null when k_v < 2",
        _CALLS,
    ),
    "center_lat": Feature("geography", "latitude of the centre of mass of L", _LOCATIONS),
    "center_lon": Feature("geography", "longitude of the centre of mass of L", _LOCATIONS),
    "avg_radius": Feature("geography", "mean haversine km from L to its centre", _LOCATIONS),
    "max_radius": Feature("geography", "max haversine km from L to its centre", _LOCATIONS),
    "moving_distance": Feature(
        "geography", "sum of haversine km between consecutive locations of L", _LOCATIONS
    ),
    "avg_moving_distance": Feature("geography", "moving_distance / |L|", _LOCATIONS),
    "home_lat": Feature("geography", "latitude of the centre of calls in [20:00, 07:00)",
                        _LOCATIONS),
    "home_lon": Feature("geography", "longitude of the centre of calls in [20:00, 07:00)",
                        _LOCATIONS),
    "work_lat": Feature("geography", "latitude of the centre of calls in [09:00, 16:00)",
                        _LOCATIONS),
    "work_lon": Feature("geography", "longitude of the centre of calls in [09:00, 16:00)",
                        _LOCATIONS),
    "home_work_distance": Feature(
        "geography", "haversine km between home and work; null if either is missing", _LOCATIONS
    ),
    "avg_price": Feature("housing_price", "mean price(l) over L (locations with a price)",
                         _PRICES),
    "center_price": Feature("housing_price", "price of the centre of mass", _PRICES),
    "home_avg_price": Feature("housing_price", "mean price(l) over home locations", _PRICES),
    "home_center_price": Feature("housing_price", "price of the home centre", _PRICES),
    "work_avg_price": Feature("housing_price", "mean price(l) over work locations", _PRICES),
    "work_center_price": Feature("housing_price", "price of the work centre", _PRICES),
    "neighbor_avg_price": Feature(
        "housing_price", "mean avg_price of v's contacts with one", (*_GRAPH, *_PRICES)
    ),
    "neighbor_center_price": Feature(
        "housing_price", "mean center_price of v's contacts with one", (*_GRAPH, *_PRICES)
    ),
}


def study_of(window: Window) -> str:
    """'integration' for integration weeks, 'departure' for departure weeks and first-k-days."""
    return STUDY_OF_FAMILY[window.family]


def _params(cfg: StudyConfig, window: Window) -> dict[str, Any]:
    study = study_of(window)
    t = cfg.thresholds
    return {
        "window_id": window.window_id,
        "start": window.start,
        "end": window.end,
        "study": study,
        "province": cfg.city.province,
        "similar_age": t.similar_age_integration if study == "integration" else
        t.similar_age_departure,
    }


def prepare(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window) -> None:
    """Featurised users, directed and undirected edges, degrees, contacts, locations, centres and
    mean cell prices of a window (§4-§5); needs the ``cell_prices`` table."""
    run_sql(con, "features/prepare.sql", _params(cfg, window))


def _run_family(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, name: str, prepared: bool
) -> str:
    if not prepared:
        prepare(con, cfg, window)
    run_sql(con, f"features/{name}.sql", _params(cfg, window))
    return f"feat_{name}"


def clustering(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, prepared: bool = False
) -> str:
    """SPEC §5 local clustering of the window's users (triangles of the undirected view);
    writes ``feat_clustering`` (``user_id, clustering``)."""
    return _run_family(con, cfg, window, "clustering", prepared)


def ego_network(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, prepared: bool = False
) -> str:
    """SPEC §5 ego network and demographics of the window's users; runs :func:`clustering` and
    writes ``feat_ego_network``."""
    clustering(con, cfg, window, prepared=prepared)
    return _run_family(con, cfg, window, "ego_network", prepared=True)


def call_behavior(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, prepared: bool = False
) -> str:
    """SPEC §5 call behaviour of the window's users; writes ``feat_call_behavior``."""
    return _run_family(con, cfg, window, "call_behavior", prepared)


def geography(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, prepared: bool = False
) -> str:
    """SPEC §5 geography of the window's users; writes ``feat_geography``."""
    return _run_family(con, cfg, window, "geography", prepared)


def housing_price(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, prepared: bool = False
) -> str:
    """SPEC §5 housing prices of the window's users; writes ``feat_housing_price``.

    Needs the ``cell_prices`` table (:func:`write_cell_prices`)."""
    return _run_family(con, cfg, window, "housing_price", prepared)


def build_features(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window) -> str:
    """Every SPEC §5 feature of the window's featurised users, into ``features`` (one transaction,
    delete-then-insert of the window); returns ``"features"``."""
    prepare(con, cfg, window)
    for family in (ego_network, call_behavior, geography, housing_price):
        family(con, cfg, window, prepared=True)
    params = _params(cfg, window)
    with transaction(con):
        run_sql(con, "features/features.sql", params)
    return "features"


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between degree coordinates (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlon = np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def cell_prices(cells: pd.DataFrame, estates: pd.DataFrame) -> pd.DataFrame:
    """price(cell) of SPEC §5: mean ``price_per_sqm`` of the estates within 1 km, else the nearest
    estate within 5 km (mean of tied nearest), else null.

    Candidates come from shapely's STRtree over a local equirectangular projection in km (centred
    on the data's mean latitude), queried with a radius padded by the projection's worst scale
    error plus 1 %; the rule itself uses exact haversine km, as the SQL does for centres.
    Returns ``cell_id, price`` with one row per cell.
    """
    clat, clon = cells["lat"].to_numpy(float), cells["lon"].to_numpy(float)
    elat, elon = estates["lat"].to_numpy(float), estates["lon"].to_numpy(float)
    eprice = estates["price_per_sqm"].to_numpy(float)
    price = np.full(len(cells), np.nan)
    if len(cells) and len(estates):
        lats = np.radians(np.concatenate([clat, elat]))
        cos0 = np.cos(lats.mean())
        pad = 1.01 * max(1.0, cos0 / np.cos(lats).min())

        def project(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
            rad = EARTH_RADIUS_KM * np.pi / 180
            return shapely.points(rad * lon * cos0, rad * lat)

        tree = shapely.STRtree(project(elat, elon))
        points = project(clat, clon)
        cell, est = tree.query(points, predicate="dwithin", distance=NEAR_KM * pad)
        inside = haversine_km(clat[cell], clon[cell], elat[est], elon[est]) <= NEAR_KM
        n = np.bincount(cell[inside], minlength=len(cells))
        total = np.bincount(cell[inside], weights=eprice[est[inside]], minlength=len(cells))
        price[n > 0] = total[n > 0] / n[n > 0]

        rest = np.flatnonzero(n == 0)
        cell, est = tree.query(points[rest], predicate="dwithin", distance=FAR_KM * pad)
        cand = pd.DataFrame({
            "cell": rest[cell],
            "distance": haversine_km(clat[rest[cell]], clon[rest[cell]], elat[est], elon[est]),
            "price": eprice[est],
        })
        cand = cand[cand["distance"] <= FAR_KM]
        nearest = cand[cand["distance"] == cand.groupby("cell")["distance"].transform("min")]
        far = nearest.groupby("cell")["price"].mean()
        price[far.index.to_numpy()] = far.to_numpy()
    return pd.DataFrame({"cell_id": cells["cell_id"].to_numpy(), "price": price})


def write_cell_prices(con: duckdb.DuckDBPyConnection) -> str:
    """Write :func:`cell_prices` of the ``cells`` and ``estates`` tables to ``cell_prices``
    (delete-then-insert, one transaction); returns ``"cell_prices"``."""
    prices = cell_prices(
        con.table("cells").select("cell_id, lat, lon").df(),
        con.table("estates").select("lat, lon, price_per_sqm").df(),
    )
    con.register("cell_prices_new", prices)
    try:
        with transaction(con):
            run_sql(con, "features/cell_prices.sql")
    finally:
        con.unregister("cell_prices_new")
    return "cell_prices"


def feature_checks(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window) -> dict:
    """Counts the feature checks assert are zero (``sql/features/checks.sql``)."""
    return first_row(run_sql(con, "features/checks.sql", _params(cfg, window)))


def null_shares(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, float]:
    """Share of null values of every feature column in one window's rows."""
    cols = ", ".join(f'avg(CASE WHEN "{f}" IS NULL THEN 1.0 ELSE 0.0 END)' for f in FEATURES)
    row = con.execute(
        f"SELECT {cols} FROM features WHERE window_id = ?", [window.window_id]
    ).fetchone()
    return {f: (v if v is not None else 0.0) for f, v in zip(FEATURES, row, strict=True)}

#: Largest null share a feature column may have in one window before the asset check fails: the
#: largest share seen over every window of the synthetic `tiny` and `demo` cities (seed 20160901)
#: plus 0.1, rounded up to 0.05. Columns defined for every active user (counts, degrees,
#: clustering, mean duration) must never be null; location-based ones may miss a few users.
MAX_NULL_SHARE: dict[str, float] = {
    **dict.fromkeys(FEATURES, 0.0),
    **dict.fromkeys(
        ["center_lat", "center_lon", "avg_radius", "max_radius", "moving_distance",
         "avg_moving_distance", "avg_price", "center_price"], 0.05),
    "similar_age": 0.30, "same_sex": 0.25, "local": 0.25, "townsman": 0.25,
    "duration_variance": 0.35, "local_call_duration": 0.40, "local_duration_variance": 0.70,
    "province_diversity": 0.25, "reciprocal_call": 0.30, "communication_diversity": 0.70,
    "home_lat": 0.65, "home_lon": 0.65, "work_lat": 0.40, "work_lon": 0.40,
    "home_work_distance": 0.75, "home_avg_price": 0.65, "home_center_price": 0.65,
    "work_avg_price": 0.40, "work_center_price": 0.40,
    "neighbor_avg_price": 0.25, "neighbor_center_price": 0.25,
}
