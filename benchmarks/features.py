"""Benchmark of the feature step (SPEC §5) on the synthetic ``demo`` and ``large`` cities.

    .venv/bin/python benchmarks/features.py [--workdir work/bench] [--presets demo large]
                                            [--skip-baseline]

1. Seconds and peak memory of every feature partition of each city: ``write_cell_prices`` plus
   ``build_features`` for all 19 windows (4 integration weeks, 3 departure weeks, k = 3..14),
   run in a fresh spawned process so that its ``ru_maxrss`` leaves out the preparation. The time
   of each SQL file is recorded by wrapping ``migrant_assets.features.run_sql`` with a timer.
2. Departure week A of the last preset (default ``large``): ``build_features`` (best of 3 runs)
   against the same kind of features computed as a researcher would without this project (pandas
   groupby, networkx, numpy haversine; one run), with the max abs difference of each baseline
   column from the ``features`` table. Two ratios: all 39 of our features against the baseline's
   14, and the same features on both sides (our SQL files that compute the baseline's columns:
   ``prepare``, ``clustering``, ``ego_network``, ``call_behavior``, ``geography``; they compute
   31 features). And our clustering against igraph's (best of 2 runs), both from the window's
   directed edges: our graph build (the ``prepare`` statements clustering reads: ``feat_arcs``,
   ``feat_pairs``, ``feat_degree``, ``feat_users``) plus ``clustering.sql``, against igraph's
   construction plus ``transitivity_local_undirected``.

The city (``synthetic/<preset>-<seed>/``) and a DuckDB file with calls, labels, daily contacts
and every window graph (``<preset>-<seed>.duckdb``) are built once with the project's plain
functions under ``--workdir`` and re-used; the features tables (and their view) and
``cell_prices`` are dropped before each measured run.
"""

from __future__ import annotations

import argparse
import gc
import re
import resource
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from migrant_assets import features
from migrant_assets.config import StudyConfig, Window
from migrant_assets.contract import DataContract
from migrant_assets.db import connect, quote, run_sql, sql_text
from migrant_assets.graphs import build_daily_contacts, build_window_graph
from migrant_assets.ingest import ingest_calls, ingest_places, ingest_subscribers, land_calls
from migrant_assets.labels import build_user_labels
from migrant_assets.synthetic import generate

