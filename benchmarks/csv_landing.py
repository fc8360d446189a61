"""Benchmark of the landing of a calls CSV (docs/data_contract.md, "Reading calls once"): the
cost of reading a text export, which the synthetic city (Parquet) does not show. It writes a
calls CSV of ``--calls`` rows (numbers, text times, durations, cells: an operator's export in
time order), a subscribers and a cells file and their mapping under ``--work``, then runs
:func:`migrant_assets.ingest.land_calls` on it, ours and a baseline checkout (``--baseline``, a
git revision; default ``0262077``, before the CSV records over several lines were looked for)
alternately (A B A B ...), each round in a fresh process and a fresh DuckDB file. Prints wall
and CPU seconds and the peak resident memory per round, their medians and calls/s, and whether
both landed the same rows. ``--gzip`` writes the calls as one gzipped CSV per day instead of one
CSV (an operator's usual delivery: what the batches of the landing are sized by then).

    .venv/bin/python benchmarks/csv_landing.py --work /tmp/csvbench [--calls 3000000]
        [--baseline REV] [--rounds 3] [--gzip]
"""

from __future__ import annotations

import argparse
import statistics
import textwrap
from pathlib import Path

import duckdb
import yaml
from pipeline_run import ROOT, baseline_checkout, run_in_checkout

RUNNER = textwrap.dedent("""
    import json, os, resource, sys, time
    from pathlib import Path
    os.environ["MIGRANT_ASSETS_KEY"] = "bench-" + "0" * 58
    from migrant_assets.config import StudyConfig
    from migrant_assets.contract import contract_for
    from migrant_assets.db import connect
    from migrant_assets.ingest import ingest_places, ingest_subscribers, land_calls

    cfg = StudyConfig.load(sys.argv[1])
    contract = contract_for(cfg)
    db = Path(sys.argv[2])
    db.unlink(missing_ok=True)
    con = connect(db, cfg.duckdb)
    con.execute("SET enable_progress_bar = false")
    ingest_places(con, cfg, contract, "cells")
    ingest_subscribers(con, cfg, contract)
    t, cpu = time.perf_counter(), time.process_time()
    stats = land_calls(con, cfg, contract)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps({"wall": wall, "cpu": cpu, "read": stats.read,
                                  "landed": stats.accepted, "peak_mb": peak,
                                  "quarantined": stats.quarantined_by_reason}))
""")


def write_extract(work: Path, calls: int, gzipped: bool = False) -> Path:
    """The CSV extract (calls in time order over September 2016, 50,000 subscribers, 2,000
    cells; ``gzipped``: the calls in one gzipped file per day) and its study config; returns
    the config's path."""
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    # values bound, files written by the relation API: nothing of --work is pasted into SQL
    con.sql("""
        SELECT '1380' || lpad(CAST(i AS VARCHAR), 7, '0') AS msisdn, 'Anhui' AS province,
            'true' AS local
        FROM range(50000) AS r(i)""").write_csv(str(data / "subs.csv"), header=True)
    con.sql("""
        SELECT 'C' || i AS cell, 31.0 + (i % 50) * 0.01 AS lat, 121.2 + (i // 50) * 0.01 AS lon
        FROM range(2000) AS r(i)""").write_csv(str(data / "cells.csv"), header=True)
    rows = """
        SELECT '1380' || lpad(CAST(hash(i) % 50000 AS VARCHAR), 7, '0') AS a,
            '1390' || lpad(CAST(hash(i + 1) % 900000 AS VARCHAR), 7, '0') AS b,
            strftime(TIMESTAMP '2016-09-01' + to_microseconds(
                CAST(i * (2592000000000 // $calls) AS BIGINT)), '%Y-%m-%d %H:%M:%S') AS t,
            CAST(1 + hash(i + 2) % 600 AS VARCHAR) AS dur,
            'C' || (hash(i + 3) % 2000) AS ca, '' AS cb
        FROM range($calls) AS r(i)"""
    path = "calls.csv"
    if not gzipped:
        con.sql(rows, params={"calls": calls}).write_csv(str(data / path), header=True)
    else:
        path = "calls_*.csv.gz"
        con.sql(rows, params={"calls": calls}).to_table("c")
        for day in range(1, 31):
            con.sql("SELECT * FROM c WHERE t LIKE $day", params={
                "day": f"2016-09-{day:02d} %"}).write_csv(
                str(data / f"calls_201609{day:02d}.csv.gz"), header=True, compression="gzip")
    (data / "mapping.yaml").write_text(yaml.safe_dump({
        "calls": {"path": path, "columns": {
            "caller": "a", "callee": "b", "start_ts": "t", "duration": "dur",
            "caller_cell": "ca", "callee_cell": "cb"}},
        "subscribers": {"path": "subs.csv", "columns": {
            "number": "msisdn", "birth_province": "province", "is_local_number": "local"}},
        "cells": {"path": "cells.csv", "columns": {"cell_id": "cell"}}}))
    study = work / "study.yaml"
    study.write_text(yaml.safe_dump({
        "source": {"kind": "files", "mapping": str(data / "mapping.yaml")},
        "workdir": str(work / "run"), "city": {"province": "Shanghai",
                                              "timezone": "Asia/Shanghai"}}))
    return study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch directory")
    parser.add_argument("--calls", type=int, default=3_000_000)
    parser.add_argument("--baseline", default="0262077", help="git revision")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="one gzipped CSV of calls per day")
    args = parser.parse_args()
    study = write_extract(args.work, args.calls, args.gzip)
    size = sum(f.stat().st_size for f in (args.work / "data").glob(
        "calls_*.csv.gz" if args.gzip else "calls.csv"))
    print(f"calls CSV: {args.calls:,} rows, {size / 2**20:,.0f} MB"
          + (" gzipped, in 30 files" if args.gzip else ""))
    codes = {"ours": ROOT, "baseline": baseline_checkout(args.baseline, args.work / "base")}
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for i in range(args.rounds):
        for name, code in codes.items():
            r = run_in_checkout(code, RUNNER, str(study), str(args.work / f"{name}.duckdb"))
            runs[name].append(r)
            print(f"round {i + 1} {name:<8} wall {r['wall']:6.2f} s  cpu {r['cpu']:6.2f} s  "
                  f"peak {r.get('peak_mb', float('nan')):,.0f} MB  landed {r['landed']:,}  "
                  f"quarantined {r['quarantined']}")
    for name, rs in runs.items():
        wall = statistics.median(r["wall"] for r in rs)
        cpu = statistics.median(r["cpu"] for r in rs)
        peak = statistics.median(r.get("peak_mb", float("nan")) for r in rs)
        print(f"{name:<8} median wall {wall:6.2f} s, cpu {cpu:6.2f} s, peak {peak:,.0f} MB, "
              f"{args.calls / wall:,.0f} calls/s")
    same = {(r["landed"], str(r["quarantined"])) for rs in runs.values() for r in rs}
    print("same rows landed by both:", len(same) == 1)


if __name__ == "__main__":
    main()
