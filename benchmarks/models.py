"""Benchmark of the model stage (SPEC §6, issue 13): ours against the code before the fits were
bounded, same run, on one city's ``features``.

    .venv/bin/python benchmarks/models.py --features work/migrant_assets.duckdb
        [--baseline REF] [--rounds 1] [--workdir /tmp/models-bench] [--keep]
        [--steps departure_folds,departure_models,departure_transfer]

``--features`` is any DuckDB file holding the feature tables (``features_*``), e.g. the one a
``migrant-assets demo --preset demo`` run wrote (stop it after the features if you like). Its
four feature tables are copied once into a file of their own; every measured run starts from a
fresh copy of that file, so no two processes write one file.

Each side runs in its own process (``PYTHONPATH`` = a ``git worktree`` of ``--baseline``, default
the commit before the fits were bounded, or this checkout), the sides alternating (A B, A B, ...
``--rounds`` times). A run does what the model assets do, in the main job's order, with the
default study config: the folds, ``departure_models`` for every k, the curves, the transfer
matrix, Tables 1 and 3, Figure 9 and the integration study (``--steps``: only those named, by
the first word of their names). For each step it records the wall
and CPU seconds (``time.process_time``: every thread of the process, plus the worker processes
of the fits, ``models.n_jobs``, stopped at the end of each step so that their CPU is counted),
the scikit-learn pipeline fits of the main process (``Pipeline.fit`` wrapped with a counter:
each classifier of ``make_classifier``, each candidate of the old grid search and each new tuned
regression is one; fits run in worker processes are not counted) and the process's peak RSS so
far (``ru_maxrss``; the first line is after the imports and the connection). Then the
F1 of the papers' rows, old beside new, so a reader sees what the caps changed.

The machine may be shared: compare the sides of one run (medians over rounds), not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from migrant_assets.db import quote

ROOT = Path(__file__).resolve().parents[1]
#: The parent of the commit that bounded the fits (issue 13): the old model stage.
BASELINE = "f4dc12d^"
FEATURE_TABLES = ("features_integration_weeks", "features_departure_weeks",
                  "features_first_k_days", "features_whole_period")

#: One run of the model stage, in a fresh process of one side (its code on PYTHONPATH).
CHILD = r"""
import json, resource, sys, time
from sklearn.pipeline import Pipeline

fits = []
_fit = Pipeline.fit
def counting(self, *a, **k):
    fits.append(1)
    return _fit(self, *a, **k)
Pipeline.fit = counting

import migrant_assets
import migrant_assets.models as M
from migrant_assets.config import StudyConfig
from migrant_assets.db import connect

path, workdir = sys.argv[1], sys.argv[2]
wanted = set(sys.argv[3].split(",")) if len(sys.argv) > 3 and sys.argv[3] else None
cfg = StudyConfig(workdir=workdir)
seed = cfg.models.seed
con = connect(path)
out = {"code": str(migrant_assets.__file__), "steps": []}

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def cpu_s():
    # CPU seconds of this process and of its ended children (the fits' worker processes)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime

def step(name, fn):
    if wanted is not None and name.split()[0] not in wanted:
        return
    n, wall, cpu = len(fits), time.perf_counter(), cpu_s()
    fn()
    release = (getattr(getattr(M, "workers", None), "release_workers", None)
               or getattr(M.departure, "release_workers", None))  # its home before 675a197
    if release is not None:  # its worker processes end, so their CPU is counted
        release()
    out["steps"].append({"step": name, "wall_s": time.perf_counter() - wall,
                         "cpu_s": cpu_s() - cpu, "fits": len(fits) - n,
                         "peak_rss_mb": peak_mb()})

out["steps"].append({"step": "(imports, connection)", "wall_s": 0.0, "cpu_s": 0.0, "fits": 0,
                     "peak_rss_mb": peak_mb()})
step("departure_folds", lambda: M.assign_departure_folds(con, cfg, seed))
step("departure_models (every k)", lambda: [M.evaluate_window(con, cfg, w, seed)
                                            for w in M.first_k_windows(con, cfg)])
step("departure_curves", lambda: M.curves_against_k(con))
step("departure_transfer", lambda: M.transfer_matrix(con, cfg, seed))
step("departure_tables", lambda: (M.table1_new_vs_locals(con, cfg, seed),
                                  M.table3_feature_groups(con, cfg, seed)))
