"""Departure study classifiers (SPEC §6; paper 000, Section 4): Tables 1–3, Figure 8, Figure 9.

Protocol (docs/models.md):

- Folds are drawn once per seed over the users of the reference window (k = k_max): the staying
  and leaving migrants, stratified 5-fold (:func:`~migrant_assets.models.data.departure_folds`).
  Every k uses them, so a user is in the same fold for every k; a window's users are those of
  its rows (a user silent in the first k days has none).
- Precision, recall and F1 of the positive class are pooled over the out-of-fold predictions;
  the interval is the bootstrap of those predictions over users; PR-AUC is the mean over folds
  (scores of different fold models are not on one scale). Per-fold values are kept too.
- Random guess: precision = recall = F1 = prevalence (SPEC §6).
- Table 1 (new migrants vs locals) draws its own stratified folds over the reference window's
  locals and new migrants, with the same seed; ``townsman`` is left out (0 for locals).
- What the data cannot support is written as skipped rows with the reason (issue 10), never
  raised: a window with a class under ``thresholds.min_class_size``, one class only, no folds, a
  fold without a class; a feature group of which every value is null is left out of the
  all-features rows (``dropped_groups``) and its own row is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from migrant_assets.config import StudyConfig, Window
from migrant_assets.db import run_sql
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
    GROUP_TITLES,
    STAYING_AND_LEAVING,
    attach_folds,
    class_names,
    class_problem,
    departure_folds,
    feature_columns,
    first_k_windows,
    fold_problem,
    load_matrix,
    min_class_size,
    reference_window,
    stratified_folds,
    usable_columns,
)
from migrant_assets.models.metrics import (
    binary_metrics,
    f1_interval,
    random_guess,
)
from migrant_assets.models.reference import PAPER_F1
from migrant_assets.models.store import (
    DEPARTURE_CURVES,
    DEPARTURE_FEATURE_IMPORTANCE,
    DEPARTURE_MODELS,
    DEPARTURE_TABLES,
    DEPARTURE_TRANSFER,
    OK,
    SKIPPED,
    concat_rows,
    ensure_schema,
    fold_metrics_table,
    splits_table,
    write,
)
from migrant_assets.papers import PAPER_K

TABLE1 = "table1_new_vs_locals_rf"
#: Every classifier per k: Figure 8(a–c); Table 2 at k = k_max.
LEAVING_VS_STAYING = "leaving_vs_staying"
TABLE2 = "table2_leaving_vs_staying_k14"  # the paper's key (its Table 2 is at k = PAPER_K)
TABLE3 = "table3_leaving_vs_staying_rf_k14"
TRANSFER = "transfer"
FEATURE_IMPORTANCE = "feature_importance"  # Figure 9, in the report's list of experiments
ALL_FEATURES = "all features"
RANDOM_GUESS = "random guess"
#: The label of our window that the papers' Tables 1–3 (at k = PAPER_K) are printed beside: a
#: calendar whose k_max is not PAPER_K still reports the paper's values in the report's tables
#: (read by key), but no result row of another k carries them as ``paper_f1``.
PAPER_WINDOW_LABEL = f"k={PAPER_K}"

#: Row names of the feature groups in the paper's tables.
TABLE1_ROWS = {
    "ego_network": "ego network properties",
    "call_behavior": "call behavior",
    "geography": "geographical patterns",
    "housing_price": "housing price information",
}
TABLE3_ROWS = {**TABLE1_ROWS, "geography": "geographical information"}
#: Class names of the binary problems, positive class first.
LEAVING_NAMES = {True: "leaving migrants", False: "staying migrants"}
NEW_NAMES = {True: "new migrants", False: "locals"}

RESULT_COLUMNS = [
    "experiment", "row", "window_id", "window_label", "model", "n_features", "precision",
    "recall", "f1", "f1_ci_low", "f1_ci_high", "pr_auc", "paper_f1", "n_users", "n_pos",
    "prevalence", "seed", "status", "skip_reason", "dropped_groups",
]
FOLD_COLUMNS = ["experiment", "row", "window_id", "model", "fold", "precision", "recall", "f1",
                "pr_auc", "n_test", "n_pos"]
SPLIT_COLUMNS = ["experiment", "window_id", "split", "user_id", "role"]
IMPORTANCE_COLUMNS = ["window_id", "feature", "family", "gini", "permutation_mean",
                      "permutation_std", "rank", "status", "skip_reason"]
TRANSFER_COLUMNS = [
    "train_window", "test_window", "train_label", "test_label", "model", "precision", "recall",
    "f1", "f1_ci_low", "f1_ci_high", "n_users", "n_pos", "status", "skip_reason",
]


@dataclass(frozen=True)
class Matrix:
    """The users of one window for a binary experiment: their rows (with ``fold``), whether each
    is positive, and why the data cannot support the experiment (None when it can)."""

    data: pd.DataFrame
    y: np.ndarray
    problem: str | None


@dataclass(frozen=True)
class Evaluation:
    """Rows written for one experiment and window, and the final models (fit on every user of
    the window) by row, for the caller to save (:func:`~migrant_assets.models.save_model`)."""

    results: pd.DataFrame
    fold_metrics: pd.DataFrame
    models: dict[str, object] = field(default_factory=dict)


def _paper_f1(paper_experiment: str, window: Window, row: str) -> float:
    if window.label != PAPER_WINDOW_LABEL:
        return np.nan
    return PAPER_F1.get((paper_experiment, row), np.nan)


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
    return concat_rows((
        pd.DataFrame({
            "experiment": experiment,
            "window_id": window.window_id,
            "split": f"fold{f}",
            "user_id": users,
            "role": np.where(fold == f, "test", "train"),
        })
        for f in np.unique(fold)
    ), SPLIT_COLUMNS)


def _counts(y: np.ndarray) -> dict:
    n_users, n_pos = len(y), int(np.sum(y))
    return {"n_users": n_users, "n_pos": n_pos,
            "prevalence": n_pos / n_users if n_users else np.nan}


def _skipped(reason: str) -> dict:
    return {"status": SKIPPED, "skip_reason": reason}


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    experiment: str,
    paper_experiment: str,
    window: Window,
    matrix: Matrix,
    rows: Sequence[tuple[str, str, Sequence[str] | None]],
    seed: int,
    fit_final: bool,
    with_locals: bool,
    owner: str,
) -> Evaluation:
    """Cross-validate each ``(row, classifier, groups)`` (groups None: all of them) on
    ``matrix`` (with ``fold``), add the random-guess row, write the rows of ``(experiment,
    window)`` in one transaction to the tables of asset ``owner`` (its results, fold metrics
    and splits). A row is skipped with the reason when the
    matrix is (``matrix.problem``) or when every value of its groups is null; groups of which
    every value is null are left out of the other rows (``dropped_groups``)."""
    data, y, problem = matrix.data, matrix.y, matrix.problem
    fold = data["fold"].to_numpy()
    results, fold_rows, models = [], [], {}
    base = {"experiment": experiment, "window_id": window.window_id, "seed": seed}
    for row, name, groups in rows:
        cols, dropped, no_columns = usable_columns(data, "departure", with_locals=with_locals,
                                                   groups=groups)
        common = {
            **base, "row": row, "window_label": window.label, "model": name,
            "n_features": len(cols), "paper_f1": _paper_f1(paper_experiment, window, row),
            "dropped_groups": ", ".join(dropped) or None,
        }
        if problem or no_columns:
            results.append({**common, **_counts(y), **_skipped(problem or no_columns)})
            continue
        X = data[cols].to_numpy(dtype=float)
        pred, _, per_fold = cross_validate(name, X, y, fold, seed)
        lo, hi = f1_interval(y, pred, seed)
        results.append({
            **common, **binary_metrics(y, pred), "prevalence": _counts(y)["prevalence"],
            "pr_auc": float(np.mean([m["pr_auc"] for m in per_fold])),
            "f1_ci_low": lo, "f1_ci_high": hi, "status": OK,
        })
        fold_rows += [{**base, "row": row, "model": name, **m, "n_test": m["n_users"]}
                      for m in per_fold]
        if fit_final:
            models[row] = make_classifier(name, seed).fit(X, y)
    guess = {
        **base, "row": RANDOM_GUESS, "window_label": window.label, "model": RANDOM_GUESS,
        "n_features": 0, "paper_f1": _paper_f1(paper_experiment, window, RANDOM_GUESS),
    }
    if problem:
        results.append({**guess, **_counts(y), **_skipped(problem)})
    else:
        results.append({**guess, **random_guess(y, seed), "prevalence": _counts(y)["prevalence"],
                        "status": OK})
    result_df = pd.DataFrame(results, columns=RESULT_COLUMNS)
    fold_df = pd.DataFrame(fold_rows, columns=FOLD_COLUMNS)
    key = {"experiment": experiment, "window_id": window.window_id}
    kept = slice(0, 0) if problem else slice(None)  # a skipped experiment splits nobody
    splits = _split_rows(experiment, window, data["user_id"].to_numpy()[kept], fold[kept])
    write(con, [(owner, result_df, key), (fold_metrics_table(owner), fold_df, key),
                (splits_table(owner), splits, key)])
    return Evaluation(result_df, fold_df, models)


def _leaving_vs_staying(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window,
    folds: tuple[pd.DataFrame, str | None],
) -> Matrix:
    """The staying and leaving migrants of ``window`` on the shared folds ``(folds, reason
    there are none)``, and what the data cannot support: too few of a class, no folds, users
    without a fold, a fold whose training users lack a class."""
    data = load_matrix(con, [window], STAYING_AND_LEAVING)
    y = (data["label"] == "leaving_migrant").to_numpy()
    problem = class_problem(data["label"], class_names(STAYING_AND_LEAVING), min_class_size(cfg))
    stored, no_folds = folds
    data, no_fold = attach_folds(data, stored)
    problem = problem or no_folds or no_fold
    if not problem:
        problem = fold_problem(y, data["fold"].to_numpy(), LEAVING_NAMES)
    return Matrix(data, y, problem)


def evaluate_window(
    con: duckdb.DuckDBPyConnection,
    cfg: StudyConfig,
    window: Window,
    seed: int,
    classifiers: Sequence[str] = CLASSIFIERS,
) -> Evaluation:
    """Leaving vs staying migrants on one first-k-days window, every classifier on all features
    (Figure 8(a–c); Table 2 at k = k_max), on the shared folds. Writes experiment
    ``leaving_vs_staying`` of the window to ``departure_models`` (skipped rows when the data
    cannot support it); ``models`` holds each classifier fit on all the window's users."""
    matrix = _leaving_vs_staying(con, cfg, window, departure_folds(con, cfg, seed))
    rows = [(name, name, None) for name in classifiers]
    return _evaluate(con, LEAVING_VS_STAYING, TABLE2, window, matrix, rows, seed, fit_final=True,
                     with_locals=False, owner=DEPARTURE_MODELS)


