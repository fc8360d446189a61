"""Benchmark of one window's features under a small ``memory_limit`` (issue 13): the DuckDB
spill (the ``temp_directory``'s bytes, sampled every 0.2 s), wall and CPU seconds and peak RSS
of ``features.build_features`` on the DuckDB file of a run, for this checkout at one or more
``duckdb.max_calls_per_pass`` budgets and for a git revision's code (a worktree), in turns, each
in a fresh process. The window's feature rows are checksummed after each run (the same rows, bit
for bit, give the same checksum).

    .venv/bin/python benchmarks/spill.py DB --study STUDY.yaml [--family whole_period]
        [--memory-limit 600MB] [--budgets 2000000 20000000] [--baseline REV] [--rounds 1]

A 1x (``large``) file run at 600MB shows what a 10x run shows at 6GB: the month's calls are ten
times the memory either way. ``DB`` is opened for writing (the window's rows are rewritten with
the same values); give it no other process.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from pipeline_run import baseline_checkout, run_in_checkout

ROOT = Path(__file__).resolve().parents[1]

#: Runs in a child process with the code under test first on PYTHONPATH; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, resource, sys, threading, time
    from pathlib import Path
    from migrant_assets import features
    from migrant_assets.config import DuckDBSettings, StudyConfig
    from migrant_assets.db import connect, quote

    study, db, family, memory, tmp, budget = sys.argv[1:7]
    cfg = StudyConfig.load(study)
    if budget != "-":
        cfg = cfg.model_copy(update={"duckdb": cfg.duckdb.model_copy(
            update={"max_calls_per_pass": int(budget)})})
    con = connect(db, DuckDBSettings(memory_limit=memory, threads=cfg.duckdb.threads,
                                     temp_directory=Path(tmp)))
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
            peak[0] = max(peak[0], size)
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    window = cfg.calendar.windows(family)[-1]
    wall, cpu = time.perf_counter(), time.process_time()
    table = features.build_features(con, cfg, window)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done.set()
    rows, checksum = con.execute(
        f"SELECT count(*), sum(hash(t)) FROM {quote(table)} AS t WHERE window_id = ?",
        [window.window_id]).fetchone()
    print("RESULT " + json.dumps({
        "window": window.window_id, "wall": wall, "cpu": cpu, "spill_gb": peak[0] / 1e9,
        "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, "rows": rows,
        "checksum": str(checksum)}))
""")


def run(code: Path, args: argparse.Namespace, budget: str) -> dict:
    tmp = tempfile.mkdtemp(prefix="spill-", dir=Path(args.db).parent)
    try:
        return run_in_checkout(code, RUNNER, str(args.study), str(args.db), args.family,
                               args.memory_limit, tmp, budget)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--study", type=Path, required=True, help="the run's study config")
    parser.add_argument("--family", default="whole_period")
    parser.add_argument("--memory-limit", default="600MB")
    parser.add_argument("--budgets", nargs="+", default=["2000000", "-"],
                        help="max_calls_per_pass values of this checkout ('-': the config's)")
    parser.add_argument("--baseline", help="a git revision to compare with")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    variants = [(f"ours, max_calls_per_pass {b}", ROOT, b) for b in args.budgets]
    worktree = None
    if args.baseline:
        worktree = baseline_checkout(args.baseline, Path(tempfile.mkdtemp(prefix="spill-base-")))
        variants.append((f"baseline {args.baseline}", worktree, "-"))
    results: dict[str, list[dict]] = {label: [] for label, _, _ in variants}
    try:
        for i in range(args.rounds):
            for label, code, budget in variants:  # A B A B: the same machine load for each
                results[label].append(run(code, args, budget))
                r = results[label][-1]
                print(f"round {i + 1} {label}: {r['wall']:.1f} s, spill {r['spill_gb']:.2f} GB",
                      flush=True)
    finally:
        if worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT,
                           check=False, capture_output=True)
    first = next(iter(results.values()))[0]
    print(f"\n{first['window']} at memory_limit {args.memory_limit}, medians of "
          f"{args.rounds} round(s):")
    for label, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("wall", "cpu", "spill_gb", "rss_gb")}
        same = "same rows" if all(r["checksum"] == first["checksum"] and r["rows"] == first["rows"]
                                  for r in runs) else "ROWS DIFFER"
        print(f"  {label:<40} {med['wall']:7.1f} s wall {med['cpu']:7.1f} CPU-s  peak spill "
              f"{med['spill_gb']:5.2f} GB  peak RSS {med['rss_gb']:4.2f} GB  {runs[0]['rows']:,} "
              f"rows, {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
