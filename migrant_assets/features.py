"""Per-user features of one window (SPEC §5), computed in DuckDB by the SQL of ``sql/features/``.

Choices the SPEC leaves open, made here and in the SQL files' headers:

- **Which users.** ``study.population`` decides (:data:`POPULATIONS`). With ``labelled`` (the
  papers), a window of family ``integration_week`` featurises the users with an
  ``integration_label``, ``departure_week`` and ``first_k_days`` those with a
  ``departure_label`` (a first-k-days window below k_max but the locals: :func:`with_locals`),
  and the descriptive ``whole_period`` window those with either.
  ``subscribers`` featurises every user of ``user_labels`` (owners with a local number, not
  service-like), labelled or not; ``all_active`` every party of the window graph, subscriber or
  not (another operator's numbers have no attribute and no location: their demographic,
  geography and price features are null). Only users active in the window (a party of its
  ``window_graph``: at least one call made or received in its dates) get a row. ``label`` is the
  user's label in the window's study, null when there is none; the descriptive study's label is
  the integration label, else the departure label (the integration study's labels describe the
  whole month, W1..W4), and its similar-age threshold is the integration study's. Degrees,
  neighbourhoods and neighbour prices use every party of the window, attributes or not.
- **Missed calls.** A call with a null duration (``calls.duration_s``, a missed call kept as a
  contact) is an edge and counts in degrees, ``in_calls`` / ``out_calls`` and the graph's
  ``n_calls``, and gives a location; ``call_duration`` and the variances use the known durations
  only (null for a user with none).
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

The registry :data:`FEATURES` is the one list of feature columns: the families
(:data:`FAMILIES`, each ``sql/features/<family>.sql`` writing the connection-local table
``feat_<family>``, one row per featurised user), the DDL of the window families' tables
(:data:`FEATURE_TABLES`, the view ``features`` unions them) with their column comments, and the
statement that assembles a window's rows all follow from it. The families read the calls only
through additive per-party sums (:func:`sum_window`: ``additive.sql``, ``accumulate.sql``), so
a first-k-days window is window k - 1's sums plus day k (docs/data_model.md, "Incremental
first-k-days windows"). :func:`run_family` runs the sums and
``sql/features/prepare.sql`` (unless ``prepared=True``; it reads the ``cell_prices`` table,
:func:`write_cell_prices`), the steps a family's file reads (:data:`REQUIRES`: triangles and
clustering before the ego network, the contacts before the families that read them; a first-k-days
window adds its new triangles to window k - 1's, :data:`ADDED_STEPS`) and the family's file.
:func:`build_features` prepares once, runs each step of every family once, drops each TEMP table
after the last step that reads it (:func:`drop_unread`) and writes the window's rows.
:func:`evaluate_feature_checks` judges a stored window
(:data:`CHECKS`; thresholds from the study config's ``checks``; null shares over the users whose
data can support a value, :attr:`Feature.support`); nothing to judge is never a pass
(:class:`CheckOutcome`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import shapely
from scipy import stats

import migrant_assets.db
from migrant_assets.config import (
    BEHAVIOUR_NULL_SHARE,
    DEFAULT_MAX_NULL_SHARE,
    StudyConfig,
    Window,
)
from migrant_assets.db import (
    first_row,
    memory_limit_bytes,
    quote,
    refuse_old_layout,
    registered,
    run_schema,
    run_schema_sql,
    run_sql,
    run_text,
    transaction,
)
from migrant_assets.graphs import graph_key, migrants_only, previous_window, stored_graph_key

EARTH_RADIUS_KM = 6371.0088  # IUGG mean earth radius; sql/features/macros.sql has the same
NEAR_KM = 1.0  # SPEC §5: mean price of the estates within 1 km ...
FAR_KM = 5.0  # ... else the nearest estate within 5 km

STUDY_OF_FAMILY = {
    "integration_week": "integration",
    "departure_week": "departure",
    "first_k_days": "departure",
    "whole_period": "descriptive",
    "arrival_days": "departure",  # early warning: the departure study's question, per migrant
}

#: ``study.population``: who gets a feature row (module docstring).
POPULATIONS = ("labelled", "subscribers", "all_active")

#: What a feature column needs from the data, besides an active user: the users its null share
#: is judged over (:func:`judged_null_shares`, ``sql/features/check_support.sql``).
Support = Literal[
    "every", "contact_age", "contact_sex", "contact_province", "townsman", "timed_call",
    "located", "priced",
]

#: What each support means, for check metadata and docs.
SUPPORT_DESCRIPTIONS: dict[str, str] = {
    "every": "every featurised user",
    "contact_age": "users of known age with a contact of known age",
    "contact_sex": "users of known sex with a contact of known sex",
    "contact_province": "users with a contact of known birth province",
    "townsman": "users of known birth province with a contact of known birth province",
    "timed_call": "users with a call of known duration",
    "located": "subscribers (only their calls carry cells), when `cells` has rows",
    "priced": "subscribers, when `cells` and `estates` have rows",
}

@dataclass(frozen=True)
class Feature:
    """One column of ``features``: its family, SPEC §5 definition, inputs and ablation groups.

    ``family`` names the SQL file that computes it (``sql/features/<family>.sql``). The departure
    study's group is the family (ego network includes demographics); the integration study's
    groups are D, E, C, G, and housing prices are not in it. ``support``: the users whose data can
    give the column a value (:data:`SUPPORT_DESCRIPTIONS`); its null share is judged over them
    only. By default the family's: geography ``located``, housing prices ``priced``, the rest
    ``every``. ``dtype``: the column's SQL type.
    """

    family: str
    definition: str
    inputs: tuple[str, ...]
    demographic: bool = False
    excluded_with_locals: bool = False
    needs: Support | None = None
    dtype: Literal["BIGINT", "DOUBLE"] = "DOUBLE"

    def __post_init__(self) -> None:
        quote(self.family)  # a family names a SQL file and a table: a plain identifier

    @property
    def support(self) -> Support:
        if self.needs is not None:
            return self.needs
        return {"geography": "located", "housing_price": "priced"}.get(self.family, "every")

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
    "degree": Feature("ego_network", "d_v = |N(v)|, contacts in the undirected view", _GRAPH,
                      dtype="BIGINT"),
    "in_degree": Feature("ego_network", "|{u: u->v}|", _GRAPH, dtype="BIGINT"),
    "out_degree": Feature("ego_network", "|{u: v->u}|", _GRAPH, dtype="BIGINT"),
    "weighted_degree": Feature("ego_network", "number of calls v made or received", _CALLS,
                               dtype="BIGINT"),
    "neighbor_degree": Feature("ego_network", "mean d_u over u in N(v)", _GRAPH),
    "clustering": Feature(
        "ego_network", "2 |edges among N(v)| / (d_v (d_v - 1)) undirected; 0 when d_v < 2", _GRAPH
    ),
    "similar_age": Feature(
        "ego_network",
        "fraction of contacts with |age_u - age_v| <= 5 (departure) or 10 (integration) years, "
        "over contacts of known age; null if v's age is unknown",
        (*_GRAPH, "subscribers.age"),
        demographic=True, needs="contact_age",
    ),
    "same_sex": Feature(
        "ego_network", "fraction of contacts of v's sex, over contacts of known sex",
        (*_GRAPH, "subscribers.sex"), demographic=True, needs="contact_sex",
    ),
    "local": Feature(
        "ego_network", "fraction of contacts born in the study city's province",
        (*_GRAPH, "subscribers.birth_province"), demographic=True, needs="contact_province",
    ),
    "townsman": Feature(
        "ego_network", "fraction of contacts born in v's province; 0 for locals",
        (*_GRAPH, "subscribers.birth_province"), demographic=True, excluded_with_locals=True,
        needs="townsman",
    ),
    "in_calls": Feature("call_behavior", "number of calls v received", _CALLS, dtype="BIGINT"),
    "out_calls": Feature("call_behavior", "number of calls v made", _CALLS, dtype="BIGINT"),
    "out_minus_in": Feature("call_behavior", "out_calls - in_calls", _CALLS, dtype="BIGINT"),
    "call_duration": Feature(
        "call_behavior", "mean duration (s) of v's calls of known duration", _DURATIONS,
        needs="timed_call",
    ),
    "duration_variance": Feature(
        "call_behavior",
        "sample variance (ddof=1) of v's known call durations; null for fewer than two",
        _DURATIONS, needs="timed_call",
    ),
    "local_call_duration": Feature(
        "call_behavior", "mean duration (s) of v's calls of known duration with locals",
        (*_DURATIONS, "subscribers.birth_province"), needs="contact_province",
    ),
    "local_duration_variance": Feature(
        "call_behavior", "sample variance (ddof=1) of v's known call durations with locals",
        (*_DURATIONS, "subscribers.birth_province"), needs="contact_province",
    ),
    "province_diversity": Feature(
        "call_behavior", "-sum p_i log2 p_i over the birth provinces of v's contacts (known)",
        (*_GRAPH, "subscribers.birth_province"), needs="contact_province",
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
    """'integration' for integration weeks, 'departure' for departure weeks and first-k-days,
    'descriptive' for the whole-period window."""
    return STUDY_OF_FAMILY[window.family]


def with_locals(cfg: StudyConfig, window: Window) -> bool:
    """Whether a window featurises its study's locals: every window but those of
    ``graphs.migrants_only`` (the first-k-days windows below k_max of the ``labelled``
    population), whose users are the departure study's migrants."""
    return not migrants_only(cfg, window)


