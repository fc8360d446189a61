"""Benchmark of the graphs stage's writes (SPEC §4; issue 13, "Disk"): the daily contacts of every
day and the graph of every window (the first-k-days windows in order, each from window k - 1 plus
day k, as the assets build them), this checkout's code against a git revision's, in turns, each
round in a fresh process, on the DuckDB file of a run.

    .venv/bin/python benchmarks/graphs.py DB --study STUDY.yaml [--baseline REV] [--rounds 2]

Printed per way: the medians of wall and CPU seconds (CPU: every thread of the child process),
the storage blocks the rewritten tables take (``pragma_storage_info``, times the block size), and
a checksum of their rows (the same rows in any order give the same checksum; against a revision
before the first-k-days windows below k_max kept the migrants' neighbourhood only, 2026-12-04,
``first_k_days_graph``'s differ by design). ``DB`` is opened for writing (the tables are
rewritten); give it no other process.
"""

from __future__ import annotations

import json
import statistics
import sys
import textwrap

from pipeline_run import ours_and_baseline_in_turns, turns_parser

TABLES = ("daily_contacts", "integration_week_graph", "departure_week_graph",
          "first_k_days_graph", "whole_period_graph")

#: Runs in a child process with the code under test first on PYTHONPATH; prints one JSON line.
RUNNER = textwrap.dedent("""
    import contextlib, inspect, json, sys, time
    from migrant_assets import graphs
    from migrant_assets.config import StudyConfig
    from migrant_assets.db import connect, quote

    study, db, tables = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    cfg = StudyConfig.load(study)
    con = connect(db, cfg.duckdb)
    wall, cpu = time.perf_counter(), time.process_time()
    for day in cfg.calendar.days:
        graphs.build_daily_contacts(con, day)
    # as the assets build them (with the study: below k_max, the migrants' neighbourhood), on a
    # revision that takes it
    as_assets = [cfg] if "cfg" in inspect.signature(graphs.build_window_graph).parameters else []
    once = getattr(graphs, "neighbourhood_once", contextlib.nullcontext)  # one a run, if it can
    with once():
        for window in cfg.calendar.windows():
            graphs.build_window_graph(con, window, graphs.previous_window(cfg.calendar, window),
                                      *as_assets)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    con.execute("CHECKPOINT")
    block = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    size = sum(con.execute("SELECT count(DISTINCT block_id) FROM pragma_storage_info(?) "
                           "WHERE block_id IS NOT NULL", [t]).fetchone()[0] for t in tables)
    checksum = [str(con.execute(f"SELECT count(*), sum(hash(t)) FROM {quote(t)} AS t")
                    .fetchone()) for t in tables]
    print("RESULT " + json.dumps({"wall": wall, "cpu": cpu, "bytes": size * block,
                                  "checksum": checksum}))
""")


def main(argv: list[str] | None = None) -> int:
    parser = turns_parser(__doc__, "e986ad4")
    args = parser.parse_args(argv)
    results = ours_and_baseline_in_turns(args.baseline, args.db.parent, args.rounds, RUNNER,
                                         str(args.study), str(args.db), ",".join(TABLES))
    print(f"{args.db}: daily contacts and every window graph, medians of {args.rounds}, in turns")
    sums = set()
    for way, rows in results.items():
        wall = statistics.median(r["wall"] for r in rows)
        cpu = statistics.median(r["cpu"] for r in rows)
        print(f"  {way:24s} {wall:8.2f} s wall {cpu:8.2f} CPU-s  "
              f"{rows[-1]['bytes'] / 1e9:6.3f} GB in {', '.join(TABLES)}")
        sums.add(json.dumps(rows[-1]["checksum"]))
    print("  the same rows" if len(sums) == 1 else "  the rows DIFFER")
    return 0 if len(sums) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
