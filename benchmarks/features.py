"""Benchmark of the feature step (SPEC §5) on the synthetic ``demo`` and ``large`` cities.

    .venv/bin/python benchmarks/features.py [--workdir work/bench] [--presets demo large]
                                            [--skip-baseline] [--repeats 3]

1. Seconds (wall and CPU) and peak memory of every feature partition of each city:
   ``write_cell_prices`` plus ``build_features`` for every window of the calendar (4 integration
   weeks, 3 departure weeks, k = 3..14, the whole period), run in a fresh spawned process so that
   its ``ru_maxrss`` leaves out the preparation. The time of each SQL file of ``build_features``
   is recorded by wrapping ``migrant_assets.features.run_sql`` with a timer.
2. Departure week A of the last preset (default ``large``), ours against two baselines, run in
   turns (ours, igraph, pandas + networkx; ``--repeats`` rounds, at least 3) and compared by
   their medians, wall and CPU seconds (``time.process_time``: every thread of this process, so
   DuckDB's threads count):
   - ``build_features`` against the same kind of features computed as a researcher would without
     this project, on the fastest reasonable path: pandas groupbys and numpy on the edge list and
     the calls (degrees, neighbour degree, calls, durations, centres, vectorised haversine radii)
     and networkx only for the clustering (``nx.from_pandas_edgelist`` of the undirected simple
     pairs, ``nx.clustering`` of the featurised users). Two ratios: all 39 of our features
     against the baseline's 14, and the same features on both sides (our SQL files that compute
     the baseline's columns: every file but those of the families with none of them).
   - our clustering against igraph's, both from the window's directed edges: our graph build (the
     ``prepare`` statements clustering reads: ``feat_arcs``, ``feat_pairs``, ``feat_degree``,
     ``feat_users``) plus ``triangles.sql`` and ``clustering.sql``, against igraph's fastest
     construction (the simple undirected pairs made with numpy, vertex ids 0..n-1 by
     ``pd.factorize``, ``igraph.Graph(n, edges=list of int pairs)``, which python-igraph converts
     faster than a numpy array, and no ``simplify`` needed) plus
     ``transitivity_local_undirected(mode="zero")`` (0 for degree < 2, as ours).
   The max abs difference of each baseline column (and of igraph's clustering) from the
   ``features`` table is printed; the baselines' input DataFrames are loaded once, not timed.

The city (``synthetic/<preset>-<seed>/``) and a DuckDB file with calls, labels, daily contacts
and every window graph (``<preset>-<seed>.duckdb``) are built once with the project's plain
functions under ``--workdir`` and re-used; the features tables (and their view) and
``cell_prices`` are dropped before each measured run of part 1.
"""

from __future__ import annotations

import argparse
import gc
import re
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from migrant_assets import features
from migrant_assets.config import StudyConfig, Window
from migrant_assets.contract import DataContract
from migrant_assets.db import connect, drop_tables, run_sql, run_text, sql_text
from migrant_assets.graphs import build_daily_contacts, build_window_graph
from migrant_assets.ingest import ingest_calls, ingest_places, ingest_subscribers, land_calls
from migrant_assets.labels import build_user_labels
from migrant_assets.synthetic import generate

SEED = 20160901
TARGET_SECONDS = 180  # all feature partitions of `large`
TARGET_PEAK_MB = 4096  # 4 GB
TARGET_BASELINE_RATIO = 10  # one window vs pandas + networkx
TARGET_IGRAPH_RATIO = 2  # clustering vs igraph
MIN_REPEATS = 3
#: the tables of prepare.sql that clustering.sql reads (directly or through one another)
GRAPH_TABLES = ("feat_arcs", "feat_pairs", "feat_degree", "feat_users")
#: our clustering: the triangles through each party, then the coefficients
CLUSTERING_FILES = ("features/triangles.sql", "features/clustering.sql")
BASELINE_COLUMNS = [
    "degree", "in_degree", "out_degree", "weighted_degree", "neighbor_degree", "clustering",
    "in_calls", "out_calls", "call_duration", "duration_variance",
    "center_lat", "center_lon", "avg_radius", "max_radius",
]
#: families none of whose columns the baseline computes: their SQL files are left out of the
#: same-features figure
OTHER_FAMILIES = tuple(family for family in features.FAMILIES
                       if not any(f.family == family for name, f in features.FEATURES.items()
                                  if name in BASELINE_COLUMNS))

