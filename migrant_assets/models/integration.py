"""Integration study classifiers (SPEC §6; paper 001, Section 5).

Protocol (docs/models.md):

- One split per seed: a random 50% of the users of W2..W4 (stratified by label) is the training
  half; the classifiers are fit on the training half's W2 rows. Test rows are the other half's
  rows of W2, W3 and W4. The paper tests on "100% of data in week 3 and week 4"; here the
  training users' W3 and W4 rows are left out too, so that no user is both trained on and
  tested (a user's weeks are strongly correlated).
- ℓ2 logistic regression, C chosen by stratified 5-fold CV on the training rows (F1 of the
  migrants for the binary task, macro F1 for the three-way one), then refit on all of them.
- Settled migrants vs locals (positive: settled migrants), no class weights (≈1:1.7). Greedy
  backward removal of the groups D, E, C, G: at each step every remaining group is dropped in
  turn and the candidate is scored by its cross-validated F1 on the training users (the test
  users are never used to choose); the paper's rule (``remove="most"``) drops the group whose
  removal lowers F1 the most ("the most influential feature set", G first in the paper), ties
  broken in D, E, C, G order. ``remove="least"`` is classic backward elimination. After each
  step the refit model's test F1 per week is reported.
- Share classified as locals: the all-features model applied to the test half's settled
  migrants and to every new migrant (never in its training set), per week.
- Three-way (local / settled / new): multinomial ℓ2 logistic regression with
  ``class_weight='balanced'`` (new migrants are ≈1%), F1 of each class one-vs-rest per week.
- ``townsman`` is excluded everywhere (locals are in every classifier); housing prices are not
  features of this study.
- What the data cannot support is written as skipped rows with the reason (issue 10), never
  raised: a class of the training half under ``thresholds.min_class_size`` (or under the 5 CV
  folds), a test week without a class; a group of which every value is null in the training
  rows is left out of every step (``dropped_groups``) and recorded as a skipped row.
- Bounded cost (docs/models.md): the training rows of a class above
  ``models.max_train_rows_per_class`` are sampled (seeded) before the search, every class at
  the rate of the largest for the unweighted settled-vs-locals regression (its prior kept),
  each class to the cap for the balanced three-way one; C is searched over ``models.c_grid``
  with warm-started paths, the solver run to ``models.lr_tol``. Rows record ``train_rows_cap``,
  ``n_train``, ``n_train_available``, ``c_grid_size``, ``cv_folds`` and ``lr_tol``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from migrant_assets.config import ModelSettings, StudyConfig
from migrant_assets.labels import INTEGRATION_LABELS
from migrant_assets.models.classifiers import (
    CV_FOLDS,
    capped_fit,
    training_rows,
    tuned_logistic_regression,
)
from migrant_assets.models.data import (
    INTEGRATION_GROUPS,
    class_names,
    class_problem,
    feature_columns,
    integration_halves,
    integration_weeks,
    load_matrix,
    min_class_size,
    uncovered_windows,
    usable_columns,
)
from migrant_assets.models.metrics import binary_metrics, f1_interval, random_guess, share_interval
from migrant_assets.models.reference import PAPER_F1, PAPER_SHARE
from migrant_assets.models.store import (
    INTEGRATION_MODELS,
    OK,
    SKIPPED,
    concat_rows,
    splits_table,
    write,
)
from migrant_assets.models.workers import map_in_workers, submit

SETTLED_VS_LOCALS = "settled_vs_locals_lr"
#: The backward removal's candidates per CV fold (an auxiliary table of integration_models).
CANDIDATES = f"{INTEGRATION_MODELS}_candidates"
CANDIDATE_COLUMNS = ["experiment", "step", "candidate", "removed", "chosen", "fold", "cv_f1"]
CLASSIFIED_AS_LOCALS = "classified_as_locals"
THREE_WAY = "three_way"
ALL_FEATURES = "all features"
RANDOM_GUESS = "random guess"
#: The paper's names of the three groups of users.
GROUP_ROWS = {"local": "locals", "settled_migrant": "settled migrants",
              "new_migrant": "new migrants"}
PAPER_WEEK = "W2"  # the week of the paper's three-way F1 (it drops over the later weeks)

COLUMNS = [
    "experiment", "row", "target", "step", "removed_group", "window_id", "week", "precision",
    "recall", "f1", "f1_ci_low", "f1_ci_high", "share", "share_ci_low", "share_ci_high",
    "cv_f1", "c", "paper_value", "n_users", "prevalence", "seed", "status", "skip_reason",
    "dropped_groups", "train_rows_cap", "n_train", "n_train_available", "c_grid_size",
    "cv_folds", "lr_tol",
]
SPLIT_COLUMNS = ["experiment", "window_id", "split", "user_id", "role"]


@dataclass(frozen=True)
class IntegrationEvaluation:
    """Rows written to ``integration_models`` and the fitted models by name, for saving."""

    results: pd.DataFrame
    models: dict[str, object]


def _data(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int) -> pd.DataFrame:
    """The integration weeks' model matrix, read once, with each user's half
    (:func:`~migrant_assets.models.data.integration_split`)."""
    data = load_matrix(con, integration_weeks(cfg), INTEGRATION_LABELS)
    split = integration_halves(data[["user_id", "label"]], seed)
    return data.merge(split[["user_id", "half"]], on="user_id", how="left", validate="m:1")


def evaluate_integration(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> tuple[IntegrationEvaluation, IntegrationEvaluation]:
    """:func:`settled_vs_locals` and :func:`three_way` on one read of the model matrix, the
    three-way regression fit in a worker process while the backward removal runs."""
    data = _data(con, cfg, seed)
    uncovered = uncovered_windows(con, cfg, integration_weeks(cfg))
    training = _three_way_training(cfg, data, uncovered)
    fit = None if training.problem else submit(*_three_way_fit(cfg, seed, training),
                                               cfg.models.n_jobs)
    try:
        settled = settled_vs_locals(con, cfg, seed, data=data, uncovered=uncovered)
    except BaseException:
        if fit is not None:
            fit.cancel()  # not started: not run
        raise
    return settled, three_way(con, cfg, seed, data=data, uncovered=uncovered,
                              fitted=None if fit is None else fit.result())


def _split_rows(experiment: str, week_id: str, train: np.ndarray, test: np.ndarray):
    return pd.DataFrame({
        "experiment": experiment, "window_id": week_id, "split": "half",
        "user_id": np.concatenate([train, test]),
        "role": ["train"] * len(train) + ["test"] * len(test),
    })


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def _write(con, frames: dict[str, pd.DataFrame], splits: list[pd.DataFrame],
           experiment: str, candidates: pd.DataFrame | None = None) -> None:
    """The rows of each experiment of ``frames``, the splits of ``experiment`` and, when given,
    its backward-removal candidates, to the tables of ``integration_models``, in one
    transaction."""
    extra = [] if candidates is None else [(CANDIDATES, candidates, {"experiment": experiment})]
    write(con, [
        *((INTEGRATION_MODELS, df, {"experiment": name}) for name, df in frames.items()),
        (splits_table(INTEGRATION_MODELS), concat_rows(splits, SPLIT_COLUMNS),
         {"experiment": experiment}),
        *extra,
    ])


def _candidate_rows(steps: Sequence[tuple], tried: Sequence[tuple[int, str, Any]]
                    ) -> pd.DataFrame:
    """``integration_models_candidates``: every candidate of every removal step with its CV
    F1 per fold (``fold_scores_``); ``removed`` names the groups it leaves out."""
    chosen = {step: group for step, (group, *_) in enumerate(steps)}
    earlier = {step: "".join(g for g, *_ in steps[1:step]) for step in chosen}
    return concat_rows((
        pd.DataFrame({"experiment": SETTLED_VS_LOCALS, "step": step, "candidate": group,
                      "removed": earlier[step] + group, "chosen": chosen[step] == group,
                      "fold": np.arange(len(search.fold_scores_)),
                      "cv_f1": search.fold_scores_})
        for step, group, search in tried
    ), CANDIDATE_COLUMNS)


def _skipped(reason: str) -> dict:
    return {"status": SKIPPED, "skip_reason": reason}


def _dropped_rows(base: dict, dropped: Mapping[str, str]) -> list[dict]:
    """A skipped row per group left out (every value of it null, or one value for every user:
    ``models.data.group_problem``)."""
    return [{**base, "row": f"group {g}", "removed_group": g, "n_users": 0,
             **_skipped(f"{why} in the training rows: the group is left out of every step")}
            for g, why in dropped.items()]


def _fit_tuned(settings: ModelSettings, seed: int, X: np.ndarray, y: np.ndarray, *,
               scoring: str, class_weight: str | None, keep_proportions: bool
               ) -> tuple[Any, dict]:
    """:func:`tuned_logistic_regression` fit on at most ``models.max_train_rows_per_class``
    training rows of a class (:func:`training_rows`), and the caps columns of its rows."""
    rows = training_rows(y, settings.max_train_rows_per_class, seed,
                         keep_proportions=keep_proportions)
    search = tuned_logistic_regression(seed, scoring=scoring, class_weight=class_weight,
                                       settings=settings)
    with capped_fit():
        search.fit(X[rows], y[rows])
    return search, {"train_rows_cap": settings.max_train_rows_per_class, "n_train": len(rows),
                    "n_train_available": len(y), "c_grid_size": len(settings.c_grid),
                    "cv_folds": CV_FOLDS, "lr_tol": settings.lr_tol}


def _test_problem(y: pd.Series, classes: dict, week: str) -> str | None:
    """Why the test users of one week cannot score a classifier: a class absent."""
    problem = class_problem(y, classes, minimum=1, n_folds=None)
    return f"test users of {week}: {problem}" if problem else None


def backward_removal(
    groups: Sequence[str],
    fit: Callable[[list[list[str]]], list[tuple[Any, list[str]]]],
    remove: Literal["most", "least"] = "most",
    candidates: list[tuple[int, str, Any]] | None = None,
) -> list[tuple[str | None, Any, list[str]]]:
    """Greedy backward removal of feature groups: ``fit(kept)`` fits each list of groups of
    ``kept`` (a step's candidates, side by side when it can) and returns, for each, a fitted
    search (with ``best_score_``, the cross-validated score on the training users) and its
    columns. Each step drops the group whose removal leaves the lowest score (``"most"``
    influential, the paper's rule) or the highest (``"least"``), ties in ``groups`` order,
    until one group is left. Returns ``(removed group, search, columns)`` per step, step 0
    (nothing removed) first; ``candidates``, when given, receives ``(step, group, search)`` of
    every candidate of every step (the ablation findings compare them, reports/findings.py)."""
    remaining = list(groups)
    steps = [(None, *fit([remaining])[0])]
    while len(remaining) > 1:
        fits = fit([[r for r in remaining if r != g] for g in remaining])
        tried = dict(zip(remaining, fits, strict=True))
        score = {g: search.best_score_ for g, (search, _) in tried.items()}
        pick = (min if remove == "most" else max)(remaining, key=score.__getitem__)
        if candidates is not None:
            candidates += [(len(steps), g, search) for g, (search, _) in tried.items()]
        remaining.remove(pick)
        steps.append((pick, *tried[pick]))
    return steps


def _training_problem(cfg: StudyConfig, data: pd.DataFrame, train: pd.DataFrame,
                      classes: Mapping[str, str], uncovered: Mapping[str, str]) -> str | None:
    """Why an integration classifier cannot be fit on ``train``, the training half's W2 rows
    of ``data``: W2's days not covered, a class too small among the study's W2 users (both
    halves: no split could give the training half enough; said of the study's users), or in
    the training half. None when it can."""
    w2 = integration_weeks(cfg)[0]
    if uncovered.get(w2.window_id):
        return f"training half ({w2.label}): {uncovered[w2.window_id]}"
    everyone = data.loc[data["window_id"] == w2.window_id, "label"]
    study = class_problem(everyone, classes, min_class_size(cfg))
    if study:
        return f"the study's users in {w2.label}: {study}"
    half = class_problem(train["label"], classes, min_class_size(cfg))
    return half and f"training half ({w2.label}): {half}"


def settled_vs_locals(
    con: duckdb.DuckDBPyConnection,
    cfg: StudyConfig,
    seed: int,
    remove: Literal["most", "least"] = "most",
    data: pd.DataFrame | None = None,
    uncovered: Mapping[str, str] | None = None,
) -> IntegrationEvaluation:
    """Settled migrants vs locals with greedy backward removal of groups, and the share of
    settled and new migrants classified as locals per week (SPEC §6; module docstring).
    Writes experiments ``settled_vs_locals_lr`` and ``classified_as_locals``; skipped rows
    when the data cannot support them. ``data``: :func:`_data` of the same ``con``, ``cfg`` and
    ``seed`` (:func:`evaluate_integration`'s one read), read here when not given; ``uncovered``
    likewise: :func:`~migrant_assets.models.data.uncovered_windows` of the weeks."""
    weeks = integration_weeks(cfg)
    data = _data(con, cfg, seed) if data is None else data
    binary = data["label"].isin(["local", "settled_migrant"])
    train = data[binary & (data["half"] == "train") & (data["window_id"] == weeks[0].window_id)]
    y_train = (train["label"] == "settled_migrant").to_numpy()
    classes = class_names(["settled_migrant", "local"])
    if uncovered is None:
        uncovered = uncovered_windows(con, cfg, weeks)
    problem = _training_problem(cfg, data, train, classes, uncovered)
    _, dropped, no_columns = usable_columns(train, "integration", with_locals=True)
    problem = problem or no_columns
    kept = [g for g in INTEGRATION_GROUPS if g not in dropped]

    caps: dict = {}  # the same training rows at every step

    def fit(kept: list[list[str]]):
        columns = [feature_columns("integration", with_locals=True, groups=groups)
                   for groups in kept]
        tuned = partial(_fit_tuned, scoring="f1", class_weight=None, keep_proportions=True)
        fitted = map_in_workers(
            tuned, [(cfg.models, seed, train[cols].to_numpy(dtype=float), y_train)
                    for cols in columns], cfg.models.n_jobs)
        for _, fit_caps in fitted:
            caps.update(fit_caps)
        return [(search, cols) for (search, _), cols in zip(fitted, columns, strict=True)]

    tried: list[tuple[int, str, Any]] = []
    steps = [] if problem else backward_removal(kept, fit, remove, tried)
    rows, share_rows, splits = [], [], []
    train_users = train["user_id"].to_numpy()
    for week in weeks:
        in_week, held_out = data["window_id"] == week.window_id, data["half"] == "test"
        test = data[in_week & binary & held_out]
        y = (test["label"] == "settled_migrant").to_numpy()
        base = {"experiment": SETTLED_VS_LOCALS, "target": "settled_migrant",
                "window_id": week.window_id, "week": week.label, "seed": seed,
                "dropped_groups": ", ".join(dropped) or None}
        applied = data[in_week & ((data["label"] == "settled_migrant") & held_out
                                  | (data["label"] == "new_migrant"))]
        week_problem = (problem or uncovered.get(week.window_id)
                        or _test_problem(test["label"], classes, week.label))
        if week_problem:
            rows.append({**base, "row": ALL_FEATURES, "step": 0, "n_users": len(test),
                         "paper_value": PAPER_F1.get((SETTLED_VS_LOCALS, ALL_FEATURES), np.nan),
                         **_skipped(week_problem)})
        removed = ""
        for step, (group, search, cols) in enumerate([] if week_problem else steps):
            removed += group or ""
            row = f"-{removed}" if removed else ALL_FEATURES
            pred = search.predict(test[cols].to_numpy(dtype=float))
            m = binary_metrics(y, pred)
            lo, hi = f1_interval(y, pred, seed)
            rows.append({
                **base, **m, "row": row, "step": step, "removed_group": group,
                "f1_ci_low": lo, "f1_ci_high": hi, "prevalence": m["n_pos"] / m["n_users"],
                "cv_f1": search.best_score_, "c": search.best_params_["model__C"],
                "paper_value": PAPER_F1.get((SETTLED_VS_LOCALS, row), np.nan), "status": OK,
                **caps,
            })
        if not week_problem:
            rows.append({**base, **random_guess(y, seed), "row": RANDOM_GUESS,
                         "prevalence": y.mean(), "status": OK})
        rows += _dropped_rows(base, {} if problem else dropped)

        full, cols = (steps[0][1], steps[0][2]) if steps else (None, [])
        as_local = (~full.predict(applied[cols].to_numpy(dtype=float)) if full is not None
                    and len(applied) else np.zeros(len(applied), dtype=bool))
        for label in ("settled_migrant", "new_migrant"):
            flags = as_local[(applied["label"] == label).to_numpy()]
            row = GROUP_ROWS[label]
            share = {**base, "experiment": CLASSIFIED_AS_LOCALS, "row": row, "target": label,
                     "n_users": len(flags),
                     "paper_value": PAPER_SHARE.get((CLASSIFIED_AS_LOCALS, f"{row} {week.label}"),
                                                    np.nan)}
            reason = problem or uncovered.get(week.window_id) or (
                None if len(flags) else f"no {row} among the test users of {week.label}")
            if reason:
                share_rows.append({**share, **_skipped(reason)})
                continue
            lo, hi = share_interval(flags, seed)
            share_rows.append({**share, "share": flags.mean(), "share_ci_low": lo,
                               "share_ci_high": hi, "status": OK, **caps})
        if not problem:
            tested = np.concatenate([test["user_id"].to_numpy(), applied["user_id"].to_numpy()])
            splits.append(_split_rows(SETTLED_VS_LOCALS, week.window_id, train_users,
                                      np.unique(tested)))

    frames = {SETTLED_VS_LOCALS: _frame(rows), CLASSIFIED_AS_LOCALS: _frame(share_rows)}
    _write(con, frames, splits, SETTLED_VS_LOCALS, _candidate_rows(steps, tried))
    return IntegrationEvaluation(
        pd.concat(frames.values(), ignore_index=True),
        {ALL_FEATURES: steps[0][1].best_estimator_} if steps else {},
    )


@dataclass
class _ThreeWayTraining:
    """The three-way regression's training rows (the training half's first week), its columns,
    the groups left out and what the data cannot support."""

    train: pd.DataFrame
    cols: list[str]
    dropped: dict[str, str]
    problem: str | None


def _three_way_training(cfg: StudyConfig, data: pd.DataFrame,
                        uncovered: Mapping[str, str]) -> _ThreeWayTraining:
    """The three-way training half (W2), or why it cannot be fit (``uncovered``:
    :func:`~migrant_assets.models.data.uncovered_windows` of the weeks)."""
    weeks = integration_weeks(cfg)
    train = data[(data["half"] == "train") & (data["window_id"] == weeks[0].window_id)]
    problem = _training_problem(cfg, data, train, class_names(INTEGRATION_LABELS), uncovered)
    cols, dropped, no_columns = usable_columns(train, "integration", with_locals=True)
    return _ThreeWayTraining(train, cols, dropped, problem or no_columns)


def _three_way_fit(cfg: StudyConfig, seed: int, training: _ThreeWayTraining
                   ) -> tuple[Callable[..., tuple[Any, dict]], tuple]:
    """The three-way fit (:func:`_fit_tuned`, multinomial, balanced, macro F1) and its
    arguments."""
    tuned = partial(_fit_tuned, scoring="f1_macro", class_weight="balanced",
                    keep_proportions=False)
    train = training.train
    return tuned, (cfg.models, seed, train[training.cols].to_numpy(dtype=float),
                   train["label"].to_numpy())


def three_way(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int,
              data: pd.DataFrame | None = None,
              fitted: tuple[Any, dict] | None = None,
              uncovered: Mapping[str, str] | None = None) -> IntegrationEvaluation:
    """Locals / settled / new migrants: F1 of each class (one-vs-rest) per test week, beside the
    class's random guess (its prevalence) (SPEC §6). Writes experiment ``three_way``; skipped
    rows when the data cannot support it. ``data``, ``uncovered`` as :func:`settled_vs_locals`';
    ``fitted``:
    the result of :func:`_three_way_fit` already run on it (:func:`evaluate_integration`)."""
    weeks = integration_weeks(cfg)
    data = _data(con, cfg, seed) if data is None else data
    if uncovered is None:
        uncovered = uncovered_windows(con, cfg, weeks)
    training = _three_way_training(cfg, data, uncovered)
    cols, dropped, problem = training.cols, training.dropped, training.problem
    search, caps = None, {}
    if not problem:
        if fitted is None:
            fn, args = _three_way_fit(cfg, seed, training)
            fitted = fn(*args)
        search, caps = fitted

    rows, splits = [], []
    for week in weeks:
        test = data[(data["half"] == "test") & (data["window_id"] == week.window_id)]
        base = {"experiment": THREE_WAY, "window_id": week.window_id, "week": week.label,
                "seed": seed, "dropped_groups": ", ".join(dropped) or None}
        week_problem = problem or uncovered.get(week.window_id) or (
            None if len(test) else f"no test users in {week.label}")
        pred = search.predict(test[cols].to_numpy(dtype=float)) if not week_problem else None
        for label in INTEGRATION_LABELS:
            y = (test["label"] == label).to_numpy()
            row = GROUP_ROWS[label]
            paper = PAPER_F1.get((THREE_WAY, row), np.nan) if week.label == PAPER_WEEK else np.nan
            reason = week_problem or (None if y.any() else
                                      f"no {row} among the test users of {week.label}")
            if reason:
                rows.append({**base, "row": row, "target": label, "n_users": len(y),
                             "paper_value": paper, **_skipped(reason)})
                continue
            hit = pred == label
            m = binary_metrics(y, hit)
            lo, hi = f1_interval(y, hit, seed)
            rows.append({
                **base, **m, "row": row, "target": label, "f1_ci_low": lo, "f1_ci_high": hi,
                "prevalence": y.mean(), "cv_f1": search.best_score_,
                "c": search.best_params_["model__C"], "paper_value": paper, "status": OK,
                **caps,
            })
            rows.append({**base, **random_guess(y, seed), "row": RANDOM_GUESS, "target": label,
                         "prevalence": y.mean(), "status": OK})
        rows += _dropped_rows({**base, "target": "all"}, {} if problem else dropped)
        if not problem:
            splits.append(_split_rows(THREE_WAY, week.window_id,
                                      training.train["user_id"].to_numpy(),
                                      test["user_id"].to_numpy()))
    frame = _frame(rows)
    _write(con, {THREE_WAY: frame}, splits, THREE_WAY)
    return IntegrationEvaluation(frame, {THREE_WAY: search.best_estimator_} if search else {})
