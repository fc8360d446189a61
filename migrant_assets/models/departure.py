"""Departure study classifiers (SPEC §6; paper 000, Section 4): Tables 1–3, Figure 8, Figure 9.

Protocol (docs/models.md):

- Folds are drawn once per seed over the users of the reference window (k = 14): the staying
  and leaving migrants, stratified 5-fold (:func:`~migrant_assets.models.data.departure_folds`).
  Every k uses them, so a user is in the same fold for every k; a window's users are those of
  its rows (a user silent in the first k days has none).
- Precision, recall and F1 of the positive class are pooled over the out-of-fold predictions;
  the interval is the bootstrap of those predictions over users; PR-AUC is the mean over folds
  (scores of different fold models are not on one scale). Per-fold values are kept too.
- Random guess: precision = recall = F1 = prevalence (SPEC §6).
- Table 1 (new migrants vs locals) draws its own stratified folds over the reference window's
  locals and new migrants, with the same seed; ``townsman`` is left out (0 for locals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from migrant_assets.config import StudyConfig, Window
from migrant_assets.features import FEATURES
from migrant_assets.labels import DEPARTURE_LABELS
from migrant_assets.models.classifiers import (
    CLASSIFIERS,
    RANDOM_FOREST,
    make_classifier,
    positive_scores,
)
from migrant_assets.models.data import (
    DEPARTURE_GROUPS,
    LEAVING_VS_STAYING,
    attach_folds,
    departure_folds,
    feature_columns,
    first_k_windows,
    load_matrix,
    reference_window,
    stratified_folds,
)
from migrant_assets.models.metrics import (
    binary_metrics,
    f1_interval,
    random_guess,
)
from migrant_assets.models.reference import PAPER_F1
from migrant_assets.models.store import write

TABLE1 = "table1_new_vs_locals_rf"
FIRST_K = "leaving_vs_staying"  # every classifier per k: Figure 8(a–c); Table 2 at k = 14
TABLE2 = "table2_leaving_vs_staying_k14"  # the paper's key for FIRST_K at k = 14
TABLE3 = "table3_leaving_vs_staying_rf_k14"
TRANSFER = "transfer"
ALL_FEATURES = "all features"
RANDOM_GUESS = "random guess"
PAPER_K = "k=14"  # the window of the papers' Tables 1–3

#: Row names of the feature groups in the paper's tables.
TABLE1_ROWS = {
    "ego_network": "ego network properties",
    "call_behavior": "call behavior",
    "geography": "geographical patterns",
    "housing_price": "housing price information",
}
TABLE3_ROWS = {**TABLE1_ROWS, "geography": "geographical information"}


@dataclass(frozen=True)
class Evaluation:
    """Rows written for one experiment and window, and the final models (fit on every user of
    the window) by row, for the caller to save (:func:`~migrant_assets.models.save_model`)."""

    results: pd.DataFrame
    fold_metrics: pd.DataFrame
    models: dict[str, object] = field(default_factory=dict)


def _paper_f1(paper_experiment: str, window: Window, row: str) -> float:
    return PAPER_F1.get((paper_experiment, row), np.nan) if window.label == PAPER_K else np.nan


def cross_validate(
    name: str, X: np.ndarray, y: np.ndarray, fold: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Out-of-fold predictions and scores of classifier ``name``, and per-fold metrics: each
    fold's users are predicted by a model fit on the other folds' users only."""
    pred = np.zeros(len(y), dtype=bool)
    score = np.zeros(len(y))
    per_fold = []
    for f in np.unique(fold):
        test = fold == f
        model = make_classifier(name, seed).fit(X[~test], y[~test])
        pred[test] = model.predict(X[test]) == 1
        score[test] = positive_scores(model, X[test])
        per_fold.append({"fold": int(f), **binary_metrics(y[test], pred[test], score[test])})
    return pred, score, per_fold


