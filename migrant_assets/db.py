"""DuckDB connections and the one way to run a SQL file of `sql/<stage>/`.

SQL files hold the science; they take values as DuckDB named parameters (``$start``), may hold
several statements, and are run statement by statement with only the parameters each one names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from migrant_assets.config import DEFAULT_DAGSTER_YAML, SQL_DIR, DuckDBSettings
from migrant_assets.errors import InputError, redact


def connect(path: str | Path, settings: DuckDBSettings | None = None) -> duckdb.DuckDBPyConnection:
    """Open the study's DuckDB file with the settings large runs need (memory cap, spill dir)."""
    settings = settings or DuckDBSettings()
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as e:
        held = re.search(r"\(PID (\d+)\)", str(e))
        if "lock" not in str(e).lower():
            raise
        pid = int(held.group(1)) if held else None
        if pid is not None and _parent(pid) == os.getppid():
            raise InputError(
                f"the DuckDB file is in use by a step of this same run (PID {pid}): the Dagster "
                "instance runs the steps that write it side by side, with no limit on the "
                "'duckdb' pool", str(path),
                f"copy {DEFAULT_DAGSTER_YAML} into $DAGSTER_HOME (it limits every pool to one "
                "step at a time; migrant-assets demo and make ui do it), then run again") from None
        raise InputError(
            f"the DuckDB file is in use by another process"
            f"{f' (PID {pid})' if pid is not None else ''}",
            str(path),
            "wait for that run to finish (the Dagster UI lists it), or give this run another "
            "workdir or MIGRANT_ASSETS_DUCKDB") from None
    spill = settings.temp_directory or (None if str(path) == ":memory:" else path.parent / "tmp")
    configure(con, settings, spill_dir=spill)
    return con


def _parent(pid: int) -> int | None:
    """The parent process of ``pid`` (Linux's /proc), or None where it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the fields after the command's name


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the DuckDB file holds ``table`` (not a temporary one)."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
        [table]).fetchone()[0])


def refuse_old_layout(con: duckdb.DuckDBPyConnection, views: Sequence[str]) -> None:
    """Before a stage creates its ``views`` over the tables of several assets
    (docs/data_model.md): an :class:`InputError` naming what to do when the file holds one of
    them as a table, written before each asset had its own table; nothing is dropped behind
    the user's back."""
    old = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' "
        "AND list_contains(?, table_name) ORDER BY table_name", [list(views)]).fetchall()]
    if old:
        raise InputError(
            f"the DuckDB file holds the shared tables {', '.join(old)}, written before each "
            "asset had its own table (they are views now)", "the study's DuckDB file",
            f"drop those tables (DROP TABLE {', '.join(old)}) or start from a fresh DuckDB file "
            "(another workdir), then materialize the assets again")


def configure(
    con: duckdb.DuckDBPyConnection, settings: DuckDBSettings, spill_dir: Path | None = None
) -> None:
    con.execute("SET memory_limit = ?", [settings.memory_limit])  # values bound, never pasted
    con.execute("SET threads = ?", [int(settings.threads)])
    con.execute("SET preserve_insertion_order = false")
    if spill_dir is not None:
        try:
            spill_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"DuckDB's spill folder {spill_dir} cannot be created "
                             f"({e.strerror or type(e).__name__})", "duckdb.temp_directory",
                             "set duckdb.temp_directory to a folder you can write to (it "
                             "defaults to tmp beside the DuckDB file)") from None
        con.execute("SET temp_directory = ?", [str(spill_dir)])


