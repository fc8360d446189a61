"""How far apart the integration study's three-way regression lands when fit on DuckDB's and on
Spark-fed features (equal to round-off), per solver and tolerance (issue 14, docs/spark.md,
"Parity of the models").

    .venv/bin/python benchmarks/solver_parity.py --config work/study.yaml
        [--spark-fed FILE] [--workdir work/solver_parity]

The study's DuckDB file (a finished ``demo``: features of the four integration weeks) is the
DuckDB side; the Spark side is a copy whose four integration weeks are computed again on Spark
local[2] (``engines.spark_features``), or ``--spark-fed``, such a copy made before. For lbfgs at
tol 1e-4 (scikit-learn's default, the code before), 1e-6, 1e-8, 1e-10 and Newton-Cholesky at
``models.lr_tol`` (the code now), each side's search (:func:`tuned_logistic_regression`, the
three-way protocol of ``models.integration``) is fit and printed: the chosen C, the solver's
iterations, the seconds of each fit, the largest change of any test user's decision scores
between the two sides, the smallest margins of the test users (top-two score gap) and whether
every prediction agrees. Both sides are fit in the same run; the machine may be shared, so read
the seconds as ratios.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegressionCV

from migrant_assets import engines
from migrant_assets.config import StudyConfig
from migrant_assets.db import connect
from migrant_assets.graphs import build_window_graph
from migrant_assets.models import classifiers
from migrant_assets.models import integration as integ
from migrant_assets.models.data import usable_columns

#: (name, solver, tol): scikit-learn's lbfgs at several tolerances, then the code's solver.
SOLVERS = [("lbfgs", "lbfgs", 1e-4), ("lbfgs", "lbfgs", 1e-6), ("lbfgs", "lbfgs", 1e-8),
           ("lbfgs", "lbfgs", 1e-10), ("newton-cholesky", None, None)]


def with_solver(name: str, /, **kwargs) -> LogisticRegressionCV:
    """``LogisticRegressionCV`` as the code builds it, but with solver ``name``."""
    return LogisticRegressionCV(**{**kwargs, "solver": name})


def spark_fed(cfg: StudyConfig, workdir: Path) -> Path:
    """A copy of the study's DuckDB file whose integration-week features come from Spark."""
    path = workdir / "spark_fed.duckdb"
    shutil.copy(cfg.duckdb_path, path)
    cfg = cfg.model_copy(update={"engine": cfg.engine.model_copy(update={
        "kind": "spark", "warehouse": str(workdir / "warehouse")})})
    windows = cfg.calendar.windows("integration_week")
    con = connect(path, cfg.duckdb)
    with engines.spark_sql(cfg) as sql:
        engines.export_inputs(con, sql)
        engines.spark_daily_contacts(con, sql, sorted({d for w in windows for d in w.days}))
        for w in windows:
            build_window_graph(sql, w)
            engines.spark_features(con, sql, cfg, w)
    con.close()
    shutil.rmtree(workdir / "warehouse", ignore_errors=True)
    return path


def three_way_scores(path: Path, cfg: StudyConfig) -> tuple[np.ndarray, float, object]:
    """Decision scores of the test users (every week) of the three-way search fit on the
    training users of ``path``, the seconds of the fit, and the fitted solver."""
    con = connect(path, cfg.duckdb)
    data = integ._data(con, cfg, cfg.models.seed)
    con.close()
    first = integ.integration_weeks(cfg)[0].window_id
    train = data[(data["half"] == "train") & (data["window_id"] == first)]
    cols, _, _ = usable_columns(train, "integration", with_locals=True)
    test = data[data["half"] == "test"].sort_values(["window_id", "user_id"])
    start = time.perf_counter()
    search, _ = integ._fit_tuned(cfg, cfg.models.seed, train[cols].to_numpy(float),
                                 train["label"].to_numpy(), scoring="f1_macro",
                                 class_weight="balanced", keep_proportions=False)
    seconds = time.perf_counter() - start
    return (search.best_estimator_.decision_function(test[cols].to_numpy(float)), seconds,
            search.best_estimator_.named_steps["model"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--spark-fed", type=Path)
    parser.add_argument("--workdir", type=Path, default=Path("work/solver_parity"))
    args = parser.parse_args()
    base = StudyConfig.load(args.config)
    args.workdir.mkdir(parents=True, exist_ok=True)
    other = args.spark_fed or spark_fed(base, args.workdir)
    code_solver = classifiers.LogisticRegressionCV
    print(f"{'solver':<16}{'tol':>8}{'C':>7}{'iter':>6}{'fit s':>13}{'score change':>14}"
          f"{'min margin':>12}  same predictions")
    try:
        for name, solver, tol in SOLVERS:
            cfg = base
            if solver is not None:  # the code's solver replaced; lr_tol carries the tolerance
                classifiers.LogisticRegressionCV = functools.partial(with_solver, solver)
                cfg = base.model_copy(update={"models": base.models.model_copy(
                    update={"lr_tol": tol})})
            else:
                classifiers.LogisticRegressionCV = code_solver
            a, ta, model = three_way_scores(base.duckdb_path, cfg)
            b, tb, _ = three_way_scores(other, cfg)
            top = np.sort(a, axis=1)
            margin = (top[:, -1] - top[:, -2]).min()
            print(f"{name:<16}{cfg.models.lr_tol:>8.0e}{model.C_:>7g}{np.max(model.n_iter_):>6}"
                  f"{f'{ta:.1f}/{tb:.1f}':>13}{np.abs(a - b).max():>14.1e}{margin:>12.1e}  "
                  f"{bool((a.argmax(1) == b.argmax(1)).all())}", flush=True)
    finally:
        classifiers.LogisticRegressionCV = code_solver


if __name__ == "__main__":
    main()
