"""Benchmark of the stages' schema calls (issue 13): what each stage runs before its work on
every connection (the schema DDL of ingestion, labels, graphs, features and models), on a
copy of a finished study's DuckDB file, where every table exists and the call should cost
next to nothing. The main job makes some 300 such calls on the ``tiny`` city, the suite
thousands. Each round runs every stage's call ``--calls`` times in a fresh process, ours then
the baseline's (a checkout of older code, e.g. ``git worktree add /tmp/base <commit>``), and
prints the CPU and wall milliseconds per call (median); then the medians of the rounds and
their ratio.

    .venv/bin/python benchmarks/schemas.py DB --baseline /tmp/base [--calls 30] [--rounds 3]

``DB``: ``W/migrant_assets.duckdb`` of ``migrant-assets demo --workdir W`` (copied first;
nothing of it changes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "labels", "graphs", "features", "models")

#: Runs in a child process with the code under test first on sys.path; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, statistics, sys, time
    sys.path.insert(0, sys.argv[1])
    from migrant_assets import features, graphs, ingest
    from migrant_assets.db import connect, run_schema_sql
    from migrant_assets.models import store
    assert ingest.__file__.startswith(sys.argv[1]), ingest.__file__
    calls = {"ingest": ingest.create_tables,
             "labels": lambda con: run_schema_sql(con, "labels/schema.sql"),
             "graphs": graphs.ensure_schema, "features": features.ensure_schema,
             "models": store.ensure_schema}
    con = connect(sys.argv[2])
    out = {}
    for stage, call in calls.items():
        call(con)  # the first warms the parsed statements' cache
        cpu, wall = [], []
        for _ in range(int(sys.argv[3])):
            c0, w0 = time.process_time(), time.perf_counter()
            call(con)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        out[stage] = {"cpu": statistics.median(cpu) * 1e3, "wall": statistics.median(wall) * 1e3}
    con.close()
    print(json.dumps(out))
""")


def run(root: Path, db: Path, calls: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", RUNNER, str(root), str(db), str(calls)],
                         env=env, check=True, capture_output=True, text=True, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="a finished study's DuckDB file (copied)")
    parser.add_argument("--baseline", type=Path, required=True,
                        help="a checkout of the code to compare with")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"ours": [], "baseline": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, root in (("ours", ROOT), ("baseline", args.baseline.resolve())):
                db = Path(tmp) / f"{name}.duckdb"
                shutil.copy(args.db, db)  # each side its own copy, as the study left it
                got = run(root, db, args.calls)
                runs[name].append(got)
                print(f"round {r + 1} {name:8s}: " + ", ".join(
                    f"{s} {got[s]['wall']:.1f}" for s in STAGES) + " ms wall per call",
                    flush=True)
    print(f"\nmedians of {args.rounds} rounds (ms per call; each the median of {args.calls})")
    print(f"{'stage':10s} {'ours CPU':>9s} {'base CPU':>9s} {'ours wall':>10s} "
          f"{'base wall':>10s} {'wall ratio':>10s}")
    for stage in STAGES:
        med = {n: {k: statistics.median(g[stage][k] for g in rs) for k in ("cpu", "wall")}
               for n, rs in runs.items()}
        print(f"{stage:10s} {med['ours']['cpu']:9.2f} {med['baseline']['cpu']:9.2f} "
              f"{med['ours']['wall']:10.2f} {med['baseline']['wall']:10.2f} "
              f"{med['ours']['wall'] / med['baseline']['wall']:10.2f}")


if __name__ == "__main__":
    main()
