"""Result tables (``sql/models/``): delete-then-insert writes in one transaction, saved models,
and the checks an asset check calls."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import joblib
import pandas as pd

from migrant_assets.db import run_sql, transaction

NEW_ROWS = "new_rows"
#: ``status`` of a result row: computed, or skipped because the data cannot support it (issue
#: 10; ``skip_reason`` says why).
OK = "ok"
SKIPPED = "skipped"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the result tables if missing (``sql/models/schema.sql``)."""
    run_sql(con, "models/schema.sql")


def write(
    con: duckdb.DuckDBPyConnection,
    writes: Sequence[tuple[str, pd.DataFrame, Mapping[str, Any]]],
) -> None:
    """Run ``sql/models/write_<table>.sql`` for each ``(table, rows, params)`` with ``rows``
    registered as ``new_rows``, all in one transaction."""
    ensure_schema(con)
    with transaction(con):
        for table, rows, params in writes:
            con.register(NEW_ROWS, rows)
            try:
                run_sql(con, f"models/write_{table}.sql", params)
            finally:
                con.unregister(NEW_ROWS)


def concat_rows(frames: Iterable[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """The non-empty ``frames`` concatenated, or an empty frame of ``columns`` (a skipped
    experiment still replaces its old rows; concatenating an empty frame would turn every
    column into objects)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def save_model(model, path: str | Path) -> str:
    """Save a fitted model with joblib; return the file's sha256 (hex)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def split_violations(
    con: duckdb.DuckDBPyConnection,
    experiments: Iterable[str] = (),
    window_ids: Iterable[str] = (),
) -> tuple[int, int]:
    """``(violations, memberships)`` over the splits of ``experiments`` and ``window_ids``
    (empty: all): the (experiment, window, split, user) that are both trained on and tested,
    and how many were judged (0 when every experiment was skipped: nothing to judge)."""
    ensure_schema(con)
    violations, memberships = run_sql(con, "models/check_split_membership.sql", {
        "experiments": list(experiments), "window_ids": list(window_ids),
    }).fetchall()[0]
    return int(violations), int(memberships)


def no_user_in_train_and_test(con: duckdb.DuckDBPyConnection) -> int:
    """Number of (experiment, window, split, user) that are both trained on and tested; 0 when
    every split keeps its users apart."""
    return split_violations(con)[0]


def beats_random_guess(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every classifier row beside the random guess of its experiment, window (and target
    class): ``experiment, row, target, window_id, f1, f1_ci_low, random_f1, beats,
    all_positive_f1, beats_all_positive``. ``beats``: the lower end of the F1 interval lies
    above random guess (F1 = prevalence p, SPEC §6); ``beats_all_positive``: above 2p/(1+p), the
    F1 of predicting everyone positive, which a chance-level classifier can approach. Skipped
    rows are left out."""
    ensure_schema(con)
    return run_sql(con, "models/beats_random_guess.sql").df()
