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

from migrant_assets.db import describe_table

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


def table_metadata(con: duckdb.DuckDBPyConnection, table: str,
                   rows_of: tuple[str, Any, Any] | None = None) -> dict:
    """``dagster/table_name``, ``dagster/column_schema`` and ``dagster/row_count`` of ``table``
    as stored (``rows_of``: the partition's column, first and last key;
    :func:`migrant_assets.db.describe_table`)."""
    columns, rows = describe_table(con, table, rows_of)
    schema = dg.TableSchema(columns=[
        dg.TableColumn(name, dtype, description=comment,
                       constraints=dg.TableColumnConstraints(nullable=nullable))
        for name, dtype, nullable, comment in columns])
    return {**table_name_metadata(table), "dagster/column_schema": schema,
            "dagster/row_count": rows}


def each_partition(context: dg.AssetExecutionContext, figures: Mapping[str, dict]) -> None:
    """Give each partition of the run its own ``figures`` (by partition key): Dagster attaches
    an asset's one result to every partition of its run, so a single run over a range showed
    each day the range's totals."""
    for key, md in figures.items():
        context.add_asset_metadata(md, partition_key=key)


def markdown_table(df: pd.DataFrame, columns: list[str] | None = None) -> dg.MetadataValue:
    """A small result frame as a markdown table for asset metadata (floats to four significant
    places)."""
    df = df[columns] if columns else df
    cells = [[f"{tidy(v):g}" if isinstance(v, float) else ("" if v is None else str(v))
              for v in row] for row in df.itertuples(index=False)]
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return dg.MetadataValue.md("\n".join(lines))