#: (wall, CPU) seconds
Clock = tuple[float, float]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def clocked(into: dict[str, Clock], *keys: str) -> Iterator[None]:
    """Add the wall and CPU seconds (every thread of this process) of the block to
    ``into[key]`` for each of ``keys``."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        spent = (time.perf_counter() - wall, time.process_time() - cpu)
        for key in keys:
            into[key] = add(into.get(key, (0.0, 0.0)), spent)


def add(a: Clock, b: Clock) -> Clock:
    return a[0] + b[0], a[1] + b[1]


def time_sql_files() -> dict[str, Clock]:
    """(wall, CPU) seconds spent in each SQL file run by ``migrant_assets.features`` from now
    on, keyed by file name, and by ``file:table`` for every statement of ``prepare.sql`` that
    creates a table."""
    seconds: dict[str, Clock] = {}

    def timed_run_sql(con, name, params=None, *args, **kwargs):
        if name != "features/prepare.sql" or args or kwargs:
            with clocked(seconds, name):
                return run_sql(con, name, params, *args, **kwargs)
        # statement by statement, so that the graph build can be told apart
        cursor = con
        for stmt in duckdb.extract_statements(sql_text(name)):
            table = re.search(r"TEMP TABLE (\w+)", stmt.query)
            keys = (name, f"{name}:{table.group(1)}") if table else (name,)
            with clocked(seconds, *keys):
                cursor = run_text(con, stmt.query, params, where=f"sql/{name}")
        return cursor

    features.run_sql = timed_run_sql
    return seconds


def median(clocks: list[Clock]) -> Clock:
    """Median wall and median CPU seconds of several runs (each taken on its own)."""
    return (statistics.median(w for w, _ in clocks), statistics.median(c for _, c in clocks))


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
    con = open_db(db, cfg)
    con.execute("DROP VIEW IF EXISTS features")
    drop_tables(con, *features.FEATURE_TABLES.values(), "cell_prices", if_exists=True)
    steps: dict[str, Clock] = {}
    with clocked(steps, "total", "cell_prices"):
        features.write_cell_prices(con)
    sql_seconds = time_sql_files()  # the files of build_features only
    with clocked(steps, "total"):
        for window in cfg.calendar.windows():
            features.build_features(con, cfg, window)
    calls, rows = con.execute(
        "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM features)"
    ).fetchone()
    con.close()
    return {
        "seconds": steps["total"][0],
        "cpu_seconds": steps["total"][1],
        "cell_prices_seconds": steps["cell_prices"][0],
        "sql_seconds": {name: wall for name, (wall, _) in sql_seconds.items()},
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "calls": calls,
        "rows": rows,
    }


def measure_in_child(db: Path) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(feature_step, db).result()


def undirected_pairs(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Both ends (a < b) of every edge of the simple undirected view of the directed edges:
    self-loops dropped, a reciprocated pair once."""
    src, dst = edges["src"].to_numpy(), edges["dst"].to_numpy()
    keep = src != dst
    pairs = pd.DataFrame({"a": np.minimum(src, dst)[keep], "b": np.maximum(src, dst)[keep]})
    pairs = pairs.drop_duplicates()
    return pairs["a"].to_numpy(), pairs["b"].to_numpy()