_MEMORY_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's ``memory_limit`` in bytes, as DuckDB resolved it (a percentage of the
    machine's memory included): DuckDB shows it as ``<number> <unit>``, e.g. ``5.5 GiB``."""
    (text,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    shown = re.fullmatch(r"(\d+(?:\.\d+)?) (\w+)", str(text))
    if shown is None or shown.group(2) not in _MEMORY_UNITS:
        raise ValueError(f"DuckDB shows memory_limit as {text!r}, not '<number> <unit>': set "
                         "duckdb.max_calls_per_pass in the study config")
    return int(float(shown.group(1)) * _MEMORY_UNITS[shown.group(2)])


def _limit_bytes(limit: str | None) -> int:
    """``limit`` in bytes as DuckDB reads it (a percentage included; None: DuckDB's default)."""
    with duckdb.connect() as scratch:
        if limit is not None:
            scratch.execute("SET memory_limit = ?", [limit])  # a value, bound
        return memory_limit_bytes(scratch)


def lower_memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> int:
    """Cap the connection's DuckDB at ``limit`` when that is below its ``memory_limit`` (DuckDB
    evicts the blocks it holds above it); returns the limit in force, in bytes."""
    if _limit_bytes(limit) < memory_limit_bytes(con):
        con.execute("SET memory_limit = ?", [limit])
    return memory_limit_bytes(con)


@contextmanager
def memory_limit_at_least(con: duckdb.DuckDBPyConnection, limit: str | None) -> Iterator[None]:
    """Within the block, the connection's DuckDB ``memory_limit`` is at least ``limit`` (None:
    DuckDB's default, a share of the machine's memory). When it was raised, the limit in force
    before is put back after the block (DuckDB then evicts the blocks it holds above it), as
    exactly as DuckDB shows it (to 0.1 of its unit). Outside a transaction: an aborted one
    refuses the ``SET``, and then the block's own error is the one raised."""
    before = memory_limit_bytes(con)
    wanted = _limit_bytes(limit)
    if wanted <= before:
        yield
        return
    if limit is None:
        con.execute("RESET memory_limit")
    else:
        con.execute("SET memory_limit = ?", [limit])  # a value, bound
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("SET memory_limit = ?", [f"{before} bytes"])
        raise
    con.execute("SET memory_limit = ?", [f"{before} bytes"])


def drop_tables(con: duckdb.DuckDBPyConnection, *tables: str, if_exists: bool = False) -> None:
    """Drop ``tables`` (names allow-listed and quoted by :func:`quote`, never pasted raw)."""
    for table in tables:
        con.execute(f"DROP TABLE {'IF EXISTS ' if if_exists else ''}{quote(table)}")


def start_query_log(con: duckdb.DuckDBPyConnection) -> None:
    """Record every statement this connection runs (DuckDB's query log)."""
    con.execute("CALL enable_logging('QueryLog')")


def query_log(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The statements recorded since :func:`start_query_log`, in order."""
    return [m for (m,) in con.execute(
        "SELECT message FROM duckdb_logs() WHERE type = 'QueryLog' ORDER BY context_id, timestamp"
    ).fetchall()]


def sql_text(name: str) -> str:
    """The text of ``sql/<name>`` (e.g. ``labels/user_labels.sql``), package data of
    ``migrant_assets/sql/``."""
    return SQL_DIR.joinpath(*name.split("/")).read_text(encoding="utf-8")


def with_identifiers(text: str, identifiers: Mapping[str, str] | None) -> str:
    """``text`` with each ``$<key>`` of ``identifiers`` replaced by that table or column name,
    allow-listed and quoted (:func:`quote`)."""
    for key, identifier in (identifiers or {}).items():
        text = re.sub(rf"\${re.escape(key)}\b", quote(identifier), text)
    return text


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def quote(name: str) -> str:
    """``name`` as a quoted SQL identifier if it is a plain lower-case name (else ValueError):
    the allow-list of every table or column name that reaches SQL from code."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not an allowed SQL identifier: {name!r}")
    return f'"{name}"'


def quote_identifier(name: str) -> str:
    """Any name (a column of a user's file) as a quoted SQL identifier, quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=1024)
def statements_of(text: str) -> tuple[duckdb.Statement, ...]:
    """The parsed statements of ``text``, parsed once per process: a SQL file runs once per
    window, and per cohort of each early-warning day, and parsing it cost more than running it
    on a small city (``prepare.sql``: 7.7 ms). A parsed statement runs again with other
    parameters as often as needed."""
    return tuple(duckdb.extract_statements(text))


def run_text(
    con: duckdb.DuckDBPyConnection, text: str, params: Mapping[str, Any] | None = None,
    where: str = "the SQL", raw_errors: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Run every statement of ``text`` with only the ``$parameters`` each one names; returns
    the cursor of the last one. A DuckDB error is raised again as its own class with its
    message redacted (:func:`errors.redact`: no value from a file) and ``where`` named; with
    ``raw_errors``, as DuckDB raised it, for a caller that reads it and shows none of it."""
    params = dict(params or {})
    statements = statements_of(text)
    missing = set().union(*(s.named_parameters for s in statements)) - params.keys()
    if missing:
        raise ValueError(f"{where} needs parameters {sorted(missing)}")
    result = con
    for stmt in statements:
        try:
            result = con.execute(stmt, {k: params[k] for k in stmt.named_parameters})
        except duckdb.Error as e:
            if raw_errors:
                raise
            # DuckDB quotes the value it failed on: the message is redacted, and the original
            # (its chain included, which Dagster would store in the event log) is not kept
            raise type(e)(f"{where}: {redact(str(e))}") from None
    return result


def run_sql(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None,
    identifiers: Mapping[str, str] | None = None, raw_errors: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Run every statement of ``sql/<name>``; returns the cursor of the last one. Each
    ``$<key>`` of ``identifiers`` is a table or column name, allow-listed and quoted
    (:func:`quote`); every other ``$name`` is a bound value of ``params``; ``raw_errors``: as
    :func:`run_text`."""
    return run_text(con, with_identifiers(sql_text(name), identifiers), params,
                    where=f"sql/{name}", raw_errors=raw_errors)


#: A ``COMMENT ON`` statement (after its leading comment lines) and its table.
_COMMENT = re.compile(r'(?:\s*--[^\n]*\n)*\s*COMMENT\s+ON\s+(?:COLUMN|TABLE)\s+'
                      r'"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)
#: A ``CREATE TABLE IF NOT EXISTS`` statement (after its leading comment lines) and its table.
_CREATE_TABLE = re.compile(r'(?:\s*--[^\n]*\n)*\s*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+'
                           r'"?([A-Za-z_][A-Za-z0-9_]*)"?[\s(]', re.IGNORECASE)
#: A ``CREATE OR REPLACE VIEW`` statement (after its leading comment lines) and its view.
_CREATE_VIEW = re.compile(r'(?:\s*--[^\n]*\n)*\s*CREATE\s+OR\s+REPLACE\s+VIEW\s+'
                          r'"?([A-Za-z_][A-Za-z0-9_]*)"?[\s(]', re.IGNORECASE)
#: For each view statement this process ran, the definition DuckDB stored for it
#: (``duckdb_views().sql``, DuckDB's own rendering of the statement).
_STORED_VIEWS: dict[str, str] = {}


def run_schema(con: duckdb.DuckDBPyConnection, *texts: str) -> None:
    """Run schema DDL (CREATE … IF NOT EXISTS, views, ``COMMENT ON``), writing only what
    changes, so a stage's schema costs little once its tables exist: a table's CREATE and
    comments only when this call creates it (a CREATE TABLE IF NOT EXISTS of a table that
    exists does nothing), and a ``CREATE OR REPLACE VIEW`` only when the view stored differs
    from what the statement stored when this process last ran it (each is a write of the
    catalog, committed to the file: 1-10 ms). A view reads its tables' columns when queried,
    so a column added to a table since does not call for it again."""
    statements = [(stmt, _CREATE_VIEW.match(stmt.query))
                  for text in texts for stmt in statements_of(text)]
    before = {t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    views = dict(con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE NOT temporary AND NOT internal"
    ).fetchall()) if any(view for _, view in statements) else {}
    for stmt, view in statements:
        named = _COMMENT.match(stmt.query) or _CREATE_TABLE.match(stmt.query)
        if named is not None and named.group(1) in before:
            continue
        if view is not None and views.get(view.group(1), "") == _STORED_VIEWS.get(stmt.query):
            continue
        con.execute(stmt)
        if view is not None:
            [(_STORED_VIEWS[stmt.query],)] = con.execute(
                "SELECT sql FROM duckdb_views() WHERE view_name = ? AND NOT temporary",
                [view.group(1)]).fetchall()


def run_schema_sql(con: duckdb.DuckDBPyConnection, *names: str,
                   identifiers: Mapping[str, str] | None = None) -> None:
    """:func:`run_schema` of the files ``sql/<name>``, each ``$<key>`` of ``identifiers`` an
    allow-listed name (:func:`with_identifiers`)."""
    run_schema(con, *(with_identifiers(sql_text(n), identifiers) for n in names))


def has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Whether table or view ``table`` (a temporary one too) has ``column``: False when there is
    no such table."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND column_name = ?",
        [table, column]).fetchall()[0][0])


def describe_table(con: duckdb.DuckDBPyConnection, table: str,
                   rows_of: tuple[str, Any, Any] | None = None,
                   ) -> tuple[list[tuple[str, str, bool, str | None]], int]:
    """The columns of table or view ``table`` — (name, type, nullable, comment; a view's column
    takes the comment of the same column in the tables its definition names) — and its row
    count: every row, or with ``rows_of = (column, first, last)`` the rows of one partition
    (``column`` between the bound ``first`` and ``last``; a window is ``(id, id)``)."""
    columns = con.execute(
        "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index", [table]).fetchall()
    if not columns:
        raise ValueError(f"table {table} does not exist")
    view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ?", [table]).fetchone()
    inherited: dict[str, str] = {}
    if view is not None:
        for name, column, comment in con.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns() "
                "WHERE comment IS NOT NULL AND table_name <> ? ORDER BY table_name",
                [table]).fetchall():
            if name in view[0]:
                inherited.setdefault(column, comment)
    where, values = "", []
    if rows_of is not None:
        column, first, last = rows_of
        where, values = f" WHERE {quote(column)} BETWEEN ? AND ?", [first, last]
    (rows,) = con.execute(f"SELECT count(*) FROM {quote(table)}{where}",  # noqa: S608
                          values).fetchone()
    return [(n, t, bool(null), c or inherited.get(n)) for n, t, null, c in columns], int(rows)


def first_row(cursor: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The first row of a query's result as ``{column: value}`` (stats and check counts). The
    result is read to its end: a result left unfinished blocks the connection's next
    ``register`` (DuckDB 2.0)."""
    rows = cursor.fetchall()
    return dict(zip([d[0] for d in cursor.description], rows[0], strict=True))


@contextmanager
def registered(con: duckdb.DuckDBPyConnection,
               **frames: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """Each data frame of ``frames`` visible to SQL under its keyword's name while the block
    runs (how Python-made rows reach a SQL file)."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield con
    finally:
        for name in frames:
            con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Delete-then-insert writes go through here: all or nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
