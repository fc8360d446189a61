"""Result tables (``sql/models/``): one table per model asset, written by one generic
delete-then-insert writer in one transaction; saved models; the counts the asset checks judge.

Each asset owns the table named as the asset and its auxiliary tables (``<asset>_splits``,
``<asset>_fold_metrics``); the shared names the report reads (``model_results``,
``split_membership`` …) are views over them (``sql/models/schema.sql``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import joblib
import pandas as pd

from migrant_assets.db import (
    memory_limit_at_least,
    quote,
    quote_identifier,
    refuse_old_layout,
    registered,
    run_schema_sql,
    run_sql,
    transaction,
)
from migrant_assets.errors import InputError

NEW_ROWS = "new_rows"
#: ``status`` of a result row: computed, or skipped because the data cannot support it (issue
#: 10; ``skip_reason`` says why).
OK = "ok"
SKIPPED = "skipped"

#: The table of each model asset, named as the asset (SPEC §6).
DEPARTURE_FOLDS = "departure_folds"
DEPARTURE_MODELS = "departure_models"
DEPARTURE_CURVES = "departure_curves"
DEPARTURE_TRANSFER = "departure_transfer"
DEPARTURE_TABLES = "departure_tables"
DEPARTURE_FEATURE_IMPORTANCE = "departure_feature_importance"
INTEGRATION_MODELS = "integration_models"
#: The shared names of before one table per asset, now views over the owners' tables.
#: The model stage's views over its assets' tables.
SHARED_VIEWS = ("model_results", "model_fold_metrics", "split_membership", "transfer_f1",
                "feature_importance", "integration_results")


def splits_table(owner: str) -> str:
    """The train/test users of the splits of asset ``owner`` (a view ``split_membership``)."""
    return f"{owner}_splits"


def fold_metrics_table(owner: str) -> str:
    """The per-fold metrics of asset ``owner`` (a view ``model_fold_metrics``)."""
    return f"{owner}_fold_metrics"


def fitted_table(owner: str) -> str:
    """The pickled fitted models of asset ``owner``, reused by the assets after it."""
    return f"{owner}_fitted"


#: The key of the pickled models of in-memory databases (this process only).
_MEMORY_KEY = secrets.token_bytes(32)
#: Beside the DuckDB file ``<file>``: the key that signs its pickled models (:func:`signing_key`).
KEY_SUFFIX = ".models-key"


def signing_key(con: duckdb.DuckDBPyConnection) -> bytes:
    """The key that signs the pickled models of ``con``'s DuckDB file: 32 random bytes in a file
    of its own beside it (``<file>.models-key``, readable by its owner only), never in the DuckDB
    file, so a DuckDB file from elsewhere carries no model this work directory will unpickle."""
    path = con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()[0]
    if not path:
        return _MEMORY_KEY
    key_path = Path(f"{path}{KEY_SUFFIX}")
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    return key_path.read_bytes()


def _signature(key: bytes, window_id: str, model: str, split: str, fingerprint: str,
               blob: bytes) -> bytes:
    head = "\0".join((window_id, model, split, fingerprint)).encode()
    return hmac.new(key, head + b"\0" + blob, hashlib.sha256).digest()


def fitted_rows(key: bytes, window_id: str, model: str, fits: Iterable[Mapping[str, Any]]
                ) -> pd.DataFrame:
    """Rows of :func:`fitted_table` for the ``fits`` (``split``, ``fingerprint``, ``n_train``,
    ``n_train_available``, ``model``: the fitted estimator) of one classifier on one window,
    each pickle signed with ``key`` (:func:`signing_key`). A fit's ``blob``, when it has one, is
    its model as pickled where it was fit (``models.departure.run_fits``)."""
    rows = []
    for f in fits:
        blob = f.get("blob") or pickle.dumps(f["model"], protocol=pickle.HIGHEST_PROTOCOL)
        rows.append({
            "window_id": window_id, "model": model, "split": f["split"],
            "fingerprint": f["fingerprint"], "n_train": f["n_train"],
            "n_train_available": f["n_train_available"], "fitted": blob,
            "signature": _signature(key, window_id, model, f["split"], f["fingerprint"], blob),
        })
    return pd.DataFrame(rows, columns=["window_id", "model", "split", "fingerprint", "n_train",
                                       "n_train_available", "fitted", "signature"])


def load_fitted(con: duckdb.DuckDBPyConnection, window_id: str, model: str,
                memory_limit: str | None = None) -> dict[str, dict[str, Any]]:
    """The models ``departure_models`` stored for ``window_id`` and classifier ``model``, by
    split: ``fingerprint``, ``n_train``, ``n_train_available`` and ``model`` (unpickled). A
    pickle is code: only one signed with this DuckDB file's key (:func:`signing_key`) is
    unpickled; any other is left out, so the asset fits that model again (``fitted_in``).
    ``memory_limit``: see :func:`load_fitted_windows`."""
    return next(load_fitted_windows(con, [window_id], model, memory_limit))


#: Stored models fetched at a time by :func:`load_fitted_windows`.
FITTED_BATCH = 8


def load_fitted_windows(con: duckdb.DuckDBPyConnection, window_ids: Sequence[str], model: str,
                        memory_limit: str | None = None) -> Iterator[dict[str, dict[str, Any]]]:
    """:func:`load_fitted` of each of ``window_ids`` in turn, the stored pickles read in one
    query: DuckDB reads every stored model of the table for any query of the pickles (0.3
    CPU-s on ``demo``, 2.3 s at 10x, whatever the rows asked for), so the transfer matrix
    reads them once, not once per window (issue 13). Any query of the table holds the pickles
    it scans in DuckDB's memory (the 72 forests of the 10x city are 1.07 GB, beyond
    ``duckdb.models_memory_limit``), so the query runs with DuckDB's limit raised to at least
    ``memory_limit`` (the study's ``duckdb.memory_limit``; the models are capped, so their size
    is bounded whatever the city), and its rows are streamed unsorted and put in order here (a
    sort in DuckDB would hold them twice). A window's models are unpickled when it is
    reached."""
    if not window_ids:
        return
    ensure_schema(con)
    key = signing_key(con)
    by_window: dict[str, list[tuple]] = {w: [] for w in window_ids}
    with memory_limit_at_least(con, memory_limit):
        result = run_sql(con, "models/fitted_models.sql",
                         {"window_ids": list(window_ids), "model": model})
        while batch := result.fetchmany(FITTED_BATCH):
            for row in batch:
                by_window[row[0]].append(row[1:])
    for window_id in window_ids:
        out, unsigned = {}, []
        for split, fp, n, avail, blob, signature in sorted(by_window.pop(window_id),
                                                           key=lambda row: row[0]):
            if signature is None or not hmac.compare_digest(
                    signature, _signature(key, window_id, model, split, fp, blob)):
                unsigned.append(split)
                continue
            out[split] = {"fingerprint": fp, "n_train": n, "n_train_available": avail,
                          "model": pickle.loads(blob)}  # noqa: S301 -- signed by this work directory
        if unsigned:
            logging.getLogger(__name__).warning(
                "%s models of %s on %s are not signed by this DuckDB file's key (%s): not "
                "loaded, fitted again", len(unsigned), model, window_id, KEY_SUFFIX)
        yield out


#: Columns added to a result table after files were written with it (name, SQL type of
#: :data:`ADDED_TYPES`): :func:`ensure_schema` adds them to an older file's table.
ADDED_TYPES = frozenset({"INTEGER", "BIGINT", "DOUBLE", "BLOB"})
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    INTEGRATION_MODELS: (("lr_tol", "DOUBLE"),),
    DEPARTURE_TRANSFER: (("test_rows_cap", "INTEGER"), ("n_users_available", "BIGINT")),
    # models stored before they were signed: unsigned, so fitted again
    fitted_table(DEPARTURE_MODELS): (("signature", "BLOB"),),
}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the result tables and views if missing and describe their columns
    (``sql/models/schema.sql``, ``column_comments.sql``). A DuckDB file written before each
    asset had its own table holds the shared names as tables: an :class:`InputError`."""
    refuse_old_layout(con, SHARED_VIEWS)
    columns = _columns_of(con, (*RESULT_TABLES, *ADDED_COLUMNS))  # one read of the catalog
    _refuse_tables_without_caps(columns)
    # a file written before a column was recorded: its old rows keep null there
    for table, added in ADDED_COLUMNS.items():
        cols = columns.get(table, [])
        for column, sql_type in (a for a in added if cols and a[0] not in cols):
            if sql_type not in ADDED_TYPES:
                raise ValueError(f"not an allowed column type: {sql_type!r}")
            con.execute(f"ALTER TABLE {quote(table)} "  # noqa: S608 (allow-listed)
                        f"ADD COLUMN {quote(column)} {sql_type}")
    run_schema_sql(con, "models/schema.sql", "models/column_comments.sql")


