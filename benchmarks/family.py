"""Benchmark of one window family's features (issue 13): ``features.build_features`` of every
window of the family, in calendar order as its asset builds them (the first-k-days windows each
from the one before), on the DuckDB file of a run, this checkout's code against a git
revision's, in turns, each round in a fresh process.

    .venv/bin/python benchmarks/family.py DB --study STUDY.yaml [--family first_k_days]
                                          [--baseline REV] [--rounds 2]

Printed per way: the medians of wall and CPU seconds (CPU: every thread of the child process),
the rows written, and whether both wrote the same rows: all of them, and the rows of every user
but the locals (a checksum of each), so that a change of who is featurised still shows that
everyone else's features are the same. ``DB`` is opened for writing (the family's rows are
rewritten); give it no other process.
"""

from __future__ import annotations

import statistics
import sys
import textwrap

from pipeline_run import ours_and_baseline_in_turns, turns_parser

#: Runs in a child process with the code under test first on PYTHONPATH; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, sys, time
    from migrant_assets import features
    from migrant_assets.config import StudyConfig
    from migrant_assets.db import connect, quote

    cfg = StudyConfig.load(sys.argv[1])
    con = connect(sys.argv[2], cfg.duckdb)
    windows = cfg.calendar.windows(sys.argv[3])
    wall, cpu = time.perf_counter(), time.process_time()
    for window in windows:
        table = features.build_features(con, cfg, window)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows, every, others = con.execute(
        f"SELECT count(*), sum(hash(t)), sum(hash(t)) FILTER (WHERE label IS DISTINCT FROM "
        f"'local') FROM {quote(table)} AS t").fetchone()
    print("RESULT " + json.dumps({"wall": wall, "cpu": cpu, "rows": rows,
                                  "checksum": [str(every), str(others)]}))
""")


def main(argv: list[str] | None = None) -> int:
    parser = turns_parser(__doc__, "d76e717")
    parser.add_argument("--family", default="first_k_days")
    args = parser.parse_args(argv)
    results = ours_and_baseline_in_turns(args.baseline, args.db.parent, args.rounds, RUNNER,
                                         str(args.study), str(args.db), args.family)
    print(f"{args.db}: every {args.family} window, medians of {args.rounds}, in turns")
    every, others = set(), set()
    for way, rows in results.items():
        wall = statistics.median(r["wall"] for r in rows)
        cpu = statistics.median(r["cpu"] for r in rows)
        print(f"  {way:24s} {wall:8.2f} s wall {cpu:8.2f} CPU-s {rows[-1]['rows']:>12,} rows")
        every.add(rows[-1]["checksum"][0])
        others.add(rows[-1]["checksum"][1])
    print("  every row the same" if len(every) == 1 else "  the rows differ")
    print("  the rows of every user but the locals the same" if len(others) == 1 else
          "  the rows of users other than locals DIFFER")
    return 0 if len(others) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
