"""Benchmark of the transfer matrix (Figure 8(d), issue 13): its test users sampled
(``models.transfer_rows``) against every user tested, on a finished run's DuckDB file.

    .venv/bin/python benchmarks/transfer.py --config STUDY.yaml [--rows 5000] [--rounds 1]

Each round runs :func:`migrant_assets.models.transfer_matrix` twice in fresh processes, A B:
with ``models.transfer_rows`` = ``--rows`` and with it above every window's users (what the
matrix did before the sample: every held-out user tested). It reuses the fold forests
`departure_models` stored in the file and rewrites the `departure_transfer` tables of the file
(the last run's rows stay). Prints wall and CPU seconds (the process's threads) and peak RSS of
each, the users tested, and how far the sampled F1 of each (k, t) pair is from the F1 over every
user.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from pipeline_run import ROOT

EVERY_USER = 2**31 - 1  # the most models.transfer_rows takes

#: One run in a child process; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, resource, sys, time
    from migrant_assets.config import StudyConfig
    from migrant_assets.db import connect
    from migrant_assets.models import transfer_matrix
    from migrant_assets.models.workers import release_workers

    cfg = StudyConfig.load(sys.argv[1])
    cfg = cfg.model_copy(update={"models": cfg.models.model_copy(
        update={"transfer_rows": int(sys.argv[2])})})
    con = connect(cfg.duckdb_path, cfg.duckdb)
    con.execute("SET enable_progress_bar = false")  # stdout carries the result
    t, cpu = time.perf_counter(), time.process_time()
    try:
        m = transfer_matrix(con, cfg, cfg.models.seed)
    finally:
        release_workers()
    out = {"wall": time.perf_counter() - t, "cpu": time.process_time() - cpu,
           "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "users": int(m["n_users"].sum()), "fitted_in": sorted(m["fitted_in"].dropna().unique()),
           "f1": {f"{r.train_label}/{r.test_label}": r.f1 if r.f1 == r.f1 else None
                  for r in m.itertuples()}}
    print(json.dumps(out))
""")


def _run(config: Path, rows: int) -> dict:
    out = subprocess.run([sys.executable, "-c", RUNNER, str(config), str(rows)], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the run with transfer_rows {rows} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True,
                        help="the study config of a finished run (its DuckDB file is rewritten)")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    config = args.config.resolve()
    variants = {f"sampled ({args.rows} a fold)": args.rows, "every user": EVERY_USER}
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    for i in range(args.rounds):
        for name, rows in variants.items():
            r = _run(config, rows)
            runs[name].append(r)
            print(f"round {i + 1} {name}: {r['wall']:.1f} s wall, {r['cpu']:.1f} CPU-s, peak "
                  f"{r['peak_mb']:,.0f} MB, {r['users']:,} users tested over the pairs, models "
                  f"fitted in {', '.join(r['fitted_in'])}", flush=True)
    print(f"\nmedians of {args.rounds}:")
    for name, rs in runs.items():
        print(f"  {name:<24} {statistics.median(r['wall'] for r in rs):8.1f} s wall "
              f"{statistics.median(r['cpu'] for r in rs):8.1f} CPU-s")
    sampled, every = (runs[name][0]["f1"] for name in variants)
    gaps = [abs(sampled[p] - every[p]) for p in every
            if sampled.get(p) is not None and every[p] is not None]
    if gaps:
        print(f"  F1 of the {len(gaps)} pairs, sampled against every user: mean |difference| "
              f"{statistics.mean(gaps):.4f}, largest {max(gaps):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