SEED = 20160901
TARGET_SECONDS = 180  # all feature partitions of `large`
TARGET_PEAK_MB = 4096  # 4 GB
TARGET_BASELINE_RATIO = 10  # one window vs pandas + networkx
TARGET_IGRAPH_RATIO = 2  # clustering vs igraph
SQL_FILES = {  # SQL file of build_features -> the family it computes
    f"features/{step}.sql": step for step in (
        "prepare", *(s for family in features.FAMILIES
                     for s in (*features.REQUIRES.get(family, ()), family)))
}
#: our SQL files that compute BASELINE_COLUMNS (and 17 more features)
SAME_FEATURE_FILES = ("prepare", "clustering", "ego_network", "call_behavior", "geography")
#: the tables of prepare.sql that clustering.sql reads (directly or through one another)
GRAPH_TABLES = ("feat_arcs", "feat_pairs", "feat_degree", "feat_users")
BASELINE_COLUMNS = [
    "degree", "in_degree", "out_degree", "weighted_degree", "neighbor_degree", "clustering",
    "in_calls", "out_calls", "call_duration", "duration_variance",
    "center_lat", "center_lon", "avg_radius", "max_radius",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def time_sql_files() -> Counter:
    """Seconds spent in each SQL file run by ``migrant_assets.features`` from now on, keyed by
    file name, and by ``file:table`` for every statement that creates a table."""
    seconds: Counter = Counter()

    def timed_run_sql(con, name, params=None):
        params = dict(params or {})
        t0 = time.perf_counter()
        cursor = run_sql(con, name, params)
        seconds[name] += time.perf_counter() - t0
        return cursor

    def timed_statements(con, name, params=None):
        if name != "features/prepare.sql":
            return timed_run_sql(con, name, params)
        # statement by statement, as run_sql does, so that the graph build can be told apart
        params = dict(params or {})
        cursor = con
        for stmt in duckdb.extract_statements(sql_text(name)):
            table = re.search(r"TEMP TABLE (\w+)", stmt.query)
            t0 = time.perf_counter()
            cursor = con.execute(stmt, {k: params[k] for k in stmt.named_parameters})
            elapsed = time.perf_counter() - t0
            seconds[name] += elapsed
            if table:
                seconds[f"{name}:{table.group(1)}"] += elapsed
        return cursor

    features.run_sql = timed_statements
    return seconds


def open_db(path: Path, cfg: StudyConfig) -> duckdb.DuckDBPyConnection:
    """The project's connection, without DuckDB's progress bar (it would print on stdout)."""
    con = connect(path, cfg.duckdb)
    con.execute("SET enable_progress_bar = false")
    return con


def prepared_db(workdir: Path, preset: str, cfg: StudyConfig) -> Path:
    """The DuckDB file of a city with calls, labels, daily contacts and every window graph;
    built (city generated if missing) unless present."""
    path = workdir / f"{preset}-{SEED}.duckdb"
    if path.exists():
        return path
    city = workdir / "synthetic" / f"{preset}-{SEED}"
    if not (city / "manifest.json").exists():
        log(f"{preset}: generating the synthetic city")
        generate(preset, SEED, city)
    partial = path.with_name(f"{path.stem}-partial.duckdb")
    partial.unlink(missing_ok=True)
    partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
    log(f"{preset}: ingesting, labelling and building graphs into {path}")
    contract = DataContract.synthetic(city)
    con = open_db(partial, cfg)
    ingest_places(con, cfg, contract, "cells")
    ingest_places(con, cfg, contract, "estates")
    ingest_subscribers(con, cfg, contract)
    land_calls(con, cfg, contract)
    for day in cfg.calendar.days:
        ingest_calls(con, cfg, day)
        build_daily_contacts(con, day)
    build_user_labels(con, cfg)
    for window in cfg.calendar.windows():
        build_window_graph(con, window)
    con.close()
    partial.rename(path)
    return path


def feature_step(db: Path) -> dict:
    """Every feature partition of ``db``; run in a fresh process (``ru_maxrss`` is its own)."""
    cfg = StudyConfig()
    sql_seconds = time_sql_files()
    con = open_db(db, cfg)
    con.execute("DROP VIEW IF EXISTS features")
    for table in (*features.FEATURE_TABLES.values(), "cell_prices"):
        con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
    t0 = time.perf_counter()
    features.write_cell_prices(con)
    t1 = time.perf_counter()
    for window in cfg.calendar.windows():
        features.build_features(con, cfg, window)
    t2 = time.perf_counter()
    calls, rows = con.execute(
        "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM features)"
    ).fetchone()
    con.close()
    return {
        "seconds": t2 - t0,
        "cell_prices_seconds": t1 - t0,
        "sql_seconds": dict(sql_seconds),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "calls": calls,
        "rows": rows,
    }


def measure_in_child(db: Path) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(feature_step, db).result()


def pandas_networkx(
    edges: pd.DataFrame, calls: pd.DataFrame, cells: pd.DataFrame, labelled: np.ndarray
) -> tuple[pd.DataFrame, dict[str, float]]:
    """BASELINE_COLUMNS of the window's featurised users, the way a researcher would compute
    them; returns them and the seconds of each step."""
    import networkx as nx  # here, so the feature-step child does not load it

    seconds = {}
    t0 = time.perf_counter()
    directed = nx.from_pandas_edgelist(
        edges, "src", "dst", edge_attr="n_calls", create_using=nx.DiGraph
    )
    graph = nx.Graph(directed)
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    users = [u for u in labelled if u in graph and graph.degree(u) > 0]
    seconds["networkx graphs (directed + undirected simple)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    out = pd.DataFrame(index=pd.Index(users, name="user_id"))
    out["degree"] = pd.Series(dict(graph.degree(users)))
    out["in_degree"] = pd.Series(dict(directed.in_degree(users)))
    out["out_degree"] = pd.Series(dict(directed.out_degree(users)))
    out["weighted_degree"] = pd.Series(dict(directed.degree(users, weight="n_calls")))
    out["neighbor_degree"] = pd.Series(nx.average_neighbor_degree(graph, nodes=users))
    seconds["networkx degrees, neighbor_degree"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    out["clustering"] = pd.Series(nx.clustering(graph, nodes=users))
    seconds["networkx clustering"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sides = pd.concat([
        pd.DataFrame({"user_id": calls["caller"], "out": 1, "duration_s": calls["duration_s"]}),
        pd.DataFrame({"user_id": calls["callee"], "out": 0, "duration_s": calls["duration_s"]}),
    ])
    per_user = sides[sides["user_id"].isin(users)].groupby("user_id").agg(
        n=("out", "size"), out_calls=("out", "sum"),
        call_duration=("duration_s", "mean"), duration_variance=("duration_s", "var"),
    )
    out["out_calls"] = per_user["out_calls"]
    out["in_calls"] = per_user["n"] - per_user["out_calls"]
    out[["call_duration", "duration_variance"]] = per_user[["call_duration", "duration_variance"]]
    seconds["pandas call counts, duration mean/variance"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    located = pd.concat([
        pd.DataFrame({"user_id": calls["caller"], "cell_id": calls["caller_cell"]}),
        pd.DataFrame({"user_id": calls["callee"], "cell_id": calls["callee_cell"]}),
    ]).dropna()
    located = located[located["user_id"].isin(users)].merge(cells, on="cell_id")
    centre = located.groupby("user_id")[["lat", "lon"]].mean()
    at = centre.loc[located["user_id"]]
    located["radius"] = features.haversine_km(
        located["lat"].to_numpy(), located["lon"].to_numpy(),
        at["lat"].to_numpy(), at["lon"].to_numpy(),
    )
    radius = located.groupby("user_id")["radius"].agg(["mean", "max"])
    out["center_lat"], out["center_lon"] = centre["lat"], centre["lon"]
    out["avg_radius"], out["max_radius"] = radius["mean"], radius["max"]
    seconds["pandas/numpy centre, avg/max radius (haversine)"] = time.perf_counter() - t0
    return out[BASELINE_COLUMNS], seconds


def igraph_clustering(edges: pd.DataFrame) -> tuple[pd.Series, float, float]:
    """Local clustering of every party with igraph: the series by party id, the seconds of the
    graph construction (ids to 0..n-1, undirected, simplified) and of the transitivity."""
    import igraph as ig  # here, so the feature-step child does not load it

    gc.collect()
    t0 = time.perf_counter()
    codes, parties = pd.factorize(pd.concat([edges["src"], edges["dst"]], ignore_index=True))
    graph = ig.Graph(n=len(parties), edges=codes.reshape(2, -1).T, directed=False)
    graph.simplify()
    t1 = time.perf_counter()
    clustering = graph.transitivity_local_undirected(mode="zero")
    t2 = time.perf_counter()
    return pd.Series(clustering, index=parties), t1 - t0, t2 - t1


def difference(ours: pd.Series, theirs: pd.Series) -> tuple[float, int]:
    """Max abs difference where both are set, and the number of rows null on one side only."""
    ours, theirs = ours.astype(float), theirs.astype(float)
    return float((ours - theirs).abs().max()), int((ours.isna() != theirs.isna()).sum())


def compare(db: Path, cfg: StudyConfig, window: Window) -> dict:
    """One window: build_features vs pandas + networkx; SQL ego_network vs igraph clustering."""
    con = open_db(db, cfg)
    sql_runs = []  # (seconds, seconds per SQL file) of three runs; the best counts
    for _ in range(3):
        sql_seconds = time_sql_files()
        t0 = time.perf_counter()
        features.build_features(con, cfg, window)
        sql_runs.append((time.perf_counter() - t0, dict(sql_seconds)))
    best = min(sql_runs, key=lambda run: run[0])
    ours = con.execute(
        f"SELECT user_id, {', '.join(BASELINE_COLUMNS)} FROM features WHERE window_id = ?",
        [window.window_id],
    ).df().set_index("user_id")

    t0 = time.perf_counter()
    edges = con.execute(
        "SELECT src, dst, n_calls FROM window_graph WHERE window_id = ?", [window.window_id]
    ).df()
    calls = con.execute(
        "SELECT caller, callee, duration_s, caller_cell, callee_cell FROM calls "
        "WHERE call_date BETWEEN ? AND ?", [window.start, window.end],
    ).df()
    cells = con.table("cells").select("cell_id, lat, lon").df()
    labelled = con.execute(
        "SELECT user_id FROM user_labels WHERE departure_label IS NOT NULL"
    ).df()["user_id"].to_numpy()
    load_seconds = time.perf_counter() - t0
    con.close()

    # igraph first: networkx graphs hold reference cycles, and while they await the cyclic
    # garbage collector they slow down every allocation that follows (igraph's construction x3)
    log("baseline: igraph")
    ig_runs = [igraph_clustering(edges) for _ in range(2)]
    ig_clustering, ig_build, ig_transitivity = min(ig_runs, key=lambda run: run[1] + run[2])
    log("baseline: pandas + networkx")
    theirs, baseline_seconds = pandas_networkx(edges, calls, cells, labelled)

    both = ours.index.intersection(theirs.index)
    diffs = {c: difference(ours.loc[both, c], theirs.loc[both, c]) for c in BASELINE_COLUMNS}
    diffs["clustering (igraph)"] = difference(ours.loc[both, "clustering"], ig_clustering[both])
    return {
        "calls": len(calls),
        "edges": len(edges),
        "users": (len(ours), len(theirs), len(both)),
        "sql_runs": [seconds for seconds, _ in sql_runs],
        "sql_total": best[0],
        "sql_seconds": best[1],
        "load_seconds": load_seconds,
        "baseline_seconds": baseline_seconds,
        "igraph": (ig_build, ig_transitivity),
        "diffs": diffs,
    }


def same_feature_seconds(cmp: dict) -> float:
    """Seconds of our SQL files that compute the baseline's columns (SAME_FEATURE_FILES)."""
    return sum(cmp["sql_seconds"].get(f"features/{name}.sql", 0.0) for name in SAME_FEATURE_FILES)


def clustering_seconds(cmp: dict) -> tuple[float, float]:
    """Seconds of our graph build (the GRAPH_TABLES statements of prepare.sql) and of
    clustering.sql, in the best build_features run."""
    sql = cmp["sql_seconds"]
    return (sum(sql[f"features/prepare.sql:{table}"] for table in GRAPH_TABLES),
            sql["features/clustering.sql"])


def steps_of(sql_seconds: dict[str, float]) -> dict[str, float]:
    """Seconds of each family (SQL file) of build_features, in SQL_FILES order."""
    return {family: sql_seconds.get(sql, 0.0) for sql, family in SQL_FILES.items()}


def print_report(cfg: StudyConfig, runs: dict[str, dict], cmp: dict | None, preset: str,
                 window: Window) -> None:
    d = cfg.duckdb
    print(f"Feature step: write_cell_prices + build_features for {len(cfg.calendar.windows())} "
          f"windows (DuckDB threads={d.threads}, memory_limit={d.memory_limit}), seed {SEED}")
    print(f"{'city':<6} {'calls':>11} {'feature rows':>13} {'seconds':>8} {'peak MB':>8} "
          f"{'calls/s':>9}")
    for name, r in runs.items():
        print(f"{name:<6} {r['calls']:>11,} {r['rows']:>13,} {r['seconds']:>8.1f} "
              f"{r['peak_mb']:>8,.0f} {r['calls'] / r['seconds']:>9,.0f}")
    for name, r in runs.items():
        steps = {"cell_prices": r["cell_prices_seconds"], **steps_of(r["sql_seconds"])}
        steps["other (commits, Python)"] = r["seconds"] - sum(steps.values())
        print(f"  {name} seconds by step: "
              + ", ".join(f"{step} {s:.1f}" for step, s in steps.items()))

    if cmp is not None:
        n_ours, n_theirs, n_both = cmp["users"]
        print(f"\nOne window: {preset} departure week {window.label} "
              f"({window.start}..{window.end}): {cmp['calls']:,} calls, "
              f"{cmp['edges']:,} directed edges, featurised users: SQL {n_ours:,}, "
              f"baseline {n_theirs:,}, both {n_both:,}")
        steps = steps_of(cmp["sql_seconds"])
        steps["other (commit, Python)"] = cmp["sql_total"] - sum(steps.values())
        print(f"  our SQL build_features (all {len(features.FEATURES)} features): runs "
              + ", ".join(f"{run:.2f}" for run in cmp["sql_runs"])
              + f" s; best {cmp['sql_total']:.2f} s = "
              + ", ".join(f"{step} {s:.2f}" for step, s in steps.items()))
        print(f"  same features both sides: our SQL files computing the baseline's columns "
              f"({' + '.join(SAME_FEATURE_FILES)}) {same_feature_seconds(cmp):.2f} s")
        baseline_total = sum(cmp["baseline_seconds"].values())
        print(f"  pandas + networkx baseline ({len(BASELINE_COLUMNS)} features: "
              f"{', '.join(BASELINE_COLUMNS)}): {baseline_total:.1f} s, from DataFrames of the "
              f"window graph, its calls and cells (loading them from DuckDB, "
              f"{cmp['load_seconds']:.1f} s, not counted)")
        for step, s in cmp["baseline_seconds"].items():
            print(f"    {step}: {s:.1f}")
        ig_build, ig_transitivity = cmp["igraph"]
        graph_build, clustering = clustering_seconds(cmp)
        print(f"  clustering from the window's directed edges: ours {graph_build + clustering:.2f}"
              f" s = graph build (prepare: {', '.join(GRAPH_TABLES)}) {graph_build:.2f} + "
              f"clustering.sql {clustering:.2f}; igraph {ig_build + ig_transitivity:.2f} s = "
              f"construction from the edge DataFrame {ig_build:.2f} + "
              f"transitivity_local_undirected(mode='zero') {ig_transitivity:.2f}")
        print("  agreement with the features table (max abs diff, null mismatches):")
        print("    " + ", ".join(f"{c} {diff:.2g}/{nulls}"
                                 for c, (diff, nulls) in cmp["diffs"].items()))

    print("\nFigures vs targets")
    rows = []
    if "large" in runs:
        large = runs["large"]
        rows += [
            ("large: all feature partitions, seconds", f"{large['seconds']:.1f}",
             f"< {TARGET_SECONDS}", large["seconds"] < TARGET_SECONDS),
            ("large: all feature partitions, peak MB", f"{large['peak_mb']:,.0f}",
             f"< {TARGET_PEAK_MB:,}", large["peak_mb"] < TARGET_PEAK_MB),
        ]
    if cmp is not None:
        baseline = sum(cmp["baseline_seconds"].values())
        ratio = baseline / cmp["sql_total"]
        same_ratio = baseline / same_feature_seconds(cmp)
        graph_build, clustering = clustering_seconds(cmp)
        ig_ratio = sum(cmp["igraph"]) / (graph_build + clustering)
        week = f"{preset} week {window.label}"
        rows += [
            (f"{week}: pandas+networkx (14 features) s / SQL all 39 s", f"{ratio:.1f}x",
             f">= {TARGET_BASELINE_RATIO}x", ratio >= TARGET_BASELINE_RATIO),
            (f"{week}: same features both sides, pandas+networkx s / SQL s",
             f"{same_ratio:.1f}x", f">= {TARGET_BASELINE_RATIO}x",
             same_ratio >= TARGET_BASELINE_RATIO),
            (f"{week}: igraph build+transitivity s / SQL graph build+clustering s",
             f"{ig_ratio:.1f}x", f">= {TARGET_IGRAPH_RATIO}x", ig_ratio >= TARGET_IGRAPH_RATIO),
            (f"{week}: igraph transitivity only s / SQL clustering.sql s",
             f"{cmp['igraph'][1] / clustering:.1f}x", "(info)", None),
        ]
    for figure, value, target, ok in rows:
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        print(f"  {figure:<72} {value:>6} {target:>8} {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("work/bench"))
    parser.add_argument("--presets", nargs="+", default=["demo", "large"],
                        help="cities to measure; the baseline uses the last one")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    cfg = StudyConfig()
    runs = {}
    for preset in args.presets:
        db = prepared_db(args.workdir, preset, cfg)
        log(f"{preset}: measuring the feature step in a fresh process")
        runs[preset] = measure_in_child(db)
    window = cfg.calendar.window("departure_week", "2016-09-05")
    cmp = None
    if not args.skip_baseline:
        cmp = compare(prepared_db(args.workdir, args.presets[-1], cfg), cfg, window)
    print_report(cfg, runs, cmp, args.presets[-1], window)
    print(f"\nwall time of this run: {time.perf_counter() - start:.0f} s "
          f"(duckdb {duckdb.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