def _split_rows(experiment: str, window: Window, users: np.ndarray, fold: np.ndarray):
    return pd.concat(
        pd.DataFrame({
            "experiment": experiment,
            "window_id": window.window_id,
            "split": f"fold{f}",
            "user_id": users,
            "role": np.where(fold == f, "test", "train"),
        })
        for f in np.unique(fold)
    )


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    experiment: str,
    paper_experiment: str,
    window: Window,
    data: pd.DataFrame,
    y: np.ndarray,
    rows: Sequence[tuple[str, str, list[str]]],
    seed: int,
    fit_final: bool,
) -> Evaluation:
    """Cross-validate each ``(row, classifier, columns)`` on ``data`` (with ``fold``), add the
    random-guess row, write the three tables of ``(experiment, window)`` in one transaction."""
    fold = data["fold"].to_numpy()
    results, fold_rows, models = [], [], {}
    base = {"experiment": experiment, "window_id": window.window_id, "seed": seed}
    for row, name, cols in rows:
        X = data[cols].to_numpy(dtype=float)
        pred, _, per_fold = cross_validate(name, X, y, fold, seed)
        lo, hi = f1_interval(y, pred, seed)
        results.append({
            **base, "row": row, "window_label": window.label, "model": name,
            "n_features": len(cols), **binary_metrics(y, pred),
            "pr_auc": float(np.mean([m["pr_auc"] for m in per_fold])),
            "f1_ci_low": lo, "f1_ci_high": hi,
            "paper_f1": _paper_f1(paper_experiment, window, row),
        })
        fold_rows += [{**base, "row": row, "model": name, **m} for m in per_fold]
        if fit_final:
            models[row] = make_classifier(name, seed).fit(X, y)
    results.append({
        **base, "row": RANDOM_GUESS, "window_label": window.label, "model": RANDOM_GUESS,
        "n_features": 0, **random_guess(y, seed),
        "paper_f1": _paper_f1(paper_experiment, window, RANDOM_GUESS),
    })
    result_df = pd.DataFrame(results)
    result_df["prevalence"] = result_df["n_pos"] / result_df["n_users"]
    fold_df = pd.DataFrame(fold_rows).rename(columns={"n_users": "n_test"}).drop(columns="seed")
    params = {"experiment": experiment, "window_id": window.window_id}
    splits = _split_rows(experiment, window, data["user_id"].to_numpy(), fold)
    write(con, [
        ("model_results", result_df, params),
        ("model_fold_metrics", fold_df, params),
        ("split_membership", splits, {"experiment": experiment,
                                      "window_ids": [window.window_id]}),
    ])
    return Evaluation(result_df, fold_df, models)