def pandas_networkx(
    edges: pd.DataFrame, calls: pd.DataFrame, cells: pd.DataFrame, labelled: np.ndarray
) -> tuple[pd.DataFrame, dict[str, Clock]]:
    """BASELINE_COLUMNS of the window's featurised users (labelled users with an undirected
    edge), the way a researcher would compute them on the fastest reasonable path; returns them
    and the (wall, CPU) seconds of each step."""
    import networkx as nx  # here, so the feature-step child does not load it

    steps: dict[str, Clock] = {}
    with clocked(steps, "pandas undirected pairs, degree, neighbor_degree"):
        a, b = undirected_pairs(edges)
        ends = pd.DataFrame({"user_id": np.concatenate([a, b]), "contact": np.concatenate([b, a])})
        degree = ends["user_id"].value_counts()
        users = pd.Index(labelled[np.isin(labelled, degree.index.to_numpy())], name="user_id")
        mine = ends[ends["user_id"].isin(users)]
        neighbor_degree = pd.Series(
            degree.reindex(mine["contact"]).to_numpy(), index=mine["user_id"].to_numpy()
        ).groupby(level=0).mean()
        out = pd.DataFrame(index=users)
        out["degree"] = degree
        out["neighbor_degree"] = neighbor_degree

    with clocked(steps, "pandas directed degrees and calls (edge list groupby)"):
        out_edges = edges.groupby("src").agg(out_degree=("dst", "size"),
                                             out_calls=("n_calls", "sum"))
        in_edges = edges.groupby("dst").agg(in_degree=("src", "size"),
                                            in_calls=("n_calls", "sum"))
        directed = pd.concat([out_edges.reindex(users), in_edges.reindex(users)], axis=1)
        directed = directed.fillna(0)
        out[["in_degree", "out_degree", "in_calls", "out_calls"]] = directed[
            ["in_degree", "out_degree", "in_calls", "out_calls"]]
        out["weighted_degree"] = out["in_calls"] + out["out_calls"]

    with clocked(steps, "networkx graph (from_pandas_edgelist of the pairs)"):
        graph = nx.from_pandas_edgelist(pd.DataFrame({"a": a, "b": b}), "a", "b")
    with clocked(steps, "networkx clustering"):
        out["clustering"] = pd.Series(nx.clustering(graph, nodes=users))
    del graph

    with clocked(steps, "pandas duration mean/variance"):
        party = np.concatenate([calls["caller"].to_numpy(), calls["callee"].to_numpy()])
        featurised = np.isin(party, users.to_numpy())
        duration = calls["duration_s"].to_numpy(dtype=float, na_value=np.nan)
        per_user = pd.Series(np.concatenate([duration, duration])[featurised],
                             index=party[featurised]).groupby(level=0).agg(["mean", "var"])
        out["call_duration"], out["duration_variance"] = per_user["mean"], per_user["var"]

    with clocked(steps, "pandas/numpy centre, avg/max radius (vectorised haversine)"):
        cell = pd.concat([calls["caller_cell"], calls["callee_cell"]], ignore_index=True)
        located = pd.DataFrame({"user_id": party, "cell_id": cell})[featurised & cell.notna()
                                                                    .to_numpy()]
        located = located.merge(cells, on="cell_id")
        by_user = located.groupby("user_id")
        centre = by_user[["lat", "lon"]].transform("mean")
        located["radius"] = features.haversine_km(
            located["lat"].to_numpy(), located["lon"].to_numpy(),
            centre["lat"].to_numpy(), centre["lon"].to_numpy(),
        )
        spread = located.groupby("user_id").agg(
            center_lat=("lat", "mean"), center_lon=("lon", "mean"),
            avg_radius=("radius", "mean"), max_radius=("radius", "max"),
        )
        out[list(spread.columns)] = spread
    return out[BASELINE_COLUMNS], steps


def igraph_clustering(edges: pd.DataFrame) -> tuple[pd.Series, dict[str, Clock]]:
    """Local clustering of every party with igraph: the series by party id, and the (wall, CPU)
    seconds of the construction (simple undirected pairs, ids to 0..n-1) and of the
    transitivity."""
    import igraph as ig  # here, so the feature-step child does not load it

    steps: dict[str, Clock] = {}
    with clocked(steps, "construction"):
        a, b = undirected_pairs(edges)
        codes, parties = pd.factorize(np.concatenate([a, b]))
        graph = ig.Graph(n=len(parties), edges=list(zip(codes[:len(a)].tolist(),
                                                         codes[len(a):].tolist(), strict=True)))
    with clocked(steps, "transitivity"):
        clustering = graph.transitivity_local_undirected(mode="zero")
    if not graph.is_simple():
        raise AssertionError("igraph's graph is not simple: transitivity would be wrong")
    return pd.Series(clustering, index=parties), steps


