"""Benchmark of what recording and checking lineage costs (migrant_assets/lineage.py) beside the
ingestion it guards, in the same run: a synthetic city is landed as a mapping's files
(`landed_calls`, the baseline), then each piece the assets add is timed: the SHA-256 of every
calls file (the landing step, first time, no cache), the same files judged again by size and
modification time (every later step), each day's version of `landed_calls` (a hash of its rows)
and the plan of `user_labels` (reading 30 days of `calls`) and of `report` with every partition
of the pipeline recorded. Prints wall and CPU seconds.

    .venv/bin/python benchmarks/lineage.py --work /tmp/lineage [--preset large] [--city DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from migrant_assets import ingest, lineage  # noqa: E402
from migrant_assets.config import StudyConfig  # noqa: E402
from migrant_assets.contract import contract_for  # noqa: E402
from migrant_assets.db import connect  # noqa: E402

SEED = 20160901
KEY = "lineage-benchmark-key-0123456789abcdef0123456789"


def _timed(what: str, fn, rows: list) -> object:
    t, cpu = time.perf_counter(), time.process_time()
    out = fn()
    rows.append((what, time.perf_counter() - t, time.process_time() - cpu))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--preset", default="large")
    parser.add_argument("--city", type=Path, help="a city generated before (default: generate)")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    city = args.city or work / f"city-{args.preset}"
    if not (city / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "migrant_assets.cli", "generate", "--preset",
                        args.preset, "--seed", str(SEED), "--out", str(city)], check=True)
    mapping = work / "mapping.yaml"
    mapping.write_text(json.dumps({
        "base_dir": str(city), "subscribers": {"path": "subscribers.parquet"},
        "cells": {"path": "cells.parquet"}, "estates": {"path": "estates.parquet"},
        "calls": {"path": "calls/{date:%Y-%m-%d}.parquet"}}))
    db = work / "lineage.duckdb"
    for suffix in ("", ".wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    study = work / "study.yaml"
    study.write_text(json.dumps({
        "source": {"kind": "files", "mapping": str(mapping)}, "workdir": str(work),
        "city": {"province": "Shanghai", "timezone": "Asia/Shanghai"}}))
    os.environ["MIGRANT_ASSETS_KEY"] = KEY
    os.environ["MIGRANT_ASSETS_DUCKDB"] = str(db)
    cfg = StudyConfig.load(study)
    contract = contract_for(cfg)
    con = connect(db, cfg.duckdb)
    rows: list = []
    for table in ("cells", "estates"):
        ingest.ingest_places(con, cfg, contract, table)
    ingest.ingest_subscribers(con, cfg, contract)
    landing = _timed("baseline: landing the calls (land_calls)",
                     lambda: ingest.land_calls(con, cfg, contract), rows)
    files = contract.files("calls", cfg.calendar.days)
    size = sum(f.stat().st_size for f in files)
    cache: dict = {}
    _timed(f"SHA-256 of the {len(files)} calls files ({size / 2**20:,.0f} MiB), no cache",
           lambda: lineage.content_hash(files, cache, cfg.pseudonym_key), rows)
    _timed("the same files judged by size and time (cache)",
           lambda: lineage.content_hash(files, cache, cfg.pseudonym_key), rows)
    landed = lineage.plan(con, cfg, contract, [lineage.Target(
        "landed_calls", None, "ingest", (("cells", None), ("subscribers", None)),
        ("landed_calls",))])
    _timed("landed_calls: version of each day (its rows' hash) + record",
           lambda: lineage.record(con, landed), rows)
    days = [d.isoformat() for d in cfg.calendar.days]
    for day in days:
        lineage.record(con, lineage.plan(con, cfg, contract, [lineage.Target(
            "calls", day, "ingest", (("landed_calls", None), ("subscribers", None)),
            ("landed_calls", "subscribers"))]))
    labels = lineage.Target("user_labels", None, "labels",
                            tuple(("calls", d) for d in days), ("landed_calls", "subscribers"))
    _timed("plan of user_labels (30 days of calls; the calls files judged)",
           lambda: lineage.plan(con, cfg, contract, [labels]), rows)
    lineage.record(con, lineage.plan(con, cfg, contract, [labels]))
    # every partition of the pipeline recorded, each reading the labels and every day
    for i in range(150):
        lineage.record(con, lineage.plan(con, cfg, contract, [lineage.Target(
            f"asset_{i}", None, "features", (("user_labels", None),
                                             *(("calls", d) for d in days)),
            ("landed_calls", "subscribers"))]))
    report = lineage.Target("report", None, "reports",
                            tuple((f"asset_{i}", None) for i in range(150)),
                            ("landed_calls", "subscribers"))
    _timed("plan of a report reading 150 recorded assets",
           lambda: lineage.plan(con, cfg, contract, [report]), rows)
    n_rows = con.execute("SELECT count(*), sum(length(inputs)) FROM built_from").fetchone()
    con.close()
    print(f"\n{landing.read:,} calls landed; built_from: {n_rows[0]} rows, "
          f"{n_rows[1] / 1024:,.0f} KiB of inputs")
    for what, wall, cpu in rows:
        print(f"  {what:<72} {wall:7.2f} s wall {cpu:7.2f} s CPU")


if __name__ == "__main__":
    main()
