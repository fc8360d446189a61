"""Daily contacts and window graphs (SPEC §4) against networkx graphs built from the same calls,
missed calls (no duration) included; the whole-period window and its lineage."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import networkx as nx
import numpy as np
import pytest
from conftest import insert_calls

from migrant_assets.config import Calendar, Window
from migrant_assets.db import quote
from migrant_assets.graphs import (
    GRAPH_TABLES,
    build_daily_contacts,
    build_first_k_days_contacts,
    build_window_graph,
    first_k_days_span,
    graph_table,
    window_graph_consistency,
)

CALENDAR = Calendar()
# W4 ends on the month's last day; k=3 and k=14 are the shortest and longest first-k windows;
# the whole period is the month.
WINDOWS = [w for w in CALENDAR.windows()
           if w.label in {"W1", "W4", "A", "C", "k=3", "k=14", "whole period"}]


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
    """The window's graph; durations (tenths of a second) summed exactly, as Decimal, over the
    known ones (None: a missed call), None for an edge with none known."""
    g = nx.DiGraph()
    for u, v, ts, d in calls:
        if start <= ts.date() <= end:
            if not g.has_edge(u, v):
                g.add_edge(u, v, n_calls=0, duration_s=None)
            g[u][v]["n_calls"] += 1
            if d is not None:
                g[u][v]["duration_s"] = (g[u][v]["duration_s"] or Decimal(0)) + Decimal(repr(d))
    return g


def as_float(d: Decimal | None) -> float | None:
    return None if d is None else float(d)


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
        assert got[u][v]["duration_s"] == as_float(data["duration_s"])  # exact sums

    assert 0 < nx.overall_reciprocity(expected) < 1  # the city exercises both cases
    assert stats.pop("built_from") is None  # nothing stored before: summed from its days
    assert stats == {
        "n_nodes": expected.number_of_nodes(),
        "n_edges": expected.number_of_edges(),
        "n_undirected_edges": expected.to_undirected().number_of_edges(),
        "reciprocity": pytest.approx(nx.overall_reciprocity(expected)),
        "n_calls": sum(n for _, _, n in expected.edges(data="n_calls")),
        "duration_s": float(sum(d for _, _, d in expected.edges(data="duration_s")
                                if d is not None)),
    }
    assert window_graph_consistency(con, window)["ok"]


def test_empty_window(con, calls):
    window = Window("first_k_days", "2016-10-07", "k=3", date(2016, 10, 5), date(2016, 10, 7))
    stats = build_all(con, [window])[window.window_id]
    assert stats == {
        "built_from": None,
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
    table = graph_table(window)  # the window family's table, under the view window_graph
    con.execute(
        f"UPDATE {table} SET duration_s = duration_s + 1 WHERE window_id = ? "  # noqa: S608
        f"AND (src, dst) IN (SELECT (src, dst) FROM {table} ORDER BY ALL LIMIT 1)",
        [window.window_id],
    )
    check = window_graph_consistency(con, window)
    assert (check["ok"], check["mismatched_edges"]) == (False, 1)


def test_consistency_joins_the_graphs_only_when_their_rows_differ(con, calls, monkeypatch):
    """The check compares sketches of the two graphs' rows; the join that counts mismatched
    edges runs only when they differ. Two edges that swap their durations keep every total
    (edges, calls, duration): only the rows tell them apart."""
    import migrant_assets.graphs as graphs_module

    window = WINDOWS[-1]
    build_all(con, [window])
    ran = []
    run_sql = graphs_module.run_sql
    monkeypatch.setattr(graphs_module, "run_sql", lambda c, name, params=None, *a: (
        name == "graphs/window_graph_consistency.sql" and ran.append(params["count_mismatches"])
    ) or run_sql(c, name, params, *a))
    before = window_graph_consistency(con, window)
    assert before["ok"] and before["mismatched_edges"] == 0 and before["stored_edges"] > 0
    assert ran == [False]  # the sketches agree: no join

    table = graph_table(window)  # allow-listed by graph_table
    (a_src, a_dst, a_d), (b_src, b_dst, b_d) = con.execute(
        f"SELECT src, dst, duration_s FROM {quote(table)} WHERE window_id = ? "  # noqa: S608
        "AND duration_s IS NOT NULL ORDER BY duration_s, src, dst LIMIT 2",
        [window.window_id]).fetchall()
    assert a_d != b_d
    for src, dst, d in ((a_src, a_dst, b_d), (b_src, b_dst, a_d)):
        con.execute(f"UPDATE {quote(table)} SET duration_s = ? "  # noqa: S608
                    "WHERE window_id = ? AND src = ? AND dst = ?", [d, window.window_id, src, dst])
    ran.clear()
    after = window_graph_consistency(con, window)
    totals = ("stored_edges", "stored_calls", "stored_duration_s")
    assert [after[k] for k in totals] == [before[k] for k in totals]
    assert (after["ok"], after["mismatched_edges"]) == (False, 2)
    assert ran == [False, True]


def test_rerun_gives_identical_tables(con, calls, table_rows):
    first = build_all(con)
    before = table_rows("daily_contacts"), table_rows("window_graph")
    assert build_all(con) == first
    assert (table_rows("daily_contacts"), table_rows("window_graph")) == before


def test_empty_window_is_not_judged(con, calls):
    """An empty window agrees with its (no) calls, but there is nothing to judge: judged = 0."""
    from migrant_assets.defs.graphs import _edges_match_calls

    window = Window("first_k_days", "2016-10-07", "k=3", date(2016, 10, 5), date(2016, 10, 7))
    build_all(con, [window])
    check = window_graph_consistency(con, window)
    assert check["ok"] and check["judged"] == 0
    result = _edges_match_calls(check)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["reason"].text.startswith("no call")
    missing = window_graph_consistency(con, WINDOWS[0])  # not built: calls but no edge stored
    assert missing["judged"] == missing["expected_edges"] > 0
    assert not missing["ok"] and not _edges_match_calls(missing).passed
    build_all(con, [WINDOWS[0]])
    judged = window_graph_consistency(con, WINDOWS[0])
    assert judged["ok"] and judged["judged"] == 2 * judged["expected_edges"] > 0
    assert _edges_match_calls(judged).passed


def test_missed_calls_are_edges_without_duration(con, calls):
    """Missed calls (end_ts and duration_s null) count in n_calls; durations sum the known ones,
    null for an edge whose calls are all missed; the consistency check agrees."""
    rng = np.random.default_rng(7)
    missed = [(u, v, ts, None) for u, v, ts, _ in
              (calls[i] for i in rng.choice(len(calls), 150, replace=False))]
    missed += [(901, 902, datetime(2016, 9, 5, 9), None), (901, 902, datetime(2016, 9, 6, 9), None)]
    con.executemany(
        "INSERT INTO calls (call_date, caller, callee, start_ts, end_ts, duration_s) "
        "VALUES (?, ?, ?, ?, NULL, NULL)", [(ts.date(), u, v, ts) for u, v, ts, _ in missed])
    everything = calls + missed
    for window in (CALENDAR.window("first_k_days", "2016-09-18"), WINDOWS[-1]):
        stats = build_all(con, [window])[window.window_id]
        expected = nx_graph(everything, window.start, window.end)
        got = stored_graph(con, window)
        assert set(got.edges) == set(expected.edges)
        for u, v, data in expected.edges(data=True):
            assert got[u][v]["n_calls"] == data["n_calls"]
            assert got[u][v]["duration_s"] == as_float(data["duration_s"])
        assert got[901][902] == {"n_calls": 2, "duration_s": None}
        assert stats["n_calls"] == sum(n for _, _, n in expected.edges(data="n_calls"))
        assert stats["n_calls"] > sum(1 for c in calls if window.start <= c[2].date() <= window.end)
        assert stats["duration_s"] == float(sum(d for _, _, d in expected.edges(data="duration_s")
                                                if d is not None))
        assert window_graph_consistency(con, window)["ok"]


def test_whole_period_window_and_lineage():
    """The whole-period window is the study month; its graph asset reads every daily partition
    of it, and its features asset every day's calls."""
    from migrant_assets.defs import defs

    (whole,) = CALENDAR.windows("whole_period")
    assert (whole.start, whole.end, whole.key) == (CALENDAR.month_start, CALENDAR.month_end,
                                                   CALENDAR.month_start.isoformat())
    assert whole.window_id == "whole_period:2016-09-01" and whole.days == CALENDAR.days
    assert CALENDAR.windows()[-1] == whole  # after the papers' windows: their order is kept
    graph = defs.resolve_asset_graph()
    for asset, upstream in (("whole_period_graph", "daily_contacts"),
                            ("features_whole_period", "calls"),
                            ("features_whole_period", "whole_period_graph")):
        keys = graph.get_parent_partition_keys_for_child(
            whole.key, dg.AssetKey(upstream), dg.AssetKey(asset)
        ).partitions_subset.get_partition_keys()
        want = [whole.key] if upstream == "whole_period_graph" else [d.isoformat()
                                                                    for d in whole.days]
        assert sorted(keys) == want, (asset, upstream)