def difference(ours: pd.Series, theirs: pd.Series) -> tuple[float, int]:
    """Max abs difference where both are set, and the number of rows null on one side only."""
    ours, theirs = ours.astype(float), theirs.astype(float)
    return float((ours - theirs).abs().max()), int((ours.isna() != theirs.isna()).sum())


def compare(db: Path, cfg: StudyConfig, window: Window, repeats: int) -> dict:
    """One window, in turns: build_features; igraph clustering; pandas + networkx."""
    con = open_db(db, cfg)
    load: dict[str, Clock] = {}
    with clocked(load, "load"):
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

    ours_runs, igraph_runs, baseline_runs = [], [], []
    for turn in range(1, repeats + 1):
        log(f"round {turn}/{repeats}: ours (build_features)")
        sql_seconds = time_sql_files()
        clock: dict[str, Clock] = {}
        gc.collect()
        with clocked(clock, "build_features"):
            features.build_features(con, cfg, window)
        ours_runs.append({"total": clock["build_features"], "sql": dict(sql_seconds)})
        log(f"round {turn}/{repeats}: igraph")
        gc.collect()
        ig_clustering, ig_steps = igraph_clustering(edges)
        igraph_runs.append(ig_steps)
        log(f"round {turn}/{repeats}: pandas + networkx")
        gc.collect()  # networkx graphs hold reference cycles: freed before every measured run
        theirs, baseline_steps = pandas_networkx(edges, calls, cells, labelled)
        baseline_runs.append(baseline_steps)
        gc.collect()

    missing = [t for t in (*(f"features/prepare.sql:{t}" for t in GRAPH_TABLES),
                           *CLUSTERING_FILES) if t not in ours_runs[0]["sql"]]
    if missing:
        log(f"WARNING: not timed (the graph build vs igraph is understated): {missing}")
    ours = con.execute(
        f"SELECT user_id, {', '.join(BASELINE_COLUMNS)} FROM features WHERE window_id = ?",
        [window.window_id],
    ).df().set_index("user_id")
    con.close()

    both = ours.index.intersection(theirs.index)
    diffs = {c: difference(ours.loc[both, c], theirs.loc[both, c]) for c in BASELINE_COLUMNS}
    diffs["clustering (igraph)"] = difference(ours.loc[both, "clustering"], ig_clustering[both])
    return {
        "calls": len(calls),
        "edges": len(edges),
        "users": (len(ours), len(theirs), len(both)),
        "load": load["load"],
        "ours": ours_runs,
        "igraph": igraph_runs,
        "baseline": baseline_runs,
        "diffs": diffs,
    }


def runs_median(runs: list[dict[str, Clock]]) -> dict[str, Clock]:
    """Median (wall, CPU) of each step over the runs, in the first run's order."""
    keys = dict.fromkeys(k for run in runs for k in run)
    return {k: median([run.get(k, (0.0, 0.0)) for run in runs]) for k in keys}


def total(run: dict[str, Clock]) -> Clock:
    return (sum(w for w, _ in run.values()), sum(c for _, c in run.values()))


def same_feature_files(sql: dict[str, Clock]) -> list[str]:
    """Our SQL files (keys of ``sql``) that compute the baseline's columns: all but the
    statement keys and the files of OTHER_FAMILIES."""
    other = {f"features/{family}.sql" for family in OTHER_FAMILIES}
    return [name for name in sql if ":" not in name and name not in other]


