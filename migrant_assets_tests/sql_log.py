"""What the `tiny` demo wrote, read from its SQL log (DuckDB's query log of every statement of
every asset and check, ``MIGRANT_ASSETS_SQL_LOG``), each statement parsed with sqlglot."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp


def _table(node: exp.Expression | None) -> str | None:
    table = node if isinstance(node, exp.Table) else (node.find(exp.Table) if node else None)
    return table.name.lower() if table is not None else None


def written_tables(sql: str) -> tuple[set[str], set[str]]:
    """(persistent tables ``sql`` writes, temporary tables it creates). Schema DDL — CREATE
    TABLE IF NOT EXISTS, views, comments — writes no data and is not counted."""
    writes, temps = set(), set()
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        statements = []
    for stmt in statements:
        if isinstance(stmt, exp.Insert | exp.Delete | exp.Update):
            writes.add(_table(stmt.this))
        elif isinstance(stmt, exp.Create) and stmt.kind == "TABLE":
            props = stmt.args.get("properties")
            if props is not None and props.find(exp.TemporaryProperty):
                temps.add(_table(stmt.this))
            elif not stmt.args.get("exists"):
                writes.add(_table(stmt.this))
        elif isinstance(stmt, exp.Drop) and stmt.kind == "TABLE" \
                or isinstance(stmt, exp.Alter):
            writes.add(_table(stmt))
    return writes - {None}, temps - {None}


@cache
def tables_written(sql_log: Path) -> dict[str, set[str]]:
    """Every persistent table the logged statements wrote, with the assets (or checks, as
    ``check <name>``) that wrote it. Each distinct statement is parsed once (values are bound
    parameters, so a statement repeats for every partition)."""
    lines = sql_log.read_text().splitlines()
    assert len(lines) > 1000  # the log holds the demo's statements
    found: dict[str, set[str]] = defaultdict(set)
    temps: set[str] = set()
    parsed = cache(written_tables)
    for line in map(json.loads, lines):
        writes, created = parsed(line["sql"])
        temps |= created
        for table in writes:
            found[table] |= set(line["assets"]) or {f"check {c}" for c in line["checks"]}
    return {t: w for t, w in found.items() if t not in temps}
