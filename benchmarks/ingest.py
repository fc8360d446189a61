"""Benchmark of ingestion (SPEC §1, issue 13): land and ingest every day of a synthetic city and
print, per stage, wall and CPU seconds and calls/s (cells + estates + subscribers, landing, the
days of calls, the landing's no_raw_identifiers and number_forms checks) and the peak of
DuckDB's spill (the ``temp_directory``'s bytes, sampled every 0.2 s), peak RSS, the DuckDB
file's bytes and each ingestion table's bytes per million calls. ``--memory-limit`` sets
``duckdb.memory_limit`` and ``--batch-mb`` the landing's batch
(``ingest.LANDING_BATCH_BYTES``): a 1x (``large``) city at 600MB in batches of 25.6 MB (10
batches) shows what a 10x city shows at 6GB in its 256 MB batches. With ``--baseline DIR`` (a
checkout of older code, e.g. ``git worktree add /tmp/base <commit>``) the same run alternates
ours and the baseline (A B A B ...), each round in a fresh process and a fresh DuckDB file, and
prints the medians.

    .venv/bin/python benchmarks/ingest.py --work /tmp/scale/I [--city DIR] [--preset large]
        [--calls 105000000]
        [--baseline /tmp/scale/I/base] [--rounds 2] [--memory-limit 600MB] [--batch-mb 25.6]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 20160901

#: Runs in a child process with the code under test first on PYTHONPATH; prints one JSON line.
RUNNER = textwrap.dedent("""
    import json, os, resource, sys, threading, time
    from datetime import date
    from pathlib import Path
    import duckdb
    from migrant_assets.config import StudyConfig
    from migrant_assets.contract import contract_for
    from migrant_assets.db import connect
    from migrant_assets import ingest

    cfg = StudyConfig.load(sys.argv[1])
    if sys.argv[2]:
        ingest.LANDING_BATCH_BYTES = int(float(sys.argv[2]) * 2**20)
    contract = contract_for(cfg)
    con = connect(cfg.duckdb_path, cfg.duckdb)
    out, t, cpu = {}, time.perf_counter(), time.process_time()
    spill = {"now": 0, "stop": False}

    def sample():
        while not spill["stop"]:
            n = sum(p.stat().st_size for p in Path(cfg.duckdb.temp_directory).rglob("*")
                    if p.is_file()) if Path(cfg.duckdb.temp_directory).exists() else 0
            spill["now"] = max(spill["now"], n)
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()

    def lap(name):
        global t, cpu
        now, now_cpu = time.perf_counter(), time.process_time()
        out[name], out[name + "_cpu"] = now - t, now_cpu - cpu
        time.sleep(0.3)  # the sampler's last look at this stage
        out[name + "_spill"], spill["now"] = spill["now"], 0
        t, cpu = now, time.process_time()

    for table in ("cells", "estates"):
        ingest.ingest_places(con, cfg, contract, table)
    ingest.ingest_subscribers(con, cfg, contract)
    lap("subscribers")
    landing = ingest.land_calls(con, cfg, contract)
    lap("landing")
    for day in cfg.calendar.days:
        ingest.ingest_calls(con, cfg, day)
    lap("calls")
    if hasattr(ingest, "identifier_scan"):  # stored by the landing step
        searched, hits = ingest.identifier_scan(con, "landed_calls")
    else:  # older code: the calls files read again
        searched, hits = ingest.raw_identifier_hits(con, cfg, contract, "calls")
    lap("no_raw_identifiers")
    if hasattr(ingest, "number_forms"):  # the numbers stored with a country code, judged
        out["written_two_ways"] = ingest.number_forms(con)["written_two_ways"]
        lap("number_forms")
    out["calls_read"] = landing.read
    out["calls_stored"] = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    out["identifiers_searched"] = searched
    out["raw_identifier_hits"] = hits
    con.execute("CHECKPOINT")
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
    con.close()
    out["duckdb_bytes"] = os.path.getsize(cfg.duckdb_path)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # each table's cost: copied alone into a fresh file, checkpointed, measured
    sizes = {}
    probe = Path(str(cfg.duckdb_path) + ".probe")
    src = duckdb.connect(str(cfg.duckdb_path))
    for name in tables:
        probe.unlink(missing_ok=True)
        src.execute("ATTACH ? AS probe", [str(probe)])
        src.execute(f'CREATE TABLE probe."{name}" AS SELECT * FROM "{name}"')
        src.execute("DETACH probe")
        empty = duckdb.connect(str(probe) + ".empty")
        empty.close()
        sizes[name] = os.path.getsize(probe) - os.path.getsize(str(probe) + ".empty")
        Path(str(probe) + ".empty").unlink()
    probe.unlink(missing_ok=True)
    out["table_bytes"] = sizes
    print("RESULT " + json.dumps(out))
