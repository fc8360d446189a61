"""Benchmark of one SQL file of a window (issue 13): this checkout's text against a git
revision's, in turns, on the DuckDB file of a run, with the results compared.

    .venv/bin/python benchmarks/sql_turns.py DB --file graphs/window_graph_stats.sql
                     [--config STUDY.yaml] [--baseline REV] [--windows ID ...] [--repeats 3]
                     [--memory-limit 6GB] [--threads 2]

For files that read only stored tables and write only TEMP tables or a result (the window
graph's stats, ``sql/features/additive.sql``'s sums of a window's calls, ...). ``DB`` is the
DuckDB file of a finished run (``benchmarks/scale.py --keep``, or ``W/migrant_assets.duckdb``
of ``migrant-assets demo --workdir W``). For each window (default: the k = 14 first-k-days
window, an integration week and the whole period of ``--config``'s calendar, by default the
packaged study's) both texts run in turns (A B A B ...), each
statement given the window's parameters it names (those of the feature SQL: ``window_id``,
``start``, ``end``, ``province``, ...); the feature SQL's macros are made once. Printed per
window: the medians of wall and CPU seconds of each (CPU: every thread of this process, so
DuckDB's threads count), their ratio, and whether both gave the same rows: the result of the
last statement when it returns rows, and every TEMP table the file makes (``EXCEPT ALL`` both
ways, bit for bit). The file is opened for writing (TEMP tables only: nothing of it changes);
give it no other process.
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
TEMP_TABLE = re.compile(r"CREATE\s+OR\s+REPLACE\s+TEMP\s+TABLE\s+(\w+)", re.IGNORECASE)


def run(con: duckdb.DuckDBPyConnection, statements: list[duckdb.Statement],
        params: dict) -> tuple[float, float, list | None]:
    """Wall and CPU seconds of the statements, and the rows of the last one (None: no rows)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for s in statements:
        result = con.execute(s, {k: params[k] for k in s.named_parameters})
    rows = result.fetchall() if statements[-1].type == duckdb.StatementType.SELECT else None
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--file", required=True, help="a file under migrant_assets/sql/")
    parser.add_argument("--config", type=Path, help="the run's study config (its calendar, "
                        "province, population; default: the packaged study's)")
    parser.add_argument("--baseline", default="HEAD", help="git revision (default HEAD)")
    parser.add_argument("--windows", nargs="*",
                        help="window ids (default: k = 14, an integration week, whole period)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cfg = StudyConfig.load(args.config) if args.config else StudyConfig()
    windows = {w.window_id: w for w in cfg.calendar.windows()}
    chosen = args.windows or [cfg.calendar.windows(f)[-1].window_id
                              for f in ("first_k_days", "integration_week", "whole_period")]
    base_text = subprocess.run(
        ["git", "show", f"{args.baseline}:migrant_assets/sql/{args.file}"], cwd=ROOT,
        check=True, capture_output=True, text=True).stdout
    texts = {"ours": sql_text(args.file), f"baseline {args.baseline}": base_text}
    ways = {way: duckdb.extract_statements(text) for way, text in texts.items()}
    made = sorted({name for text in texts.values() for name in TEMP_TABLE.findall(text)})
    con = connect(args.db, DuckDBSettings(memory_limit=args.memory_limit, threads=args.threads))
    con.execute("SET enable_progress_bar = false")
    features.run_sql(con, "features/macros.sql")
    n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    print(f"{args.db} ({n_calls:,} calls), {args.file}, {args.threads} threads, memory_limit "
          f"{args.memory_limit}; medians of {args.repeats}, in turns")
    for window_id in chosen:
        params = features._params(cfg, windows[window_id])
        times: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
        rows = {}
        for _ in range(args.repeats):
            for i, (way, statements) in enumerate(ways.items()):
                wall, cpu, rows[way] = run(con, statements, params)
                times[way].append((wall, cpu))
                for name in made:  # a copy of each TEMP table a way (names made here, quoted)
                    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(f'{name}_{i}')} AS "  # noqa: S608
                                f"SELECT * FROM {quote(name)}")
        same = [rows_differ(con, f"{name}_0", f"{name}_1") == 0 for name in made]
        rows_same = len(set(map(repr, rows.values()))) == 1
        note = (f": {'the same' if all(same) and rows_same else 'DIFFERENT'} rows"
                f" ({len(made)} TEMP tables{', the result' if rows['ours'] else ''})")
        report(window_id, times, note)
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