def _params(cfg: StudyConfig, window: Window) -> dict[str, Any]:
    study = study_of(window)
    t = cfg.thresholds
    locals_too = with_locals(cfg, window)
    return {
        "window_id": window.window_id,
        "start": window.start,
        "end": window.end,
        "study": study,
        # an early-warning window featurises its cohort, the temp table feat_cohort (prepare.sql)
        "population": "cohort" if window.family == "arrival_days" else cfg.population,
        "with_locals": locals_too,
        # centres and prices of the users' neighbourhood only, where it is a small part of the
        # window's parties (prepare.sql, feat_neighbourhood)
        "neighbourhood_only": window.family == "arrival_days" or not locals_too,
        "province": cfg.city.province,
        "similar_age": t.similar_age_departure if study == "departure" else
        t.similar_age_integration,
        "tolerance": cfg.checks.tolerance,
    }


#: The stored additive sums of the incremental window families (``<prefix>_sums``, ``_places``,
#: ``_moves``, ``_moments``, ``_positions``, ``_triangles``:
#: ``sql/features/first_k_days_sums.sql``), auxiliary tables of the family's feature asset; a
#: window of another family is summed from its days (the early-warning windows add up stored
#: daily sums: ``sql/early_warning/window_sums.sql``).
STORED_SUMS: dict[str, str] = {
    "first_k_days": "features_first_k_days",
}
_SUMS_PARTS = ("sums", "places", "moves", "moments", "positions", "triangles")