def test_each_window_family_owns_its_table(con, calls):
    """A window's edges are in its family's table only; `window_graph` unions the four tables
    with the columns every reader knows."""
    build_all(con)
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'window_graph' "
        "ORDER BY column_index").fetchall()]
    assert columns == ["window_id", "src", "dst", "n_calls", "duration_s"]
    for window in WINDOWS:
        for table in GRAPH_TABLES.values():
            (n,) = con.execute(f"SELECT count(*) FROM {table} WHERE window_id = ?",  # noqa: S608
                               [window.window_id]).fetchone()
            assert (n > 0) == (table == graph_table(window)), (window.window_id, table)
    assert table_count(con, "window_graph") == sum(
        table_count(con, t) for t in GRAPH_TABLES.values()) > 0


def test_rows_are_stored_in_src_order(con, add_calls):
    """Daily contacts are written in (caller, callee) order and every window graph, summed from
    its days or from window k - 1 plus day k, in (src, dst) order, so that DuckDB keeps each
    party's run once (RLE; docs/scale.md, "Disk"): read back in storage order (one thread,
    insertion order kept), each partition's rows are sorted. A city large enough (60,000 calls
    among 5,000 parties) that grouping alone does not give rows in order."""
    rng = np.random.default_rng(7)
    n_calls, n_parties = 60_000, 5_000
    caller = rng.integers(1, n_parties + 1, n_calls)
    callee = (caller + rng.integers(1, n_parties, n_calls) - 1) % n_parties + 1
    seconds = rng.integers(0, 30 * 86400, n_calls)
    add_calls([(int(u), int(v), datetime(2016, 9, 1) + timedelta(seconds=int(t)), 60.0)
               for u, v, t in zip(caller, callee, seconds, strict=True)])
    for day in CALENDAR.days:
        build_daily_contacts(con, day)
    previous = None
    for window in CALENDAR.windows():
        stats = build_window_graph(con, window, previous)
        if window.family == "first_k_days":
            assert stats["built_from"] == (previous and previous.window_id)
            previous = window
    assert previous is not None
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    for day in CALENDAR.days:
        rows = con.execute("SELECT caller, callee FROM daily_contacts WHERE call_date = ?",
                           [day]).fetchall()
        assert rows == sorted(rows), day
    for window in CALENDAR.windows():
        rows = con.execute(f"SELECT src, dst FROM {quote(graph_table(window))} "  # noqa: S608
                           "WHERE window_id = ?", [window.window_id]).fetchall()
        assert len(rows) > 1 and rows == sorted(rows), window.window_id


