"""Benchmark of the canonical identifier macros (``sql/ingest/canonical.sql``, docs/data_contract.md
"Identifiers"): plan and run ``canonical_phone`` and ``canonical_cell`` over N distinct texts
(numbers in the shapes a file holds them: digits, +86, spreadsheet floats, separators), with
today's macros and, in the same run, a baseline file (by default the macros before they bound
their argument once, ``510f376^``: a macro is text substitution, so nested macros that name
their argument several times expanded into thousands of copies of the column). Rounds
alternate (A B A B ...) in fresh connections; prints wall seconds per round and the medians,
and checks both give the same text for every row.

    .venv/bin/python benchmarks/canonical_ids.py [--rows 1000000] [--rounds 3]
        [--baseline-ref 510f376^]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SQL = "migrant_assets/sql/ingest/canonical.sql"

#: N distinct texts, bound by $n: the shapes of docs/data_contract.md's identifier rules.
TEXTS = """
CREATE OR REPLACE TABLE texts AS
SELECT CASE i % 5
    WHEN 0 THEN CAST(13800000000 + i AS VARCHAR)
    WHEN 1 THEN '+86' || CAST(13800000000 + i AS VARCHAR)
    WHEN 2 THEN CAST(13800000000 + i AS VARCHAR) || '.0'
    WHEN 3 THEN '138-' || lpad(CAST(i AS VARCHAR), 8, '0')
    ELSE '''' || CAST(13800000000 + i AS VARCHAR)
END AS t
FROM range($n) AS r(i)
"""

QUERIES = {
    "canonical_phone":
        "SELECT count(DISTINCT canonical_phone(t, '86', 11, NULL, NULL, NULL)) FROM texts",
    "canonical_cell": "SELECT count(DISTINCT canonical_cell(t, true)) FROM texts",
    "plan one row": "SELECT canonical_phone('13912345678', '86', 11, '0', NULL, NULL)",
}


def _round(macros: str, rows: int) -> dict[str, tuple[float, int]]:
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute(TEXTS, {"n": rows})
        for statement in duckdb.extract_statements(macros):
            con.execute(statement)
        out = {}
        for name, sql in QUERIES.items():
            t = time.perf_counter()
            value = con.execute(sql).fetchone()[0]
            out[name] = (time.perf_counter() - t, value)
        return out
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-ref", default="510f376^")
    args = parser.parse_args()
    ours = (ROOT / SQL).read_text()
    base = subprocess.run(["git", "show", f"{args.baseline_ref}:{SQL}"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    times: dict[str, dict[str, list[float]]] = {"ours": {}, "baseline": {}}
    for r in range(args.rounds):
        results = {}
        for who, macros in (("ours", ours), ("baseline", base)):
            results[who] = _round(macros, args.rows)
            for name, (s, _) in results[who].items():
                times[who].setdefault(name, []).append(s)
            print(f"round {r + 1} {who:8s} " + "  ".join(
                f"{name} {s:.3f} s" for name, (s, _) in results[who].items()), flush=True)
        for name in QUERIES:
            if results["ours"][name][1] != results["baseline"][name][1]:
                raise SystemExit(f"{name}: ours {results['ours'][name][1]} against the "
                                 f"baseline's {results['baseline'][name][1]}")
    print(f"\n{args.rows:,} distinct texts, medians of {args.rounds} rounds "
          f"(baseline {args.baseline_ref}):")
    for name in QUERIES:
        a, b = (statistics.median(times[w][name]) for w in ("ours", "baseline"))
        print(f"  {name:16s} ours {a:8.3f} s   baseline {b:8.3f} s   ({b / a:.1f}x)")


if __name__ == "__main__":
    main()
