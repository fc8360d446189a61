"""Benchmark of two readers of the feature tables (issue 13), this checkout's SQL against a git
revision's, in turns, on the DuckDB file of a run:

    .venv/bin/python benchmarks/trends.py DB [--baseline REV] [--repeats 3]
                                          [--memory-limit 6GB] [--threads 2]

- ``group_feature_trends``: every window of the default calendar through
  ``sql/reports/group_feature_trends.sql`` (ours: a wide first pass over the window's own feature
  table; the baseline's as it was at REV), inside a transaction that is rolled back; the two
  tables are compared row for row (``EXCEPT ALL`` both ways: bit for bit).
- The integration study's model matrix (``sql/models/matrix.sql``): ours reads it once from the
  integration weeks' table (``evaluate_integration``); up to 6076f7e it was read from the view
  ``features`` four times (twice for each of ``settled_vs_locals`` and ``three_way``), which is
  what the baseline line times.

``DB`` is the DuckDB file of a finished pipeline run (``migrant-assets demo --workdir W`` writes
``W/migrant_assets.duckdb``; ``benchmarks/scale.py --keep`` keeps its runs'). Printed: medians of
wall and CPU seconds (CPU: every thread of this process, so DuckDB's threads count) and their
ratio. Give the file no other process (it is opened for writing; nothing is kept).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from migrant_assets.config import DuckDBSettings, StudyConfig
from migrant_assets.db import connect, quote, run_text, sql_text, with_identifiers
from migrant_assets.features import FEATURES, features_table
from migrant_assets.labels import INTEGRATION_LABELS
from migrant_assets.models.data import integration_weeks

ROOT = Path(__file__).resolve().parents[1]
TRENDS = "reports/group_feature_trends.sql"
TRENDS_TABLE = "reports/group_feature_trends_table.sql"
MATRIX = "models/matrix.sql"


def at(rev: str, name: str) -> str:
    """The text of ``sql/<name>`` at git revision ``rev``."""
    return subprocess.run(["git", "show", f"{rev}:migrant_assets/sql/{name}"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout


def timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def trends(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, text: str) -> None:
    """Every window through one version of the trends statement. Both versions' parameters are
    given (each statement binds the ones it names); ``$feature_table`` is ours only."""
    common = {"features": list(FEATURES),
              "feature_families": [f.family for f in FEATURES.values()],
              "min_group_size": cfg.thresholds.min_group_size, "with_all": False,
              "uncovered": None}
    for order, w in enumerate(cfg.calendar.windows(), start=1):
        run_text(con, with_identifiers(text, {"feature_table": features_table(w)}), {
            **common, "window_id": w.window_id, "window_label": w.label,
            "window_family": w.family, "window_order": order, "window_ids": [w.window_id],
            "window_labels": [w.label], "window_families": [w.family],
            "window_orders": [order]})


def rows_differ(con: duckdb.DuckDBPyConnection, a: str, b: str) -> int:
    """Rows of table ``a`` not in ``b`` and of ``b`` not in ``a`` (``EXCEPT ALL`` both ways;
    names made by the benchmarks, quoted here; also used by ``benchmarks/housing.py``)."""
    a, b = quote(a), quote(b)
    return sum(con.execute(f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL "  # noqa: S608
                           f"SELECT * FROM {y})").fetchone()[0] for x, y in ((a, b), (b, a)))


def report(title: str, times: dict[str, list[tuple[float, float]]], note: str = "") -> None:
    """Print the medians of each way's (wall, CPU) seconds, ours first, and the baseline's over
    ours (also used by ``benchmarks/housing.py``)."""
    print(f"\n{title}{note}")
    med = {way: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
           for way, ts in times.items()}
    for way, (wall, cpu) in med.items():
        print(f"  {way:28s} {wall:8.2f} s wall {cpu:8.2f} CPU s")
    (w_ours, c_ours), (w_base, c_base) = med.values()
    print(f"  baseline / ours: {w_base / w_ours:.2f}x wall, {c_base / c_ours:.2f}x CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--baseline", default="6076f7e", help="git revision (default 6076f7e)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cfg = StudyConfig()
    con = connect(args.db, DuckDBSettings(memory_limit=args.memory_limit, threads=args.threads))
    con.execute("SET enable_progress_bar = false")
    n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    print(f"{args.db} ({n_calls:,} calls), {args.threads} threads, memory_limit "
          f"{args.memory_limit}; medians of {args.repeats}, in turns")

    base = f"baseline {args.baseline}"
    # each version with its own table (ours has the column uncovered, left out of the comparison:
    # every window is read as covered here)
    ways = {"ours": (sql_text(TRENDS), sql_text(TRENDS_TABLE)),
            base: (at(args.baseline, TRENDS), at(args.baseline, TRENDS_TABLE))}
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    con.execute("BEGIN")
    for _ in range(args.repeats):
        for i, (way, (text, table)) in enumerate(ways.items()):
            run_text(con, table)
            times[way].append(timed(lambda text=text: trends(con, cfg, text)))
            con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(f'trends_{i}')} AS "  # noqa: S608
                        "SELECT COLUMNS(lambda c: c <> 'uncovered') FROM group_feature_trends")
    differ = rows_differ(con, "trends_0", "trends_1")
    rows = con.execute("SELECT count(*) FROM trends_0").fetchone()[0]
    con.execute("ROLLBACK")
    report("group_feature_trends, every window", times,
           f" ({rows:,} rows; {'the same rows' if differ == 0 else f'{differ} rows DIFFER'})")

    weeks = integration_weeks(cfg)
    params = {"window_ids": [w.window_id for w in weeks], "labels": list(INTEGRATION_LABELS)}
    table = {"feature_table": features_table(weeks[0])}
    ours = with_identifiers(sql_text(MATRIX), table)
    baseline = with_identifiers(at(args.baseline, MATRIX), table)
    reads = {"ours (1 read, family table)": (ours, 1), f"{base} (4 reads)": (baseline, 4)}
    times = {way: [] for way in reads}
    shapes = {}
    for _ in range(args.repeats):
        for way, (text, n) in reads.items():
            def read(text=text, n=n, way=way):
                for _ in range(n):
                    shapes[way] = run_text(con, text, params).df().shape
            times[way].append(timed(read))
    same = len(set(shapes.values())) == 1
    report("integration study's model matrix", times,
           f" ({next(iter(shapes.values()))[0]:,} rows x {next(iter(shapes.values()))[1]} "
           f"columns{'' if same else '; the shapes DIFFER'})")
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
