"""Shared fixtures: an in-memory DuckDB with the ingestion schema, and helpers that insert
hand-written ``subscribers`` and ``calls`` rows with small integer ids."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest

from migrant_assets.cli import main
from migrant_assets.config import StudyConfig
from migrant_assets.db import connect, quote, run_sql
from migrant_assets.defs.resources import SQL_LOG_ENV
from migrant_assets.features import FEATURE_TABLES, FEATURES

#: Defaults of a ``subscribers`` row after ``user_id``, in column order.
SUBSCRIBER_DEFAULTS = {
    "birth_province": "Shanghai",
    "has_local_number": True,
    "is_service": False,
    "age": 30,
    "sex": "F",
    "n_numbers": 1,
}


def insert_feature_rows(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    """``rows`` (``window_id, study, user_id, label`` and every feature) in the window families'
    feature tables, as the pipeline lays them out (``features.schema_sql``: one table per family,
    the view ``features`` over them), but with every feature column DOUBLE: tests plant
    non-integer values in count features too."""
    cols = ", ".join(f"{quote(c)} DOUBLE" for c in FEATURES)
    con.register("feature_rows", rows)
    for family, table in FEATURE_TABLES.items():
        con.execute(f"CREATE TABLE {quote(table)} (window_id VARCHAR, study VARCHAR, "
                    f"user_id BIGINT, label VARCHAR, {cols})")
        con.execute(f"INSERT INTO {quote(table)} BY NAME SELECT * FROM feature_rows "
                    "WHERE starts_with(window_id, ?)", [f"{family}:"])
    con.unregister("feature_rows")
    con.execute("CREATE VIEW features AS " + " UNION ALL ".join(
        f"SELECT * FROM {quote(t)}" for t in FEATURE_TABLES.values()))


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with the ingestion tables (empty)."""
    con = connect(":memory:")
    run_sql(con, "ingest/schema.sql")
    yield con
    con.close()


def insert_subscribers(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple]) -> None:
    """Insert ``(user_id, birth_province, has_local_number, is_service, age, sex, n_numbers)``
    tuples; trailing fields may be left out (see :data:`SUBSCRIBER_DEFAULTS`)."""
    defaults = tuple(SUBSCRIBER_DEFAULTS.values())
    full = [(*row, *defaults[len(row) - 1 :]) for row in rows]
    con.executemany(
        "INSERT INTO subscribers (user_id, birth_province, has_local_number, is_service, age, sex,"
        " n_numbers) VALUES (?, ?, ?, ?, ?, ?, ?)",
        full,
    )


def insert_calls(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple]) -> None:
    """Insert ``(caller, callee, start, duration_s=60)`` tuples; ``start`` is a datetime, or a
    date (the call starts at noon). ``call_date``, ``end_ts`` follow; cells are null."""
    full = []
    for caller, callee, start, *rest in rows:
        duration_s = float(rest[0]) if rest else 60.0
        if not isinstance(start, datetime):
            start = datetime.combine(start, datetime.min.time()) + timedelta(hours=12)
        end = start + timedelta(seconds=duration_s)
        full.append((start.date(), caller, callee, start, end, duration_s))
    frame = pd.DataFrame(  # noqa: F841 (read by DuckDB's replacement scan)
        full, columns=["call_date", "caller", "callee", "start_ts", "end_ts", "duration_s"]
    )
    con.execute(
        "INSERT INTO calls (call_date, caller, callee, start_ts, end_ts, duration_s)"
        " SELECT call_date, caller, callee, start_ts, end_ts, duration_s FROM frame"
    )


@pytest.fixture
def add_subscribers(con) -> Callable[[Iterable[tuple]], None]:
    return lambda rows: insert_subscribers(con, rows)


@pytest.fixture
def add_calls(con) -> Callable[[Iterable[tuple]], None]:
    return lambda rows: insert_calls(con, rows)


@pytest.fixture
def table_rows(con) -> Callable[[str], list[tuple]]:
    """All rows of a table, sorted: compares table contents across re-runs."""
    return lambda table: sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


#: The installed-wheel demo of test_packaging.py, when the session runs it: it runs in
#: subprocesses beside the suite, started once the `tiny` demo is done (two demos at once would
#: only share the two cores) or by its own test.
_WHEEL_RUN: list = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.name == "test_installed_wheel_works_outside_the_checkout":
            _WHEEL_RUN.append(item.module.start_wheel_run)
            return


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`migrant-assets demo --preset tiny --early-warning` run once for the session (the main
    job end to end, the early warning included), every statement each asset runs logged
    (``sql_log``, test_house.py); the environment is restored afterwards."""
    tmp = tmp_path_factory.mktemp("tiny")
    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "MIGRANT_ASSETS_CONFIG",
                                            "MIGRANT_ASSETS_DUCKDB", "MIGRANT_ASSETS_KEY",
                                            SQL_LOG_ENV)}
    os.environ["DAGSTER_HOME"] = str(tmp / "dagster_home")
    os.environ[SQL_LOG_ENV] = str(tmp / "sql_log.jsonl")
    for k in ("MIGRANT_ASSETS_DUCKDB", "MIGRANT_ASSETS_KEY", "MIGRANT_ASSETS_CONFIG"):
        os.environ.pop(k, None)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["demo", "--preset", "tiny", "--early-warning", "--workdir", str(tmp / "work")])
        cfg = StudyConfig.load(tmp / "work" / "study.yaml")
        os.environ.pop(SQL_LOG_ENV)  # only the demo's statements
        for start in _WHEEL_RUN:
            start()
        yield {"output": out.getvalue(), "cfg": cfg, "config_path": tmp / "work" / "study.yaml",
               "dagster_home": tmp / "dagster_home", "sql_log": tmp / "sql_log.jsonl"}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