def stored_sums_tables(family: str) -> dict[str, str]:
    """The identifiers ``stored_<part>`` of the SQL of stored sums, for a family of
    :data:`STORED_SUMS` (another family reads the first-k-days tables with no window: nothing)."""
    prefix = STORED_SUMS.get(family, STORED_SUMS["first_k_days"])
    return {f"stored_{part}": f"{prefix}_{part}" for part in _SUMS_PARTS}


def sums_key(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, Any]:
    """What a window's stored sums are computed from (``sql/features/sums_key.sql``):
    ``n_calls``, ``calls_versions`` (the lineage's versions of its days' ``calls``) and
    ``inputs`` (cells, estates, prices, birth provinces)."""
    run_schema_sql(con, "lineage/schema.sql")  # built_from, empty without the lineage
    return first_row(run_sql(con, "features/sums_key.sql",
                             {"start": window.start, "end": window.end}))


def stored_sums_key(con: duckdb.DuckDBPyConnection, window: Window, graph: str | None
                    ) -> dict[str, Any]:
    """:func:`sums_key` of a window whose sums are stored, with the stored parts and ``graph``,
    the neighbourhood key of the graph its triangles were counted on (``graphs.graph_key``), in
    its ``inputs``: sums stored before a part existed (a DuckDB file of an earlier version,
    without the window's triangles), or whose triangles were counted on the edges of another
    neighbourhood, are not added to."""
    key = sums_key(con, window)
    return {**key, "inputs": f"{key['inputs']}:{key['calls_versions']}:"
                             f"{'+'.join(_SUMS_PARTS)}:{graph}"}


#: Memory a call takes in one pass of :func:`sum_window` (its two located sides, their path's
#: sort, the sums): passes of 2M to 6M calls under ``memory_limit`` 600MB added no spill to the
#: window's (benchmarks/spill.py on the ``large`` city, docs/scale.md).
BYTES_PER_CALL_IN_A_PASS = 100


