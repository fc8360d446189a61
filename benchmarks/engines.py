"""Benchmark of the feature stage on the two engines (issue 14, docs/spark.md): DuckDB against
Apache Spark in local mode, on the synthetic ``demo`` (and ``large``) cities.

    .venv/bin/python benchmarks/engines.py [--workdir work/bench] [--presets demo large]
                                           [--threads 2 4] [--families departure_week ...]
                                           [--labels A ...] [--keep]
                                           [--conf NAME=JSON ...]

The feature stage = ``daily_contacts`` of the days the windows cover, the window graphs and the
features of every window of the chosen families and labels (default: all, 20 windows), from a
DuckDB file with calls, labels and cell prices (built once under ``--workdir`` with the
project's functions, as ``benchmarks/features.py`` does). Each run is a fresh child process on
its own copy of that file: DuckDB (the default path: incremental first-k-days windows), then
Spark ``local[N]`` for each ``--threads`` N (session start, the inputs copied to a Parquet
warehouse, the same SQL files, the features read back into DuckDB). Printed side by side: wall
seconds (Spark's also without the session start and the copy), peak resident memory of the
child's process tree sampled every 0.2 s (the JVM included: ``pipeline_run.tree_rss``), and the
largest relative difference of any feature from DuckDB's (same users and nulls checked), and
CPU seconds of the child's process tree (the JVM included, which no parent waits for: each
process's last sampled value). ``--conf NAME=JSON`` runs Spark once per such set of settings
(over ``engines.SPARK_DEFAULTS``) for each ``--threads`` N, the first set the baseline of the
others: e.g. the test suite's settings against its former ones (migrant_assets_tests/
test_spark.py ``TEST_CONF``).
DuckDB's run is the baseline measured in the same invocation; the machine may be shared, so
read ratios, not absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_run import tree_cpu, tree_rss  # noqa: E402

from migrant_assets.config import StudyConfig  # noqa: E402

SEED = 20160901


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepared(workdir: Path, preset: str) -> Path:
    """A DuckDB file of the city with calls, labels and cell prices (graphs and features are
    the measured stage); built once."""
    from features import prepared_db  # benchmarks/features.py: city, ingest, labels, graphs

    from migrant_assets.db import connect, drop_tables
    from migrant_assets.features import write_cell_prices

    path = workdir / f"{preset}-{SEED}-engines.duckdb"
    if path.exists():
        return path
    source = prepared_db(workdir, preset, StudyConfig())
    shutil.copy(source, path)
    con = connect(path)
    write_cell_prices(con)
    con.execute("DROP VIEW IF EXISTS window_graph")
    con.execute("DROP VIEW IF EXISTS first_k_days_contacts")
    drop_tables(con, "daily_contacts", "integration_week_graph", "departure_week_graph",
                "first_k_days_graph", "whole_period_graph", if_exists=True)
    con.close()
    return path


def stage_windows(cfg: StudyConfig, families: list[str], labels: list[str]) -> list:
    """The measured windows: those of ``families``, only the paper labels ``labels`` if given
    (e.g. ``A`` for departure week A)."""
    return [w for f in families for w in cfg.calendar.windows(f)
            if not labels or w.label in labels]


def stage_days(windows: list) -> list:
    """The study days the windows cover: their ``daily_contacts`` are part of the measured
    stage (every day of the month for the default families)."""
    return sorted({d for w in windows for d in w.days})


def stage(db: str, engine: str, threads: int, families: list[str], labels: list[str],
          warehouse: str, conf: dict[str, str]) -> dict:
    """The feature stage on ``db`` (a copy) with one engine (Spark with ``conf``); runs in the
    child process."""
    from migrant_assets import engines, features, graphs
    from migrant_assets.db import connect

    cfg = StudyConfig()
    cfg = cfg.model_copy(update={"engine": cfg.engine.model_copy(update={
        "kind": engine, "master": f"local[{threads}]", "warehouse": warehouse, "conf": conf})})
    windows = stage_windows(cfg, families, labels)
    days = stage_days(windows)
    con = connect(db, cfg.duckdb)
    out: dict = {"windows": len(windows), "days": len(days)}
    start = time.perf_counter()
    if engine == "duckdb":
        for day in days:
            graphs.build_daily_contacts(con, day)
        for window in windows:
            graphs.build_window_graph(con, window, graphs.previous_window(cfg.calendar, window),
                                      cfg)
            features.build_features(con, cfg, window)
    else:
        with engines.spark_sql(cfg) as sql:
            out["session_s"] = time.perf_counter() - start
            engines.export_inputs(con, sql)
            engines.export_calls(con, sql, days)
            out["copy_s"] = time.perf_counter() - start - out["session_s"]
            for day in days:
                graphs.build_daily_contacts(sql, day)
            for window in windows:
                graphs.build_window_graph(sql, window, None, cfg)
                engines.spark_features(con, sql, cfg, window)
    out["seconds"] = time.perf_counter() - start
    out["rows"] = con.execute("SELECT count(*) FROM features").fetchone()[0]
    con.close()
    return out


def measure(args: list[str]) -> dict:
    """Run the child ``args``; its JSON result plus ``peak_mb`` and ``cpu_s`` of its process
    tree."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args],
                            stdout=subprocess.PIPE, text=True)
    peak, cpu = [0], {}

    def sample() -> None:
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], tree_rss(proc.pid))
                cpu.update(tree_cpu(proc.pid))
            except OSError:  # a process of the tree ended while it was read: sample again
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"child {args} failed ({proc.returncode})")
    return {**json.loads(stdout.strip().splitlines()[-1]), "peak_mb": peak[0] / 2**20,
            "cpu_s": sum(cpu.values())}


