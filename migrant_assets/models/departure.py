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
- Bounded cost (docs/models.md): every fit sees at most ``models.max_train_rows_per_class``
  training rows of a class (a seeded sample); ``departure_models`` stores every model it fits
  (``departure_models_fitted``) and the transfer matrix, Table 3's all-features row and Figure 9
  reuse them (matched by :func:`fingerprint`), so nothing is fitted twice; permutation
  importance runs on a seeded sample of ``models.permutation_rows`` held-out users per fold,
  and the transfer matrix predicts ``models.transfer_rows`` of them (``test_rows_cap``,
  ``n_users_available``). The result rows record the caps and the rows used
  (``train_rows_cap``, ``n_train``, ``n_train_available``, ``model_caps``, ``fitted_in``).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from migrant_assets.config import ModelSettings, StudyConfig, Window
from migrant_assets.db import run_sql
from migrant_assets.features import FEATURES
from migrant_assets.labels import DEPARTURE_LABELS
from migrant_assets.models.classifiers import (
    CLASSIFIERS,
    DEFAULT_SETTINGS,
    RANDOM_FOREST,
    capped_fit,
    make_classifier,
    model_caps,
    one_blas_thread,
    positive_scores,
    stratified_sample,
    training_rows,
)
from migrant_assets.models.data import (
    DEPARTURE_GROUPS,
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
    uncovered_windows,
    usable_columns,
)
from migrant_assets.models.metrics import (
    binary_metrics,
    f1_interval,
    fold_metrics,
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
    fitted_rows,
    fitted_table,
    fold_metrics_table,
    load_fitted,
    load_fitted_windows,
    signing_key,
    splits_table,
    write,
)
from migrant_assets.models.workers import executor
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

#: What a computed row records of its fits (issue 13): the caps and the rows actually used.
CAP_COLUMNS = ["train_rows_cap", "n_train", "n_train_available", "model_caps", "fitted_in"]
RESULT_COLUMNS = [
    "experiment", "row", "window_id", "window_label", "model", "n_features", "precision",
    "recall", "f1", "f1_ci_low", "f1_ci_high", "pr_auc", "paper_f1", "n_users", "n_pos",
    "prevalence", "seed", "status", "skip_reason", "dropped_groups", *CAP_COLUMNS,
]
FOLD_COLUMNS = ["experiment", "row", "window_id", "model", "fold", "precision", "recall", "f1",
                "pr_auc", "n_test", "n_pos", "n_train", "n_train_available"]
SPLIT_COLUMNS = ["experiment", "window_id", "split", "user_id", "role"]
IMPORTANCE_COLUMNS = ["window_id", "feature", "family", "gini", "permutation_mean",
                      "permutation_std", "rank", "status", "skip_reason", "n_train",
                      "n_train_available", "permutation_rows", "n_permutation_rows",
                      "permutation_repeats"]
TRANSFER_COLUMNS = [
    "train_window", "test_window", "train_label", "test_label", "model", "precision", "recall",
    "f1", "f1_ci_low", "f1_ci_high", "n_users", "n_pos", "status", "skip_reason", *CAP_COLUMNS,
    "test_rows_cap", "n_users_available",
]
#: Figure 8(d) per fold (``departure_transfer_fold_metrics``): the replicates its finding tests.
TRANSFER_FOLD_COLUMNS = ["train_window", "test_window", "model", "fold", "precision", "recall",
                         "f1", "n_test", "n_pos"]
#: Each fold forest's Gini importances, Figure 9 per fold (an auxiliary table).
FOLD_GINI = f"{DEPARTURE_FEATURE_IMPORTANCE}_folds"
IMPORTANCE_FOLD_COLUMNS = ["window_id", "feature", "fold", "gini"]
#: The split of a model fit on every user of a window (the others are ``fold<f>``).
ALL_USERS = "all"


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


def fingerprint(name: str, seed: int, settings: ModelSettings, columns: Sequence[str],
                train_users: np.ndarray) -> str:
    """What a model is fit on: classifier, its caps, seed, feature columns and training users
    (sha256). A stored model is reused only where the fit would have the same fingerprint."""
    digest = hashlib.sha256(json.dumps(
        [name, seed, model_caps(name, settings), settings.max_train_rows_per_class,
         list(columns)]).encode())
    digest.update(np.sort(np.asarray(train_users, dtype=np.int64)).tobytes())
    return digest.hexdigest()