def table1_new_vs_locals(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int) -> Evaluation:
    """Table 1: new migrants (staying + leaving) vs locals at k = k_max, random forest, all features
    and each departure group alone, ``townsman`` excluded. Own stratified folds (seeded)."""
    window = reference_window(cfg)
    data = load_matrix(con, [window], DEPARTURE_LABELS)
    y = (data["label"] != "local").to_numpy()
    problem = class_problem(pd.Series(y), NEW_NAMES, min_class_size(cfg))
    data = data.assign(fold=stratified_folds(data["label"] == "local", seed) if not problem
                       else -1)
    rows = [(ALL_FEATURES, RANDOM_FOREST, None)]
    rows += [(TABLE1_ROWS[g], RANDOM_FOREST, [g]) for g in DEPARTURE_GROUPS]
    return _evaluate(con, TABLE1, TABLE1, window, Matrix(data, y, problem), rows, seed,
                     fit_final=False, with_locals=True, owner=DEPARTURE_TABLES)


def table3_feature_groups(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> Evaluation:
    """Table 3: leaving vs staying at k = k_max, random forest on all features and on each
    departure group alone, on the shared folds."""
    window = reference_window(cfg)
    matrix = _leaving_vs_staying(con, cfg, window, departure_folds(con, cfg, seed))
    rows = [(ALL_FEATURES, RANDOM_FOREST, None)]
    rows += [(TABLE3_ROWS[g], RANDOM_FOREST, [g]) for g in DEPARTURE_GROUPS]
    return _evaluate(con, TABLE3, TABLE3, window, matrix, rows, seed, fit_final=False,
                     with_locals=False, owner=DEPARTURE_TABLES)


def transfer_matrix(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int, classifier: str = RANDOM_FOREST
) -> pd.DataFrame:
    """Figure 8(d): for every pair of available windows (k, t) and every fold, a classifier fit
    on the fold-train users' first-k-days features predicts the fold-test users' first-t-days
    features; metrics pooled over folds. Writes ``departure_transfer`` (of ``classifier``) and
    its splits (experiment ``transfer``, per train window) in one transaction. The diagonal k = t
    is the per-k evaluation of :func:`evaluate_window`. A pair whose k or t window the data
    cannot support is a skipped row with the reason of that window (k's first); groups of which
    every value is null in the windows used are left out of every model."""
    windows = first_k_windows(con, cfg)
    folds = departure_folds(con, cfg, seed)
    data = {w.window_id: _leaving_vs_staying(con, cfg, w, folds) for w in windows}
    usable = [w for w in windows if data[w.window_id].problem is None]
    cols, no_columns = [], None
    if usable:
        cols, _, no_columns = usable_columns(pd.concat([data[w.window_id].data for w in usable]),
                                             "departure", with_locals=False)
    if no_columns:
        usable = []
    X = {w.window_id: data[w.window_id].data[cols].to_numpy(dtype=float) for w in usable}
    fold = {w.window_id: data[w.window_id].data["fold"].to_numpy() for w in usable}
    preds = {(k.window_id, t.window_id): np.zeros(len(fold[t.window_id]), dtype=bool)
             for k in usable for t in usable}
    splits = []
    for k in usable:
        mk, fk = data[k.window_id], fold[k.window_id]
        for f in np.unique(folds[0]["fold"]):
            model = make_classifier(classifier, seed).fit(X[k.window_id][fk != f], mk.y[fk != f])
            tested = []
            for t in usable:
                test = fold[t.window_id] == f
                preds[k.window_id, t.window_id][test] = model.predict(X[t.window_id][test]) == 1
                tested.append(data[t.window_id].data["user_id"].to_numpy()[test])
            train_users = mk.data["user_id"].to_numpy()[fk != f]
            test_users = np.unique(np.concatenate(tested))
            splits.append(pd.DataFrame({
                "experiment": TRANSFER, "window_id": k.window_id, "split": f"fold{f}",
                "user_id": np.concatenate([train_users, test_users]),
                "role": ["train"] * len(train_users) + ["test"] * len(test_users),
            }))
    rows = []
    for k in windows:
        for t in windows:
            y = data[t.window_id].y
            pair = {"train_window": k.window_id, "test_window": t.window_id,
                    "train_label": k.label, "test_label": t.label, "model": classifier}
            reason = next((data[w.window_id].problem for w in (k, t)
                           if data[w.window_id].problem), no_columns)
            if reason:
                rows.append({**pair, **_counts(y), **_skipped(reason)})
                continue
            pred = preds[k.window_id, t.window_id]
            m = binary_metrics(y, pred)
            lo, hi = f1_interval(y, pred, seed)
            rows.append({
                **pair, "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
                "f1_ci_low": lo, "f1_ci_high": hi, "n_users": m["n_users"], "n_pos": m["n_pos"],
                "status": OK,
            })
    result = pd.DataFrame(rows, columns=TRANSFER_COLUMNS)
    write(con, [
        (DEPARTURE_TRANSFER, result, {"model": classifier}),
        (splits_table(DEPARTURE_TRANSFER), concat_rows(splits, SPLIT_COLUMNS),
         {"experiment": TRANSFER}),
    ])
    return result


def _ranked_importances(window: Window, data: pd.DataFrame, y: np.ndarray, cols: list[str],
                        seed: int, n_repeats: int) -> pd.DataFrame:
    """Gini and permutation importance of ``cols`` (:func:`feature_importance`), ranked."""
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
    ranked = pd.DataFrame({
        "window_id": window.window_id,
        "feature": cols,
        "family": [FEATURES[c].family for c in cols],
        "gini": gini,
        "permutation_mean": drops.mean(axis=1),
        "permutation_std": drops.std(axis=1, ddof=1),
    }).sort_values(["gini", "feature"], ascending=[False, True], ignore_index=True)
    return ranked.assign(rank=np.arange(1, len(ranked) + 1), status=OK)


def feature_importance(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int, n_repeats: int = 3
) -> pd.DataFrame:
    """Figure 9: Gini importance (mean decrease in impurity) of the random forest fit on all
    staying and leaving migrants at k = k_max, each feature's missing-value indicator added to the
    feature; beside it, permutation importance (drop in average precision when the feature is
    shuffled, ``n_repeats`` seeded shuffles) of each fold's forest on its held-out users, mean
    and standard deviation over folds × repeats. Every feature, ranked by Gini (rank 1..10 is
    Figure 9). Writes ``departure_feature_importance`` of the window. The features of a group
    of which every value is null are skipped rows (no rank); every feature is when the window
    is."""
    window = reference_window(cfg)
    matrix = _leaving_vs_staying(con, cfg, window, departure_folds(con, cfg, seed))
    cols, _, no_columns = usable_columns(matrix.data, "departure", with_locals=False)
    problem = matrix.problem or no_columns
    if problem:
        cols = []
    every = feature_columns("departure", with_locals=False)
    left_out = [c for c in every if c not in cols]
    skipped = pd.DataFrame({
        "window_id": window.window_id, "feature": left_out,
        "family": [FEATURES[c].family for c in left_out], "status": SKIPPED,
        "skip_reason": [problem or f"every {GROUP_TITLES[FEATURES[c].departure_group]} "
                        "feature is null" for c in left_out],
    })
    ranked = (_ranked_importances(window, matrix.data, matrix.y, cols, seed, n_repeats)
              if cols else skipped.iloc[:0])
    result = concat_rows([ranked, skipped], IMPORTANCE_COLUMNS).reindex(
        columns=IMPORTANCE_COLUMNS)
    write(con, [(DEPARTURE_FEATURE_IMPORTANCE, result, {"window_id": window.window_id})])
    return result


def curves_against_k(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Figure 8(a–c) as shown: precision, recall and F1 of each classifier and the random
    guess at every k partition of ``departure_models`` that exists (skipped rows with their
    reason). Replaces ``departure_curves``; returns its rows."""
    ensure_schema(con)
    curves = run_sql(con, "models/departure_curves.sql").df()
    write(con, [(DEPARTURE_CURVES, curves, {})])
    return curves
