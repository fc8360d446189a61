"""Benchmark of the whole pipeline at scale (issue 13): every asset, every partition, on synthetic
cities of 1x, 10x (and 40x) the ``large`` preset, with the extrapolation to the papers' month.

    .venv/bin/python benchmarks/scale.py [--factors 1 10] [--preset large|paper]
                                         [--baseline REV|none] [--workdir /tmp/bench-scale]
                                         [--memory-limit 16GB]

For each factor the city has ``factor`` x 10.5M social calls (``source.calls``; the population
scales with it) and runs from nothing through ``migrant-assets demo`` in a child process.
``--preset paper`` shapes the cities as the papers' month (its head counts scaled to the calls:
about 2.8M studied owners and 51M other numbers at 698M calls, where ``large`` has five times
more studied owners per call), so its extrapolation is through cities of the month's own shape.
Printed per stage (asset group): seconds, calls/s, peak RSS (the tree, the main process, its
largest worker) and peak spill, and the assets of the highest peaks and of the most spill; then
wall time, peak RSS, the DuckDB file, the city files and the peak spill; the ratio
t(10x)/t(1x) (target <= 12), and the extrapolation to 698M calls (a power law through the two
largest runs; target under 2 hours and 60 GB of disk). The baseline (``REV`` as a git worktree,
default none: the code before issue 13 takes hours at these sizes) runs the 1x city only.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path

from pipeline_run import (
    STAGES,
    PipelineRun,
    baseline_checkout,
    dir_bytes,
    gb,
    load,
    machine,
    run_demo,
    table_bytes,
    write_config,
)

LARGE_CALLS = 10_500_000  # the `large` preset's social calls (synthetic/presets.py)
PAPER_CALLS = 698_000_000  # the papers' month
SEED = 20160901


def _calls(run: PipelineRun) -> int:
    """Calls stored by the run (``calls`` table), read from its DuckDB file."""
    import duckdb

    with duckdb.connect(str(run.workdir / "migrant_assets.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM calls").fetchone()[0]


def _one(label: str, factor: int, preset: str, workdir: Path, python_path: Path | None,
         duckdb_settings: dict, echo: bool) -> dict:
    shutil.rmtree(workdir, ignore_errors=True)
    calls = None if factor == 1 and preset == "large" else factor * LARGE_CALLS
    config = write_config(workdir, preset, SEED, calls, duckdb_settings)
    print(f"\n== {factor}x large, shaped as {preset} ({label}) ==", flush=True)
    run = run_demo(config, workdir, python_path=python_path, echo=echo)
    n_calls = _calls(run)
    db = (workdir / "migrant_assets.duckdb").stat().st_size
    city = dir_bytes(workdir / "synthetic")
    print(f"\n{factor}x ({label}): {n_calls:,} calls, {run.wall:.0f} s wall "
          f"({n_calls / run.wall:,.0f} calls/s), peak RSS {gb(run.peak_rss)}, exit "
          f"{run.returncode}; {load()} at the end")
    print(f"  disk: DuckDB file {gb(db)}, city files {gb(city)}, peak spill "
          f"{gb(run.sampler.peak_spill)}")
    tables = table_bytes(workdir / "migrant_assets.duckdb")
    print("  largest tables, bytes per call: " + ", ".join(
        f"{name} {size / n_calls:.1f}" for name, size in list(tables.items())[:12]))
    print(f"  {'stage':10s} {'seconds':>9s} {'calls/s':>12s} {'peak RSS':>10s} {'main':>10s} "
          f"{'child':>10s} {'spill':>10s}")
    stages = run.by_stage()
    for stage in STAGES:
        row = stages.get(stage)
        if row:
            rate = n_calls / max(row["seconds"], 1e-9)
            print(f"  {stage:10s} {row['seconds']:9.1f} {rate:12,.0f} {gb(row['peak_rss']):>10s} "
                  f"{gb(row['peak_main']):>10s} {gb(row['peak_child']):>10s} "
                  f"{gb(row['peak_spill']):>10s}")
    print("  (peak RSS: the process tree; main: the demo's own process; child: its largest "
          "other process, a fit's worker; spill: the temp directory, sampled every 5 s)")
    assets = sorted(run.by_asset().items(), key=lambda kv: -kv[1]["peak_rss"])[:8]
    print("  assets of the highest peaks (tree / main / child): " + "; ".join(
        f"{name} {gb(r['peak_rss'])} / {gb(r['peak_main'])} / {gb(r['peak_child'])}"
        for name, r in assets))
    spills = [(name, r) for name, r in sorted(run.by_asset().items(),
                                              key=lambda kv: -kv[1]["peak_spill"])[:5]
              if r["peak_spill"]]
    print("  assets of the most spill: " + ("; ".join(
        f"{name} {gb(r['peak_spill'])}" for name, r in spills) or "none seen"))
    return {"factor": factor, "calls": n_calls, "wall": run.wall, "rss": run.peak_rss,
            "disk": db + run.sampler.peak_spill, "ok": run.returncode == 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", nargs="+", type=int, default=[1, 10])
    parser.add_argument("--preset", choices=("large", "paper"), default="large",
                        help="the cities' shape (head counts scaled to the calls)")
    parser.add_argument("--baseline", default="none", help="git revision run at 1x, or 'none'")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-scale"))
    parser.add_argument("--memory-limit", default="16GB", help="duckdb.memory_limit of the runs")
    parser.add_argument("--keep", action="store_true", help="keep each run's work directory")
    parser.add_argument("--quiet", action="store_true", help="do not echo the demo's output")
    args = parser.parse_args(argv)
    settings = {"memory_limit": args.memory_limit}
    print(f"machine: {machine()}", flush=True)
    results = []
    for factor in sorted(args.factors):
        workdir = args.workdir / f"x{factor}"
        results.append(_one("ours", factor, args.preset, workdir, None, settings,
                            not args.quiet))
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.baseline != "none":
        base = baseline_checkout(args.baseline, args.workdir / f"base-{args.baseline}")
        _one(f"baseline {args.baseline}", min(args.factors), args.preset, args.workdir / "base",
             base, settings, not args.quiet)
    by = {r["factor"]: r for r in results}
    if 1 in by and 10 in by:
        print(f"\nt(10x)/t(1x) = {by[10]['wall'] / by[1]['wall']:.1f} (target <= 12)")
    if len(results) >= 2:
        a, b = results[-2], results[-1]
        slope = math.log(b["wall"] / a["wall"]) / math.log(b["calls"] / a["calls"])
        t_paper = b["wall"] * (PAPER_CALLS / b["calls"]) ** slope
        disk_paper = b["disk"] / b["calls"] * PAPER_CALLS
        print(f"extrapolated to {PAPER_CALLS / 1e6:.0f}M calls (t ~ calls^{slope:.2f} through "
              f"{a['calls'] / 1e6:.0f}M and {b['calls'] / 1e6:.0f}M): {t_paper / 3600:.1f} h "
              f"(target < 2 h), disk {gb(disk_paper)} (target < 60 GB)")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