def largest_difference(reference: Path, other: Path) -> tuple[float, list[str]]:
    """Largest relative (absolute below 1) difference of any feature between two files, and a
    line per feature that differs by more than 1e-9 (its largest difference, the rows above
    1e-9 and the window families they are in); an AssertionError when users, labels or nulls
    differ."""
    import duckdb

    from migrant_assets.features import FEATURES

    frames = []
    for path in (reference, other):
        con = duckdb.connect(str(path), read_only=True)
        frames.append(con.execute("SELECT * FROM features ORDER BY window_id, user_id").df())
        con.close()
    a, b = frames
    assert a[["window_id", "user_id", "label"]].equals(b[["window_id", "user_id", "label"]])
    family = a["window_id"].str.split(":").str[0].to_numpy()
    worst, lines = 0.0, []
    for name in FEATURES:
        x, y = a[name].to_numpy(float), b[name].to_numpy(float)
        assert (np.isnan(x) == np.isnan(y)).all(), name
        both = ~np.isnan(x)
        gap = np.zeros(len(x))
        gap[both] = np.abs(x[both] - y[both]) / np.maximum(1.0, np.abs(x[both]))
        worst = max(worst, float(gap.max(initial=0.0)))
        if (off := gap > 1e-9).any():
            lines.append(f"  {name}: largest {gap.max():.1e}, {off.sum()} rows above 1e-9 "
                         f"(windows: {', '.join(sorted(set(family[off])))})")
    return worst, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("work/bench"))
    parser.add_argument("--presets", nargs="+", default=["demo"])
    parser.add_argument("--threads", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--families", nargs="+", default=[
        "integration_week", "departure_week", "first_k_days", "whole_period"])
    parser.add_argument("--labels", nargs="*", default=[],
                        help="only the windows of these paper labels (e.g. A; default: all)")
    parser.add_argument("--keep", action="store_true",
                        help="keep each engine's DuckDB file (features) under --workdir")
    parser.add_argument("--conf", action="append", default=[], metavar="NAME=JSON",
                        help="a set of Spark settings (a JSON object) to run Spark with, named; "
                             "repeat to compare sets (default: the study's, none added)")
    parser.add_argument("--child", nargs=7,
                        metavar=("DB", "ENGINE", "THREADS", "FAMILIES", "LABELS", "WH", "CONF"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        db, engine, threads, families, labels, warehouse, conf = args.child
        print(json.dumps(stage(db, engine, int(threads), families.split(","),
                               [x for x in labels.split(",") if x], warehouse,
                               json.loads(conf))))
        return
    confs = {"": {}}
    if args.conf:
        confs = {}
        for item in args.conf:
            name, _, text = item.partition("=")
            try:
                confs[name] = json.loads(text)
            except json.JSONDecodeError as e:
                parser.error(f"--conf {item!r}: {e}")
            if not name or not isinstance(confs[name], dict):
                parser.error(f"--conf {item!r}: NAME=JSON, the JSON an object of settings")
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    families = ",".join(args.families)
    for preset in args.presets:
        base = prepared(args.workdir, preset)
        rows = []
        runs = [("duckdb", 2, "")] + [("spark", n, c) for n in args.threads for c in confs]
        copies = {}
        for engine, threads, conf in runs:
            copy = args.workdir / f"{preset}-{engine}-{threads}{conf and '-' + conf}.duckdb"
            warehouse = args.workdir / f"{preset}-warehouse-{threads}"
            shutil.copy(base, copy)
            shutil.rmtree(warehouse, ignore_errors=True)
            log(f"{preset}: feature stage on {engine} ({threads} threads{conf and ', ' + conf})")
            result = measure([str(copy), engine, str(threads), families, ",".join(args.labels),
                              str(warehouse), json.dumps(confs.get(conf, {}))])
            copies[(engine, threads, conf)] = copy
            result["difference"], result["differing"] = (
                (0.0, []) if engine == "duckdb"
                else largest_difference(copies[("duckdb", 2, "")], copy))
            rows.append((engine, threads, conf, result))
            shutil.rmtree(warehouse, ignore_errors=True)
        first = rows[0][3]
        base_s = first["seconds"]
        chosen = families + (f" {','.join(args.labels)}" if args.labels else "")
        print(f"\n{preset}: feature stage, {first['windows']} windows "
              f"({chosen}) over {first['days']} days, {first['rows']} feature rows")
        width = max(16, *(len(c) + 17 for c in confs))
        print(f"{'engine':<{width}}{'seconds':>9}{'x DuckDB':>10}{'w/o start+copy':>16}"
              f"{'CPU-s':>8}{'peak MB':>9}{'max rel diff':>14}")
        for engine, threads, conf, r in rows:
            name = "duckdb" if engine == "duckdb" else f"spark local[{threads}]"
            name += f" {conf}" if conf else ""
            net = r["seconds"] - r.get("session_s", 0) - r.get("copy_s", 0)
            print(f"{name:<{width}}{r['seconds']:>9.1f}{r['seconds'] / base_s:>10.1f}"
                  f"{net:>16.1f}{r['cpu_s']:>8.1f}{r['peak_mb']:>9.0f}{r['difference']:>14.1e}")
            if r["differing"]:
                print(f"{name}: features that differ from DuckDB's by more than 1e-9")
                print("\n".join(r["differing"]))
        if len(confs) > 1:
            for threads in args.threads:
                same = [(c, r) for e, t, c, r in rows if e == "spark" and t == threads]
                (c0, r0), others = same[0], same[1:]
                for c, r in others:
                    print(f"spark local[{threads}] {c} against {c0}: {r['seconds']:.1f} s, "
                          f"{r['cpu_s']:.1f} CPU-s against {r0['seconds']:.1f} s, "
                          f"{r0['cpu_s']:.1f} CPU-s ({r0['cpu_s'] / r['cpu_s']:.2f}x less CPU)")
        spark = [(t, r) for e, t, c, r in rows if e == "spark" and c == next(iter(confs))]
        if len(spark) > 1:
            (t0, r0), (t1, r1) = spark[0], spark[-1]
            print(f"scaling: local[{t1}] takes {r1['seconds'] / r0['seconds']:.2f}x the time of "
                  f"local[{t0}] on this machine's cores")
        if not args.keep:
            for copy in copies.values():
                copy.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
