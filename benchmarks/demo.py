"""Benchmark of the main job (issue 13): ``migrant-assets demo`` end to end on synthetic presets,
with seconds and peak memory per asset and per stage, beside a baseline checkout in the same run.

    .venv/bin/python benchmarks/demo.py [--presets tiny demo] [--baseline REV|none]
                                        [--workdir /tmp/bench-demo] [--quiet]
                                        [--memory-limit 1GB] [--early-warning]

Each preset runs from nothing (city generation included) in a fresh work directory and Dagster
home, ours first, then the baseline (``REV`` checked out as a git worktree and imported instead of
this checkout; default: ``870090f``, the main job before issue 13), each with the DuckDB
settings of its own default study config, as its ``make demo`` (``--memory-limit``: the same
for both). Targets on 2 cores: ``demo``
under 180 s with peak RSS under 2 GB, ``tiny`` under 45 s. Peak RSS is the largest resident size
of the demo's process tree, sampled every 0.2 s (``pipeline_run.py``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml
from pipeline_run import (
    ROOT,
    STAGES,
    PipelineRun,
    baseline_checkout,
    gb,
    load,
    machine,
    run_demo,
    write_config,
)

TARGETS = {"tiny": (45.0, None), "demo": (180.0, 2e9)}
SEED = 20160901


def _shipped_duckdb(checkout: Path) -> dict | None:
    """The ``duckdb`` section of a checkout's default study config (what its ``make demo``
    runs with), or None."""
    shipped = yaml.safe_load((checkout / "migrant_assets" / "data" / "study.yaml").read_text())
    return (shipped or {}).get("duckdb")


def _run(label: str, preset: str, workdir: Path, python_path: Path | None,
         echo: bool, duckdb: dict | None = None, early_warning: bool = False) -> PipelineRun:
    shutil.rmtree(workdir, ignore_errors=True)
    config = write_config(workdir, preset, SEED, None, duckdb, early_warning)
    print(f"\n== {preset}: {label} ==", flush=True)
    run = run_demo(config, workdir, python_path=python_path, echo=echo)
    status = "ok" if run.returncode == 0 else f"exit code {run.returncode}"
    print(f"{preset} {label}: {run.wall:.1f} s wall, {run.cpu:.1f} CPU-s, peak RSS "
          f"{gb(run.peak_rss)} ({status}); {load()} at the end",
          flush=True)
    return run


def _report(preset: str, ours: PipelineRun, base: PipelineRun | None) -> None:
    print(f"\n{preset}: seconds per asset (sum of its steps; peak RSS while they ran)")
    a, b = ours.by_asset(), (base.by_asset() if base else {})
    names = sorted(set(a) | set(b), key=lambda n: -max(a.get(n, {}).get("seconds", 0),
                                                       b.get(n, {}).get("seconds", 0)))
    head = f"  {'asset':58s} {'ours s':>8s} {'peak':>8s}"
    print(head + (f" {'base s':>8s} {'peak':>8s}" if base else ""))
    for n in names:
        line = f"  {n[:58]:58s}"
        for side in (a, b) if base else (a,):
            row = side.get(n)
            line += (f" {row['seconds']:8.1f} {row['peak_rss'] / 1e9:7.2f}G" if row
                     else f" {'-':>8s} {'-':>8s}")
        print(line)
    print(f"\n{preset}: per stage")
    sa, sb = ours.by_stage(), (base.by_stage() if base else {})
    for stage in STAGES:
        line = f"  {stage:10s} ours {sa.get(stage, {}).get('seconds', 0):7.1f} s"
        if base:
            line += f"   baseline {sb.get(stage, {}).get('seconds', 0):7.1f} s"
        print(line)
    limit_s, limit_rss = TARGETS.get(preset, (None, None))
    print(f"\n{preset}: ours {ours.wall:.1f} s ({ours.cpu:.1f} CPU-s), peak RSS "
          f"{gb(ours.peak_rss)}"
          + (f"; baseline {base.wall:.1f} s ({base.cpu:.1f} CPU-s), peak RSS "
             f"{gb(base.peak_rss)}; speed-up {base.wall / ours.wall:.1f}x wall, "
             f"{base.cpu / ours.cpu:.1f}x CPU" if base else ""))
    if limit_s is not None:
        print(f"{preset}: target under {limit_s:.0f} s"
              + (f" and {gb(limit_rss)}" if limit_rss else "") + ": "
              + ("met" if ours.wall < limit_s and (not limit_rss or ours.peak_rss < limit_rss)
                 else "NOT met"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "demo"])
    parser.add_argument("--baseline", default="870090f",
                        help="git revision to compare with, or 'none'")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-demo"))
    parser.add_argument("--quiet", action="store_true", help="do not echo the demo's output")
    parser.add_argument("--memory-limit", help="duckdb.memory_limit of both runs (default: "
                        "each checkout's default study config, as its `make demo`)")
    parser.add_argument("--early-warning", action="store_true",
                        help="both runs with the early warning's assets (`demo --early-warning`, "
                        "as the test suite's `tiny` demo)")
    args = parser.parse_args(argv)
    base_path = (None if args.baseline == "none"
                 else baseline_checkout(args.baseline, args.workdir / f"base-{args.baseline}"))
    ours_db, base_db = ((({"memory_limit": args.memory_limit},) * 2) if args.memory_limit
                        else (_shipped_duckdb(ROOT), base_path and _shipped_duckdb(base_path)))
    failed = False
    print(f"machine: {machine()}", flush=True)
    for preset in args.presets:
        ours = _run("ours", preset, args.workdir / f"{preset}-ours", None, not args.quiet,
                    ours_db, args.early_warning)
        base = (_run(f"baseline {args.baseline}", preset, args.workdir / f"{preset}-base",
                     base_path, not args.quiet, base_db, args.early_warning)
                if base_path else None)
        _report(preset, ours, base)
        failed |= ours.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