def ours_figures(cmp: dict) -> dict[str, list[Clock]]:
    """Per run of ours: total, same-feature files, graph build, triangles + clustering."""
    out: dict[str, list[Clock]] = defaultdict(list)
    for run in cmp["ours"]:
        sql = run["sql"]
        out["total"].append(run["total"])
        out["same"].append(total({k: sql[k] for k in same_feature_files(sql)}))
        out["graph"].append(total({t: sql.get(f"features/prepare.sql:{t}", (0.0, 0.0))
                                   for t in GRAPH_TABLES}))
        out["clustering"].append(total({f: sql.get(f, (0.0, 0.0)) for f in CLUSTERING_FILES}))
        out["ours igraph"].append(add(out["graph"][-1], out["clustering"][-1]))
    return out


def fmt(clock: Clock) -> str:
    return f"{clock[0]:.2f} s wall / {clock[1]:.2f} s CPU"


def print_report(cfg: StudyConfig, runs: dict[str, dict], cmp: dict | None, preset: str,
                 window: Window) -> None:
    d = cfg.duckdb
    print(f"Feature step: write_cell_prices + build_features for {len(cfg.calendar.windows())} "
          f"windows (DuckDB threads={d.threads}, memory_limit={d.memory_limit}), seed {SEED}")
    print(f"{'city':<6} {'calls':>11} {'feature rows':>13} {'seconds':>8} {'CPU s':>8} "
          f"{'peak MB':>8} {'calls/s':>9}")
    for name, r in runs.items():
        print(f"{name:<6} {r['calls']:>11,} {r['rows']:>13,} {r['seconds']:>8.1f} "
              f"{r['cpu_seconds']:>8.1f} {r['peak_mb']:>8,.0f} "
              f"{r['calls'] / r['seconds']:>9,.0f}")
    for name, r in runs.items():
        steps = {"cell_prices": r["cell_prices_seconds"],
                 **{k.removeprefix("features/"): s for k, s in r["sql_seconds"].items()
                    if ":" not in k}}
        steps["other (commits, Python)"] = r["seconds"] - sum(steps.values())
        print(f"  {name} wall seconds by step: "
              + ", ".join(f"{step} {s:.1f}" for step, s in steps.items()))

    if cmp is not None:
        print_comparison(cmp, preset, window)

    print("\nFigures vs targets (medians; ratio = baseline / ours)")
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
        ours = {k: median(v) for k, v in ours_figures(cmp).items()}
        baseline = median([total(run) for run in cmp["baseline"]])
        ig = median([total(run) for run in cmp["igraph"]])
        ig_transitivity = median([run["transitivity"] for run in cmp["igraph"]])
        week = f"{preset} week {window.label}"
        n_same = sum(f.family not in OTHER_FAMILIES for f in features.FEATURES.values())
        for i, kind in enumerate(("wall", "CPU")):
            rows += [
                (f"{week}: pandas+networkx (14 features) / ours all "
                 f"{len(features.FEATURES)}, {kind}", f"{baseline[i] / ours['total'][i]:.1f}x",
                 f">= {TARGET_BASELINE_RATIO}x",
                 baseline[i] / ours["total"][i] >= TARGET_BASELINE_RATIO),
                (f"{week}: same features both sides (ours {n_same}), {kind}",
                 f"{baseline[i] / ours['same'][i]:.1f}x", f">= {TARGET_BASELINE_RATIO}x",
                 baseline[i] / ours["same"][i] >= TARGET_BASELINE_RATIO),
                (f"{week}: igraph build+transitivity / ours graph+clustering, {kind}",
                 f"{ig[i] / ours['ours igraph'][i]:.1f}x", f">= {TARGET_IGRAPH_RATIO}x",
                 ig[i] / ours["ours igraph"][i] >= TARGET_IGRAPH_RATIO),
                (f"{week}: igraph transitivity only / ours triangles + clustering, {kind}",
                 f"{ig_transitivity[i] / ours['clustering'][i]:.1f}x", "(info)", None),
            ]
    for figure, value, target, ok in rows:
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        print(f"  {figure:<72} {value:>6} {target:>8} {verdict}")