step("departure_feature_importance", lambda: M.feature_importance(con, cfg, seed))
step("integration_models", lambda: (M.settled_vs_locals(con, cfg, seed),
                                    M.three_way(con, cfg, seed)))
con.close()
print("RESULT " + json.dumps(out))
"""

#: The steps of :data:`CHILD`, by the first word of their names (``--steps``); each needs those
#: before it that it reads (the folds; the transfer matrix, Table 3 and Figure 9 reuse the models
#: of departure_models and fit them when they are missing).
STEPS = ("departure_folds", "departure_models", "departure_curves", "departure_transfer",
         "departure_tables", "departure_feature_importance", "integration_models")

#: The papers' rows, old beside new (Tables 1-3, the transfer matrix, the integration study).
COMPARE = {
    "Table 1 (new vs locals, rf)": (
        "SELECT row, f1 FROM model_results WHERE experiment = 'table1_new_vs_locals_rf'"),
    "Table 2 (k = k_max)": (
        "SELECT row, f1 FROM model_results WHERE experiment = 'leaving_vs_staying' "
        "AND window_id = (SELECT max(window_id) FROM model_results "
        "WHERE experiment = 'leaving_vs_staying')"),
    "Table 3 (rf per group)": (
        "SELECT row, f1 FROM model_results "
        "WHERE experiment = 'table3_leaving_vs_staying_rf_k14'"),
    "Figure 8(d) (mean F1 over (k, t))": (
        "SELECT 'mean of ' || count(*) || ' pairs' AS row, avg(f1) AS f1 FROM transfer_f1 "
        "WHERE status = 'ok'"),
    "Figure 9 (top 10 by Gini)": (
        "SELECT 'rank ' || lpad(rank::VARCHAR, 2, '0') AS row, feature AS f1 "
        "FROM feature_importance WHERE rank <= 10"),
    "integration (W2)": (
        "SELECT experiment || ': ' || row || coalesce(' / ' || target, '') AS row, "
        "coalesce(f1, share) AS f1 FROM integration_results WHERE week = 'W2' "
        "AND row <> 'random guess'"),
}


def feature_file(source: Path, workdir: Path) -> Path:
    """The feature tables of ``source`` (and the ``features`` view) in a file of their own."""
    out = workdir / "features.duckdb"
    if out.exists():
        return out
    con = duckdb.connect(str(out))
    con.execute("ATTACH ? AS src (READ_ONLY)", [str(source)])
    view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'features' "
                       "AND database_name = 'src'").fetchone()
    for table in FEATURE_TABLES:
        con.execute(f"CREATE TABLE {quote(table)} AS SELECT * FROM src.{quote(table)}")  # noqa: S608
    con.execute("DETACH src")
    con.execute(view[0])
    con.close()
    return out


def baseline_tree(ref: str, workdir: Path) -> Path:
    """A detached ``git worktree`` of ``ref`` (re-used when it is already there)."""
    tree = workdir / "baseline"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref],
                       check=True, capture_output=True)
    return tree


def run_side(code: Path, features: Path, workdir: Path, name: str, steps: str = "") -> dict:
    """One run of :data:`CHILD` with ``code`` first on the path, on a fresh copy of
    ``features`` (only the ``steps``, comma-separated, when given); its result and the path of
    the DuckDB file it wrote."""
    db = workdir / f"{name}.duckdb"
    shutil.copyfile(features, db)
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("MIGRANT_ASSETS_DUCKDB", None)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(db), str(workdir / name), steps],
                          env=env, cwd=workdir, capture_output=True, text=True, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(line.removeprefix("RESULT "))
    if not result["code"].startswith(str(code)):
        raise SystemExit(f"{name} ran {result['code']}, not the code of {code}")
    return {**result, "db": db}


def steps_table(runs: dict[str, list[dict]]) -> str:
    """Per step: median wall and CPU seconds, fits and peak RSS of each side."""
    names = [s["step"] for s in runs["old"][0]["steps"]]
    head = (f"{'step':32} {'old s':>8} {'new s':>8} {'old cpu':>8} {'new cpu':>8} "
            f"{'old fits':>8} {'new fits':>8} {'old MB':>7} {'new MB':>7}")
    lines = [head, "-" * len(head)]
    total = {k: {"wall_s": 0.0, "cpu_s": 0.0, "fits": 0} for k in runs}
    for i, step in enumerate(names):
        cell = {}
        for side, rs in runs.items():
            vals = {m: statistics.median(r["steps"][i][m] for r in rs)
                    for m in ("wall_s", "cpu_s", "fits", "peak_rss_mb")}
            cell[side] = vals
            for m in ("wall_s", "cpu_s", "fits"):
                total[side][m] += vals[m]
        lines.append(
            f"{step:32} {cell['old']['wall_s']:8.1f} {cell['new']['wall_s']:8.1f} "
            f"{cell['old']['cpu_s']:8.1f} {cell['new']['cpu_s']:8.1f} "
            f"{cell['old']['fits']:8.0f} {cell['new']['fits']:8.0f} "
            f"{cell['old']['peak_rss_mb']:7.0f} {cell['new']['peak_rss_mb']:7.0f}")
    peak = {side: max(s["peak_rss_mb"] for r in rs for s in r["steps"])
            for side, rs in runs.items()}
    lines.append("-" * len(head))
    lines.append(
        f"{'model stage':32} {total['old']['wall_s']:8.1f} {total['new']['wall_s']:8.1f} "
        f"{total['old']['cpu_s']:8.1f} {total['new']['cpu_s']:8.1f} "
        f"{total['old']['fits']:8.0f} {total['new']['fits']:8.0f} "
        f"{peak['old']:7.0f} {peak['new']:7.0f}")
    ratio = total["old"]["wall_s"] / max(total["new"]["wall_s"], 1e-9)
    lines.append(f"wall-clock ratio old / new: {ratio:.1f}x")
    lines.append("fits and peak RSS are this process's: the new MLP, SVM and logistic-regression "
                 "fold fits run in models.n_jobs worker processes, neither counted nor measured "
                 "here (departure_models fits 12 x 4 x 6 = 288 by the protocol; "
                 "test_each_model_is_fitted_once counts every fit in one process)")
    return "\n".join(lines)


def compare_results(old_db: Path, new_db: Path) -> str:
    """The papers' rows of both sides' tables, side by side."""
    lines = []
    for title, query in COMPARE.items():
        frames = []
        for db in (old_db, new_db):
            con = duckdb.connect(str(db), read_only=True)
            frames.append(con.execute(query).df().set_index("row")["f1"])
            con.close()
        lines.append(f"\n{title}:")
        for row in frames[1].index.union(frames[0].index).sort_values():
            old, new = (f.get(row, float("nan")) for f in frames)
            fmt = (lambda v: f"{v:8.4f}") if isinstance(new, float) else (lambda v: f"{v!s:>24}")
            lines.append(f"  {row:56} old {fmt(old)}  new {fmt(new)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", type=Path, required=True,
                        help="a DuckDB file with the feature tables (e.g. a demo run's)")
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the old model stage")
    parser.add_argument("--rounds", type=int, default=1, help="A B rounds (medians)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--steps", default="",
                        help="only these steps, comma-separated (e.g. departure_folds,"
                        "departure_models,departure_transfer; default: all)")
    args = parser.parse_args()
    unknown = set(filter(None, args.steps.split(","))) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; the steps: {', '.join(STEPS)}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="models-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    features = feature_file(args.features, workdir)
    sides = {"old": baseline_tree(args.baseline, workdir), "new": ROOT}
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    try:
        for r in range(args.rounds):
            for side, code in sides.items():
                result = run_side(code, features, workdir, f"{side}{r}", args.steps)
                runs[side].append(result)
                print(f"round {r + 1} {side}: {sum(s['wall_s'] for s in result['steps']):.1f} s "
                      f"({result['code']})", flush=True)
        with duckdb.connect(str(features), read_only=True) as con:
            sizes = con.execute(
                "SELECT count(*) FILTER (WHERE window_id LIKE 'first_k_days:%'), "
                "count(*) FILTER (WHERE window_id LIKE 'integration_week:%') "
                "FROM features").fetchone()
        print(f"\nfeatures: {sizes[0]} first-k-days rows, {sizes[1]} integration-week rows; "
              f"{args.rounds} round(s), medians; peak RSS = the process's max so far (MB)\n")
        print(steps_table(runs))
        print(compare_results(runs["old"][-1]["db"], runs["new"][-1]["db"]))
    finally:
        if not args.keep:
            if (workdir / "baseline").exists():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(workdir / "baseline")], check=False, capture_output=True)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