def table_count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def test_first_k_days_contacts_is_a_view_over_a_span(con, calls):
    """The view holds the daily contacts of the longest first-k-days window's days and no date
    written into its SQL."""
    for day in CALENDAR.days:
        build_daily_contacts(con, day)
    first, last = first_k_days_span(CALENDAR)
    assert (first, last) == (CALENDAR.first_k_start,
                             CALENDAR.first_k_start + timedelta(CALENDAR.k_max - 1))
    stats = build_first_k_days_contacts(con, CALENDAR, first, first)
    want = con.execute("SELECT * FROM daily_contacts WHERE call_date BETWEEN ? AND ?",
                       [first, last]).fetchall()
    assert sorted(con.execute("SELECT * FROM first_k_days_contacts").fetchall()) == sorted(want)
    assert stats["n_rows"] == sum(1 for r in want if r[0] == first) > 0
    (sql,) = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = "
                         "'first_k_days_contacts'").fetchone()
    assert str(first.year) not in sql and "DATE '" not in sql.upper()


def _graph_city(tmp_path, rows: list[tuple]):
    """A study DuckDB file holding `calls` only, and the resource that reads it."""
    import yaml

    from migrant_assets.db import connect
    from migrant_assets.defs.resources import StudyResource
    from migrant_assets.ingest import create_tables

    con = connect(tmp_path / "migrant_assets.duckdb")
    create_tables(con)
    insert_calls(con, rows)
    con.close()
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"workdir": str(tmp_path)}))
    return StudyResource(config_path=str(study)), tmp_path / "migrant_assets.duckdb"