def calls_per_pass(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> int:
    """The most calls a pass of :func:`sum_window` reads: ``duckdb.max_calls_per_pass``, else
    the connection's ``memory_limit`` / :data:`BYTES_PER_CALL_IN_A_PASS`."""
    given = cfg.duckdb.max_calls_per_pass
    return given or max(1, memory_limit_bytes(con) // BYTES_PER_CALL_IN_A_PASS)


def day_passes(day_calls: Iterable[tuple[date, int]], start: date, end: date, budget: int
               ) -> list[tuple[date, date]]:
    """``start..end`` split into runs of whole days (``(first, last)``, in order, covering every
    day) of at most ``budget`` calls each, by the calls of each day that has any
    (``day_calls``, in day order); a day with more than ``budget`` calls is a run by itself."""
    passes, first, total = [], start, 0
    for day, n in day_calls:
        if total and total + n > budget:
            passes.append((first, day - timedelta(days=1)))
            first, total = day, 0
        total += n
    return [*passes, (first, end)]


def sum_window(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, incremental: bool = True
) -> Window | None:
    """The window's additive sums ``feat_places``, ``feat_moves``, ``feat_moments``
    (``sql/features/additive.sql``, ``accumulate.sql``): for a first-k-days window, those stored
    for the first k - 1 days (``graphs.previous_window``) plus day k when they can be reused
    (same province, calls, cells, estates and birth provinces; ``incremental``), else from the
    calls of all its days, in passes of whole days of at most :func:`calls_per_pass` calls on
    DuckDB (:func:`day_passes`; the same sums, bit for bit). Returns the window added
    to, or None."""
    run_sql(con, "features/macros.sql")
    previous = previous_window(cfg.calendar, window) if incremental else None
    stored = stored_sums_tables(window.family)
    if previous is not None:
        # the triangles added to must be counted on a graph of the window's neighbourhood; at
        # k_max (counted anew) the sums only need the graph window k - 1 has now
        graph = (graph_key(con, cfg, window) if triangles_added_to(cfg, window, previous)
                 else stored_graph_key(con, previous))
        if not first_row(run_sql(con, "features/previous_sums.sql", {
                "previous_id": previous.window_id, "province": cfg.city.province,
                **stored_sums_key(con, previous, graph)}, stored))["usable"]:
            previous = None
    start = window.start if previous is None else window.end
    passes = [(start, window.end)]
    if isinstance(con, duckdb.DuckDBPyConnection) and start < window.end:
        day_calls = run_sql(con, "features/day_calls.sql",
                            {"start": start, "end": window.end}).fetchall()
        passes = day_passes(day_calls, start, window.end, calls_per_pass(con, cfg))
    previous_id = None if previous is None else previous.window_id
    run_sql(con, "features/sums_start.sql", {"previous_id": previous_id}, stored)
    for first, last in passes:
        run_sql(con, "features/additive.sql",
                {"start": first, "end": last, "province": cfg.city.province})
        run_sql(con, "features/accumulate.sql", {"previous_id": previous_id}, stored)
        previous_id = None  # the stored sums are added once, on the first pass
    return previous


def prepare(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, incremental: bool = True,
    summed: bool = False,
) -> Window | None:
    """The window's additive sums (:func:`sum_window`; with ``summed``, those already in
    ``feat_places``, ``feat_moves``, ``feat_moments`` and ``feat_known_prices``: an early-warning
    window's, ``sql/early_warning/cohort.sql``, whose caller made the schema), then its
    featurised users, directed and undirected edges, degrees, contacts, cells and centres
    (§4-§5); needs the ``cell_prices`` table. Returns the window whose stored sums were added
    to, or None."""
    previous = None
    if summed:
        run_sql(con, "features/macros.sql")
    else:
        ensure_schema(con)
        previous = sum_window(con, cfg, window, incremental=incremental)
    run_sql(con, "features/prepare.sql", _params(cfg, window))
    return previous


#: The feature families, in table order: each is ``sql/features/<family>.sql``, which writes
#: ``feat_<family>`` (``user_id`` and the family's columns of :data:`FEATURES`).
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(f.family for f in FEATURES.values()))
@dataclass(frozen=True)
class Group:
    """A feature group of a study's ablations and figure panels (SPEC §6): its section title,
    how a skip reason names it, the papers' figure of its panel, its colour in the importance
    chart."""

    title: str
    name: str
    paper_figure: str
    color: str = "#999999"


#: Every feature group, in the papers' order: the integration study's D, E, C, G
#: (:attr:`Feature.integration_group`), then the departure study's, which are the families. A
#: new family needs its entry here (checked at import).
GROUPS: dict[str, Group] = {
    "D": Group("Demographics of contacts (D)", "demographics (D)", "001 Fig. 2(a), 3"),
    "E": Group("Ego-network characteristics (E)", "ego network (E)", "001 Fig. 2(b), 3"),
    "C": Group("Call behaviour (C)", "call behaviour (C)", "001 Fig. 2(c), 3"),
    "G": Group("Geographical features (G)", "geography (G)", "001 Fig. 2(d), 3"),
    "ego_network": Group("Ego network and demographics of contacts", "ego network",
                         "000 Fig. 3", "#4477AA"),
    "call_behavior": Group("Call behaviour", "call behaviour", "000 Fig. 5", "#EE6677"),
    "geography": Group("Geographical patterns", "geography", "000 Fig. 6", "#228833"),
    "housing_price": Group("Housing prices", "housing price", "000 Fig. 7", "#CCBB44"),
}
#: The groups of the departure study (the families) and of the integration study, in table
#: order.
DEPARTURE_GROUPS: tuple[str, ...] = FAMILIES
INTEGRATION_GROUPS: tuple[str, ...] = ("D", "E", "C", "G")

#: Unit of each feature (axis labels; checked at import): a fraction or an entropy has none.
UNITS: dict[str, str] = {
    **dict.fromkeys(["degree", "in_degree", "out_degree"], "contacts"),
    "weighted_degree": "calls",
    "neighbor_degree": "contacts",
    **dict.fromkeys(["clustering", "similar_age", "same_sex", "local", "townsman",
                     "reciprocal_call"], "fraction"),
    **dict.fromkeys(["in_calls", "out_calls", "out_minus_in"], "calls"),
    **dict.fromkeys(["call_duration", "local_call_duration"], "s"),
    **dict.fromkeys(["duration_variance", "local_duration_variance"], "s²"),
    "province_diversity": "bits",
    "communication_diversity": "normalised entropy",
    **dict.fromkeys(["center_lat", "home_lat", "work_lat"], "° N"),
    **dict.fromkeys(["center_lon", "home_lon", "work_lon"], "° E"),
    **dict.fromkeys(["avg_radius", "max_radius", "moving_distance", "avg_moving_distance",
                     "home_work_distance"], "km"),
    **dict.fromkeys([f for f, spec in FEATURES.items() if spec.family == "housing_price"],
                    "yuan/m²"),
}
for _what, _missing in (("a group (GROUPS)", set(FAMILIES) - set(GROUPS)),
                        ("a unit (UNITS)", set(FEATURES) - set(UNITS))):
    if _missing:
        raise ValueError(f"features.py: {sorted(_missing)} need {_what}")

#: Steps a family's SQL reads besides prepare.sql, run before it (``sql/features/<step>.sql``
#: writes ``feat_<step>``): the ego network reads the clustering coefficients, which read the
#: triangles through each party, and the contacts (each entry lists every step, in order, so a
#: family runs alone; :func:`build_features` runs each step once).
REQUIRES: dict[str, tuple[str, ...]] = {"clustering": ("triangles",),
                                        "ego_network": ("triangles", "clustering", "contacts"),
                                        "call_behavior": ("contacts",),
                                        "housing_price": ("contacts",)}
#: Steps a first-k-days window whose stored sums of window k - 1 are added to runs instead of
#: the step that counts over the whole window (same table, bit for bit): the triangles new on
#: day k added to window k - 1's (``triangles_added.sql``).
ADDED_STEPS: dict[str, str] = {"triangles": "triangles_added"}

#: The features table of each window family, written by the asset of the same name; the view
#: ``features`` unions them (:func:`ensure_schema`).
FEATURE_TABLES: dict[str, str] = {
    "integration_week": "features_integration_weeks",
    "departure_week": "features_departure_weeks",
    "first_k_days": "features_first_k_days",
    "whole_period": "features_whole_period",
}
#: Features tables of windows outside the view ``features`` (same columns): the early-warning
#: windows, a new migrant's first k days since her arrival (``early_warning.py``).
OTHER_FEATURE_TABLES: dict[str, str] = {"arrival_days": "features_arrival_days"}
#: The columns of every features table before the features: name, type, description.
KEY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("window_id", "VARCHAR NOT NULL", "<family>:<partition key> of the window."),
    ("study", "VARCHAR NOT NULL", "integration | departure | descriptive (whole_period)."),
    ("user_id", "BIGINT NOT NULL", "Pseudonymised user (a party of the window graph)."),
    ("label", "VARCHAR", "The user's label in the window's study; null when none "
     "(study.population subscribers or all_active)."),
)

