"""Benchmark of the labels stage (SPEC §3; issue 13: `user_labels` took 17.8x its 1x time at
10x): ``labels.build_user_labels`` on the DuckDB file of a run, this checkout's code against a
git revision's, in turns, each round in a fresh process.

    .venv/bin/python benchmarks/labels.py DB --study STUDY.yaml [--baseline REV] [--rounds 2]

Printed per way: the medians of wall and CPU seconds (CPU: every thread of the child process)
and whether both wrote the same rows (a checksum of ``user_labels`` and
``service_like_users``). ``DB`` is opened for writing (the tables are rewritten with the same
rows); give it no other process.
"""

from __future__ import annotations

import statistics
import sys
import textwrap

from pipeline_run import ours_and_baseline_in_turns, turns_parser

#: Runs in a child process with the code under test first on PYTHONPATH; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, sys, time
    from migrant_assets import labels
    from migrant_assets.config import StudyConfig
    from migrant_assets.db import connect, quote

    cfg = StudyConfig.load(sys.argv[1])
    con = connect(sys.argv[2], cfg.duckdb)
    wall, cpu = time.perf_counter(), time.process_time()
    labels.build_user_labels(con, cfg)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    checksum = [str(con.execute(f"SELECT count(*), sum(hash(t)) FROM {quote(t)} AS t")
                    .fetchone()) for t in ("user_labels", "service_like_users")]
    print("RESULT " + json.dumps({"wall": wall, "cpu": cpu, "checksum": checksum}))
""")


def main(argv: list[str] | None = None) -> int:
    parser = turns_parser(__doc__, "5744afd")
    args = parser.parse_args(argv)
    results = ours_and_baseline_in_turns(args.baseline, args.db.parent, args.rounds, RUNNER,
                                         str(args.study), str(args.db))
    print(f"{args.db}: user_labels and service_like_users, medians of {args.rounds}, in turns")
    sums = set()
    for way, rows in results.items():
        wall = statistics.median(r["wall"] for r in rows)
        cpu = statistics.median(r["cpu"] for r in rows)
        print(f"  {way:24s} {wall:8.2f} s wall {cpu:8.2f} CPU-s")
        sums.add(str(rows[-1]["checksum"]))
    print("  the same rows" if len(sums) == 1 else "  the rows DIFFER")
    return 0 if len(sums) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
