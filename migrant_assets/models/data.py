"""Model matrices read from ``features`` (SPEC §5–§6): feature columns per group, windows, the
departure folds and the integration halves, and what the data cannot support (issue 10).

Every draw is made over users sorted by ``user_id``, so the same table and seed give the same
folds and halves whatever order DuckDB returns rows in.

An experiment the data cannot support is skipped with a reason, never raised:
:func:`class_problem` (no users, one class only, a class under ``thresholds.min_class_size`` or
under the number of folds), :func:`fold_problem` (a fold's training users lack a class) and
:func:`usable_columns` (feature groups of which every value is null, or that take one value for
every user, are left out; nothing left).
Reasons name classes, windows and thresholds, never a user, and no count under the threshold.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from migrant_assets.config import StudyConfig, Window
from migrant_assets.db import run_sql
from migrant_assets.features import (
    DEPARTURE_GROUPS,
    FEATURES,
    GROUPS,
    INTEGRATION_GROUPS,
    features_table,
)
from migrant_assets.labels import INTEGRATION_LABELS, find_uncovered_days
from migrant_assets.models.store import DEPARTURE_FOLDS, ensure_schema, write

#: The groups of each study, in table order.
STUDY_GROUPS = {"departure": DEPARTURE_GROUPS, "integration": INTEGRATION_GROUPS}
#: How a reason names a feature group (the registry's GROUPS).
GROUP_TITLES = {g: group.name for g, group in GROUPS.items()}

STAYING_AND_LEAVING = ("staying_migrant", "leaving_migrant")
N_FOLDS = 5


def min_class_size(cfg: StudyConfig) -> int:
    """Fewest users of a class an experiment is run with (``thresholds.min_class_size``)."""
    return cfg.thresholds.min_class_size


def class_names(labels: Sequence[str]) -> dict[str, str]:
    """``{label: the name a reason gives its users}``, e.g. leaving_migrant: leaving migrants."""
    return {label: label.replace("_", " ") + "s" for label in labels}


def class_problem(
    labels: pd.Series, classes: Mapping[Any, str], minimum: int, n_folds: int | None = N_FOLDS
) -> str | None:
    """Why a classifier cannot be trained (and cross-validated in ``n_folds`` stratified folds)
    on users of ``labels``, whose values are the keys of ``classes`` (value -> name): no users,
    a class absent, a class of fewer than ``minimum`` users (``thresholds.min_class_size``) or of
    fewer users than folds. None when it can. Counts under the threshold are not given."""
    counts = labels.value_counts()
    n = {name: int(counts.get(value, 0)) for value, name in classes.items()}
    if not any(n.values()):
        return f"no {' and no '.join(n)}"
    absent = [name for name, count in n.items() if count == 0]
    if absent:
        left = len(n) - len(absent)
        return (f"no {' and no '.join(absent)}: "
                + ("only one class to classify" if left == 1
                   else f"only {left} of the {len(n)} classes to classify"))
    for name, count in n.items():
        if count < minimum:
            return f"fewer than {minimum} {name} (thresholds.min_class_size)"
        if n_folds and count < n_folds:
            return f"fewer {name} than the {n_folds} cross-validation folds"
    return None


def fold_problem(y: np.ndarray, fold: np.ndarray, names: Mapping[bool, str]) -> str | None:
    """Why cross-validation over ``fold`` cannot fit every fold's model: the training users of
    a fold (all other folds) lack a class of ``y`` (names: True/False -> class name)."""
    for f in np.unique(fold):
        train = y[fold != f]
        for value, name in names.items():
            if not (train == value).any():
                return f"the training users of fold {int(f)} have no {name}"
    return None


#: Values of a feature that differ by no more than this share of (1 + their largest size) are
#: one value (the round-off of means of one cell's coordinates).
ROUND_OFF = 1e-9


def group_problem(data: pd.DataFrame, study: str, group: str, *, with_locals: bool
                  ) -> str | None:
    """Why no classifier can learn from feature group ``group`` of ``data``: every value null
    (no cell locations), or every feature one value for every user up to :data:`ROUND_OFF`
    (a single cell, a single price); None when some feature varies."""
    values = data[feature_columns(study, with_locals=with_locals, groups=[group])]
    if values.isna().all(axis=None):
        return f"every {GROUP_TITLES[group]} feature is null"
    low, high = values.min(), values.max()
    if ((high - low).fillna(0) <= ROUND_OFF * (1 + values.abs().max().fillna(0))).all():
        return f"every {GROUP_TITLES[group]} feature takes one value for every user"
    return None


def usable_columns(
    data: pd.DataFrame, study: str, *, with_locals: bool, groups: Sequence[str] | None = None
) -> tuple[list[str], dict[str, str], str | None]:
    """The feature columns of ``groups`` (default: every group of ``study``) less the groups
    no classifier can learn from in ``data`` (:func:`group_problem`: e.g. geography and housing
    prices when the data has no cell locations, or one cell): ``(columns, groups left out with
    why, reason)``; the reason says why no column is left, else it is None."""
    groups = list(STUDY_GROUPS[study] if groups is None else groups)
    dropped = {g: why for g in groups
               if (why := group_problem(data, study, g, with_locals=with_locals))}
    kept = [g for g in groups if g not in dropped]
    if not kept:
        whys = list(dropped.values())
        what = whys[0] if len(whys) == 1 else (
            "every feature is null" if all(w.endswith(" is null") for w in whys)
            else "no feature varies (every value null or one value for every user)")
        return [], dropped, f"{what}: nothing to classify on"
    return feature_columns(study, with_locals=with_locals, groups=kept), dropped, None


def feature_columns(
    study: str, *, with_locals: bool, groups: Collection[str] | None = None
) -> list[str]:
    """Feature columns of a classifier of ``study`` ('departure' or 'integration'), in table
    order, restricted to ``groups`` if given. ``townsman`` (0 for locals by definition) is left
    out of every classifier that has locals in it (SPEC §5)."""
    cols = []
    for name, feature in FEATURES.items():
        group = feature.departure_group if study == "departure" else feature.integration_group
        if group is None or (with_locals and feature.excluded_with_locals):
            continue
        if groups is None or group in groups:
            cols.append(name)
    return cols


def uncovered_windows(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                      windows: Sequence[Window]) -> dict[str, str]:
    """Window id -> why a model cannot read its features: days of it that the calls do not
    cover (no calls, or far fewer than a usual day's: ``labels.find_uncovered_days`` over the
    study month), which its features would read as silence. Empty for every window when the
    file holds no calls (features written by the pipeline's functions alone)."""
    if not windows or not run_sql(con, "lineage/tables_present.sql",
                                  {"names": ["calls"]}).fetchall() or not run_sql(
            con, "lineage/table_has_rows.sql", identifiers={"table": "calls"}).fetchall()[0][0]:
        return {}
    days = find_uncovered_days(con, cfg, cfg.calendar.month_start, cfg.calendar.month_end)
    out = {}
    for w in windows:
        inside = [d for d in days if w.start <= d <= w.end]
        if inside:
            shown = ", ".join(d.isoformat() for d in inside[:5]) + (", ..." * (len(inside) > 5))
            out[w.window_id] = (
                f"the calls do not cover {len(inside)} of the days of {w.label} ({shown}: no "
                "calls, or far fewer than a usual day's), which its features would read as "
                "silence: deliver and materialize those days of calls")
    return out


def load_matrix(
    con: duckdb.DuckDBPyConnection, windows: Sequence[Window], labels: Sequence[str]
) -> pd.DataFrame:
    """``window_id, user_id, label`` and every feature as float, for the users of ``windows``
    (all of one family) with one of ``labels``, ordered by window and user
    (``sql/models/matrix.sql``, reading the family's table rather than the view ``features``)."""
    tables = {features_table(w) for w in windows}
    if len(tables) != 1:
        raise ValueError(f"a model matrix reads one feature table, not {sorted(tables)}")
    return run_sql(
        con,
        "models/matrix.sql",
        {"window_ids": [w.window_id for w in windows], "labels": list(labels)},
        identifiers={"feature_table": tables.pop()},
    ).df()


def first_k_windows(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> list[Window]:
    """The first-k-days windows of the calendar that have rows in ``features``, by k."""
    present = set(run_sql(con, "models/windows.sql").df()["window_id"])
    return [w for w in cfg.calendar.windows("first_k_days") if w.window_id in present]


def reference_window(cfg: StudyConfig) -> Window:
    """The longest first-k-days window (k = ``cfg.calendar.k_max``): Tables 1–3, Figure 9 and the
    users over which the departure folds are drawn."""
    return cfg.calendar.windows("first_k_days")[-1]


def integration_weeks(cfg: StudyConfig) -> list[Window]:
    """W2, W3, W4: the classifier is trained on W2 and tested on all three (SPEC §6)."""
    return cfg.calendar.windows("integration_week")[1:]


def stratified_folds(labels: pd.Series, seed: int, n_splits: int = N_FOLDS) -> np.ndarray:
    """Fold number (0..n_splits-1) of each row: StratifiedKFold, shuffled with ``seed``."""
    fold = np.empty(len(labels), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for f, (_, test) in enumerate(splitter.split(np.zeros(len(labels)), labels.to_numpy())):
        fold[test] = f
    return fold


def _reference_users(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> pd.DataFrame:
    return load_matrix(con, [reference_window(cfg)], STAYING_AND_LEAVING)[["user_id", "label"]]


def _reference_problem(users: pd.DataFrame, cfg: StudyConfig) -> str | None:
    """Why the reference window's (k = k_max) staying and leaving migrants cannot be split into
    the departure folds (:func:`class_problem`), or None."""
    return class_problem(users["label"], class_names(STAYING_AND_LEAVING), min_class_size(cfg))


def assign_departure_folds(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> pd.DataFrame:
    """Assign and store (table ``departure_folds``) the folds of the reference window's (k = k_max)
    staying and leaving migrants, stratified by label. Every k reuses them, so Figure 8(d)
    trains and tests the same users in the same folds (SPEC §6). Returns ``user_id, label,
    fold``: empty, and no folds stored, when the data cannot support them
    (:func:`class_problem`); every departure experiment is then skipped with that reason."""
    users = _reference_users(con, cfg)
    if _reference_problem(users, cfg):
        folds = users.iloc[:0].assign(fold=pd.Series(dtype=np.int64))
    else:
        folds = users.assign(fold=stratified_folds(users["label"], seed))
    write(con, [(DEPARTURE_FOLDS, folds.assign(seed=seed), {})])
    return folds


def departure_folds(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> tuple[pd.DataFrame, str | None]:
    """The stored folds of :func:`assign_departure_folds` for ``seed`` (``user_id, label,
    fold``), and why there are none (None when there are)."""
    ensure_schema(con)
    folds = run_sql(con, "models/departure_folds.sql", {"seed": seed}).df()
    if not folds.empty:
        return folds, None
    problem = _reference_problem(_reference_users(con, cfg), cfg)
    if problem:
        return folds, f"no departure folds at {reference_window(cfg).label}: {problem}"
    return folds, (f"no departure folds stored for seed {seed}: materialize departure_folds "
                   f"after the k = {cfg.calendar.k_max} features")


def attach_folds(matrix: pd.DataFrame, folds: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """``matrix`` with the ``fold`` of each user, and why it cannot be used: some users have
    no fold (a departure migrant active in the first k days is also in the k = k_max window, so
    the folds are older than the features)."""
    out = matrix.merge(folds[["user_id", "fold"]], on="user_id", how="left", validate="m:1")
    if out["fold"].isna().any():
        return out.assign(fold=-1), ("some users of the window have no fold: materialize "
                                     "departure_folds again after the features of the longest "
                                     "first-k-days window (k = k_max)")
    return out.astype({"fold": np.int64}), None


def integration_split(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> pd.DataFrame:
    """``user_id, label, half`` ('train' or 'test'): a random 50% of the integration study's
    users (of W2..W4, stratified by label, seeded) train; the rest are the only users tested, in
    every week, so that no user is both trained on and tested (SPEC §6, docs/models.md).
    The halves are not stratified when a class has a single user, and there is no training
    half when there are fewer than two users (the experiments are then skipped)."""
    return integration_halves(
        load_matrix(con, integration_weeks(cfg), INTEGRATION_LABELS)[["user_id", "label"]], seed)


def integration_halves(users: pd.DataFrame, seed: int) -> pd.DataFrame:
    """:func:`integration_split` of the rows ``users`` (``user_id, label``, one row per user and
    week) of the integration weeks' model matrix."""
    users = users.drop_duplicates().sort_values("user_id", ignore_index=True)
    if users["user_id"].duplicated().any():
        raise ValueError("a user has two integration labels")
    half = np.full(len(users), "test", dtype=object)
    if len(users) >= 2:
        stratify = users["label"] if users["label"].value_counts().min() >= 2 else None
        train, _ = train_test_split(
            users.index.to_numpy(), train_size=0.5, stratify=stratify, random_state=seed
        )
        half[train] = "train"
    return users.assign(half=half)