_missing = sorted(set(FEATURES) - set(DEFAULT_MAX_NULL_SHARE))
if _missing:  # a new column needs its null-share threshold, or every check run would fail
    raise ValueError(f"config.DEFAULT_MAX_NULL_SHARE lacks the features {_missing}")


def features_table(window: Window) -> str:
    """The table holding ``window``'s feature rows (:data:`FEATURE_TABLES`,
    :data:`OTHER_FEATURE_TABLES`)."""
    return FEATURE_TABLES.get(window.family) or OTHER_FEATURE_TABLES[window.family]


def _literal(text: str) -> str:
    """A registry text as a SQL string literal (COMMENT ON takes no bound value)."""
    return "'" + text.replace("'", "''") + "'"


def _description(name: str, f: Feature) -> str:
    return (f"{f.definition} (departure group: {f.departure_group}; integration group: "
            f"{f.integration_group or '—'})")


def schema_sql() -> list[str]:
    """The DDL of the features tables, their column comments and the view ``features``, from
    :data:`KEY_COLUMNS` and :data:`FEATURES` (identifiers allow-listed and quoted)."""
    columns = [(quote(n), t, d) for n, t, d in KEY_COLUMNS] + [
        (quote(n), f.dtype, _description(n, f)) for n, f in FEATURES.items()]
    statements = []
    for table in map(quote, [*FEATURE_TABLES.values(), *OTHER_FEATURE_TABLES.values()]):
        body = ", ".join(f"{name} {dtype}" for name, dtype, _ in columns)
        statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        statements += [f"COMMENT ON COLUMN {table}.{name} IS {_literal(text)}"
                       for name, _, text in columns]
    select = ", ".join(name for name, _, _ in columns)
    statements.append("CREATE OR REPLACE VIEW features AS " + " UNION ALL ".join(
        f"SELECT {select} FROM {quote(t)}" for t in FEATURE_TABLES.values()))
    return statements


def write_sql(table: str) -> list[str]:
    """Delete-then-insert of one window's rows of ``table``: the featurised users
    (``feat_users``) joined to every family's table, columns in :data:`FEATURES` order."""
    names = [quote(n) for n, _, _ in KEY_COLUMNS] + [quote(n) for n in FEATURES]
    values = ["$window_id", "$study", "u.user_id", "u.label"] + [
        f"{quote('feat_' + f.family)}.{quote(n)}" for n, f in FEATURES.items()]
    joins = " ".join(f"LEFT JOIN {quote('feat_' + fam)} ON {quote('feat_' + fam)}.user_id = "
                     "u.user_id" for fam in FAMILIES)
    return [
        f"DELETE FROM {quote(table)} WHERE window_id = $window_id",
        f"INSERT INTO {quote(table)} ({', '.join(names)}) SELECT {', '.join(values)} "
        f"FROM feat_users AS u {joins}",
    ]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the features tables and the view ``features`` if needed (:func:`schema_sql`)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return  # another engine (engines.SparkSQL) declared the tables when it started
    refuse_old_layout(con, ["features"])
    run_schema(con, ";\n".join(schema_sql()))
    for family in STORED_SUMS:
        run_schema_sql(con, "features/first_k_days_sums.sql",
                       identifiers=stored_sums_tables(family))


def run_family(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, family: str, *,
    prepared: bool = False, previous: Window | None = None,
) -> str:
    """SPEC §5 features of one family (or a step of :data:`REQUIRES`) for the window's users:
    runs :func:`prepare` unless ``prepared``, the steps the family reads, then
    ``sql/features/<family>.sql``; returns the table it wrote, ``feat_<family>``. ``previous``
    (with ``prepared``): the window whose stored sums :func:`prepare` added to, whose stored
    triangles the :data:`ADDED_STEPS` add to."""
    if not prepared:
        previous = triangles_added_to(cfg, window, prepare(con, cfg, window))
    for step in family_steps(family):
        _run_step(con, cfg, window, step, previous)
    return f"feat_{family}"


def triangles_added_to(cfg: StudyConfig, window: Window, previous: Window | None
                       ) -> Window | None:
    """The window whose stored triangles the :data:`ADDED_STEPS` add to: ``previous`` (whose
    stored sums :func:`prepare` added to) when its graph keeps the same edges as the window's
    (``graphs.migrants_only`` of both: the triangles of a neighbourhood's graph are not all of
    the whole graph's, so k_max counts its own), else None."""
    if previous is None or migrants_only(cfg, previous) != migrants_only(cfg, window):
        return None
    return previous


def family_steps(family: str) -> tuple[str, ...]:
    """The steps a family runs, in order: those it reads (:data:`REQUIRES`), then its own."""
    return (*REQUIRES.get(family, ()), family)


def _step_file(step: str, previous: Window | None) -> str:
    """The SQL file of a step: ``features/<step>.sql``, or its :data:`ADDED_STEPS` file when
    window k - 1's stored sums are added to (``previous``)."""
    quote(step)
    added = previous is not None and step in ADDED_STEPS
    return f"features/{ADDED_STEPS[step] if added else step}.sql"


def _run_step(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, step: str,
              previous: Window | None) -> None:
    """One step's SQL file (:func:`_step_file`); an added step reads window k - 1's stored sums."""
    params, identifiers = _params(cfg, window), None
    if previous is not None and step in ADDED_STEPS:
        params["previous_id"] = previous.window_id
        identifiers = stored_sums_tables(window.family)
    run_sql(con, _step_file(step, previous), params, identifiers)


