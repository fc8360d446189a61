"""Communication graphs (SPEC §4), computed in DuckDB by ``sql/graphs/``.

``daily_contacts`` holds one daily partition per call date: the directed (caller, callee) pairs
with their number of calls and total duration. Each window family's graph table
(:data:`GRAPH_TABLES`) holds G_t of its windows, summed from ``daily_contacts``; the view
``window_graph`` unions them. Every party is a node, subscriber or not; service-like owners stay
in the graphs (they are only removed from the user population, SPEC §3).

A call with no duration (a missed call kept as a contact: ``calls.end_ts`` and ``duration_s``
null) is an edge and counts in ``n_calls``; ``duration_s`` is the exact sum of the known
durations, null when none of the edge's calls has one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from typing import Any

import duckdb

from migrant_assets.config import Calendar, StudyConfig, Window
from migrant_assets.db import first_row, refuse_old_layout, run_schema_sql, run_sql, transaction
from migrant_assets.errors import InputError

#: The graph table of each window family, written by the asset of the same name
#: (``sql/graphs/schema.sql``; the view ``window_graph`` unions them).
GRAPH_TABLES: dict[str, str] = {
    "integration_week": "integration_week_graph",
    "departure_week": "departure_week_graph",
    "first_k_days": "first_k_days_graph",
    "whole_period": "whole_period_graph",
}
#: Graph tables of windows that are no study family of their own: a new migrant's first k days
#: since her arrival (``early_warning.py``); auxiliary table of ``features_arrival_days``.
OTHER_GRAPH_TABLES: dict[str, str] = {"arrival_days": "arrival_days_graph"}

def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the graph tables and the view ``window_graph`` (``sql/graphs/schema.sql``)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return  # another engine (engines.SparkSQL) declared the tables when it started
    refuse_old_layout(con, ["window_graph"])
    run_schema_sql(con, "graphs/schema.sql")


def graph_table(window: Window) -> str:
    """The table holding ``window``'s graph (:data:`GRAPH_TABLES`, :data:`OTHER_GRAPH_TABLES`)."""
    return GRAPH_TABLES.get(window.family) or OTHER_GRAPH_TABLES[window.family]


def _window_params(window: Window) -> dict[str, Any]:
    return {"window_id": window.window_id, "start": window.start, "end": window.end}


def migrants_only(cfg: StudyConfig, window: Window) -> bool:
    """Whether the window's users are the departure study's migrants alone: a first-k-days window
    below k_max of the ``labelled`` population. Figure 8 and the transfer matrix model them
    (leaving vs staying, SPEC §6); the locals' first k days serve Table 1, at k_max only. Such a
    window featurises no local (``features.with_locals``) and its graph keeps the edges of the
    migrants' neighbourhood only (:func:`neighbourhood`)."""
    windows = cfg.calendar.windows("first_k_days")
    return (cfg.population == "labelled" and window.family == "first_k_days"
            and window.window_id != windows[-1].window_id)


#: Inside :func:`neighbourhood_once`: by connection id, the connection and the key of what its
#: TEMP table ``graph_neighbourhood`` holds (the connection is held, so its id is not reused).
_MADE: ContextVar[dict[int, tuple[Any, tuple, str]] | None] = ContextVar("neighbourhoods",
                                                                         default=None)

#: The key of a graph of every edge; a neighbourhood's key (an empty one's too) is
#: ``neighbourhood:<parties>:<checksum>`` (``sql/graphs/neighbourhood_key.sql``).
EVERY_EDGE = "every edge"


@contextmanager
def neighbourhood_once() -> Iterator[None]:
    """Within the block, :func:`neighbourhood` makes the neighbourhood once per connection: an
    asset's run of many windows below k_max reads one set (the same for every such window). The
    block must not change ``user_labels`` or ``calls``; a block inside another shares its
    memory."""
    outer = _MADE.get()
    token = _MADE.set({} if outer is None else outer)
    try:
        yield
    finally:
        _MADE.reset(token)


