"""Benchmark of the `findings` asset's SQL (issue 13: at 10x it took 107.6 s against 6.3 s at 1x,
the one asset that grew faster than the calls; docs/scale.md).

    .venv/bin/python benchmarks/findings.py --work DIR --config STUDY.yaml [--times 16]
        [--baseline REV] [--rounds 2]

Takes the DuckDB file of a finished `migrant-assets demo` (``--config``: its study config),
copies it into ``--work`` with every features table repeated ``--times`` times (each copy's
users shifted to ids of their own: as many users as a city ``--times`` the size, the same
group-feature trends and model results), then times
:func:`migrant_assets.reports.findings.findings` on the copy, ours and a baseline checkout
(``REV`` as a git worktree, default ``f7d9440``: before the paired comparisons read only the
groups and features they compare) alternately (A B A B ...), each round in a fresh process.
Prints wall and CPU seconds per round and the medians, and whether both wrote the same
``findings`` rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
from pipeline_run import ROOT, baseline_checkout

from migrant_assets.db import quote
from migrant_assets.features import FEATURE_TABLES

#: Runs in a child process with the code under test first on PYTHONPATH; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, sys, time
    import migrant_assets
    from migrant_assets.config import StudyConfig
    from migrant_assets.db import connect
    from migrant_assets.reports.findings import findings

    cfg = StudyConfig.load(sys.argv[1])
    con = connect(sys.argv[2], cfg.duckdb)
    con.execute("SET enable_progress_bar = false")  # stdout carries the result
    t, cpu = time.perf_counter(), time.process_time()
    rows = findings(con, cfg)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = rows.drop(columns=[c for c in ("finding_order",) if c in rows.columns])
    print(json.dumps({"wall": wall, "cpu": cpu, "code": migrant_assets.__file__,
                      "rows": rows.astype(str).to_dict(orient="records")}))
""")

#: Users of copy i are user_id + i * OFFSET: pseudonyms are 60-bit hashes, so a shifted id may in
#: principle meet another user's (odds negligible; both sides read the same file either way).
OFFSET = 10**13


def repeated_copy(source: Path, target: Path, times: int) -> int:
    """``source`` copied to ``target`` with every features table ``times`` times over; returns
    the rows of the features tables."""
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as con:
        for table in FEATURE_TABLES.values():
            name = quote(table)
            con.execute(f"CREATE TEMP TABLE one AS SELECT * FROM {name}")  # noqa: S608
            con.execute(f"""INSERT INTO {name} BY NAME
                SELECT o.* REPLACE (o.user_id + r.i * ? AS user_id)
                FROM one AS o
                CROSS JOIN (SELECT range AS i FROM range(1, ?)) AS r
            """, [OFFSET, times])  # noqa: S608 (allow-listed name, values bound)
            con.execute("DROP TABLE one")
        con.execute("CHECKPOINT")
        return sum(con.execute(f"SELECT count(*) FROM {quote(t)}").fetchone()[0]  # noqa: S608
                   for t in FEATURE_TABLES.values())


def _run(code: Path, config: Path, db: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", RUNNER, str(config), str(db)], check=False,
                         capture_output=True, text=True, cwd=code,
                         env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"})
    if out.returncode != 0:
        raise SystemExit(f"the run of {code} failed:\n{out.stderr[-4000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["code"].startswith(str(code)):
        raise SystemExit(f"the run of {code} imported {result['code']}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch directory")
    parser.add_argument("--config", type=Path, required=True,
                        help="the study config of a finished demo (its DuckDB file is read)")
    parser.add_argument("--times", type=int, default=16)
    parser.add_argument("--baseline", default="f7d9440", help="git revision, or 'none'")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    args.work, args.config = args.work.resolve(), args.config.resolve()  # the children's cwd
    sys.path.insert(0, str(ROOT))
    from migrant_assets.config import StudyConfig

    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / f"findings-x{args.times}.duckdb"
    rows = repeated_copy(StudyConfig.load(args.config).duckdb_path, db, args.times)
    print(f"features tables x{args.times}: {rows:,} rows", flush=True)
    variants = [("ours", ROOT)]
    if args.baseline != "none":
        variants.append(("baseline", baseline_checkout(args.baseline, args.work / "baseline")))
    runs: dict[str, list[dict]] = {label: [] for label, _ in variants}
    for i in range(args.rounds):
        for label, code in variants:  # A B A B: both see the same machine load
            r = _run(code, args.config, db)
            runs[label].append(r)
            print(f"round {i + 1} {label}: {r['wall']:.2f} s wall, {r['cpu']:.2f} CPU-s",
                  flush=True)
    print(f"\nfindings on the features x{args.times}, medians of {args.rounds}:")
    for label, rs in runs.items():
        print(f"  {label:<9} {statistics.median(r['wall'] for r in rs):8.2f} s wall "
              f"{statistics.median(r['cpu'] for r in rs):8.2f} CPU-s")
    if "baseline" in runs:
        same = runs["ours"][0]["rows"] == runs["baseline"][0]["rows"]
        print(f"  the same findings rows as the baseline: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