#: TEMP tables kept to the window's end whatever the steps left read: its additive sums (the
#: incremental tests compare them after a build; cohort.sql makes them for a cohort).
KEPT_TEMP_TABLES = ("feat_places", "feat_moves", "feat_moments")


def drop_unread(con: duckdb.DuckDBPyConnection, later: Iterable[str]) -> list[str]:
    """Drop the connection's ``feat_*`` TEMP tables that no text of ``later`` (the SQL of the
    window's steps still to run) names, but :data:`KEPT_TEMP_TABLES`; returns their names. A
    window then holds only what it still reads: DuckDB spills what does not fit its
    ``memory_limit``, so a dead table was spill (docs/scale.md, "Spill"). Only on DuckDB."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return []
    text = "\n".join(later)
    names = [n for (n,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary "
        "AND starts_with(table_name, 'feat_') ORDER BY table_name").fetchall()]
    dropped = [n for n in names
               if n not in KEPT_TEMP_TABLES and not re.search(rf"\b{re.escape(n)}\b", text)]
    for name in dropped:
        con.execute(f"DROP TABLE {quote(name)}")  # a name DuckDB listed, quoted
    return dropped


def build_features(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window, *, incremental: bool = True,
    summed: bool = False,
) -> str:
    """Every SPEC §5 feature of the window's featurised users, into the window family's table
    (:func:`features_table`; one transaction, delete-then-insert of the window); returns it.
    A first-k-days window adds day k to the stored sums of the first k - 1 days when it can
    (:func:`sum_window`; ``incremental=False`` sums all its days) and stores its own sums for
    window k + 1 in the same transaction; ``summed``: the sums are already made
    (:func:`prepare`)."""
    graph = graph_key(con, cfg, window)  # a graph built for other migrants is an error
    previous = triangles_added_to(cfg, window,
                                  prepare(con, cfg, window, incremental=incremental, summed=summed))
    table = features_table(window)
    steps = list(dict.fromkeys(step for family in FAMILIES for step in family_steps(family)))
    write = ";\n".join(write_sql(table))
    sql_text = migrant_assets.db.sql_text  # looked up at run time: tests may add a family's SQL
    texts = [*(sql_text(_step_file(step, previous)) for step in steps), write,
             sql_text("features/save_sums.sql")]
    drop_unread(con, texts)
    for i, step in enumerate(steps):  # each step once, its dead TEMP tables dropped after it
        _run_step(con, cfg, window, step, previous)
        drop_unread(con, texts[i + 1:])
    params = {"window_id": window.window_id, "study": study_of(window)}
    with transaction(con):
        run_text(con, write, params)
        # window k + 1 adds to these sums on DuckDB; another engine sums each window's own days
        if window.family in STORED_SUMS and isinstance(con, duckdb.DuckDBPyConnection):
            run_sql(con, "features/save_sums.sql", {
                "window_id": window.window_id, "province": cfg.city.province,
                **stored_sums_key(con, window, graph)}, stored_sums_tables(window.family))
    return table


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
    with registered(con, cell_prices_new=prices), transaction(con):
        run_sql(con, "features/cell_prices.sql")
    return "cell_prices"


def cell_prices_stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """``n_cells``, ``cells_with_price``, ``price_min`` and ``price_max`` of ``cell_prices``."""
    return first_row(run_sql(con, "features/cell_prices_stats.sql"))


def users_by_label(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, int]:
    """Featurised users of a stored window per label (``unlabelled`` for none)."""
    return dict(run_sql(con, "features/users_by_label.sql",
                        {"window_id": window.window_id}).fetchall())


def feature_checks(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window) -> dict:
    """The counts the feature checks judge (``sql/features/checks.sql``): rows, expected and
    candidate users, missing / unexpected / duplicate / wrongly labelled rows, and per range
    check the values judged and the rows out of range."""
    run_sql(con, "features/macros.sql")
    return first_row(run_sql(con, "features/checks.sql", _params(cfg, window)))


def null_shares(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, float | None]:
    """Share of null values of every feature column over all of one window's rows (None without
    rows)."""
    cols = ", ".join(f"avg(CASE WHEN {quote(f)} IS NULL THEN 1.0 ELSE 0.0 END)" for f in FEATURES)
    row = con.execute(
        f"SELECT {cols} FROM features WHERE window_id = ?", [window.window_id]
    ).fetchone()
    return dict(zip(FEATURES, row, strict=True))


def valueless_features(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The feature columns null in every row of ``features`` (every window), in table order;
    empty without rows."""
    cols = ", ".join(f"count({quote(f)})" for f in FEATURES)
    row = con.execute(f"SELECT count(*), {cols} FROM features").fetchone()  # noqa: S608
    return [f for f, n in zip(FEATURES, row[1:], strict=True) if row[0] and not n]


#: The supports that need a contact who is a subscriber (her age, sex or birth province).
_CONTACT_SUPPORTS = frozenset({"contact_age", "contact_sex", "contact_province", "townsman"})


