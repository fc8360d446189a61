"""Asset metadata built one way: a table's name, row count and column schema read from the
table itself (column descriptions are the ``COMMENT ON COLUMN`` of the stage's schema SQL), and
numbers and small frames shown to four significant places."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from migrant_assets.db import quote_identifier

#: Significant digits of a float shown in metadata (a 17-digit float says nothing more).
DIGITS = 4


def tidy(value: Any) -> Any:
    """``value`` with every float rounded to :data:`DIGITS` significant places (recursively)."""
    if isinstance(value, float):
        if not math.isfinite(value) or value == 0:
            return value
        return round(value, DIGITS - 1 - int(math.floor(math.log10(abs(value)))))
    if isinstance(value, Mapping):
        return {k: tidy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [tidy(v) for v in value]
    return value


def table_name_metadata(table: str) -> dict:
    """The definition-time metadata of an asset stored as ``table`` (``dagster/table_name``)."""
    return {"dagster/table_name": table}


def _descriptions(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column comments of ``table``; a view's columns take the comment of the same column in
    the tables its definition names."""
    rows = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ? "
        "AND comment IS NOT NULL", [table]).fetchall()
    found = dict(rows)
    view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ?", [table]).fetchone()
    if view is not None:
        for name, column, comment in con.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns() "
                "WHERE comment IS NOT NULL AND table_name <> ? ORDER BY table_name",
                [table]).fetchall():
            if name in view[0]:
                found.setdefault(column, comment)
    return found


def table_metadata(con: duckdb.DuckDBPyConnection, table: str,
                   where: str | None = None, params: list | None = None) -> dict:
    """``dagster/table_name``, ``dagster/column_schema`` and ``dagster/row_count`` of ``table``
    as stored (``where``: a fixed predicate, its values in ``params``, for the rows of one
    partition)."""
    columns = con.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE table_name = ? "
        "ORDER BY column_index", [table]).fetchall()
    if not columns:
        raise ValueError(f"table {table} does not exist")
    notes = _descriptions(con, table)
    schema = dg.TableSchema(columns=[
        dg.TableColumn(name, dtype, description=notes.get(name),
                       constraints=dg.TableColumnConstraints(nullable=bool(nullable)))
        for name, dtype, nullable in columns])
    (rows,) = con.execute(f"SELECT count(*) FROM {quote_identifier(table)}"  # noqa: S608 -- identifier quoted
                          + (f" WHERE {where}" if where else ""), params or []).fetchone()
    return {**table_name_metadata(table), "dagster/column_schema": schema,
            "dagster/row_count": int(rows)}


def markdown_table(df: pd.DataFrame, columns: list[str] | None = None) -> dg.MetadataValue:
    """A small result frame as a markdown table for asset metadata (floats to four significant
    places)."""
    df = df[columns] if columns else df
    cells = [[f"{tidy(v):g}" if isinstance(v, float) else ("" if v is None else str(v))
              for v in row] for row in df.itertuples(index=False)]
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return dg.MetadataValue.md("\n".join(lines))