def _leaving_vs_staying(
    con: duckdb.DuckDBPyConnection, window: Window, folds: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    data = attach_folds(load_matrix(con, [window], LEAVING_VS_STAYING), folds)
    if data.empty:
        raise ValueError(f"no staying or leaving migrants in {window.window_id}")
    return data, (data["label"] == "leaving_migrant").to_numpy()


def evaluate_window(
    con: duckdb.DuckDBPyConnection,
    cfg: StudyConfig,
    window: Window,
    seed: int,
    classifiers: Sequence[str] = CLASSIFIERS,
) -> Evaluation:
    """Leaving vs staying migrants on one first-k-days window, every classifier on all features
    (Figure 8(a–c); Table 2 at k = 14), on the shared folds. Writes experiment
    ``leaving_vs_staying`` of the window; ``models`` holds each classifier fit on all the
    window's users."""
    data, y = _leaving_vs_staying(con, window, departure_folds(con, cfg, seed))
    cols = feature_columns("departure", with_locals=False)
    rows = [(name, name, cols) for name in classifiers]
    return _evaluate(con, FIRST_K, TABLE2, window, data, y, rows, seed, fit_final=True)


def table1_new_vs_locals(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int) -> Evaluation:
    """Table 1: new migrants (staying + leaving) vs locals at k = 14, random forest, all features
    and each departure group alone, ``townsman`` excluded. Own stratified folds (seeded)."""
    window = reference_window(cfg)
    data = load_matrix(con, [window], DEPARTURE_LABELS)
    if data.empty:
        raise ValueError(f"no departure-labelled users in {window.window_id}")
    data = data.assign(fold=stratified_folds(data["label"] == "local", seed))
    y = (data["label"] != "local").to_numpy()
    rows = [(ALL_FEATURES, RANDOM_FOREST, feature_columns("departure", with_locals=True))]
    rows += [
        (TABLE1_ROWS[g], RANDOM_FOREST, feature_columns("departure", with_locals=True, groups=[g]))
        for g in DEPARTURE_GROUPS
    ]
    return _evaluate(con, TABLE1, TABLE1, window, data, y, rows, seed, fit_final=False)


def table3_feature_groups(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> Evaluation:
    """Table 3: leaving vs staying at k = 14, random forest on all features and on each
    departure group alone, on the shared folds."""
    window = reference_window(cfg)
    data, y = _leaving_vs_staying(con, window, departure_folds(con, cfg, seed))
    rows = [(ALL_FEATURES, RANDOM_FOREST, feature_columns("departure", with_locals=False))]
    rows += [
        (TABLE3_ROWS[g], RANDOM_FOREST,
         feature_columns("departure", with_locals=False, groups=[g]))
        for g in DEPARTURE_GROUPS
    ]
    return _evaluate(con, TABLE3, TABLE3, window, data, y, rows, seed, fit_final=False)


def transfer_matrix(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int, classifier: str = RANDOM_FOREST
) -> pd.DataFrame:
    """Figure 8(d): for every pair of available windows (k, t) and every fold, a classifier fit
    on the fold-train users' first-k-days features predicts the fold-test users' first-t-days
    features; metrics pooled over folds. Writes ``transfer_f1`` (of ``classifier``) and the
    splits (experiment ``transfer``, per train window) in one transaction. The diagonal k = t
    is the per-k evaluation of :func:`evaluate_window`."""
    windows = first_k_windows(con, cfg)
    folds = departure_folds(con, cfg, seed)
    cols = feature_columns("departure", with_locals=False)
    data = {w.window_id: _leaving_vs_staying(con, w, folds) for w in windows}
    X = {k: d[cols].to_numpy(dtype=float) for k, (d, _) in data.items()}
    fold = {k: d["fold"].to_numpy() for k, (d, _) in data.items()}
    preds = {(k.window_id, t.window_id): np.zeros(len(fold[t.window_id]), dtype=bool)
             for k in windows for t in windows}
    splits = []
    for k in windows:
        (dk, yk), fk = data[k.window_id], fold[k.window_id]
        for f in np.unique(folds["fold"]):
            model = make_classifier(classifier, seed).fit(X[k.window_id][fk != f], yk[fk != f])
            tested = []
            for t in windows:
                test = fold[t.window_id] == f
                preds[k.window_id, t.window_id][test] = model.predict(X[t.window_id][test]) == 1
                tested.append(data[t.window_id][0]["user_id"].to_numpy()[test])
            train_users = dk["user_id"].to_numpy()[fk != f]
            test_users = np.unique(np.concatenate(tested))
            splits.append(pd.DataFrame({
                "experiment": TRANSFER, "window_id": k.window_id, "split": f"fold{f}",
                "user_id": np.concatenate([train_users, test_users]),
                "role": ["train"] * len(train_users) + ["test"] * len(test_users),
            }))
    rows = []
    for k in windows:
        for t in windows:
            y = data[t.window_id][1]
            pred = preds[k.window_id, t.window_id]
            m = binary_metrics(y, pred)
            lo, hi = f1_interval(y, pred, seed)
            rows.append({
                "train_window": k.window_id, "test_window": t.window_id,
                "train_label": k.label, "test_label": t.label, "model": classifier,
                "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
                "f1_ci_low": lo, "f1_ci_high": hi, "n_users": m["n_users"], "n_pos": m["n_pos"],
            })
    result = pd.DataFrame(rows)
    all_windows = [w.window_id for w in cfg.calendar.windows("first_k_days")]
    write(con, [
        ("transfer_f1", result, {"model": classifier}),
        ("split_membership", pd.concat(splits), {"experiment": TRANSFER,
                                                 "window_ids": all_windows}),
    ])
    return result


def feature_importance(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int, n_repeats: int = 3
) -> pd.DataFrame:
    """Figure 9: Gini importance (mean decrease in impurity) of the random forest fit on all
    staying and leaving migrants at k = 14, each feature's missing-value indicator added to the
    feature; beside it, permutation importance (drop in average precision when the feature is
    shuffled, ``n_repeats`` seeded shuffles) of each fold's forest on its held-out users, mean
    and standard deviation over folds × repeats. Every feature, ranked by Gini (rank 1..10 is
    Figure 9). Writes ``feature_importance`` of the window."""
    window = reference_window(cfg)
    data, y = _leaving_vs_staying(con, window, departure_folds(con, cfg, seed))
    cols = feature_columns("departure", with_locals=False)
    X, fold = data[cols].to_numpy(dtype=float), data["fold"].to_numpy()

    final = make_classifier(RANDOM_FOREST, seed).fit(X, y)
    raw = final.named_steps["model"].estimator_.feature_importances_
    indicator = final.named_steps["impute"].indicator_
    gini = raw[: len(cols)] + np.bincount(
        indicator.features_, weights=raw[len(cols):], minlength=len(cols)
    )

    drops = []
    for f in np.unique(fold):
        test = fold == f
        model = make_classifier(RANDOM_FOREST, seed).fit(X[~test], y[~test])
        drops.append(permutation_importance(
            model, X[test], y[test], scoring="average_precision", n_repeats=n_repeats,
            random_state=seed,
        ).importances)
    drops = np.concatenate(drops, axis=1)
    result = pd.DataFrame({
        "window_id": window.window_id,
        "feature": cols,
        "family": [FEATURES[c].family for c in cols],
        "gini": gini,
        "permutation_mean": drops.mean(axis=1),
        "permutation_std": drops.std(axis=1, ddof=1),
    }).sort_values(["gini", "feature"], ascending=[False, True], ignore_index=True)
    result["rank"] = np.arange(1, len(result) + 1)
    write(con, [("feature_importance", result, {"window_id": window.window_id})])
    return result
