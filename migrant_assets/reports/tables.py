"""Reading result tables that may not exist yet (the report and the model figures must say so,
not crash), and the windows of the departure study's first-k-days experiments."""

from __future__ import annotations

import duckdb

from migrant_assets.config import StudyConfig


def table_problem(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """Why ``table`` cannot be shown (missing or empty), or None when it has rows."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
    ).fetchall()[0][0]
    if not exists:
        return f"table {table} does not exist: its asset has not been materialized"
    if con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0] == 0:
        return f"table {table} is empty"
    return None


def first_k_params(cfg: StudyConfig) -> dict[str, list]:
    """``window_ids`` and ``ks`` of the first-k-days windows, as SQL parameters."""
    windows = cfg.calendar.windows("first_k_days")
    return {
        "window_ids": [w.window_id for w in windows],
        "ks": [(w.end - w.start).days + 1 for w in windows],
    }