def test_edges_match_calls_is_evaluated_per_partition(tmp_path, monkeypatch, calls):
    """The blocking check `edges_match_calls` judges the stored graph of the partition it runs
    for, its evaluation tied to that partition; run alone it catches a corrupted edge; run over a
    range of weeks it judges each week apart and its failure fails the step."""
    from migrant_assets.db import connect
    from migrant_assets.defs import graphs as ga

    for var in ("MIGRANT_ASSETS_DUCKDB", "MIGRANT_ASSETS_WORKDIR", "MIGRANT_ASSETS_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    study, path = _graph_city(tmp_path, calls)
    resources = {"study": study}
    instance = dg.DagsterInstance.ephemeral()
    days = [d.isoformat() for d in CALENDAR.days]
    assert dg.materialize([ga.daily_contacts], resources=resources, instance=instance, tags={
        "dagster/asset_partition_range_start": days[0],
        "dagster/asset_partition_range_end": days[-1]}).success
    key = dg.AssetCheckKey(dg.AssetKey("departure_week_graph"), "edges_match_calls")
    (spec,) = ga.departure_week_graph_edges.check_specs
    assert spec.blocking and spec.partitions_def == ga.departure_week_graph.partitions_def
    weeks = [w.key for w in CALENDAR.windows("departure_week")]
    for week in weeks:
        result = dg.materialize([ga.departure_week_graph, ga.departure_week_graph_edges],
                                resources=resources, instance=instance, partition_key=week)
        (evaluation,) = result.get_asset_check_evaluations()
        assert (evaluation.partition, evaluation.passed) == (week, True)
        assert evaluation.metadata["judged"].value > 0
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    assert sorted(r.partition for r in history) == sorted(weeks)

    con = connect(path)
    con.execute("UPDATE departure_week_graph SET n_calls = n_calls + 1 WHERE window_id = ? "
                "AND (src, dst) IN (SELECT (src, dst) FROM departure_week_graph "
                "WHERE window_id = ? ORDER BY ALL LIMIT 1)",
                [f"departure_week:{weeks[1]}"] * 2)
    con.close()
    job = dg.Definitions(
        assets=[ga.departure_week_graph], asset_checks=[ga.departure_week_graph_edges],
        resources=resources,
        jobs=[dg.define_asset_job("edges", selection=dg.AssetSelection.checks(
            ga.departure_week_graph_edges))],
    ).resolve_job_def("edges")
    result = job.execute_in_process(instance=instance, tags={"dagster/partition": weeks[1]},
                                    raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert (evaluation.partition, evaluation.passed) == (weeks[1], False)
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["mismatched_edges"].value == 1
    # a single run over every week (a range, as the main job and a UI backfill run it): one
    # evaluation per week, the corrupted one failed, and the blocking failure fails the step
    result = job.execute_in_process(instance=instance, raise_on_error=False, tags={
        "dagster/asset_partition_range_start": weeks[0],
        "dagster/asset_partition_range_end": weeks[-1]})
    got = {e.partition: e.passed for e in result.get_asset_check_evaluations()}
    assert got == {w: w != weeks[1] for w in weeks}
    assert not result.success
