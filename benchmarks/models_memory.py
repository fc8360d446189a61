"""Peak memory of a model asset (issue 13: the 10x run's peak RSS was the model stage's) under
the study's DuckDB ``memory_limit`` and under ``duckdb.models_memory_limit``, on a finished run's
DuckDB file.

    .venv/bin/python benchmarks/models_memory.py --config STUDY.yaml [--limits 6GB 1GB]
        [--assets integration_models departure_models departure_transfer departure_tables
                  departure_feature_importance]

For each asset, each limit runs what the asset runs in a fresh process (the limits in turns):
``integration_models`` :func:`migrant_assets.models.evaluate_integration`, ``departure_models``
:func:`migrant_assets.models.evaluate_windows` over the calendar's first-k-days windows,
``departure_transfer`` :func:`migrant_assets.models.transfer_matrix`, ``departure_tables``
:func:`migrant_assets.models.tables_1_and_3` and ``departure_feature_importance``
:func:`migrant_assets.models.feature_importance` (the three read the models
``departure_models`` stored: run it first on a file whose key file is gone), on the file of
``--config`` (it rewrites that asset's tables of the file with the same rows: the fits are
seeded). The limit replaces the config's ``memory_limit`` for the connection only, as the
model assets' cap does: the stored models are read under the config's ``memory_limit``, as in
the assets. The process tree's resident memory is sampled every 0.5 s (``pipeline_run.Sampler``);
printed per limit: wall seconds, the peak of the tree, of the main process (DuckDB, the
matrices) and of the largest worker process (a fit).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from pipeline_run import ROOT, Sampler, gb

#: One run in a child process: the study's DuckDB settings with ``memory_limit`` replaced.
RUNNER = textwrap.dedent("""
    import sys
    from migrant_assets.config import StudyConfig
    from migrant_assets.db import connect
    from migrant_assets.models import (evaluate_integration, evaluate_windows,
                                       feature_importance, tables_1_and_3, transfer_matrix)
    from migrant_assets.models.workers import release_workers

    cfg = StudyConfig.load(sys.argv[1])
    settings = cfg.duckdb.model_copy(update={"memory_limit": sys.argv[2]})
    con = connect(cfg.duckdb_path, settings)
    try:
        if sys.argv[3] == "integration_models":
            evaluate_integration(con, cfg, cfg.models.seed)
        elif sys.argv[3] == "departure_transfer":
            transfer_matrix(con, cfg, cfg.models.seed)
        elif sys.argv[3] == "departure_tables":
            tables_1_and_3(con, cfg, cfg.models.seed)
        elif sys.argv[3] == "departure_feature_importance":
            feature_importance(con, cfg, cfg.models.seed)
        else:
            windows = cfg.calendar.windows("first_k_days")
            for _ in evaluate_windows(con, cfg, windows, cfg.models.seed):
                pass
    finally:
        release_workers()
    con.close()
""")


ASSETS = ("integration_models", "departure_models", "departure_transfer", "departure_tables",
          "departure_feature_importance")


def _run(config: Path, limit: str, asset: str) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(config), limit, asset], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid, config.parent / "no-spill-dir-sampled", interval=0.5)
    _, err = proc.communicate()
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"the run under {limit} failed:\n{err[-4000:]}")
    return {"wall": time.perf_counter() - start, "tree": sampler.peak(),
            "main": sampler.peak(of="main"), "child": sampler.peak(of="child")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True,
                        help="the study config of a finished run (its DuckDB file is rewritten)")
    parser.add_argument("--limits", nargs="+", default=["6GB", "1GB"])
    parser.add_argument("--assets", nargs="+", default=list(ASSETS[:2]), choices=ASSETS)
    args = parser.parse_args(argv)
    config = args.config.resolve()
    for asset in args.assets:
        for limit in args.limits:
            r = _run(config, limit, asset)
            print(f"{asset}, memory_limit {limit}: {r['wall']:.1f} s wall, peak RSS "
                  f"{gb(r['tree'])} (main process {gb(r['main'])}, largest worker "
                  f"{gb(r['child'])})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