#: A column every result table has since the caps of the fits are recorded (issue 13).
CAPS_COLUMN = "n_train_available"
RESULT_TABLES = (DEPARTURE_MODELS, DEPARTURE_TABLES, DEPARTURE_TRANSFER,
                 DEPARTURE_FEATURE_IMPORTANCE, INTEGRATION_MODELS)


def _refuse_tables_without_caps(columns: Mapping[str, list[str]]) -> None:
    """An :class:`InputError` naming what to do when the file holds result tables written
    before they recorded the caps of their fits (``columns``: those of each table that
    exists); nothing is dropped behind the user's back."""
    old = [t for t in RESULT_TABLES if (cols := columns.get(t)) and CAPS_COLUMN not in cols]
    if old:
        tables = [*old, *(fold_metrics_table(t) for t in old
                          if t in (DEPARTURE_MODELS, DEPARTURE_TABLES))]
        raise InputError(
            f"the DuckDB file holds the model tables {', '.join(old)} written before they "
            "recorded the caps of each fit", "the study's DuckDB file",
            f"drop them (DROP TABLE {', '.join(tables)}) or start from a fresh DuckDB file "
            "(another workdir), then materialize the model assets again")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return _columns_of(con, [table]).get(table, [])


def _columns_of(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, list[str]]:
    """The columns of each of ``tables`` that exists, in their order (one catalog query: each
    costs ~2 ms on a study's file, whatever it asks)."""
    return dict(run_sql(con, "models/table_columns.sql", {"tables": list(tables)}).fetchall())


