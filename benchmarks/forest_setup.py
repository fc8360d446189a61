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
of one run); then, per forest, the contrasts of finding DM01 (random forest first, 000 Table 2):
its F1 minus each baseline's, per fold, with the corrected resampled t (the findings' test,
``corrected_t``; needed: 2.78 for 5 folds). On shuffled labels or the null city a t above 2.78
is a false positive of the set-up. ``--only a,b`` runs the variants whose name contains a or b.
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import precision_recall_curve
from sklearn.pipeline import Pipeline

from migrant_assets.config import StudyConfig
from migrant_assets.models.classifiers import (
    LOGISTIC_REGRESSION,
    MLP,
    RANDOM_FOREST,
    SVM,
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
from migrant_assets.reports.model_findings import corrected_t


class PriorThresholdOnly(PriorThresholdClassifier):
    """The previous rule, kept here as the baseline: positive when P > training prevalence."""


class OobF1Threshold(PriorThresholdClassifier):
    """The threshold maximising F1 on the forest's out-of-bag probabilities of the training
    users; ``floor``: not below the training prevalence (the prevalence rule's threshold)."""

    def __init__(self, estimator, floor: bool = True):
        super().__init__(estimator)
        self.floor = floor

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).set_params(oob_score=True).fit(X, y)
        self.classes_ = self.estimator_.classes_
        positive = np.asarray(y) == self.classes_[-1]
        oob = self.estimator_.oob_decision_function_[:, -1]
        ok = np.isfinite(oob)
        p, r, t = precision_recall_curve(positive[ok], oob[ok])
        f1 = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)[:-1]
        prevalence = float(positive.mean())
        if self.floor:
            f1 = np.where(t > prevalence, f1, -1.0)
        best = int(np.argmax(f1))
        self.threshold_ = float(np.nextafter(t[best], -np.inf)) if f1[best] >= 0 else prevalence
        return self


PLAIN = {
    # leaves free to grow, a full bootstrap of the training users: scikit-learn's defaults
    "plain, 100 trees": {"n_estimators": 100},
    "plain, 300 trees": {"n_estimators": 300},
    # leaves free, half-size bootstraps (the project's speed choice kept)
    "plain, 300 trees, half bootstraps": {"n_estimators": 300, "max_samples": 0.5},
}


def plain_forest(seed: int, n_jobs: int, rule=PriorThresholdClassifier, **params) -> Pipeline:
    forest = RandomForestClassifier(random_state=seed, n_jobs=n_jobs, **params)
    return Pipeline([("impute", _imputer()), ("model", rule(forest))])


def cross_validate(make, X, y, fold) -> dict:
    pred, scores, pr_auc, f1 = np.zeros(len(y), bool), np.zeros(len(y)), [], []
    t = time.perf_counter()
    for f in np.unique(fold):
        test = fold == f
        with capped_fit():
            model = make().fit(X[~test], y[~test])
            pred[test] = model.predict(X[test]) == 1
            scores[test] = positive_scores(model, X[test])
        fm = binary_metrics(y[test], pred[test], scores[test])
        pr_auc.append(fm["pr_auc"])
        f1.append(fm["f1"])
    m = binary_metrics(y, pred)
    return {**m, "pr_auc": float(np.mean(pr_auc)), "fold_f1": np.array(f1),
            "seconds": time.perf_counter() - t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duckdb", required=True)
    parser.add_argument("--shuffles", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--config", default=None, help="the study config of the run")
    parser.add_argument("--only", default=None,
                        help="comma-separated: only the variants whose name has one of these")
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
    n, jobs = cfg.models.n_trees, cfg.models.n_jobs
    variants = {
        "project forest (make_classifier)":
            lambda: make_classifier(RANDOM_FOREST, seed, cfg.models),
        "previous: half bootstraps, leaves >= 2%, P > prevalence": lambda: plain_forest(
            seed, jobs, PriorThresholdOnly, n_estimators=n, max_samples=0.5,
            min_samples_leaf=0.02),
        "leaves free, half bootstraps, P > prevalence": lambda: plain_forest(
            seed, jobs, PriorThresholdOnly, n_estimators=n, max_samples=0.5),
        "leaves free, half bootstraps, OOB-F1 threshold": lambda: plain_forest(
            seed, jobs, lambda f: OobF1Threshold(f, floor=False), n_estimators=n,
            max_samples=0.5),
        "leaves free, half bootstraps, OOB-F1 threshold >= prevalence": lambda: plain_forest(
            seed, jobs, OobF1Threshold, n_estimators=n, max_samples=0.5),
        "leaves free, full bootstraps, OOB-F1 threshold >= prevalence": lambda: plain_forest(
            seed, jobs, OobF1Threshold, n_estimators=n),
        **{name: (lambda p=p: plain_forest(seed, jobs, **p)) for name, p in PLAIN.items()},
    }
    baselines = {
        "logistic regression (baseline)":
            lambda: make_classifier(LOGISTIC_REGRESSION, seed, cfg.models),
        "support vector machine (baseline)": lambda: make_classifier(SVM, seed, cfg.models),
        "multilayer perceptron (baseline)": lambda: make_classifier(MLP, seed, cfg.models),
    }
    if args.only:
        variants = {k: v for k, v in variants.items()
                    if any(part in k for part in args.only.split(","))}
    variants.update(baselines)
    rng = np.random.default_rng(seed)
    label_sets = {"real labels": y_real}
    label_sets.update({f"shuffled labels {i + 1}": rng.permutation(y_real)
                       for i in range(args.shuffles)})
    print(f"{'variant':62s} {'labels':18s}   F1   prec  recall PR-AUC  seconds")
    results = {}
    for name, make in variants.items():
        for labels, y in label_sets.items():
            r = results[name, labels] = cross_validate(make, X, y, fold)
            print(f"{name:62s} {labels:18s} {r['f1']:.3f} {r['precision']:.3f} "
                  f"{r['recall']:.3f} {r['pr_auc']:.3f} {r['seconds']:7.1f}", flush=True)
    print("\nDM01 contrasts: forest F1 - baseline F1 per fold, corrected t (needed 2.78)")
    print(f"{'variant':62s} {'labels':18s} " + " ".join(f"{b.split(' (')[0][:22]:>22s}"
                                                      for b in baselines))
    for name in variants:
        if name in baselines:
            continue
        for labels in label_sets:
            ts = [corrected_t(results[name, labels]["fold_f1"]
                              - results[b, labels]["fold_f1"])[2] for b in baselines]
            print(f"{name:62s} {labels:18s} " + " ".join(f"{t:22.2f}" for t in ts))


if __name__ == "__main__":
    main()