def neighbourhood(con: Any, cfg: StudyConfig | None, window: Window) -> str:
    """Make the TEMP table ``graph_neighbourhood`` the window graphs' SQL reads with
    ``$migrants_only``, and return its key (:data:`EVERY_EDGE`: keep every edge). For a window
    of :func:`migrants_only`, the departure study's migrants and every party in contact with one
    of them in ``calls`` over the days of the longest such window
    (``sql/graphs/migrants_neighbourhood.sql``; ``user_labels`` reads every day's calls), the
    same parties for every k, so window k is still window k - 1 plus day k. Their edges are
    every edge a feature of the migrants reads: their own, their contacts' (degrees of
    neighbours) and those between their contacts (clustering). Else (or with no ``cfg``) an
    empty table. Inside :func:`neighbourhood_once`, a table already made on ``con`` is kept."""
    restricted = cfg is not None and migrants_only(cfg, window)
    longest = ([w for w in cfg.calendar.windows("first_k_days") if migrants_only(cfg, w)][-1]
               if restricted else None)
    days = (longest.start, longest.end) if longest else ()
    made = _MADE.get()
    held = made.get(id(con)) if made is not None else None
    if held is not None and held[0] is con and held[1] == days:
        return held[2]
    if longest is None:
        run_sql(con, "graphs/no_neighbourhood.sql")
        key = EVERY_EDGE
    else:
        run_sql(con, "graphs/migrants_neighbourhood.sql",
                {"first_day": longest.start, "last_day": longest.end})
        key = first_row(run_sql(con, "graphs/neighbourhood_key.sql"))["neighbourhood"]
    if made is not None:
        made[id(con)] = (con, days, key)
    return key


def stored_graph_key(con: Any, window: Window) -> str | None:
    """The key (:func:`neighbourhood`) a first-k-days window's stored graph was built with
    (None: no graph stored, or one stored by an earlier version)."""
    row = run_sql(con, "graphs/graph_neighbourhood_read.sql",
                  {"window_id": window.window_id}).fetchone()
    return None if row is None else row[0]


def graph_key(con: Any, cfg: StudyConfig, window: Window) -> str:
    """The key (:func:`neighbourhood`) of the window's stored graph, which its features read:
    for a first-k-days window, a graph of every edge or of the neighbourhood of today's labels
    and calls (a graph of an earlier version: every edge, but below k_max). A graph built for
    other migrants (``user_labels`` or ``calls`` changed since) is an error, never
    featurised. Other families keep every edge."""
    if window.family != "first_k_days":
        return EVERY_EDGE
    ensure_schema(con)
    want, stored = neighbourhood(con, cfg, window), stored_graph_key(con, window)
    if stored in (want, EVERY_EDGE) or (stored is None and want == EVERY_EDGE):
        return stored or EVERY_EDGE
    below = [w for w in cfg.calendar.windows("first_k_days") if migrants_only(cfg, w)]
    rebuild = (f"{below[0].label}..{below[-1].label} again (the windows below k_max keep one "
               "neighbourhood), then their features" if migrants_only(cfg, window)
               else f"{window.label} again, then its features")
    raise InputError(
        f"the graph of first-k-days window {window.label} was "
        + ("not built by this version (an earlier one, or none)" if stored is None
           else "built for other parties (user_labels, calls or the study's population changed "
                "since, or another DuckDB version hashes them otherwise)"),
        "first_k_days_graph", f"materialize first_k_days_graph for {rebuild}")


def build_daily_contacts(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, Any]:
    """Replace the ``daily_contacts`` partition of ``day`` from ``calls`` (SPEC §4).

    Returns ``n_rows`` (directed caller-callee pairs) and ``n_calls``.
    """
    ensure_schema(con)
    with transaction(con):
        run_sql(con, "graphs/daily_contacts.sql", {"day": day})
    return first_row(run_sql(con, "graphs/daily_contacts_stats.sql", {"day": day}))


def first_k_days_span(calendar: Calendar) -> tuple[date, date]:
    """The days a first-k-days window can cover: those of the longest one (k = k_max)."""
    longest = calendar.windows("first_k_days")[-1]
    return longest.start, longest.end


def build_first_k_days_contacts(
    con: duckdb.DuckDBPyConnection, calendar: Calendar, start: date, end: date
) -> dict[str, Any]:
    """Make the view ``first_k_days_contacts``: ``daily_contacts`` of the days of
    :func:`first_k_days_span` (the span table ``first_k_days_span``, written in one
    transaction). Returns ``n_rows`` and ``n_calls`` of its days ``start``..``end``."""
    first, last = first_k_days_span(calendar)
    ensure_schema(con)
    with transaction(con):
        return first_row(run_sql(con, "graphs/first_k_days_contacts.sql", {
            "first_day": first, "last_day": last, "start": start, "end": end}))


def arrival_window(arrival: date, end: date) -> Window:
    """The early-warning window of the migrants who arrived on ``arrival`` (their day 1, the
    first day with a call) as of day ``end``: their first k = end - arrival + 1 days
    (docs/early_warning.md); id ``arrival_days:<arrival>/<end>``."""
    k = (end - arrival).days + 1
    if k < 1:
        raise ValueError(f"an arrival-relative window ends on or after its arrival day: {end}")
    return Window("arrival_days", f"{arrival.isoformat()}/{end.isoformat()}", f"k={k}",
                  arrival, end)


