"""Communication graphs (SPEC §4), computed in DuckDB by ``sql/graphs/``.

``daily_contacts`` holds one daily partition per call date: the directed (caller, callee) pairs
with their number of calls and total duration. ``window_graph`` holds G_t of each study window,
summed from ``daily_contacts``. Every party is a node, subscriber or not; service-like owners stay
in the graphs (they are only removed from the user population, SPEC §3).

A call with no duration (a missed call kept as a contact: ``calls.end_ts`` and ``duration_s``
null) is an edge and counts in ``n_calls``; ``duration_s`` is the exact sum of the known
durations, null when none of the edge's calls has one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from migrant_assets.config import Window
from migrant_assets.db import first_row, run_sql, transaction


def _window_params(window: Window) -> dict[str, Any]:
    return {"window_id": window.window_id, "start": window.start, "end": window.end}


def build_daily_contacts(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, Any]:
    """Replace the ``daily_contacts`` partition of ``day`` from ``calls`` (SPEC §4).

    Returns ``n_rows`` (directed caller-callee pairs) and ``n_calls``.
    """
    run_sql(con, "graphs/schema.sql")
    with transaction(con):
        run_sql(con, "graphs/daily_contacts.sql", {"day": day})
    return first_row(run_sql(con, "graphs/daily_contacts_stats.sql", {"day": day}))


def build_window_graph(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, Any]:
    """Replace the ``window_graph`` partition of ``window`` from ``daily_contacts`` (SPEC §4).

    Needs the ``daily_contacts`` partitions of the window's days. Returns the graph's stats (see
    :func:`window_graph_stats`).
    """
    run_sql(con, "graphs/schema.sql")
    with transaction(con):
        run_sql(con, "graphs/window_graph.sql", _window_params(window))
    return window_graph_stats(con, window)


def window_graph_stats(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, Any]:
    """Stats of a stored window graph: ``n_nodes``, ``n_edges`` (directed),
    ``n_undirected_edges``, ``reciprocity`` (share of directed edges whose reverse exists, as
    ``networkx.overall_reciprocity``; None without edges), ``n_calls`` and ``duration_s``."""
    return first_row(run_sql(con, "graphs/window_graph_stats.sql", _window_params(window)))


def window_graph_consistency(con: duckdb.DuckDBPyConnection, window: Window) -> dict[str, Any]:
    """Compare a stored window graph with the same graph recomputed straight from ``calls``.

    Returns stored and expected edge, call and duration totals, the number of mismatched edges
    (missing, extra, or with other weights) and ``ok`` when everything agrees. ``ok`` holds for an
    empty window too; the asset check reports a window with no edge stored or expected as not
    judged (``judged`` = stored + expected edges).
    """
    out = first_row(run_sql(con, "graphs/window_graph_consistency.sql", _window_params(window)))
    out["ok"] = (
        out["mismatched_edges"] == 0
        and out["stored_edges"] == out["expected_edges"]
        and out["stored_calls"] == out["expected_calls"]
    )
    out["judged"] = out["stored_edges"] + out["expected_edges"]
    return out