def valueless_notes(con: duckdb.DuckDBPyConnection, named: set[str]) -> list[str]:
    """What the data cannot give of the features null for every user in every window
    (:func:`valueless_features`) that ``named`` (features the report already names) leaves out,
    one line per cause: no call of known duration, no call between two subscribers, else the
    users their :data:`SUPPORT_DESCRIPTIONS` need (probe 35 M2: they were tested nowhere, and
    named nowhere)."""
    names = [f for f in valueless_features(con) if f not in named]
    if not names:
        return []
    lack = first_row(run_sql(con, "features/valueless_causes.sql"))
    causes: dict[str, list[str]] = {}
    for name in names:
        f = FEATURES[name]
        if "calls.duration_s" in f.inputs and not lack["timed_calls"]:
            cause = ("no call has a known duration (a call of 0 s is read as a missed call, "
                     "which has none)")
        elif f.support in _CONTACT_SUPPORTS and not lack["calls_between_subscribers"]:
            cause = ("no call joins two of your subscribers, so no contact's age, sex or birth "
                     "province is known")
        else:
            cause = f"it needs {SUPPORT_DESCRIPTIONS[f.support]}, and the data have none"
        causes.setdefault(cause, []).append(name)
    return [f"{', '.join(group)} {'is' if len(group) == 1 else 'are'} unavailable: null for "
            f"every user in every window: {cause}" for cause, group in causes.items()]


_NO_USER = "no featurised user"


def judged_null_shares(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window
) -> dict[str, dict[str, Any]]:
    """Per feature column, its null share among the window's users whose data can support a value
    (:attr:`Feature.support`, ``sql/features/check_support.sql``): ``judged`` users, ``nulls``,
    ``share`` (None when not judged), ``max_share`` (``checks.max_null_share``) and ``reason``
    (why it is not judged: an empty ``cells`` / ``estates`` table, or no supported user)."""
    run_sql(con, "features/check_support.sql", _params(cfg, window))
    n_cells, n_estates = con.execute(
        "SELECT (SELECT count(*) FROM cells), (SELECT count(*) FROM estates)"
    ).fetchone()
    condition = {
        "every": "TRUE", "located": "s.subscriber", "priced": "s.subscriber",
        **{k: f"s.{k}" for k in ("contact_age", "contact_sex", "contact_province", "townsman",
                                  "timed_call")},
    }
    cols = ", ".join(
        f"SUM(CASE WHEN {condition[f.support]} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {condition[f.support]} AND r.{quote(name)} IS NULL THEN 1 ELSE 0 END)"
        for name, f in FEATURES.items()
    )
    row = con.execute(
        f"SELECT {cols} FROM features AS r JOIN feat_check_support AS s "
        "ON s.user_id = r.user_id WHERE r.window_id = $window_id",
        {"window_id": window.window_id}).fetchone()
    out: dict[str, dict[str, Any]] = {}
    for i, (name, f) in enumerate(FEATURES.items()):
        judged, nulls = int(row[2 * i] or 0), int(row[2 * i + 1] or 0)
        reason = None
        if f.support in ("located", "priced") and not n_cells:
            reason = "the cells table is empty: no call has a location"
        elif f.support == "priced" and not n_estates:
            reason = "the estates table is empty: no location has a price"
        elif judged == 0:
            reason = (_NO_USER if f.support == "every" else
                      f"no {SUPPORT_DESCRIPTIONS[f.support]} among the window's users")
        if reason is not None:
            judged = nulls = 0
        out[name] = {
            "judged": judged, "nulls": nulls,
            "share": nulls / judged if judged else None,
            "max_share": cfg.checks.max_null_share[name],
            "reason": reason,
        }
    return out


@dataclass(frozen=True)
class CheckOutcome:
    """One feature check's verdict. ``judged`` counts what was judged (users, values or columns);
    0 means not judged (``reason`` says why): the check then does not pass, with severity WARN,
    never a silent green. A judged check that fails has severity ERROR, or WARN when ``thin``:
    what it found follows from thin data, not from broken input."""

    passed: bool
    judged: int
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    thin: bool = False

    @property
    def severity(self) -> str:
        return "WARN" if self.judged == 0 or self.thin else "ERROR"


#: The feature checks, with what they assert.
CHECKS: dict[str, str] = {
    "one_row_per_active_labelled_user":
        "Each user of the window's population (study.population) active in the window has "
        "exactly one row with the study's label, and nobody else; zero rows fail while the "
        "population has users.",
    "fractions_in_unit_interval":
        "clustering, similar_age, same_sex, local, townsman, reciprocal_call lie in [0, 1].",
    "entropies_in_range":
        "province_diversity >= 0 and 0 <= communication_diversity <= 1.",
    "radii_consistent":
        "Radii and distances >= 0, max_radius >= avg_radius, radii and home-work distances "
        "within the cells' extent, centres inside the cells' bounding box.",
    "prices_within_estates_range": "Every price feature lies within the estates' price range.",
    "null_shares_under_thresholds":
        "Each column's null share, among the users whose data can support a value, is at most "
        "checks.max_null_share.",
}
#: The checks whose failure would poison what reads the features (the classifiers): a window
#: missing users, or with users outside the population or under another label.
BLOCKING_CHECKS = frozenset({"one_row_per_active_labelled_user"})


def evaluate_feature_checks(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window,
    checks: Iterable[str] | None = None,
) -> dict[str, CheckOutcome]:
    """The checks of :data:`CHECKS` (or those named in ``checks``) on the stored rows of
    ``window`` (after :func:`build_features`). No check passes on nothing: with zero rows the
    range and null-share checks are not judged, and the row check fails if the population has
    users, else is not judged."""
    wanted = set(CHECKS if checks is None else checks)
    out: dict[str, CheckOutcome] = {}
    if wanted - {"null_shares_under_thresholds"}:
        out |= _count_checks(con, cfg, window)
    if "null_shares_under_thresholds" in wanted:
        out["null_shares_under_thresholds"] = _null_share_check(con, cfg, window)
    return {k: v for k, v in out.items() if k in wanted}