def previous_window(calendar: Calendar, window: Window) -> Window | None:
    """The first k - 1 days of a first-k-days window of k > k_min (SPEC §2), else None: the
    window whose stored graph (and feature sums) window k is built from."""
    if window.family != "first_k_days":
        return None
    key = (window.end - timedelta(1)).isoformat()
    earlier = [w for w in calendar.windows("first_k_days") if w.key == key]
    return earlier[0] if earlier else None


def build_window_graph(
    con: duckdb.DuckDBPyConnection, window: Window, previous: Window | None = None,
    cfg: StudyConfig | None = None,
) -> dict[str, Any]:
    """Replace ``window``'s partition of its graph table (:func:`graph_table`) from
    ``daily_contacts`` (SPEC §4): every edge, or with the study's ``cfg`` and a window of
    :func:`migrants_only`, the edges of the migrants' neighbourhood (:func:`neighbourhood`).

    With ``previous`` (the first k - 1 days of a first-k-days window, :func:`previous_window`)
    whose stored graph still matches ``daily_contacts`` (same calls), G_k is G_{k-1} plus day k
    (``sql/graphs/first_k_days_graph.sql``: edge weights add up exactly); else it is summed from
    the daily contacts of all the window's days. Needs the ``daily_contacts`` partitions of the
    days read. Returns the graph's stats (see :func:`window_graph_stats`) and ``built_from``
    (the previous window's id, or None).
    """
    ensure_schema(con)
    table = {"graph_table": graph_table(window)}
    key = neighbourhood(con, cfg, window)
    restricted = key != EVERY_EDGE
    if previous is not None and stored_graph_key(con, previous) != key:
        previous = None  # G_{k-1} keeps other edges than G_k (k_max after k_max - 1, relabelled)
    if previous is not None and not first_row(run_sql(
            con, "graphs/previous_graph.sql",
            {**_window_params(previous), "migrants_only": restricted}, table))["usable"]:
        previous = None
    params = {**_window_params(window), "migrants_only": restricted}
    with transaction(con):
        if previous is None:
            run_sql(con, "graphs/window_graph.sql", params, identifiers=table)
        else:
            run_sql(con, "graphs/first_k_days_graph.sql",
                    {**params, "previous_id": previous.window_id}, identifiers=table)
        if window.family == "first_k_days":
            run_sql(con, "graphs/graph_neighbourhood_write.sql",
                    {"window_id": window.window_id, "neighbourhood": key})
    return {**window_graph_stats(con, window),
            "built_from": None if previous is None else previous.window_id}


def window_graph_stats(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, Any]:
    """Stats of a stored window graph: ``n_nodes``, ``n_edges`` (directed),
    ``n_undirected_edges``, ``reciprocity`` (share of directed edges whose reverse exists, as
    ``networkx.overall_reciprocity``; None without edges), ``n_calls`` and ``duration_s``."""
    return first_row(run_sql(con, "graphs/window_graph_stats.sql", _window_params(window)))


def window_graph_consistency(
    con: duckdb.DuckDBPyConnection, window: Window, cfg: StudyConfig | None = None
) -> dict[str, Any]:
    """Compare a stored window graph with the same graph recomputed straight from ``calls``
    (built with the same ``cfg``: with a window of :func:`migrants_only`, the edges of the
    neighbourhood :func:`neighbourhood` finds in the calls).

    Returns stored and expected edge, call and duration totals, the number of mismatched edges
    (missing, extra, or with other weights; counted by a join only when a sketch of the two
    graphs' rows finds they differ) and ``ok`` when everything agrees. ``ok`` holds for an
    empty window too; the asset check reports a window with no edge stored or expected as not
    judged (``judged`` = stored + expected edges).
    """
    restricted = neighbourhood(con, cfg, window) != EVERY_EDGE
    params = {**_window_params(window), "count_mismatches": False, "migrants_only": restricted}
    out = first_row(run_sql(con, "graphs/window_graph_consistency.sql", params))
    if not out.pop("same_rows"):  # the rows differ: join the two graphs to count the edges
        params["count_mismatches"] = True
        out = first_row(run_sql(con, "graphs/window_graph_consistency.sql", params))
        out.pop("same_rows")
    out["ok"] = (
        out["mismatched_edges"] == 0
        and out["stored_edges"] == out["expected_edges"]
        and out["stored_calls"] == out["expected_calls"]
    )
    out["judged"] = out["stored_edges"] + out["expected_edges"]
    return out
