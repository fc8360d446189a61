"""Benchmark of pricing a window's positions (``sql/features/housing_price.sql``, SPEC §5; issue
13): this checkout's statements against a git revision's, in turns, on the DuckDB file of a run.

    .venv/bin/python benchmarks/housing.py DB [--baseline REV] [--windows ID ...] [--repeats 2]
                                           [--memory-limit 6GB] [--threads 2]

``DB`` is the DuckDB file of a finished pipeline run (``migrant-assets demo --workdir W`` writes
``W/migrant_assets.duckdb``; ``benchmarks/scale.py --keep`` keeps its runs'). For each window
(default: the k = 14 first-k-days window and the whole period) the window's featurised users,
graph and centres are prepared once (``features.prepare``, summed from the window's own days)
and the centres' positions (``feat_points``) made; then the statements that price them, up to
``feat_position_prices``, run for ours and for the baseline in turns (A B A B ...). Printed per
window: the positions, the medians of wall and CPU seconds of each (CPU: every thread of this
process, so DuckDB's threads count), their ratio, and whether the two price every position the
same (rows compared with ``EXCEPT ALL`` both ways: the same positions and prices, bit for bit).
The file is opened for writing (TEMP tables only: nothing of it is changed); give it no other
process.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from trends import report, rows_differ  # benchmarks/trends.py (scripts run from benchmarks/)

from migrant_assets import features
from migrant_assets.config import DuckDBSettings, StudyConfig
from migrant_assets.db import connect, quote, sql_text

ROOT = Path(__file__).resolve().parents[1]
SQL = "migrant_assets/sql/features/housing_price.sql"


def pricing(text: str) -> list[duckdb.Statement]:
    """The statements of a housing_price.sql text after ``feat_points`` up to the one that
    writes ``feat_position_prices``."""
    statements = duckdb.extract_statements(text)
    last = next(i for i, s in enumerate(statements)
                if re.search(r"TEMP TABLE feat_position_prices\b", s.query))
    return statements[1:last + 1]


def timed(con: duckdb.DuckDBPyConnection, statements: list[duckdb.Statement],
          params: dict) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for s in statements:
        con.execute(s, {k: params[k] for k in s.named_parameters})
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--baseline", default="2f90c07", help="git revision (default 2f90c07)")
    parser.add_argument("--windows", nargs="*", help="window ids (default: k = 14, whole period)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cfg = StudyConfig()
    windows = {w.window_id: w for w in cfg.calendar.windows()}
    chosen = args.windows or [cfg.calendar.windows("first_k_days")[-1].window_id,
                              cfg.calendar.windows("whole_period")[0].window_id]
    base_text = subprocess.run(["git", "show", f"{args.baseline}:{SQL}"], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout
    ours_text = sql_text("features/housing_price.sql")
    first = duckdb.extract_statements(ours_text)[0]  # feat_points, the same in both
    ways = {"ours": pricing(ours_text), f"baseline {args.baseline}": pricing(base_text)}
    con = connect(args.db, DuckDBSettings(memory_limit=args.memory_limit, threads=args.threads))
    con.execute("SET enable_progress_bar = false")
    n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    print(f"{args.db} ({n_calls:,} calls), {args.threads} threads, memory_limit "
          f"{args.memory_limit}; medians of {args.repeats}, in turns")
    for window_id in chosen:
        window = windows[window_id]
        features.prepare(con, cfg, window, incremental=False)
        params = features._params(cfg, window)
        con.execute(first, {k: params[k] for k in first.named_parameters})
        times: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
        results = {}
        for _ in range(args.repeats):
            for i, (way, statements) in enumerate(ways.items()):
                times[way].append(timed(con, statements, params))
                results[way] = f"prices_{i}"  # one table a way (a name made here, quoted)
                con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(results[way])} AS "  # noqa: S608
                            "SELECT * FROM feat_position_prices")
        a, b = results.values()
        differ = rows_differ(con, a, b)
        n, priced = con.execute(  # noqa: S608
            f"SELECT count(*), count(price) FROM {quote(a)}").fetchone()
        report(f"{window.label} ({window_id})", times,
               f": {n:,} positions, {priced:,} priced; "
               f"{'the same prices' if differ == 0 else f'{differ} rows DIFFER'}")
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
