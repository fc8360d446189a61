"""Benchmark of the asset checks that re-read a window's stored tables (issue 13: 17 s at 1x,
262 s at 10x): ``edges_match_calls`` of every window graph (``graphs.window_graph_consistency``)
and the features' checks of every window (``features.evaluate_feature_checks``: its counts and
the null shares judged over the users the data can support), this checkout's code against a git
revision's, in turns, each round in a fresh process, on the DuckDB file of a run.

    .venv/bin/python benchmarks/checks.py DB --study STUDY.yaml [--baseline REV] [--rounds 2]
        [--families whole_period ...]

Printed per way and per check: the medians of wall and CPU seconds (CPU: every thread of the
child process), and whether both ways judged the same (every check's metadata, window by window).
``DB`` is opened for writing (the checks make TEMP tables); give it no other process.
"""

from __future__ import annotations

import json
import statistics
import sys
import textwrap

from pipeline_run import ours_and_baseline_in_turns, turns_parser

FAMILIES = ("integration_week", "departure_week", "first_k_days", "whole_period")

#: Runs in a child process with the code under test first on PYTHONPATH; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, sys, time
    from migrant_assets import features, graphs
    from migrant_assets.config import StudyConfig
    from migrant_assets.db import connect

    study, db, families = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    cfg = StudyConfig.load(study)
    con = connect(db, cfg.duckdb)
    windows = [w for f in families for w in cfg.calendar.windows(f)]
    spent, judged = {}, {}
    for name, check in (
        ("edges_match_calls", graphs.window_graph_consistency),
        ("feature checks", lambda c, w: {k: [o.passed, o.judged, repr(o.metadata)] for k, o in
                                         features.evaluate_feature_checks(c, cfg, w).items()}),
    ):
        wall, cpu = time.perf_counter(), time.process_time()
        judged[name] = {w.window_id: repr(check(con, w)) for w in windows}
        spent[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    print("RESULT " + json.dumps({"spent": spent, "judged": judged}))
""")


def main(argv: list[str] | None = None) -> int:
    parser = turns_parser(__doc__, "a0c73eb")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    args = parser.parse_args(argv)
    results = ours_and_baseline_in_turns(args.baseline, args.db.parent, args.rounds, RUNNER,
                                         str(args.study), str(args.db), ",".join(args.families))
    print(f"{args.db}: the checks of every window of {', '.join(args.families)}, "
          f"medians of {args.rounds}, in turns")
    verdicts = set()
    for way, rows in results.items():
        for check in rows[0]["spent"]:
            wall = statistics.median(r["spent"][check][0] for r in rows)
            cpu = statistics.median(r["spent"][check][1] for r in rows)
            print(f"  {way:20s} {check:18s} {wall:8.2f} s wall {cpu:8.2f} CPU-s")
        verdicts.add(json.dumps(rows[-1]["judged"], sort_keys=True))
    same = len(verdicts) == 1
    print("  the same judgements" if same else "  the judgements DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
