"""Benchmark of the synthetic city generator (SPEC §7): ours against the generator of a base
commit, in turns, on the same preset and size.

    .venv/bin/python benchmarks/generate.py [--preset large] [--calls N] [--seed 20160901]
                                            [--base REV] [--skip-baseline] [--rounds 1]
                                            [--workers 2] [--out DIR]

Each run is a fresh process writing a city under ``--out`` (deleted after each run); rounds
alternate ours and the base (A B A B ...). Per run it prints the calls written, wall and CPU
seconds (the process and its workers), calls per wall second, the peak RSS of the main process
(``ru_maxrss``) and the peak of the whole process tree (the sum of every process's RSS, sampled
every 0.2 s from ``/proc``): with workers, the machine's real peak. The base generator is read
from git (``git show REV:migrant_assets/synthetic/*.py``, default the commit before the
streaming generator) into a temporary package and imported from there; it has no ``calls`` knob,
so a scaled size is given to it as a preset of the same counts (``Preset.scaled``).
The machine may be shared: compare the two in the same run, not with figures of another day.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from pipeline_run import tree_rss  # benchmarks/pipeline_run.py: RSS of a process tree

ROOT = Path(__file__).resolve().parents[1]
BASE = "7bef73e"  # the last commit with the all-in-memory generator (173K calls/s, 1.5 GB)


def _base_package(rev: str, into: Path) -> str:
    """The base commit's ``migrant_assets.synthetic`` as package ``synthetic_base`` in ``into``."""
    package = into / "synthetic_base"
    package.mkdir(parents=True)
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{rev}:migrant_assets/synthetic"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for name in names:
        if name.endswith(".py"):
            text = subprocess.run(["git", "show", f"{rev}:migrant_assets/synthetic/{name}"],
                                  cwd=ROOT, check=True, capture_output=True, text=True).stdout
            (package / name).write_text(text.replace("migrant_assets.synthetic", "synthetic_base"))
    return str(into)


def _child(args: argparse.Namespace) -> int:
    """One generation in this process; prints a JSON line of its figures."""
    from migrant_assets.synthetic import PRESETS

    scaled = PRESETS[args.preset].scaled(args.calls)
    t0, c0 = time.perf_counter(), os.times()
    if args.impl == "base":
        sys.path.insert(0, args.base_path)
        import synthetic_base
        from synthetic_base import presets

        name = args.preset
        if args.calls is not None:
            name = f"{args.preset}-{args.calls}"
            presets.PRESETS[name] = presets.Preset(**(asdict(scaled) | {"name": name}))
            synthetic_base.writer.PRESETS[name] = presets.PRESETS[name]
        manifest = synthetic_base.generate(name, args.seed, args.out)
    else:
        from migrant_assets.synthetic import generate

        manifest = generate(args.preset, args.seed, args.out, calls=args.calls,
                            workers=args.workers)
    seconds = time.perf_counter() - t0
    c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system) + (c1.children_user - c0.children_user) \
        + (c1.children_system - c0.children_system)
    data = json.loads(Path(manifest).read_text())
    disk = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    print(json.dumps({
        "calls": data["calls_total"], "seconds": seconds, "cpu": cpu,
        "peak_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "disk_mb": disk / 2**20, "counts": data["counts"],
    }))
    return 0


def _run(impl: str, args: argparse.Namespace, base_path: str) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"gen-{impl}-", dir=args.out))
    cmd = [sys.executable, __file__, "--child", impl, "--preset", args.preset, "--seed",
           str(args.seed), "--out", str(out), "--workers", str(args.workers),
           "--base-path", base_path]
    if args.calls is not None:
        cmd += ["--calls", str(args.calls)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid) / 2**20)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    sampler.join()
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode:
        raise SystemExit(f"{impl} run failed ({proc.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_tree_mb"] = peak[0]
    return result


def main(argv: list[str] | None = None) -> int:
    from migrant_assets.synthetic import PRESETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="large", choices=sorted(PRESETS))
    parser.add_argument("--calls", type=int, help="social calls of the month (default: preset's)")
    parser.add_argument("--seed", type=int, default=20160901)
    parser.add_argument("--workers", type=int, default=2, help="our block workers")
    parser.add_argument("--base", default=BASE, help="git revision of the baseline generator")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of ours then the base")
    parser.add_argument("--out", type=Path, help="where the cities are written (a temp dir)")
    parser.add_argument("--child", choices=["ours", "base"], help=argparse.SUPPRESS)
    parser.add_argument("--base-path", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.impl = args.child
        return _child(args)

    with tempfile.TemporaryDirectory() as tmp:
        args.out = args.out or Path(tmp)
        args.out.mkdir(parents=True, exist_ok=True)
        base_path = "" if args.skip_baseline else _base_package(args.base, Path(tmp) / "base")
        impls = ["ours"] + ([] if args.skip_baseline else ["base"])
        runs: dict[str, list[dict]] = {impl: [] for impl in impls}
        size = f"--calls {args.calls:,}" if args.calls else "preset size"
        print(f"preset={args.preset} ({size}) seed={args.seed} workers={args.workers} "
              f"base={args.base} cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
        for r in range(args.rounds):
            for impl in impls:
                res = _run(impl, args, base_path)
                runs[impl].append(res)
                print(f"round {r + 1} {impl:>4}: {res['calls']:>13,} calls {res['seconds']:8.1f} s "
                      f"(CPU {res['cpu']:7.1f} s) {res['calls'] / res['seconds']:>10,.0f} calls/s  "
                      f"peak RSS main {res['peak_main_mb']:7,.0f} MB, all processes "
                      f"{res['peak_tree_mb']:7,.0f} MB  disk {res['disk_mb']:7,.0f} MB",
                      flush=True)
    print("medians:")
    for impl, rs in runs.items():
        sec = statistics.median(r["seconds"] for r in rs)
        calls = rs[0]["calls"]
        print(f"  {impl:>4}: {calls / sec:>10,.0f} calls/s, "
              f"{statistics.median(r['cpu'] for r in rs) / calls * 1e6:.2f} CPU µs per call, "
              f"peak RSS {max(r['peak_tree_mb'] for r in rs):,.0f} MB, "
              f"disk {rs[0]['disk_mb']:,.0f} MB ({rs[0]['disk_mb'] * 2**20 / calls:.1f} B/call)")
    if "base" in runs:
        ours = statistics.median(r["seconds"] for r in runs["ours"]) / runs["ours"][0]["calls"]
        base = statistics.median(r["seconds"] for r in runs["base"]) / runs["base"][0]["calls"]
        print(f"  speed-up (seconds per call): {base / ours:.2f}x")
    ours = runs["ours"][0]
    rate = ours["calls"] / statistics.median(r["seconds"] for r in runs["ours"])
    print(f"extrapolated to the paper's 698M calls: {698e6 / rate / 60:,.0f} min, "
          f"{ours['disk_mb'] / ours['calls'] * 698e6 / 1024:,.1f} GB of files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