""")


def _study(work: Path, city: Path, preset: str, calls: int | None, label: str,
           memory_limit: str | None) -> Path:
    """A study config whose synthetic city (``preset`` scaled to ``calls``) is ``city`` (linked,
    not copied)."""
    run = work / f"run-{label}"
    shutil.rmtree(run, ignore_errors=True)
    (run / "work" / "synthetic").mkdir(parents=True)
    size = "" if calls is None else f"-{calls}"
    (run / "work" / "synthetic" / f"{preset}{size}-{SEED}").symlink_to(city)
    study = run / "study.yaml"
    study.write_text(json.dumps({
        "source": {"kind": "synthetic", "preset": preset, "seed": SEED,
                   **({"calls": calls} if calls else {})},
        "workdir": str(run / "work"),
        "duckdb": {"temp_directory": str(run / "spill"),
                   **({"memory_limit": memory_limit} if memory_limit else {})}}))
    return study


def _run(code: Path, study: Path, batch_mb: float | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("MIGRANT_ASSETS_DUCKDB", None)
    env.pop("MIGRANT_ASSETS_KEY", None)
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(study), str(batch_mb or "")],
                          env=env, cwd=code, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{code}: the run failed\n{proc.stderr[-4000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def _report(label: str, runs: list[dict]) -> dict:
    # number_forms: the check of numbers written two ways (absent from older code)
    stages = tuple(s for s in ("subscribers", "landing", "calls", "no_raw_identifiers",
                               "number_forms") if s in runs[0])
    med = {k: statistics.median(r[k] for r in runs)
           for k in (*stages, *(f"{s}_cpu" for s in stages), *(f"{s}_spill" for s in stages),
                     "peak_rss_mb", "duckdb_bytes")}
    n = runs[0]["calls_read"]
    mcalls = n / 1e6
    total = sum(med[s] for s in stages)
    print(f"\n== {label}: {len(runs)} round(s), medians; {n:,} calls read, "
          f"{runs[0]['calls_stored']:,} stored")
    for stage in stages:
        rate = "" if stage == "subscribers" else f"  {n / med[stage]:>12,.0f} calls/s"
        print(f"  {stage:<20} {med[stage]:8.1f} s wall, {med[stage + '_cpu']:7.1f} s CPU{rate}"
              f"  spill {med[stage + '_spill'] / 1e9:6.2f} GB   (rounds: "
              + ", ".join(f"{r[stage]:.1f}" for r in runs) + ")")
    total_cpu = sum(med[f"{s}_cpu"] for s in stages)
    print(f"  {'total':<20} {total:8.1f} s wall, {total_cpu:7.1f} s CPU  "
          f"{n / total:>12,.0f} calls/s")
    med["total_cpu"] = total_cpu
    print(f"  peak RSS {med['peak_rss_mb']:,.0f} MB; DuckDB file {med['duckdb_bytes'] / 1e6:,.0f} "
          f"MB = {med['duckdb_bytes'] / mcalls:,.0f} bytes per million calls")
    print(f"  identifiers searched {runs[0]['identifiers_searched']:,}, hits "
          f"{runs[0]['raw_identifier_hits']}"
          + (f"; numbers written two ways {runs[0]['written_two_ways']:,}"
             if "written_two_ways" in runs[0] else ""))
    sizes = runs[0]["table_bytes"]
    print("  bytes per million calls, by table (each copied alone into a fresh file):")
    for name, b in sorted(sizes.items(), key=lambda kv: -kv[1]):
        if b > 0:
            print(f"    {name:<28} {b / mcalls:>14,.0f}")
    return {**med, "total": total, "calls": n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch directory")
    parser.add_argument("--city", type=Path, help="a generated city (default: generate it)")
    parser.add_argument("--preset", default="large")
    parser.add_argument("--calls", type=int, help="the preset scaled to this many social calls")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--memory-limit", help="duckdb.memory_limit of the runs")
    parser.add_argument("--batch-mb", type=float, help="the landing's batch, in MB")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    city = args.city
    if city is None:
        sys.path.insert(0, str(ROOT))
        from migrant_assets.synthetic import generate

        city = args.work / "city"
        if not (city / "manifest.json").exists():
            generate(args.preset, SEED, city, calls=args.calls)
    variants = [("ours", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
    runs: dict[str, list[dict]] = {label: [] for label, _ in variants}
    for i in range(args.rounds):
        for label, code in variants:  # A B A B: both see the same machine load
            study = _study(args.work, city.resolve(), args.preset, args.calls, label,
                           args.memory_limit)
            runs[label].append(_run(code, study, args.batch_mb))
            shutil.rmtree(study.parent, ignore_errors=True)
            r = runs[label][-1]
            print(f"round {i + 1} {label}: landing {r['landing']:.1f} s (spill "
                  f"{r['landing_spill'] / 1e9:.2f} GB), calls {r['calls']:.1f} s, check "
                  f"{r['no_raw_identifiers']:.1f} s", flush=True)
    got = {label: _report(label, rs) for label, rs in runs.items()}
    if "baseline" in got:
        ours, base = got["ours"], got["baseline"]
        print("\n== ours / baseline (time ratio; < 1 is faster)")
        for k in ("subscribers", "landing", "calls", "no_raw_identifiers", "total",
                  "landing_cpu", "calls_cpu", "total_cpu", "peak_rss_mb", "duckdb_bytes"):
            print(f"  {k:<20} {ours[k] / base[k]:6.2f}")
        for k in ("landing_spill", "calls_spill"):
            print(f"  {k:<20} ours {ours[k] / 1e9:.2f} GB, baseline {base[k] / 1e9:.2f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
