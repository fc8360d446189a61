"""Daily contacts and window graphs (SPEC §4) against networkx graphs built from the same calls."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import networkx as nx
import numpy as np
import pytest

from migrant_assets.config import Calendar, Window
from migrant_assets.graphs import (
    build_daily_contacts,
    build_window_graph,
    window_graph_consistency,
)

CALENDAR = Calendar()
# W4 ends on the month's last day; k=3 and k=14 are the shortest and longest first-k windows.
WINDOWS = [w for w in CALENDAR.windows() if w.label in {"W1", "W4", "A", "C", "k=3", "k=14"}]


@pytest.fixture
def calls(add_calls) -> list[tuple]:
    """A random small city: 900 calls among 25 parties over the month, no self-call."""
    rng = np.random.default_rng(20160901)
    n_calls, n_parties = 900, 25
    caller = rng.integers(1, n_parties + 1, n_calls)
    callee = (caller + rng.integers(1, n_parties, n_calls) - 1) % n_parties + 1
    seconds = rng.integers(0, 30 * 86400, n_calls)
    duration = rng.exponential(120.0, n_calls).round(1)
    rows = [
        (int(u), int(v), datetime(2016, 9, 1) + timedelta(seconds=int(s)), float(d))
        for u, v, s, d in zip(caller, callee, seconds, duration, strict=True)
    ]
    add_calls(rows)
    return rows


def build_all(con, windows=WINDOWS) -> dict[str, dict]:
    for day in CALENDAR.days:
        build_daily_contacts(con, day)
    return {w.window_id: build_window_graph(con, w) for w in windows}


def nx_graph(calls: list[tuple], start: date, end: date) -> nx.DiGraph:
    """The window's graph; durations (tenths of a second) summed exactly, as Decimal."""
    g = nx.DiGraph()
    for u, v, ts, d in calls:
        if start <= ts.date() <= end:
            if not g.has_edge(u, v):
                g.add_edge(u, v, n_calls=0, duration_s=Decimal(0))
            g[u][v]["n_calls"] += 1
            g[u][v]["duration_s"] += Decimal(repr(d))
    return g


def stored_graph(con, window: Window) -> nx.DiGraph:
    g = nx.DiGraph()
    rows = con.execute(
        "SELECT src, dst, n_calls, duration_s FROM window_graph WHERE window_id = ?",
        [window.window_id],
    ).fetchall()
    for u, v, n, d in rows:
        assert not g.has_edge(u, v), "one row per directed edge"
        g.add_edge(u, v, n_calls=n, duration_s=d)
    return g


def test_daily_contacts_match_calls(con, calls):
    for day in CALENDAR.days:
        stats = build_daily_contacts(con, day)
        expected = nx_graph(calls, day, day)
        assert stats == {
            "n_rows": expected.number_of_edges(),
            "n_calls": sum(n for _, _, n in expected.edges(data="n_calls")),
        }
    assert con.execute("SELECT sum(n_calls) FROM daily_contacts").fetchone() == (len(calls),)


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: w.label)
def test_window_graph_matches_networkx(con, calls, window):
    stats = build_all(con, [window])[window.window_id]
    expected = nx_graph(calls, window.start, window.end)
    got = stored_graph(con, window)

    assert set(got.nodes) == set(expected.nodes)
    assert set(got.edges) == set(expected.edges)
    for u, v, data in expected.edges(data=True):
        assert got[u][v]["n_calls"] == data["n_calls"]
        assert got[u][v]["duration_s"] == float(data["duration_s"])  # exact sums

    assert 0 < nx.overall_reciprocity(expected) < 1  # the city exercises both cases
    assert stats == {
        "n_nodes": expected.number_of_nodes(),
        "n_edges": expected.number_of_edges(),
        "n_undirected_edges": expected.to_undirected().number_of_edges(),
        "reciprocity": pytest.approx(nx.overall_reciprocity(expected)),
        "n_calls": sum(n for _, _, n in expected.edges(data="n_calls")),
        "duration_s": float(sum(d for _, _, d in expected.edges(data="duration_s"))),
    }
    assert window_graph_consistency(con, window)["ok"]


def test_empty_window(con, calls):
    window = Window("first_k_days", "2016-10-07", "k=3", date(2016, 10, 5), date(2016, 10, 7))
    stats = build_all(con, [window])[window.window_id]
    assert stats == {
        "n_nodes": 0,
        "n_edges": 0,
        "n_undirected_edges": 0,
        "reciprocity": None,
        "n_calls": 0,
        "duration_s": 0,
    }
    assert window_graph_consistency(con, window)["ok"]


def test_consistency_catches_disagreement(con, calls):
    window = WINDOWS[-1]  # k = 14
    build_all(con, [window])
    edges = window_graph_consistency(con, window)["stored_edges"]

    # A daily partition that lost an edge: the window graph built from it disagrees with calls.
    con.execute(
        "DELETE FROM daily_contacts WHERE (call_date, caller, callee) IN "
        "(SELECT (call_date, caller, callee) FROM daily_contacts "
        " WHERE call_date = ? ORDER BY ALL LIMIT 1)",
        [window.end],
    )
    build_window_graph(con, window)
    check = window_graph_consistency(con, window)
    assert not check["ok"]
    assert check["mismatched_edges"] == 1
    assert check["expected_edges"] == edges

    # Rebuilding the day from calls repairs it; a changed duration is caught on its own.
    build_daily_contacts(con, window.end)
    build_window_graph(con, window)
    assert window_graph_consistency(con, window)["ok"]
    con.execute(
        "UPDATE window_graph SET duration_s = duration_s + 1 WHERE window_id = ? "
        "AND (src, dst) IN (SELECT (src, dst) FROM window_graph ORDER BY ALL LIMIT 1)",
        [window.window_id],
    )
    check = window_graph_consistency(con, window)
    assert (check["ok"], check["mismatched_edges"]) == (False, 1)


def test_rerun_gives_identical_tables(con, calls, table_rows):
    first = build_all(con)
    before = table_rows("daily_contacts"), table_rows("window_graph")
    assert build_all(con) == first
    assert (table_rows("daily_contacts"), table_rows("window_graph")) == before
