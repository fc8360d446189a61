"""The random forest's set-up against the paper's (issue 16, docs/models.md "The random forest's
set-up"): the forest of ``make_classifier`` beside plain forests, on the departure study's
leaving vs staying migrants at k = k_max, with the project's shared folds, decision rule and
metrics, on the real labels and on seeded shuffles of them (a null: no signal at all).

    .venv/bin/python benchmarks/forest_setup.py --duckdb WORK/migrant_assets.duckdb
        [--config WORK/study.yaml] [--shuffles 3] [--seed N]

``--duckdb`` is a DuckDB file a ``migrant-assets demo`` run wrote (its ``features`` and
``departure_folds``; opened read-only). Every variant is cross-validated on the same folds; the
logistic regression, the project's linear baseline, is printed beside it in the same run. On the
shuffled labels a sound set-up stays near random guess (F1 = precision ≈ prevalence); a forest
that scores above it on noise would rank first for the wrong reason.

Printed per variant and label set: F1, precision, recall (pooled out of fold), PR-AUC (mean
over folds) and the seconds of the five fits (wall; the machine may be shared: compare variants
of one run).
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from migrant_assets.config import StudyConfig
from migrant_assets.models.classifiers import (
    LOGISTIC_REGRESSION,
    RANDOM_FOREST,
    PriorThresholdClassifier,
    _imputer,
    capped_fit,
    make_classifier,
    positive_scores,
)
from migrant_assets.models.data import (
    STAYING_AND_LEAVING,
    attach_folds,
    feature_columns,
    load_matrix,
    reference_window,
)
from migrant_assets.models.metrics import binary_metrics

PLAIN = {
    # leaves free to grow, a full bootstrap of the training users: scikit-learn's defaults
    "plain, 100 trees": {"n_estimators": 100},
    "plain, 300 trees": {"n_estimators": 300},
    # leaves free, half-size bootstraps (the project's speed choice kept)
    "plain, 300 trees, half bootstraps": {"n_estimators": 300, "max_samples": 0.5},
}


def plain_forest(seed: int, n_jobs: int, **params) -> Pipeline:
    forest = RandomForestClassifier(random_state=seed, n_jobs=n_jobs, **params)
    return Pipeline([("impute", _imputer()), ("model", PriorThresholdClassifier(forest))])


def cross_validate(make, X, y, fold) -> dict:
    pred, scores, pr_auc = np.zeros(len(y), bool), np.zeros(len(y)), []
    t = time.perf_counter()
    for f in np.unique(fold):
        test = fold == f
        with capped_fit():
            model = make().fit(X[~test], y[~test])
            pred[test] = model.predict(X[test]) == 1
            scores[test] = positive_scores(model, X[test])
        pr_auc.append(binary_metrics(y[test], pred[test], scores[test])["pr_auc"])
    m = binary_metrics(y, pred)
    return {**m, "pr_auc": float(np.mean(pr_auc)), "seconds": time.perf_counter() - t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duckdb", required=True)
    parser.add_argument("--shuffles", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--config", default=None, help="the study config of the run")
    args = parser.parse_args()
    cfg = StudyConfig.load(args.config)
    seed = cfg.models.seed if args.seed is None else args.seed
    con = duckdb.connect(args.duckdb, read_only=True)
    window = reference_window(cfg)
    data = load_matrix(con, [window], STAYING_AND_LEAVING)
    folds = con.execute("SELECT user_id, fold FROM departure_folds").df()
    data, problem = attach_folds(data, folds)
    assert problem is None, problem
    cols = feature_columns("departure", with_locals=False)
    X, fold = data[cols].to_numpy(dtype=float), data["fold"].to_numpy()
    y_real = (data["label"] == "leaving_migrant").to_numpy()
    print(f"{window.label}: {len(y_real)} users, {int(y_real.sum())} leaving "
          f"(prevalence {y_real.mean():.4f}), {len(cols)} features, 5 folds")
    variants = {
        "project forest (100 trees, half bootstraps, leaves >= 2%)":
            lambda: make_classifier(RANDOM_FOREST, seed, cfg.models),
        **{name: (lambda p=p: plain_forest(seed, cfg.models.n_jobs, **p))
           for name, p in PLAIN.items()},
        "logistic regression (baseline)":
            lambda: make_classifier(LOGISTIC_REGRESSION, seed, cfg.models),
    }
    rng = np.random.default_rng(seed)
    label_sets = {"real labels": y_real}
    label_sets.update({f"shuffled labels {i + 1}": rng.permutation(y_real)
                       for i in range(args.shuffles)})
    print(f"{'variant':58s} {'labels':18s}   F1   prec  recall PR-AUC  seconds")
    for name, make in variants.items():
        for labels, y in label_sets.items():
            r = cross_validate(make, X, y, fold)
            print(f"{name:58s} {labels:18s} {r['f1']:.3f} {r['precision']:.3f} "
                  f"{r['recall']:.3f} {r['pr_auc']:.3f} {r['seconds']:7.1f}", flush=True)


if __name__ == "__main__":
    main()