def print_comparison(cmp: dict, preset: str, window: Window) -> None:
    repeats = len(cmp["ours"])
    n_ours, n_theirs, n_both = cmp["users"]
    print(f"\nOne window: {preset} departure week {window.label} "
          f"({window.start}..{window.end}): {cmp['calls']:,} calls, "
          f"{cmp['edges']:,} directed edges, featurised users: SQL {n_ours:,}, "
          f"baseline {n_theirs:,}, both {n_both:,}")
    print(f"  {repeats} rounds in turns (ours, igraph, pandas + networkx); medians of each "
          f"figure on its own; CPU = user + sys of this process, all threads")
    ours = ours_figures(cmp)
    sql = runs_median([run["sql"] for run in cmp["ours"]])
    files = {k.removeprefix("features/"): s for k, s in sql.items() if ":" not in k}
    files["other (commit, Python)"] = (median(ours["total"])[0] - total(files)[0],
                                       median(ours["total"])[1] - total(files)[1])
    print(f"  ours, build_features (all {len(features.FEATURES)} features): runs "
          + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in ours["total"])
          + f" s wall/CPU; median {fmt(median(ours['total']))}")
    print("    by SQL file (median wall/CPU s): "
          + ", ".join(f"{name} {w:.2f}/{c:.2f}" for name, (w, c) in files.items()))
    same = same_feature_files(cmp["ours"][0]["sql"])
    print(f"  ours, same features as the baseline "
          f"({' + '.join(name.removeprefix('features/') for name in same)}): "
          f"median {fmt(median(ours['same']))}")
    baseline = [total(run) for run in cmp["baseline"]]
    print(f"  pandas + networkx baseline ({len(BASELINE_COLUMNS)} features: "
          f"{', '.join(BASELINE_COLUMNS)}): runs "
          + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in baseline)
          + f" s wall/CPU; median {fmt(median(baseline))}; from DataFrames of the window graph, "
          f"its calls and cells (loading them from DuckDB, {fmt(cmp['load'])}, not counted)")
    for step, clock in runs_median(cmp["baseline"]).items():
        print(f"    {step}: {fmt(clock)}")
    ig = [total(run) for run in cmp["igraph"]]
    ig_steps = runs_median(cmp["igraph"])
    print(f"  clustering from the window's directed edges: ours median "
          f"{fmt(median(ours['ours igraph']))} = graph build (prepare: "
          f"{', '.join(GRAPH_TABLES)}) {fmt(median(ours['graph']))} + triangles.sql, "
          "clustering.sql "
          f"{fmt(median(ours['clustering']))}")
    print("    igraph runs " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in ig)
          + f" s wall/CPU; median {fmt(median(ig))} = construction (numpy pairs, factorize, "
          f"Graph(n, edges)) {fmt(ig_steps['construction'])} + "
          f"transitivity_local_undirected(mode='zero') {fmt(ig_steps['transitivity'])}")
    print("  agreement with the features table (max abs diff, null mismatches):")
    print("    " + ", ".join(f"{c} {diff:.2g}/{nulls}"
                             for c, (diff, nulls) in cmp["diffs"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("work/bench"))
    parser.add_argument("--presets", nargs="+", default=["demo", "large"],
                        help="cities to measure; the baseline uses the last one")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--repeats", type=int, default=MIN_REPEATS,
                        help=f"rounds of ours vs the baselines (at least {MIN_REPEATS})")
    args = parser.parse_args(argv)
    if args.repeats < MIN_REPEATS:
        parser.error(f"--repeats must be at least {MIN_REPEATS} (medians)")
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
        cmp = compare(prepared_db(args.workdir, args.presets[-1], cfg), cfg, window,
                      args.repeats)
    print_report(cfg, runs, cmp, args.presets[-1], window)
    print(f"\nwall time of this run: {time.perf_counter() - start:.0f} s "
          f"(duckdb {duckdb.__version__}; the machine may be shared: compare figures of the "
          f"same run only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
