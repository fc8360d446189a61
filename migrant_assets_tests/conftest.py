"""Shared fixtures: an in-memory DuckDB with the ingestion schema, and helpers that insert
hand-written ``subscribers`` and ``calls`` rows with small integer ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from migrant_assets.db import connect, quote
from migrant_assets.features import FEATURE_TABLES, FEATURES
from migrant_assets.ingest import create_tables
from migrant_assets_tests import background

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
    create_tables(con)
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "background(job): the test waits for a background.Job that the session starts "
        "once its tests are collected; such tests run last")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules in three turns, each module's tests together and in order: those that need
    neither the `tiny` demo nor a background job (while those run beside them), those that need
    the demo, then those that wait for a job of their own."""
    turn: dict[Path, int] = {}
    for item in items:
        mine = 2 if item.get_closest_marker("background") else int("tiny" in item.fixturenames)
        turn[item.path] = max(turn.get(item.path, 0), mine)
    items.sort(key=lambda item: turn[item.path])


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the background jobs of the tests selected (not when only collecting)."""
    if session.config.option.collectonly:
        return
    jobs = []
    for item in session.items:
        if "tiny" in item.fixturenames and background.TINY not in jobs:
            jobs.append(background.TINY)
        marker = item.get_closest_marker("background")
        job = None if marker is None else marker.args[0]
        while job is not None and job not in jobs:  # and the job whose value it needs
            jobs.append(job)
            job = job.after
    for job in sorted(jobs, key=lambda job: not job.first):  # those that go first, first
        job.start_once()


def pytest_sessionfinish(session: pytest.Session) -> None:
    background.cleanup()


def pytest_terminal_summary(terminalreporter) -> None:
    lines = background.timeline()
    if lines:
        terminalreporter.write_sep("-", "background jobs")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def tiny() -> dict:
    """`migrant-assets demo --preset tiny --early-warning`, run once for the session in its own
    process (``background.TINY``): ``output`` (what it printed), ``cfg``, ``config_path``,
    ``dagster_home``, ``sql_log`` (every statement each asset ran), ``pristine`` (a copy as it
    ended), ``wheel`` (what it ran from, in a source checkout) and ``run_dir``."""
    return background.TINY.result()