def write(
    con: duckdb.DuckDBPyConnection,
    writes: Sequence[tuple[str, pd.DataFrame, Mapping[str, Any]]],
) -> None:
    """For each ``(table, rows, key)``: delete the rows of ``table`` whose columns equal ``key``
    (``{}``: every row), then insert ``rows`` (every column of the table, read from the table
    itself; identifiers quoted, values bound). All in one transaction."""
    ensure_schema(con)
    with transaction(con):
        for table, rows, key in writes:
            columns = _columns(con, table)
            missing = [c for c in columns if c not in rows.columns]
            if not columns or missing:
                raise ValueError(f"cannot write {table}: "
                                 + (f"rows lack {missing}" if columns else "no such table"))
            name = quote_identifier(table)
            where = " AND ".join(f"{quote_identifier(c)} = ?" for c in key) or "true"
            listed = ", ".join(quote_identifier(c) for c in columns)
            with registered(con, **{NEW_ROWS: rows}):
                con.execute(f"DELETE FROM {name} WHERE {where}",  # noqa: S608 -- quoted
                            list(key.values()))
                con.execute(f"INSERT INTO {name} ({listed}) "  # noqa: S608 -- quoted
                            f"SELECT {listed} FROM {NEW_ROWS}")


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
    class): ``experiment, row, target, window_id, f1, f1_ci_low, random_f1, n_pos, beats,
    all_positive_f1, beats_all_positive``. ``beats``: the lower end of the F1 interval lies
    above random guess (F1 = prevalence p, SPEC §6); ``beats_all_positive``: above 2p/(1+p), the
    F1 of predicting everyone positive, which a chance-level classifier can approach. Skipped
    rows are left out."""
    ensure_schema(con)
    return run_sql(con, "models/beats_random_guess.sql").df()