def fit_classifier(name: str, X: np.ndarray, y: np.ndarray, seed: int,
                   settings: ModelSettings, threads: int | None = None,
                   calibration: tuple[str, int] | None = None) -> Any:
    """Classifier ``name`` (:func:`make_classifier`) fit on ``X, y`` under :func:`capped_fit`;
    a forest then predicts on one thread (a few thousand rows: starting threads costs more
    than the trees). ``threads``: the forest's threads for this fit (default
    ``settings.n_jobs``; 1 in a worker process, where fits run side by side); its parameter is
    set back after, so the model is the same wherever it was fit (the trees do not depend on
    the threads). ``calibration``: (method, folds) to fit it inside scikit-learn's
    ``CalibratedClassifierCV`` on that many stratified folds (seeded), as the early warning's
    risk models (``early_warning.py``)."""
    model = make_classifier(name, seed, settings)
    forest = model.named_steps["model"].estimator if name == RANDOM_FOREST else None
    if forest is not None and threads is not None:
        forest.n_jobs = threads
    fitted = model
    if calibration is not None:
        method, folds = calibration
        fitted = CalibratedClassifierCV(
            model, method=method, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    with capped_fit():
        fitted.fit(X, y)
    if forest is not None:
        pipelines = ([model] if calibration is None
                     else [cc.estimator for cc in fitted.calibrated_classifiers_])
        forest.n_jobs = settings.n_jobs
        for pipeline in pipelines:
            pipeline.named_steps["model"].estimator.n_jobs = settings.n_jobs
            pipeline.named_steps["model"].estimator_.n_jobs = 1
    return fitted


def held_out_predictions(model, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether ``model`` predicts each row of ``X`` positive, and its score (for PR-AUC), on one
    BLAS thread."""
    with one_blas_thread():
        return model.predict(X) == 1, positive_scores(model, X)


def _fit_in_worker(name: str, X: np.ndarray, y: np.ndarray, seed: int, settings: ModelSettings,
                   threads: int, held_out: np.ndarray | None,
                   calibration: tuple[str, int] | None = None
                   ) -> tuple[bytes, tuple[np.ndarray, np.ndarray] | None]:
    """:func:`fit_classifier` in a worker process: the model pickled there, as the bytes stored
    (``departure_models_fitted``) of a model fit in this process (an array unpickled in a worker
    carries a copy of its dtype, not numpy's own: viewed with numpy's, so the pickle does not
    hold that copy beside it), and its :func:`held_out_predictions` of the rows ``held_out``."""
    X, y = X.view(np.dtype(X.dtype.str)), y.view(np.dtype(y.dtype.str))
    model = fit_classifier(name, X, y, seed, settings, threads, calibration)
    return (pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
            None if held_out is None else held_out_predictions(model, held_out))


#: A plan of :func:`run_plans_in_turn` (whatever its caller makes).
P = TypeVar("P")


@dataclass
class PendingFit:
    """A fit of :func:`planned_fits` still to run: classifier ``name`` on the ``rows`` of
    ``X, y`` (sliced when the fit is sent to a worker, so that planned fits hold no copies);
    a fold model also predicts the rows ``held_out`` (a mask of ``X``; None for the final
    model). Its model goes into ``fit``, the fit's row. ``calibration``: that of
    :func:`fit_classifier`."""

    fit: dict[str, Any]
    name: str
    X: np.ndarray
    y: np.ndarray
    rows: np.ndarray
    held_out: np.ndarray | None
    seed: int
    settings: ModelSettings
    calibration: tuple[str, int] | None = None

    def arguments(self) -> tuple:
        """The arguments of :func:`fit_classifier`."""
        return self.name, self.X[self.rows], self.y[self.rows], self.seed, self.settings

    def held_out_rows(self) -> np.ndarray | None:
        """The rows the fold model predicts (None for the final model)."""
        return None if self.held_out is None else self.X[self.held_out]


def planned_fits(name: str, X: np.ndarray, y: np.ndarray, users: np.ndarray, fold: np.ndarray,
                 seed: int, settings: ModelSettings = DEFAULT_SETTINGS,
                 columns: Sequence[str] = (), stored: Mapping[str, Mapping] | None = None,
                 final: bool = False) -> tuple[list[dict[str, Any]], list[PendingFit]]:
    """The fits of :func:`fold_fits` before any is run: every fit's row (``model`` missing
    where it is still to be fit) and the fits to run (:class:`PendingFit`, for
    :func:`run_fits`)."""
    plan = [(f"fold{f}", fold != f) for f in np.unique(fold)]
    if final:
        plan.append((ALL_USERS, np.ones(len(y), dtype=bool)))
    fits, pending = [], []
    for split, train in plan:
        key = fingerprint(name, seed, settings, columns, users[train])
        old = (stored or {}).get(split)
        if old is not None and old["fingerprint"] == key:
            fits.append({**old, "split": split, "reused": True})
            continue
        rows = np.flatnonzero(train)
        rows = rows[training_rows(y[rows], settings.max_train_rows_per_class, seed)]
        fits.append({"split": split, "fingerprint": key, "n_train": len(rows),
                     "n_train_available": int(train.sum()), "reused": False})
        pending.append(PendingFit(fits[-1], name, X, y, rows,
                                  None if split == ALL_USERS else ~train, seed, settings))
    return fits, pending


def run_fits_in_turn(groups: Iterable[Sequence[PendingFit]],
                     settings: ModelSettings) -> Iterator[int]:
    """Run the fits of several groups (:func:`planned_fits`; e.g. one group per window, taken
    from ``groups`` one at a time) and yield each group's index, in order, as soon as its fits
    are done, each model in its row. With ``settings.n_jobs`` > 1 the fits go to ``n_jobs``
    worker processes (joblib's reusable executor; a forest on one thread each), the next group
    taken and submitted before a group is waited for: the workers go on with it while the
    caller scores and writes a finished group, and no more than two groups are held at once.
    Each fold model predicts its held-out rows there (``held_out``, for :func:`out_of_fold`;
    ``blob``: the model pickled there). Else one after the other here, a forest on ``n_jobs``
    threads. Every fit is seeded: the models do not depend on where, or with what, they were
    fit."""
    groups = iter(groups)
    if settings.n_jobs <= 1:
        for i, group in enumerate(groups):
            for p in group:
                p.fit["model"] = fit_classifier(*p.arguments(), calibration=p.calibration)
            yield i
        return
    futures: list[list] = []

    def submit(group: Sequence[PendingFit] | None) -> list | None:
        if group is None:
            return None
        if not group:  # nothing to fit starts no worker
            futures.append([])
            return group
        pool = executor(settings.n_jobs)
        futures.append([pool.submit(_fit_in_worker, *p.arguments(), threads=1,
                                    held_out=p.held_out_rows(), calibration=p.calibration)
                        for p in group])
        return group

    try:
        current, i = submit(next(groups, None)), 0
        while current is not None:
            following = submit(next(groups, None))
            for p, future in zip(current, futures.pop(0), strict=True):
                blob, held_out = future.result()
                p.fit["blob"], p.fit["held_out"] = blob, held_out
                p.fit["model"] = pickle.loads(blob)  # noqa: S301 -- this run's own fit
            yield i
            current, i = following, i + 1
    finally:  # the caller stopped early: what is not started is not run
        for pending in futures:
            for future in pending:
                future.cancel()


def run_fits(pending: Sequence[PendingFit], settings: ModelSettings) -> None:
    """Run the fits of :func:`planned_fits` (of one or several classifiers) at once
    (:func:`run_fits_in_turn` of one group); a lone fit runs here, a forest on ``n_jobs``
    threads, rather than in one worker on one."""
    alone = settings.model_copy(update={"n_jobs": 1}) if len(pending) <= 1 else settings
    for _ in run_fits_in_turn([pending], alone):
        pass


def fold_fits(name: str, X: np.ndarray, y: np.ndarray, users: np.ndarray, fold: np.ndarray,
              seed: int, settings: ModelSettings = DEFAULT_SETTINGS,
              columns: Sequence[str] = (), stored: Mapping[str, Mapping] | None = None,
              final: bool = False) -> list[dict[str, Any]]:
    """Classifier ``name`` fit once per fold on the other folds' users (split ``fold<f>``), in
    fold order, and with ``final`` once on every user (split ``all``) last: ``split``,
    ``model``, ``fingerprint``, ``n_train`` (rows fit on), ``n_train_available``, ``reused``.

    A fit sees at most ``settings.max_train_rows_per_class`` rows of a class
    (:func:`training_rows`). The model ``stored`` for a split (:func:`load_fitted`) is taken
    instead of fitting when it was fit on exactly the same (:func:`fingerprint`). The fits run
    in ``settings.n_jobs`` processes (:func:`run_fits`); each is seeded, so the models do not
    depend on where they were fit."""
    fits, pending = planned_fits(name, X, y, users, fold, seed, settings, columns, stored, final)
    run_fits(pending, settings)
    return fits


def out_of_fold(fits: Sequence[Mapping[str, Any]], X: np.ndarray, y: np.ndarray,
                fold: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Out-of-fold predictions and scores, and per-fold metrics: each fold's users are
    predicted by the model of ``fits`` (by fold, as :func:`fold_fits`) fit on the other folds'
    users only (in the worker process that fit it, ``held_out``, else here)."""
    pred = np.zeros(len(y), dtype=bool)
    score = np.zeros(len(y))
    per_fold = []
    for f, fit in zip(np.unique(fold), fits, strict=False):
        test = fold == f
        pred[test], score[test] = (fit.get("held_out")
                                   or held_out_predictions(fit["model"], X[test]))
        per_fold.append({"fold": int(f), **fold_metrics(y[test], pred[test], score[test]),
                         "n_train": fit["n_train"],
                         "n_train_available": fit["n_train_available"]})
    return pred, score, per_fold


def cross_validate(
    name: str, X: np.ndarray, y: np.ndarray, fold: np.ndarray, seed: int,
    settings: ModelSettings = DEFAULT_SETTINGS,
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Out-of-fold predictions and scores of classifier ``name``, and per-fold metrics: each
    fold's users are predicted by a model fit on the other folds' users only
    (:func:`fold_fits`, :func:`out_of_fold`)."""
    fits = fold_fits(name, X, y, np.arange(len(y)), fold, seed, settings)
    return out_of_fold(fits, X, y, fold)


def _caps(name: str, settings: ModelSettings, fits: Sequence[Mapping[str, Any]],
          owner: str) -> dict[str, Any]:
    """The ``CAP_COLUMNS`` of a row computed from the fold models ``fits``."""
    folds = [f for f in fits if f["split"] != ALL_USERS]
    return {
        "train_rows_cap": settings.max_train_rows_per_class,
        "n_train": sum(f["n_train"] for f in folds),
        "n_train_available": sum(f["n_train_available"] for f in folds),
        "model_caps": model_caps(name, settings),
        "fitted_in": DEPARTURE_MODELS if all(f["reused"] for f in folds) else owner,
    }


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


@dataclass
class _Planned:
    """One experiment and window planned by :func:`_plan`: each row's fits (``pending`` still
    to run), scored and written by :func:`_finish` once they have run."""

    experiment: str
    paper_experiment: str
    window: Window
    matrix: Matrix
    seed: int
    fit_final: bool
    owner: str
    settings: ModelSettings
    rows: list[tuple]
    pending: list[PendingFit]


def _plan(
    experiment: str,
    paper_experiment: str,
    window: Window,
    matrix: Matrix,
    rows: Sequence[tuple[str, str, Sequence[str] | None]],
    seed: int,
    fit_final: bool,
    with_locals: bool,
    owner: str,
    settings: ModelSettings = DEFAULT_SETTINGS,
    reuse: Mapping[str, Mapping[str, Mapping]] | None = None,
) -> _Planned:
    """The plan (:func:`planned_fits`, none run; :func:`_run_plans` runs it) to cross-validate
    each ``(row, classifier, groups)`` (groups None: all of them) on ``matrix`` (with
    ``fold``), add the random-guess row, write the rows of ``(experiment, window)`` in one
    transaction to the tables of asset ``owner`` (its results, fold metrics
    and splits; for ``departure_models`` also every model fit, ``departure_models_fitted``). A
    row is skipped with the reason when the matrix is (``matrix.problem``) or when every value
    of its groups is null; groups of which every value is null are left out of the other rows
    (``dropped_groups``). ``reuse[row]``: stored models (:func:`load_fitted`) the row's fits
    take instead of fitting when they match (:func:`fold_fits`)."""
    data, y, problem = matrix.data, matrix.y, matrix.problem
    fold = data["fold"].to_numpy()
    users = data["user_id"].to_numpy()
    planned, pending = [], []
    for row, name, groups in rows:
        cols, dropped, no_columns = usable_columns(data, "departure", with_locals=with_locals,
                                                   groups=groups)
        common = {
            "experiment": experiment, "window_id": window.window_id, "seed": seed,
            "row": row, "window_label": window.label, "model": name,
            "n_features": len(cols), "paper_f1": _paper_f1(paper_experiment, window, row),
            "dropped_groups": ", ".join(dropped) or None,
        }
        if problem or no_columns:
            planned.append((row, name, common, None, None, problem or no_columns))
            continue
        X = data[cols].to_numpy(dtype=float)
        fits, row_pending = planned_fits(name, X, y, users, fold, seed, settings, cols,
                                         (reuse or {}).get(row), final=fit_final)
        pending += row_pending
        planned.append((row, name, common, X, fits, None))
    return _Planned(experiment, paper_experiment, window, matrix, seed, fit_final, owner,
                    settings, planned, pending)


def _finish(con: duckdb.DuckDBPyConnection, plan: _Planned) -> Evaluation:
    """Score the rows of ``plan`` once its fits have run (:func:`run_fits_in_turn`), add the
    random-guess row and write them (:func:`_plan`)."""
    data, y, problem = plan.matrix.data, plan.matrix.y, plan.matrix.problem
    window, seed, owner = plan.window, plan.seed, plan.owner
    fold = data["fold"].to_numpy()
    users = data["user_id"].to_numpy()
    results, fold_rows, models, stored = [], [], {}, []
    base = {"experiment": plan.experiment, "window_id": window.window_id, "seed": seed}
    for row, name, common, X, fits, reason in plan.rows:
        if reason:
            results.append({**common, **_counts(y), **_skipped(reason)})
            continue
        pred, _, per_fold = out_of_fold(fits, X, y, fold)
        lo, hi = f1_interval(y, pred, seed)
        results.append({
            **common, **binary_metrics(y, pred), "prevalence": _counts(y)["prevalence"],
            "pr_auc": float(np.mean([m["pr_auc"] for m in per_fold])),
            "f1_ci_low": lo, "f1_ci_high": hi, "status": OK,
            **_caps(name, plan.settings, fits, owner),
        })
        fold_rows += [{**base, "row": row, "model": name, **m, "n_test": m["n_users"]}
                      for m in per_fold]
        if plan.fit_final:
            models[row] = fits[-1]["model"]
        if owner == DEPARTURE_MODELS:
            stored.append(fitted_rows(signing_key(con), window.window_id, name, fits))
    guess = {
        **base, "row": RANDOM_GUESS, "window_label": window.label, "model": RANDOM_GUESS,
        "n_features": 0, "paper_f1": _paper_f1(plan.paper_experiment, window, RANDOM_GUESS),
    }
    if problem:
        results.append({**guess, **_counts(y), **_skipped(problem)})
    else:
        results.append({**guess, **random_guess(y, seed), "prevalence": _counts(y)["prevalence"],
                        "status": OK})
    result_df = pd.DataFrame(results, columns=RESULT_COLUMNS)
    fold_df = pd.DataFrame(fold_rows, columns=FOLD_COLUMNS)
    key = {"experiment": plan.experiment, "window_id": window.window_id}
    kept = slice(0, 0) if problem else slice(None)  # a skipped experiment splits nobody
    splits = _split_rows(plan.experiment, window, users[kept], fold[kept])
    writes = [(owner, result_df, key), (fold_metrics_table(owner), fold_df, key),
              (splits_table(owner), splits, key)]
    if owner == DEPARTURE_MODELS:
        writes.append((fitted_table(owner), concat_rows(stored, []).reindex(
            columns=fitted_rows(b"", "", "", []).columns), {"window_id": window.window_id}))
    write(con, writes)
    return Evaluation(result_df, fold_df, models)


def run_plans_in_turn(plans: Iterable[P], pending: Callable[[P], Sequence[PendingFit]],
                      settings: ModelSettings) -> Iterator[P]:
    """Each plan of ``plans``, in order, as soon as its fits (``pending(plan)``) are done: the
    plans are made one at a time (``plans`` is read when the next plan's fits are about to be
    submitted) and their fits run in one stream (:func:`run_fits_in_turn`), so the workers fit
    the next plan's while the caller finishes one, and no more than two plans are held here."""
    made: list[P | None] = []

    def groups() -> Iterator[Sequence[PendingFit]]:
        for plan in plans:
            made.append(plan)
            yield pending(plan)

    for i in run_fits_in_turn(groups(), settings):
        plan, made[i] = made[i], None  # its matrices and models are the caller's now
        yield plan


def _run_plans(con: duckdb.DuckDBPyConnection, plans: Iterable[Callable[[], _Planned]],
               settings: ModelSettings) -> Iterator[Evaluation]:
    """Each plan's :class:`Evaluation`, in order: each callable of ``plans`` makes its plan
    when its fits are about to be submitted (:func:`run_plans_in_turn`), and a plan is scored
    and written (:func:`_finish`) as soon as its fits are done."""
    for planned in run_plans_in_turn((make() for make in plans), lambda p: p.pending, settings):
        yield _finish(con, planned)


def _leaving_vs_staying(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, window: Window,
    folds: tuple[pd.DataFrame, str | None], uncovered: Mapping[str, str] | None = None,
) -> Matrix:
    """The staying and leaving migrants of ``window`` on the shared folds ``(folds, reason
    there are none)``, and what the data cannot support: days the calls do not cover
    (``uncovered``: :func:`uncovered_windows` of the caller's windows, else of this one), too
    few of a class, no folds, users without a fold, a fold whose training users lack a
    class."""
    data = load_matrix(con, [window], STAYING_AND_LEAVING)
    y = (data["label"] == "leaving_migrant").to_numpy()
    if uncovered is None:
        uncovered = uncovered_windows(con, cfg, [window])
    not_covered = uncovered.get(window.window_id)
    problem = class_problem(data["label"], class_names(STAYING_AND_LEAVING), min_class_size(cfg))
    stored, no_folds = folds
    k = (window.end - window.start).days + 1
    if problem and window.family == "first_k_days" and k < cfg.calendar.k_max:
        among = f"{problem} among the migrants active in the first {k} days"
        if not stored.empty:
            # the study has them (k = k_max's folds), but few have called by this window's end
            problem = (f"{among} (the study's {len(stored):,} migrants of k = "
                       f"{cfg.calendar.k_max}: the others had no call yet)")
        elif not no_folds or problem not in no_folds:
            # the study's own reason first (it holds for every k), unless it is this one
            problem = f"{no_folds} (and {among})" if no_folds else among
    data, no_fold = attach_folds(data, stored)
    problem = not_covered or problem or no_folds or no_fold
    if not problem:
        problem = fold_problem(y, data["fold"].to_numpy(), LEAVING_NAMES)
    return Matrix(data, y, problem)


def evaluate_windows(
    con: duckdb.DuckDBPyConnection,
    cfg: StudyConfig,
    windows: Sequence[Window],
    seed: int,
    classifiers: Sequence[str] = CLASSIFIERS,
) -> Iterator[Evaluation]:
    """Leaving vs staying migrants on each first-k-days window, every classifier on all
    features (Figure 8(a–c); Table 2 at k = k_max), on the shared folds: each window's
    :class:`Evaluation`, in order. Writes experiment ``leaving_vs_staying`` of each window to
    ``departure_models`` as soon as its fits are done (skipped rows when the data cannot
    support it), while the worker processes fit the next windows (:func:`run_fits_in_turn`);
    ``models`` holds each classifier fit on all the window's users. Every model fit is stored
    (``departure_models_fitted``) for the assets that reuse it. The fits' worker processes stay
    for the caller's next windows: :func:`release_workers` after the last."""
    folds = departure_folds(con, cfg, seed)
    uncovered = uncovered_windows(con, cfg, windows)
    rows = [(name, name, None) for name in classifiers]

    def plan(window: Window) -> _Planned:
        return _plan(LEAVING_VS_STAYING, TABLE2, window,
                     _leaving_vs_staying(con, cfg, window, folds, uncovered), rows, seed,
                     fit_final=True, with_locals=False, owner=DEPARTURE_MODELS,
                     settings=cfg.models)

    yield from _run_plans(con, [partial(plan, w) for w in windows], cfg.models)


def evaluate_window(
    con: duckdb.DuckDBPyConnection,
    cfg: StudyConfig,
    window: Window,
    seed: int,
    classifiers: Sequence[str] = CLASSIFIERS,
) -> Evaluation:
    """:func:`evaluate_windows` of one window."""
    [evaluation] = evaluate_windows(con, cfg, [window], seed, classifiers)
    return evaluation


def _table1_plan(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int) -> _Planned:
    window = reference_window(cfg)
    data = load_matrix(con, [window], DEPARTURE_LABELS)
    y = (data["label"] != "local").to_numpy()
    problem = (uncovered_windows(con, cfg, [window]).get(window.window_id)
               or class_problem(pd.Series(y), NEW_NAMES, min_class_size(cfg)))
    data = data.assign(fold=stratified_folds(data["label"] == "local", seed) if not problem
                       else -1)
    rows = [(ALL_FEATURES, RANDOM_FOREST, None)]
    rows += [(TABLE1_ROWS[g], RANDOM_FOREST, [g]) for g in DEPARTURE_GROUPS]
    return _plan(TABLE1, TABLE1, window, Matrix(data, y, problem), rows, seed, fit_final=False,
                 with_locals=True, owner=DEPARTURE_TABLES, settings=cfg.models)


def _table3_plan(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int) -> _Planned:
    window = reference_window(cfg)
    matrix = _leaving_vs_staying(con, cfg, window, departure_folds(con, cfg, seed))
    rows = [(ALL_FEATURES, RANDOM_FOREST, None)]
    rows += [(TABLE3_ROWS[g], RANDOM_FOREST, [g]) for g in DEPARTURE_GROUPS]
    reuse = {ALL_FEATURES: load_fitted(con, window.window_id, RANDOM_FOREST,
                                       cfg.duckdb.memory_limit)}
    return _plan(TABLE3, TABLE3, window, matrix, rows, seed, fit_final=False,
                 with_locals=False, owner=DEPARTURE_TABLES, settings=cfg.models, reuse=reuse)


def table1_new_vs_locals(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int) -> Evaluation:
    """Table 1: new migrants (staying + leaving) vs locals at k = k_max, random forest, all features
    and each departure group alone, ``townsman`` excluded. Own stratified folds (seeded)."""
    [evaluation] = _run_plans(con, [lambda: _table1_plan(con, cfg, seed)], cfg.models)
    return evaluation


def table3_feature_groups(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> Evaluation:
    """Table 3: leaving vs staying at k = k_max, random forest on all features and on each
    departure group alone, on the shared folds. The all-features row is Table 2's random
    forest: its fold models are the ones ``departure_models`` stored for k = k_max (fit here
    only when they are missing or were fit on something else)."""
    [evaluation] = _run_plans(con, [lambda: _table3_plan(con, cfg, seed)], cfg.models)
    return evaluation


def tables_1_and_3(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> tuple[Evaluation, Evaluation]:
    """:func:`table1_new_vs_locals` and :func:`table3_feature_groups`, their fits in one stream
    of the worker processes (Table 1 written while Table 3's are fit)."""
    t1, t3 = _run_plans(con, [lambda: _table1_plan(con, cfg, seed),
                              lambda: _table3_plan(con, cfg, seed)], cfg.models)
    return t1, t3


def _predict_fold(X: Sequence[np.ndarray], fold: Sequence[np.ndarray], on: list[int], f: int,
                  model: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Whether ``model`` (fit on the columns ``on``) predicts positive each test user of fold
    ``f`` of every window (``X``, ``fold``: each window's matrix and folds), in one prediction
    of them all; and each window's mask of those users."""
    tests = [window_fold == f for window_fold in fold]
    stacked = np.concatenate([x[test][:, on] for x, test in zip(X, tests, strict=True)])
    return tests, (model.predict(stacked) == 1 if len(stacked) else np.zeros(0, dtype=bool))


def transfer_sample(y: np.ndarray, fold: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Which users of a window the transfer matrix tests: in each fold, a seeded sample of
    about ``size`` of its users, every class at one rate (``stratified_sample``), or all of
    them when there are no more."""
    keep = np.zeros(len(y), dtype=bool)
    for f in np.unique(fold):
        rows = np.flatnonzero(fold == f)
        keep[rows[stratified_sample(y[rows], size, seed)]] = True
    return keep


def transfer_matrix(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int, classifier: str = RANDOM_FOREST
) -> pd.DataFrame:
    """Figure 8(d): for every pair of available windows (k, t) and every fold, the classifier
    fit on the fold-train users' first-k-days features predicts the fold-test users'
    first-t-days features; metrics pooled over folds. The fold models are those
    ``departure_models`` fit and stored for each k (the diagonal k = t is exactly the per-k
    evaluation of :func:`evaluate_window`); a model missing or fit on something else is fit
    here. Each fold of a window t is tested on a seeded sample of about
    ``models.transfer_rows`` of its users, every class at one rate (:func:`transfer_sample`),
    the same for every k: with fewer users, all of them, and the diagonal is the per-k
    evaluation. Writes ``departure_transfer`` (of ``classifier``) and its splits (experiment
    ``transfer``, per train window) in one transaction. A pair whose k or t window the data
    cannot support is a skipped row with the reason of that window (k's first); groups of
    which every value is null in window k are left out of its models, as in
    :func:`evaluate_window`."""
    settings = cfg.models
    windows = first_k_windows(con, cfg)
    folds = departure_folds(con, cfg, seed)
    uncovered = uncovered_windows(con, cfg, windows)
    data = {w.window_id: _leaving_vs_staying(con, cfg, w, folds, uncovered) for w in windows}
    cols, reason = {}, {}
    for w in windows:
        m = data[w.window_id]
        cols[w.window_id], _, no_columns = usable_columns(m.data, "departure", with_locals=False)
        reason[w.window_id] = m.problem or no_columns
    usable = [w for w in windows if reason[w.window_id] is None]
    every = feature_columns("departure", with_locals=False)
    X = {w.window_id: data[w.window_id].data[every].to_numpy(dtype=float) for w in usable}
    fold = {w.window_id: data[w.window_id].data["fold"].to_numpy() for w in usable}
    tested = {w.window_id: transfer_sample(data[w.window_id].y, fold[w.window_id],
                                           settings.transfer_rows, seed) for w in usable}
    users = {w.window_id: data[w.window_id].data["user_id"].to_numpy() for w in usable}
    preds = {(k.window_id, t.window_id): np.zeros(len(fold[t.window_id]), dtype=bool)
             for k in usable for t in usable}
    splits, caps = [], {}
    stored = load_fitted_windows(con, [k.window_id for k in usable], classifier,
                                 cfg.duckdb.memory_limit)
    for k, stored_k in zip(usable, stored, strict=True):
        mk, fk, ck = data[k.window_id], fold[k.window_id], cols[k.window_id]
        on = [every.index(c) for c in ck]
        fits = fold_fits(classifier, X[k.window_id][:, on], mk.y, users[k.window_id], fk, seed,
                         settings, ck, stored_k)
        caps[k.window_id] = _caps(classifier, settings, fits, DEPARTURE_TRANSFER)

        # the folds' predictions side by side in threads (the trees' work releases the GIL),
        # each forest on one thread as it was fit: the same predictions as one after the other
        predict = partial(_predict_fold, [X[t.window_id] for t in usable],
                          [np.where(tested[t.window_id], fold[t.window_id], -1) for t in usable],
                          on)
        with one_blas_thread(), ThreadPoolExecutor(max_workers=settings.n_jobs) as pool:
            predicted = list(pool.map(predict, np.unique(fk), [fit["model"] for fit in fits]))
        for f, (tests, pred) in zip(np.unique(fk), predicted, strict=True):
            start = 0
            for t, test in zip(usable, tests, strict=True):
                preds[k.window_id, t.window_id][test] = pred[start:start + test.sum()]
                start += test.sum()
            train_users = users[k.window_id][fk != f]
            test_users = np.unique(np.concatenate([users[t.window_id][test]
                                                   for t, test in zip(usable, tests,
                                                                      strict=True)]))
            splits.append(pd.DataFrame({
                "experiment": TRANSFER, "window_id": k.window_id, "split": f"fold{f}",
                "user_id": np.concatenate([train_users, test_users]),
                "role": ["train"] * len(train_users) + ["test"] * len(test_users),
            }))
    rows, fold_rows = [], []
    for k in windows:
        for t in windows:
            y = data[t.window_id].y
            pair = {"train_window": k.window_id, "test_window": t.window_id,
                    "train_label": k.label, "test_label": t.label, "model": classifier}
            pair["n_users_available"] = len(y)
            why = reason[k.window_id] or reason[t.window_id]
            if why:  # nothing tested: the window's users, no cap (as train_rows_cap)
                rows.append({**pair, **_counts(y), **_skipped(why)})
                continue
            keep = tested[t.window_id]
            y, fold_t = y[keep], fold[t.window_id][keep]
            pred = preds[k.window_id, t.window_id][keep]
            m = binary_metrics(y, pred)
            lo, hi = f1_interval(y, pred, seed)
            for f in np.unique(fold_t):
                test = fold_t == f
                fm = fold_metrics(y[test], pred[test])
                fold_rows.append({**pair, "fold": int(f), "precision": fm["precision"],
                                  "recall": fm["recall"], "f1": fm["f1"],
                                  "n_test": fm["n_users"], "n_pos": fm["n_pos"]})
            rows.append({
                **pair, "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
                "f1_ci_low": lo, "f1_ci_high": hi, "n_users": m["n_users"], "n_pos": m["n_pos"],
                "status": OK, **caps[k.window_id], "test_rows_cap": settings.transfer_rows,
            })
    result = pd.DataFrame(rows, columns=TRANSFER_COLUMNS)
    write(con, [
        (DEPARTURE_TRANSFER, result, {"model": classifier}),
        (fold_metrics_table(DEPARTURE_TRANSFER),
         pd.DataFrame(fold_rows, columns=TRANSFER_FOLD_COLUMNS), {"model": classifier}),
        (splits_table(DEPARTURE_TRANSFER), concat_rows(splits, SPLIT_COLUMNS),
         {"experiment": TRANSFER}),
    ])
    return result


def forest_gini(model, n_columns: int) -> np.ndarray:
    """Gini importance of each of the ``n_columns`` features of a fitted forest pipeline
    (:func:`make_classifier`), the importance of its missing-value indicator added."""
    raw = model.named_steps["model"].estimator_.feature_importances_
    indicator = model.named_steps["impute"].indicator_
    return raw[:n_columns] + np.bincount(indicator.features_, weights=raw[n_columns:],
                                         minlength=n_columns)


def _fold_gini(window: Window, cols: list[str], fits: Sequence[Mapping[str, Any]],
               fold: np.ndarray) -> pd.DataFrame:
    """The Gini importance of each fold forest of ``fits`` (fold order, as :func:`fold_fits`)."""
    return concat_rows((
        pd.DataFrame({"window_id": window.window_id, "feature": cols, "fold": int(f),
                      "gini": forest_gini(fit["model"], len(cols))})
        for f, fit in zip(np.unique(fold), fits, strict=False)
    ), IMPORTANCE_FOLD_COLUMNS)


#: Rows of one batch of shuffled copies predicted at once by :func:`permutation_drops`.
PERMUTATION_BATCH_ROWS = 60_000


def permutation_drops(model, X: np.ndarray, y: np.ndarray, n_repeats: int, seed: int,
                      batch_rows: int = PERMUTATION_BATCH_ROWS) -> np.ndarray:
    """Permutation importance of each column of ``X`` for a binary ``model`` with
    probabilities (a forest pipeline): the drop in average precision of its positive-class
    probability when the column is shuffled, ``(columns, n_repeats)``. The same numbers as
    scikit-learn's ``permutation_importance(model, X, y, scoring="average_precision",
    n_repeats=n_repeats, random_state=seed)`` (the same seeded shuffles: one seed drawn from
    ``seed``, every column shuffled from it, repeat r shuffling repeat r−1's column), computed
    with the shuffled copies stacked and predicted together, up to ``batch_rows`` rows a call:
    a row's probability does not depend on the rows beside it, and one call per copy is
    mostly the forest's per-call overhead (issue 13)."""
    n, m = X.shape
    draws = np.random.RandomState(np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1))
    order, rows, shuffled = np.arange(n), np.arange(n), []
    for _ in range(n_repeats):
        draws.shuffle(order)
        rows = rows[order]  # repeat r's column: repeat r-1's, indexed by the shuffled order
        shuffled.append(rows)
    positive = np.flatnonzero(model.classes_ == 1)[0]

    def precision(scores: np.ndarray) -> float:
        return average_precision_score(y, scores)

    with one_blas_thread():
        baseline = precision(model.predict_proba(X)[:, positive])
        scores = np.empty((m, n_repeats))
        per_batch = max(1, batch_rows // max(1, n * n_repeats))
        for start in range(0, m, per_batch):
            columns = range(start, min(m, start + per_batch))
            block = np.tile(X, (len(columns) * n_repeats, 1))
            for i, (j, r) in enumerate((j, r) for j in columns for r in range(n_repeats)):
                block[i * n:(i + 1) * n, j] = X[shuffled[r], j]
            proba = model.predict_proba(block)[:, positive]
            for i, (j, r) in enumerate((j, r) for j in columns for r in range(n_repeats)):
                scores[j, r] = precision(proba[i * n:(i + 1) * n])
    return baseline - scores


def _ranked_importances(window: Window, data: pd.DataFrame, y: np.ndarray, cols: list[str],
                        seed: int, n_repeats: int, settings: ModelSettings,
                        stored: Mapping[str, Mapping]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gini and permutation importance of ``cols`` (:func:`feature_importance`), ranked, and
    each fold forest's Gini importances."""
    X, fold = data[cols].to_numpy(dtype=float), data["fold"].to_numpy()
    fits = fold_fits(RANDOM_FOREST, X, y, data["user_id"].to_numpy(), fold, seed, settings,
                     cols, stored, final=True)
    gini = forest_gini(fits[-1]["model"], len(cols))

    drops, n_rows = [], 0
    for f, fit in zip(np.unique(fold), fits, strict=False):
        test = np.flatnonzero(fold == f)
        test = test[stratified_sample(y[test], settings.permutation_rows, seed)]
        n_rows += len(test)
        drops.append(permutation_drops(fit["model"], X[test], y[test], n_repeats, seed))
    drops = np.concatenate(drops, axis=1)
    ranked = pd.DataFrame({
        "window_id": window.window_id,
        "feature": cols,
        "family": [FEATURES[c].family for c in cols],
        "gini": gini,
        "permutation_mean": drops.mean(axis=1),
        "permutation_std": drops.std(axis=1, ddof=1),
    }).sort_values(["gini", "feature"], ascending=[False, True], ignore_index=True)
    return ranked.assign(rank=np.arange(1, len(ranked) + 1), status=OK,
                         n_train=fits[-1]["n_train"],
                         n_train_available=fits[-1]["n_train_available"],
                         permutation_rows=settings.permutation_rows, n_permutation_rows=n_rows,
                         permutation_repeats=n_repeats), _fold_gini(window, cols, fits, fold)


def feature_importance(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int, n_repeats: int | None = None
) -> pd.DataFrame:
    """Figure 9: Gini importance (mean decrease in impurity) of the random forest fit on all
    staying and leaving migrants at k = k_max, each feature's missing-value indicator added to the
    feature; beside it, permutation importance (drop in average precision when the feature is
    shuffled, ``n_repeats`` seeded shuffles, default ``models.permutation_repeats``) of each
    fold's forest on a seeded sample of ``models.permutation_rows`` of its held-out users
    (stratified by class), mean and standard deviation over folds × repeats. The forests are
    those ``departure_models`` stored for k = k_max (fit here only when missing or fit on
    something else). Every feature, ranked by Gini (rank 1..10 is Figure 9). Writes
    ``departure_feature_importance`` of the window. The features of a group of which every
    value is null are skipped rows (no rank); every feature is when the window is."""
    settings = cfg.models
    n_repeats = settings.permutation_repeats if n_repeats is None else n_repeats
    window = reference_window(cfg)
    matrix = _leaving_vs_staying(con, cfg, window, departure_folds(con, cfg, seed))
    cols, dropped, no_columns = usable_columns(matrix.data, "departure", with_locals=False)
    problem = matrix.problem or no_columns
    if problem:
        cols = []
    every = feature_columns("departure", with_locals=False)
    left_out = [c for c in every if c not in cols]
    skipped = pd.DataFrame({
        "window_id": window.window_id, "feature": left_out,
        "family": [FEATURES[c].family for c in left_out], "status": SKIPPED,
        # the group's own reason: every value null, or one value for everyone (probe 35 L1)
        "skip_reason": [problem or dropped[FEATURES[c].departure_group] for c in left_out],
    })
    ranked, per_fold = (
        _ranked_importances(window, matrix.data, matrix.y, cols, seed, n_repeats, settings,
                            load_fitted(con, window.window_id, RANDOM_FOREST,
                                        cfg.duckdb.memory_limit))
        if cols else (skipped.iloc[:0], pd.DataFrame(columns=IMPORTANCE_FOLD_COLUMNS)))
    result = concat_rows([ranked, skipped], IMPORTANCE_COLUMNS).reindex(
        columns=IMPORTANCE_COLUMNS)
    write(con, [(DEPARTURE_FEATURE_IMPORTANCE, result, {"window_id": window.window_id}),
                (FOLD_GINI, per_fold, {"window_id": window.window_id})])
    return result


def curves_against_k(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Figure 8(a–c) as shown: precision, recall and F1 of each classifier and the random
    guess at every k partition of ``departure_models`` that exists (skipped rows with their
    reason). Replaces ``departure_curves``; returns its rows."""
    ensure_schema(con)
    curves = run_sql(con, "models/departure_curves.sql").df()
    write(con, [(DEPARTURE_CURVES, curves, {})])
    return curves
