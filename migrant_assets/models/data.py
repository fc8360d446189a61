"""Model matrices read from ``features`` (SPEC §5–§6): feature columns per group, windows, the
departure folds and the integration halves.

Every draw is made over users sorted by ``user_id``, so the same table and seed give the same
folds and halves whatever order DuckDB returns rows in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from migrant_assets.config import StudyConfig, Window
from migrant_assets.db import run_sql
from migrant_assets.features import FEATURES
from migrant_assets.labels import INTEGRATION_LABELS
from migrant_assets.models.store import ensure_schema, write

#: Departure study groups (SPEC §5; ego network includes demographics).
DEPARTURE_GROUPS = ("ego_network", "call_behavior", "geography", "housing_price")
#: Integration study groups: demographics, ego network, call behaviour, geography.
INTEGRATION_GROUPS = ("D", "E", "C", "G")

LEAVING_VS_STAYING = ("staying_migrant", "leaving_migrant")
N_FOLDS = 5


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


def load_matrix(
    con: duckdb.DuckDBPyConnection, windows: Sequence[Window], labels: Sequence[str]
) -> pd.DataFrame:
    """``window_id, user_id, label`` and every feature as float, for the users of ``windows``
    with one of ``labels``, ordered by window and user (``sql/models/matrix.sql``)."""
    return run_sql(
        con,
        "models/matrix.sql",
        {"window_ids": [w.window_id for w in windows], "labels": list(labels)},
    ).df()


def first_k_windows(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> list[Window]:
    """The first-k-days windows of the calendar that have rows in ``features``, by k."""
    present = set(run_sql(con, "models/windows.sql").df()["window_id"])
    return [w for w in cfg.calendar.windows("first_k_days") if w.window_id in present]


def reference_window(cfg: StudyConfig) -> Window:
    """The longest first-k-days window (k = 14 by default): Tables 1–3, Figure 9 and the users
    over which the departure folds are drawn."""
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


def assign_departure_folds(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> pd.DataFrame:
    """Assign and store (table ``departure_folds``) the folds of the reference window's (k = 14)
    staying and leaving migrants, stratified by label. Every k reuses them, so Figure 8(d)
    trains and tests the same users in the same folds (SPEC §6). Returns ``user_id, label,
    fold``."""
    users = load_matrix(con, [reference_window(cfg)], LEAVING_VS_STAYING)[["user_id", "label"]]
    if users.empty:
        raise ValueError(f"no staying or leaving migrants in {reference_window(cfg).window_id}")
    folds = users.assign(fold=stratified_folds(users["label"], seed))
    write(con, [("departure_folds", folds, {"seed": seed})])
    return folds


def departure_folds(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int) -> pd.DataFrame:
    """The stored folds of :func:`assign_departure_folds` for ``seed``: ``user_id, label, fold``."""
    ensure_schema(con)
    folds = run_sql(con, "models/departure_folds.sql", {"seed": seed}).df()
    if folds.empty:
        raise ValueError(
            f"no departure folds stored for seed {seed}: materialize departure_folds "
            f"(assign_departure_folds) after the k = {cfg.calendar.k_max} features"
        )
    return folds


def attach_folds(matrix: pd.DataFrame, folds: pd.DataFrame) -> pd.DataFrame:
    """``matrix`` with the ``fold`` of each user; every user must have one (a departure new
    migrant active in the first k days is also in the k = 14 window)."""
    out = matrix.merge(folds[["user_id", "fold"]], on="user_id", how="left", validate="m:1")
    if out["fold"].isna().any():
        raise ValueError(f"{int(out['fold'].isna().sum())} rows have users outside the folds")
    return out.astype({"fold": np.int64})


def integration_split(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, seed: int
) -> pd.DataFrame:
    """``user_id, label, half`` ('train' or 'test'): a random 50% of the integration study's
    users (of W2..W4, stratified by label, seeded) train; the rest are the only users tested, in
    every week, so that no user is both trained on and tested (SPEC §6, docs/models.md)."""
    users = (
        load_matrix(con, integration_weeks(cfg), INTEGRATION_LABELS)[["user_id", "label"]]
        .drop_duplicates()
        .sort_values("user_id", ignore_index=True)
    )
    if users["user_id"].duplicated().any():
        raise ValueError("a user has two integration labels")
    train, _ = train_test_split(
        users.index.to_numpy(), train_size=0.5, stratify=users["label"], random_state=seed
    )
    half = np.full(len(users), "test", dtype=object)
    half[train] = "train"
    return users.assign(half=half)

