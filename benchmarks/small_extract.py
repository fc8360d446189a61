"""Benchmark of an ingestion's fixed cost (SPEC §1): cells, estates, subscribers, the landing and
one day of calls of a small operator extract, a few rows each (the cases of
``migrant_assets_tests/test_bad_input.py``, which the suite ingests some 500 times), where the
time is DuckDB's planning of the landing's SELECT and the identifier search, not the rows.
Each round runs ``--cases`` cases in a fresh process, ours then the baseline's (a checkout of
older code, e.g. ``git worktree add /tmp/base <commit>``), and prints the CPU and wall seconds
per ingestion (median over the cases); then the medians of the rounds and their ratio.

    .venv/bin/python benchmarks/small_extract.py --baseline /tmp/base [--cases 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs in a child process with the code under test first on sys.path; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, os, statistics, sys, tempfile, time, warnings
    from pathlib import Path
    warnings.simplefilter("ignore")
    sys.path.insert(0, sys.argv[1])
    os.environ["MIGRANT_ASSETS_KEY"] = "small-extract-benchmark-key-of-32-bytes-or-more"
    os.environ.pop("MIGRANT_ASSETS_WORKDIR", None)
    from migrant_assets_tests import test_bad_input as t
    assert t.__file__.startswith(sys.argv[1]), t.__file__
    cpu, wall = [], []
    for i in range(int(sys.argv[2]) + 1):
        case = t.CASES[i % len(t.CASES)]
        study, _ = t._setup(Path(tempfile.mkdtemp()), case)
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            t._ingest(study)
        except Exception:  # a case whose input is refused: its cost until the error
            pass
        if i:  # the first warms the imports
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    print(json.dumps({"cpu": statistics.median(cpu), "wall": statistics.median(wall),
                      "cpu_total": sum(cpu)}))
""")


def run(root: Path, cases: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", RUNNER, str(root), str(cases)], env=env,
                         check=True, capture_output=True, text=True, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True,
                        help="a checkout of the code to compare with")
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"ours": [], "baseline": []}
    for r in range(args.rounds):
        for name, root in (("ours", ROOT), ("baseline", args.baseline.resolve())):
            got = run(root, args.cases)
            runs[name].append(got)
            print(f"round {r + 1} {name:8s}: {got['cpu']:.3f} CPU s, {got['wall']:.3f} s wall "
                  f"per ingestion (median of {args.cases}); {got['cpu_total']:.1f} CPU s in all",
                  flush=True)
    med = {n: {k: statistics.median(g[k] for g in rs) for k in ("cpu", "wall")}
           for n, rs in runs.items()}
    for n, m in med.items():
        print(f"median {n:8s}: {m['cpu']:.3f} CPU s, {m['wall']:.3f} s wall per ingestion")
    print(f"ours / baseline: CPU {med['ours']['cpu'] / med['baseline']['cpu']:.2f}, "
          f"wall {med['ours']['wall'] / med['baseline']['wall']:.2f}")


if __name__ == "__main__":
    main()