_NO_ROWS = "no featurised user in the window: no value to judge"


def _count_checks(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window
) -> dict[str, CheckOutcome]:
    """The row check and the range checks, from ``sql/features/checks.sql``."""
    c = feature_checks(con, cfg, window)
    out: dict[str, CheckOutcome] = {}
    counts = {k: c[k] for k in ("n_rows", "n_expected", "n_candidates", "missing_users",
                                "unexpected_users", "duplicate_rows", "wrong_labels")}
    if c["n_rows"] == 0 and c["n_expected"] == 0 and c["n_candidates"] == 0:
        out["one_row_per_active_labelled_user"] = CheckOutcome(
            False, 0, "no user of the population in user_labels and no party in the window "
            "graph: nothing to featurise", counts)
    else:
        ok = all(c[k] == 0 for k in ("missing_users", "unexpected_users", "duplicate_rows",
                                     "wrong_labels"))
        reason = None
        if c["n_rows"] == 0:
            ok = False
            reason = (f"no featurised user although {c['n_expected']} users of the population "
                      f"are active in the window and {c['n_candidates']} exist")
        judged = c["n_expected"] + c["unexpected_users"] or c["n_candidates"]  # users judged
        if c["n_rows"] == 0 and c["n_expected"] == 0 and not with_locals(cfg, window):
            # the migrants of a first-k-days window below k_max may all arrive after its days
            judged, reason = 0, (f"none of the {c['n_candidates']} migrants of the departure "
                                 "study is active in the window (below k_max a first-k-days "
                                 "window featurises the migrants only)")
        elif c["n_rows"] == 0 and c["n_expected"] == 0 and not first_row(run_sql(
                con, "features/check_window_calls.sql", _params(cfg, window)))["n_calls"]:
            # a week of the data with no call of a labelled user (the data start later, an
            # outage): nothing to featurise, not an error
            judged, reason = 0, (f"none of the {c['n_candidates']} labelled users is active "
                                 "in the window: the data have no call of theirs in its days "
                                 "(calendar_coverage lists the days without calls)")
        out["one_row_per_active_labelled_user"] = CheckOutcome(ok, judged, reason, counts)

    ranges = {
        "fractions_in_unit_interval": ("fraction", None),
        "entropies_in_range": ("entropy", None),
        "radii_consistent": (
            "geography", "the cells table is empty: no call has a location"
            if not c["n_cells"] else None),
        "prices_within_estates_range": (
            "price", "the cells table is empty: no call has a location" if not c["n_cells"]
            else "the estates table is empty: no location has a price" if not c["n_estates"]
            else None),
    }
    for check, (kind, empty) in ranges.items():
        values, bad = c[f"{kind}_values"], c[f"{kind}_out_of_range"]
        meta = {"values_judged": values, "rows_out_of_range": bad}
        if values == 0:
            reason = _NO_ROWS if c["n_rows"] == 0 else empty or "every value is null"
            out[check] = CheckOutcome(False, 0, reason, meta)
        else:
            out[check] = CheckOutcome(bad == 0, values, None, meta)
    return out


#: One-sided level of :func:`above_limit`.
NULL_SHARE_LEVEL = 0.05


def above_limit(share: dict[str, Any]) -> bool:
    """A column's nulls exceed its ``max_share`` beyond sampling: its share is above the limit
    and ``nulls`` or more of ``judged`` users would be null with probability under
    :data:`NULL_SHARE_LEVEL` if each were null with the limit's probability (binomial, one
    sided). A limit of 0 fails on one null; on a few hundred users the test is the plain
    threshold within a point or two, while on a window of a few dozen supported users (the
    migrants' first days) one user with a value is not read as a broken column."""
    limit, judged, nulls = share["max_share"], share["judged"], share["nulls"]
    if nulls <= limit * judged:
        return False
    return bool(stats.binom.sf(nulls - 1, judged, limit) < NULL_SHARE_LEVEL)


def _null_share_check(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window
) -> CheckOutcome:
    """Each column's null share among its supported users (:func:`judged_null_shares`)."""
    shares = judged_null_shares(con, cfg, window)
    judged = {k: v for k, v in shares.items() if v["reason"] is None}
    too_null = {k: round(v["share"], 4) for k, v in judged.items() if above_limit(v)}
    meta = {
        "too_null": too_null,
        "shares": {k: round(v["share"], 4) for k, v in judged.items()},
        "judged_users": {k: v["judged"] for k, v in judged.items()},
        "not_judged": {k: v["reason"] for k, v in shares.items() if v["reason"] is not None},
    }
    if not judged:
        no_rows = any(v["reason"] == _NO_USER for v in shares.values())
        return CheckOutcome(
            False, 0, _NO_ROWS if no_rows else "no column has a user to judge", meta)
    # nulls beyond a threshold of BEHAVIOUR_NULL_SHARE follow from behaviour (thin data: WARN);
    # beyond a lower one, from the definition, so from broken input (ERROR)
    thin = bool(too_null) and all(cfg.checks.max_null_share[k] >= BEHAVIOUR_NULL_SHARE
                                  for k in too_null)
    if thin:
        meta["severity"] = ("WARN: each column too null is null by behaviour (one call, no call "
                            "with a local, no call at home hours...): it carries almost no "
                            "information in this window, and the models see it as missing")
    return CheckOutcome(not too_null, len(judged), None, meta, thin=thin)
