"""Benchmark of the synthetic city generator (SPEC §7): generate a preset (default ``large``) and
print calls written per second, total calls and peak memory (ru_maxrss).

    .venv/bin/python benchmarks/generate.py [--preset large] [--seed 20160901] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from migrant_assets.synthetic import PRESETS, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="large", choices=sorted(PRESETS))
    parser.add_argument("--seed", type=int, default=20160901)
    parser.add_argument("--out", type=Path, help="output directory (default: a temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / args.preset
        t0 = time.perf_counter()
        manifest = json.loads(generate(args.preset, args.seed, out).read_text())
        seconds = time.perf_counter() - t0
    calls = manifest["calls_total"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"preset={args.preset} seed={args.seed}")
    print(f"calls written: {calls:,}")
    print(f"seconds: {seconds:.1f}")
    print(f"calls/s: {calls / seconds:,.0f}")
    print(f"peak RSS: {peak_mb:,.0f} MB")
    print(f"owners: {json.dumps(manifest['counts'], sort_keys=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
