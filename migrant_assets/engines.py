"""The compute engines of the feature stage (window graphs and features, SPEC §4-§5): DuckDB, the
default, embedded in the study's file, and Apache Spark, for data no single machine holds
(docs/spark.md). The study config's ``engine`` chooses (``config.EngineSettings``).

Both run the SAME SQL files of ``sql/graphs/`` and ``sql/features/``, through the same
:func:`migrant_assets.db.run_sql` and the same stage functions (``graphs.build_window_graph``,
``features.build_features``, ...): on Spark the "connection" is a :class:`SparkSQL`, which takes
each DuckDB-dialect statement and handles every dialect difference here, in one place, with
sqlglot (a well-kept SQL transpiler):

- the text is transpiled ``duckdb`` -> ``spark`` (types such as ``VARCHAR`` -> ``STRING``,
  ``LOG2`` -> ``LOG(2, x)``, quoting, ...);
- each ``$name`` parameter becomes a Spark named parameter marker ``:name``, its value bound with
  ``spark.sql(query, args=...)`` (pyspark >= 3.4), never pasted into the text;
- the scalar macros of ``sql/features/macros.sql`` are inlined (AST substitution);
- ``CREATE TEMP TABLE x AS SELECT`` becomes a temporary view of the rows computed at once and
  checkpointed (kept by the executors, lineage cut), as DuckDB stores a temporary table;
- a CTE read more than once is computed once, checkpointed, for its statement, as DuckDB
  materializes it (Spark would inline it and compute it again at every reference);
- ``CREATE TABLE`` declares a warehouse table: Parquet under ``<warehouse>/<table>/``, partitioned
  by its ``window_id`` or ``call_date`` column (:data:`PARTITION_COLUMNS`), read as a temporary
  view of the same name; ``CREATE VIEW`` a temporary view; ``COMMENT ON`` is DuckDB's catalog only;
- ``DELETE FROM t WHERE <partition column> = $v`` followed by ``INSERT INTO t ...`` (the
  delete-then-insert of every partition write) overwrites that one partition directory and
  nothing else: re-running a partition is idempotent;
- the ``ORDER BY`` of an ``INSERT`` (the order rows are stored in, for DuckDB's compression)
  sorts each task's rows (``sortWithinPartitions``), not the whole table: no shuffle for it;
- ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` do nothing: each partition overwrite stands alone.

On Spark every window is computed from its own days (the incremental first-k-days path, window
k - 1 plus day k, is DuckDB's: ``features.build_features(..., incremental=False)``); the DuckDB
path is unchanged. The inputs (``calls`` by day, the small ``subscribers``, ``cells``,
``estates``, ``user_labels``, ``cell_prices``) are copied from the DuckDB file to the warehouse
(:func:`export_calls`, :func:`export_inputs`; by DuckDB's Parquet writer on a local
warehouse); the features, small, are read back into the DuckDB feature tables
(:func:`read_back_features`), so models and reports stay as they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from migrant_assets.config import EngineSettings, StudyConfig, Window
from migrant_assets.db import (
    quote,
    registered,
    run_text,
    sql_text,
    transaction,
    with_identifiers,
)
from migrant_assets.errors import ConfigError

if TYPE_CHECKING:  # pyspark is the optional extra `spark`
    from pyspark.sql import DataFrame, SparkSession

_COMMENT_ON = re.compile(r"(\s*--[^\n]*\n)*\s*COMMENT\s+ON\s", re.IGNORECASE)
#: A warehouse table is partitioned by the first of these columns it has.
PARTITION_COLUMNS = ("window_id", "call_date")
#: The small inputs of the feature stage, copied whole to the warehouse (:func:`export_inputs`).
INPUT_TABLES = ("subscribers", "cells", "estates", "user_labels", "cell_prices")
#: Settings of every session this module starts, under the study's ``engine.conf``: session
#: time in UTC (timestamps are the city's local wall clock, stored without a zone, so HOUR()
#: reads them as they are), few shuffle partitions (adaptive execution merges them further; raise
#: it on a cluster), no web UI nor console progress bars, Parquet partition values typed by the
#: tables' DDL, decimal arithmetic that keeps the SQL's fixed-point scales (the exact sums,
#: prepare.sql) as DuckDB does instead of rounding them to 6 digits, a driver of 2 GB in local
#: mode.
SPARK_DEFAULTS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.driver.memory": "2g",
}
#: The schema files run on a Spark warehouse (every table the feature stage reads or writes);
#: the stored sums' file once per family that stores sums (``features.stored_sums_tables``).
SCHEMA_FILES = ("graphs/schema.sql", "features/first_k_days_sums.sql")


def spark_config(settings: EngineSettings) -> dict[str, str]:
    """The flat Spark configuration of a session: master, app name, :data:`SPARK_DEFAULTS`,
    then the study's ``engine.conf``."""
    return {"spark.master": settings.master, "spark.app.name": settings.app_name,
            **SPARK_DEFAULTS, **settings.conf}


#: What to check when a Spark session cannot start.
_SPARK_START_FIX = ("check that JAVA_HOME names a Java 17 or later runtime ($JAVA_HOME/bin/java "
                    "-version; unset, the java on the PATH), engine.master (local[N], local[*], "
                    "spark://host:port, yarn, k8s://...) and engine.conf (spark.driver.memory "
                    "and the like; the JVM's own message is printed above); docs/spark.md")


def spark_start_problem(error: BaseException) -> str:
    """What a failed Spark start says, in one line: a Java home without java, else the Java
    exception's message (``Could not parse Master URL: ...``), else the error's first line."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and not (Path(java_home) / "bin" / "java").exists():
        return f"JAVA_HOME={java_home} has no bin/java"
    text = str(error)
    found = re.search(r"(?:[\w.]+(?:Exception|Error)): ([^\n]+)", text)
    if found:
        return found.group(1).strip()
    return f"{type(error).__name__}: {(text.strip().splitlines() or [''])[0][:300]}"


def warehouse_path(cfg: StudyConfig) -> str:
    """The study's Parquet warehouse: ``engine.warehouse``, else ``<workdir>/spark_warehouse``."""
    return cfg.engine.warehouse or str(cfg.workdir / "spark_warehouse")


def spark_session(settings: EngineSettings) -> SparkSession:
    """A Spark session for ``settings`` through dagster-pyspark's resource (its
    ``spark_session_from_config``: one builder for Dagster runs and scripts). Under spark-submit
    or a notebook the running session is returned, and the cluster's own master wins."""
    from dagster_pyspark import LazyPySparkResource

    return LazyPySparkResource(spark_config=spark_config(settings)).spark_session


@dataclass
class _Table:
    schema: Any  # pyspark StructType
    partition: str | None


class SparkSQL:
    """A Spark session seen as the DuckDB connection the stage functions expect (``execute`` with
    named parameters, ``fetchone``, ``fetchall``, ``description``): every statement is translated
    here (module docstring) and run on Spark over the Parquet ``warehouse``."""

    def __init__(self, spark: SparkSession, warehouse: str) -> None:
        self.spark = spark
        self.warehouse = warehouse.rstrip("/")
        self._tables: dict[str, _Table] = {}
        self._views: dict[str, str] = {}
        self._temp: dict[str, DataFrame] = {}
        self._macros: dict[str, tuple[list[str], exp.Expression]] = {}
        self._delete: dict[str, tuple[str | None, Any]] = {}
        self._rows: list[tuple] = []
        self.description: list[tuple] | None = None
        self._cte_views: dict[str, DataFrame] = {}
        self._cte_count = 0
        from migrant_assets.features import STORED_SUMS, stored_sums_tables

        graphs, sums = SCHEMA_FILES
        run_text(self, sql_text(graphs), where=f"sql/{graphs}")
        for family in STORED_SUMS:
            run_text(self, with_identifiers(sql_text(sums), stored_sums_tables(family)),
                     where=f"sql/{sums}")
        self.declare_features()

    # ---------------------------------------------------------------- the translation, one place
    def to_spark(self, statement: str) -> exp.Expression:
        """The DuckDB-dialect ``statement`` as a sqlglot tree whose Spark SQL (``.sql("spark")``)
        has ``:name`` parameter markers and the macros inlined."""
        tree = sqlglot.parse_one(statement, read="duckdb")
        return tree.transform(self._inline)

    def _inline(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in self._macros:
            names, body = self._macros[node.name.lower()]
            if len(names) != len(node.expressions):
                raise ValueError(f"macro {node.name} takes {len(names)} arguments")
            args = dict(zip(names, node.expressions, strict=True))
            return exp.Paren(this=body.copy().transform(
                lambda n: exp.Paren(this=args[n.name].copy())
                if isinstance(n, exp.Column) and not n.table and n.name in args else n))
        return node

    def _sql(self, tree: exp.Expression) -> str:
        return tree.sql(dialect="spark")

    def _query(self, tree: exp.Expression, params: Mapping[str, Any]) -> DataFrame:
        """``tree`` (a query) on Spark, the values of its ``:name`` markers bound; its CTEs read
        more than once computed once first (:meth:`_materialize_ctes`)."""
        tree = self._materialize_ctes(tree, params)
        names = {p.name for p in tree.find_all(exp.Placeholder)}
        return self.spark.sql(self._sql(tree), args={k: params[k] for k in names} or None)

    def _materialize_ctes(self, tree: exp.Expression, params: Mapping[str, Any]
                          ) -> exp.Expression:
        """``tree`` with each CTE of its top ``WITH`` that is read more than once and reads a
        table computed first, checkpointed, as a temporary view of its own, as DuckDB
        materializes such a CTE; Spark would inline it and compute it again at every reference
        (``feat_position_prices`` reads its 5 km candidates twice). The views live until the
        statement has run (:meth:`execute`)."""
        with_ = next((v for v in tree.args.values() if isinstance(v, exp.With)), None)
        if with_ is None or with_.args.get("recursive"):
            return tree
        tree = tree.copy()
        with_ = next(v for v in tree.args.values() if isinstance(v, exp.With))
        kept: list[exp.CTE] = []
        seen: set[int] = set()  # tables read by this and earlier CTEs: not references to it
        for cte in list(with_.expressions):
            name = cte.alias
            seen.update(id(t) for t in cte.this.find_all(exp.Table))
            reads = [t for t in tree.find_all(exp.Table)
                     if not t.db and t.name == name and id(t) not in seen]
            if len(reads) < 2 or not any(not t.db for t in cte.this.find_all(exp.Table)):
                kept.append(cte)
                continue
            body = cte.this.copy()
            if kept:  # the earlier CTEs it may read, still inline
                body.set(with_.arg_key, exp.With(expressions=[c.copy() for c in kept]))
            self._cte_count += 1
            view = f"cte_{self._cte_count}_{name}"
            df = self._query(body, params).localCheckpoint()
            df.createOrReplaceTempView(view)
            self._cte_views[view] = df
            for table in reads:
                table.set("this", exp.to_identifier(view))
                if not table.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
        if len(kept) == len(with_.expressions):
            return tree
        if kept:
            with_.set("expressions", kept)
        else:
            tree.set(with_.arg_key, None)
        return tree

    def _release_ctes(self) -> None:
        for view, df in self._cte_views.items():
            self.spark.catalog.dropTempView(view)
            df.unpersist()
        self._cte_views.clear()

    # ------------------------------------------------------------------ the connection's surface
    def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> SparkSQL:
        """Run one statement (text, or a ``duckdb.Statement`` of :func:`db.run_text`)."""
        params = dict(parameters or {})
        text = getattr(statement, "query", statement)
        self._rows, self.description = [], None
        if _COMMENT_ON.match(text):  # column comments live in DuckDB's catalog only
            return self
        tree = self.to_spark(text)
        if isinstance(tree, exp.Transaction | exp.Commit | exp.Rollback | exp.Comment):
            return self
        try:
            if isinstance(tree, exp.Create):
                self._create(tree, params)
            elif isinstance(tree, exp.Delete):
                self._delete_rows(tree, params)
            elif isinstance(tree, exp.Insert):
                self._insert(tree, params)
            elif isinstance(tree, exp.Query):
                df = self._query(tree, params)
                self._rows = [tuple(r) for r in df.collect()]
                self.description = [(c,) for c in df.columns]
            else:
                raise ValueError(f"no Spark translation for a {type(tree).__name__} statement")
        finally:  # each statement computed at once: its materialized CTEs are done with
            self._release_ctes()
        return self

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def table(self, name: str) -> DataFrame:
        """A warehouse table, temporary table or view as a Spark DataFrame."""
        return self.spark.table(quote(name).replace('"', "`"))

    def describe(self, table: str, rows_of: tuple[str, Any, Any] | None = None,
                 ) -> tuple[list[tuple[str, str, bool, str | None]], int]:
        """As ``db.describe_table``: a warehouse table's columns (name, Spark type, nullable,
        no comment) and its rows, or those of ``rows_of = (column, first, last)``."""
        from pyspark.sql import functions as F

        df = self.table(table)
        columns = [(f.name, f.dataType.simpleString().upper(), f.nullable, None)
                   for f in df.schema.fields]
        if rows_of is not None:
            column, first, last = rows_of
            df = df.where(F.col(column).between(F.lit(first), F.lit(last)))
        return columns, df.count()

    def partition_path(self, table: str, value: Any) -> str:
        """The directory of one partition of a warehouse table (Hive layout, value escaped as
        Spark escapes it)."""
        utils = self.spark._jvm.org.apache.spark.sql.catalyst.catalog.ExternalCatalogUtils
        column = self._tables[table].partition
        return f"{self.warehouse}/{table}/{utils.getPartitionPathString(column, str(value))}"

    # ------------------------------------------------------------------------------- statements
    def _create(self, tree: exp.Create, params: Mapping[str, Any]) -> None:
        kind = (tree.args.get("kind") or "").upper()
        target = tree.this
        if kind == "MACRO":  # macros.sql: one expression each, inlined by to_spark
            self._macros[target.this.name.lower()] = ([e.name for e in target.expressions],
                                                 tree.expression)
        elif kind == "VIEW":
            self._views[target.name] = self._sql(tree.expression)
            self._refresh_views()
        elif kind == "TABLE" and tree.expression is not None:  # CREATE TEMP TABLE ... AS
            name = target.name
            # computed now and cut from its lineage, as DuckDB stores a temporary table: the
            # plans of later statements stay small however many tables they read
            df = self._query(tree.expression, params).localCheckpoint()
            old = self._temp.pop(name, None)
            df.createOrReplaceTempView(name)
            self._temp[name] = df
            if old is not None:
                old.unpersist()
        elif kind == "TABLE":  # DDL of a warehouse table
            columns = [(c.name, c.args["kind"].sql(dialect="spark"))
                       for c in target.expressions if isinstance(c, exp.ColumnDef)]
            self.declare(target.this.name, columns)
        else:
            raise ValueError(f"no Spark translation for CREATE {kind}")

    def declare(self, table: str, columns: list[tuple[str, str]]) -> None:
        """A warehouse table of these (name, Spark type) columns, partitioned by its first
        :data:`PARTITION_COLUMNS` column; declared again, it keeps its files."""
        from pyspark.sql.types import StructType

        quote(table)
        schema = StructType.fromDDL(", ".join(f"`{n}` {t}" for n, t in columns))
        names = [n for n, _ in columns]
        partition = next((c for c in PARTITION_COLUMNS if c in names), None)
        self._tables[table] = _Table(schema, partition)
        self._refresh(table)

    def declare_features(self) -> None:
        """The feature tables and the view ``features`` (``features.schema_sql``)."""
        from migrant_assets.features import schema_sql

        for statement in schema_sql():
            self.execute(statement)

    def _delete_rows(self, tree: exp.Delete, params: Mapping[str, Any]) -> None:
        table = tree.this.name
        where = tree.args.get("where")
        if where is None:
            self._delete[table] = (None, None)
            return
        cond = where.this
        part = self._tables[table].partition if table in self._tables else None
        if not (isinstance(cond, exp.EQ) and isinstance(cond.this, exp.Column)
                and cond.this.name == part and isinstance(cond.expression, exp.Placeholder)):
            raise ValueError(f"on Spark a DELETE overwrites one partition of a warehouse table: "
                             f"`{part} = $value`, not {self._sql(where)}")
        self._delete[table] = (part, params[cond.expression.name])

    def _insert(self, tree: exp.Insert, params: Mapping[str, Any]) -> None:
        from pyspark.sql import functions as F

        target = tree.this
        table = (target.this if isinstance(target, exp.Schema) else target).name
        spec = self._tables[table]
        select, order = tree.expression, tree.expression.args.get("order")
        if order is not None:  # the rows' storage order: sorted within each task, not globally
            select = select.copy()
            select.set("order", None)
        df = self._query(select, params)
        names = ([c.name for c in target.expressions] if isinstance(target, exp.Schema)
                 else spec.schema.names)
        df = df.toDF(*names)
        if order is not None:
            df = df.sortWithinPartitions(*[o.this.name for o in order.expressions])
        df = df.select(*[F.col(f.name).cast(f.dataType) if f.name in names
                         else F.lit(None).cast(f.dataType).alias(f.name)
                         for f in spec.schema.fields])
        column, value = self._delete.pop(table, (False, None))
        path = f"{self.warehouse}/{table}"
        if column is None:  # DELETE FROM t (no WHERE), then INSERT: the whole table
            self._write(df, path, "overwrite", spec.partition)
        elif column:  # one partition's directory, and nothing else
            self._write(df.drop(column), self.partition_path(table, value), "overwrite", None)
        else:
            self._write(df, path, "append", spec.partition)
        self._refresh(table)

    @staticmethod
    def _write(df: DataFrame, path: str, mode: str, partition: str | None) -> None:
        writer = df.write.mode(mode)
        if partition is not None:
            writer = writer.partitionBy(partition)
        writer.parquet(path)

    def _fs(self, path: str) -> tuple[Any, Any]:
        """The Hadoop file system of ``path`` (local, HDFS, S3, ...) and the path."""
        p = self.spark._jvm.org.apache.hadoop.fs.Path(path)
        return p.getFileSystem(self.spark._jsc.hadoopConfiguration()), p

    def _exists(self, path: str) -> bool:
        fs, p = self._fs(path)
        return fs.exists(p)

    def _remove(self, path: str) -> None:
        fs, p = self._fs(path)
        fs.delete(p, True)

    def _refresh(self, table: str) -> None:
        """(Re)read a warehouse table's files as its temporary view, then the views over it."""
        spec = self._tables[table]
        path = f"{self.warehouse}/{table}"
        if self._exists(path):
            df = self.spark.read.schema(spec.schema).option("basePath", path).parquet(path)
        else:
            df = self.spark.createDataFrame([], spec.schema)
        df.createOrReplaceTempView(table)
        self._refresh_views()

    def _refresh_views(self) -> None:
        for name, select in self._views.items():
            self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW `{quote(name)[1:-1]}` AS {select}")

    # ------------------------------------------------------------------------------- inputs
    def load(self, table: str, rows: duckdb.DuckDBPyRelation, partitions: list | None = None,
             ) -> None:
        """Write DuckDB's ``rows`` as warehouse table ``table``: the whole table, or with
        ``partitions`` (values of the table's partition column) those partitions only, each
        replaced by its rows (none: emptied). On a local warehouse DuckDB's Parquet writer
        writes the files (no row passes through Python or the JVM); elsewhere (``hdfs://``,
        ``s3a://``) Spark writes them from an Arrow copy. Spark types from the Arrow schema."""
        if table not in self._tables:
            self._declare_like(table, rows)
        spec = self._tables[table]
        path = f"{self.warehouse}/{table}"
        local = _local_dir(path)
        if local is None:
            df = self.spark.createDataFrame(rows.to_arrow_table(), schema=spec.schema)
            if partitions is None:
                self._write(df, path, "overwrite", spec.partition)
            else:
                for value in partitions:
                    self._remove(self.partition_path(table, value))
                self._write(df, path, "append", spec.partition)
        elif partitions is None:
            self._remove(path)
            _write_parquet(rows, local)
        else:
            column = spec.partition
            rest = [c for c in rows.columns if c != column]
            for value in partitions:
                part = self.partition_path(table, value)
                self._remove(part)
                _write_parquet(rows.filter(duckdb.ColumnExpression(column)
                                           == duckdb.ConstantExpression(value)).select(*rest),
                               _local_dir(part))
        self._refresh(table)

    def _declare_like(self, table: str, rows: duckdb.DuckDBPyRelation) -> None:
        """Declare warehouse table ``table`` with the Spark types of DuckDB's ``rows`` (as
        :meth:`load` writes them), partitioned by its first :data:`PARTITION_COLUMNS` column."""
        schema = self.spark.createDataFrame(rows.limit(0).to_arrow_table()).schema
        self._tables[table] = _Table(schema, next(
            (c for c in PARTITION_COLUMNS if c in schema.names), None))

    def declare_loaded(self, table: str, rows: duckdb.DuckDBPyRelation) -> None:
        """Read the files another step loaded into warehouse table ``table`` (``calls``, by
        day: :func:`export_calls`), typed like DuckDB's ``rows`` as :meth:`load` typed them: a
        session of a later step (another process) knows only the tables it declares."""
        if table not in self._tables:
            self._declare_like(table, rows)
        self._refresh(table)

    def close(self) -> None:
        """Drop the cached temporary tables (the session stays, shared with other runs)."""
        for df in self._temp.values():
            df.unpersist()
        self._temp.clear()


def _local_dir(path: str) -> Path | None:
    """The local directory of a warehouse path (plain or ``file:``), None on another file
    system (``hdfs://``, ``s3a://``, ...)."""
    if path.startswith("file:"):
        return Path(path.removeprefix("file:").removeprefix("//"))
    return None if "://" in path else Path(path)


def _write_parquet(rows: duckdb.DuckDBPyRelation, directory: Path) -> None:
    """``rows`` as the one Parquet file of a (new) warehouse directory, by DuckDB."""
    directory.mkdir(parents=True, exist_ok=True)
    rows.write_parquet(str(directory / "part-00000.parquet"))


def export_inputs(con: duckdb.DuckDBPyConnection, sql: SparkSQL,
                  tables: Iterable[str] = INPUT_TABLES) -> None:
    """Copy the small inputs of the feature stage (:data:`INPUT_TABLES`, or those of
    ``tables``: ``user_labels`` for the migrants' neighbourhood of a first-k-days graph) from
    DuckDB to the warehouse, each whole (overwritten)."""
    with con.cursor() as cur:  # its own cursor: an earlier result may still be open on ``con``
        for table in tables:
            sql.load(table, cur.table(quote(table)))


def declare_calls(con: duckdb.DuckDBPyConnection, sql: SparkSQL,
                  inputs: Iterable[str] = ()) -> None:
    """The warehouse's ``calls`` (copied by day by the ``daily_contacts`` step:
    :func:`export_calls`) read by this session (:meth:`SparkSQL.declare_loaded`): the graphs,
    their checks and the features read them in steps of their own; so, with ``inputs``, the
    inputs a feature step copied (:func:`export_inputs`), which its checks read."""
    with con.cursor() as cur:
        for table in ("calls", *inputs):
            sql.declare_loaded(table, cur.table(quote(table)))


def export_calls(con: duckdb.DuckDBPyConnection, sql: SparkSQL, days: list[date]) -> int:
    """Copy the ``calls`` of ``days`` to their partitions of the warehouse (each replaced);
    returns the number of calls copied."""
    with con.cursor() as cur:
        rows = cur.table("calls").filter(duckdb.FunctionExpression(
            "list_contains", duckdb.ConstantExpression(list(days)),
            duckdb.ColumnExpression("call_date")))
        sql.load("calls", rows, partitions=list(days))
        return rows.count("*").fetchall()[0][0]


def read_back_features(con: duckdb.DuckDBPyConnection, sql: SparkSQL, window: Window) -> str:
    """The window's feature rows computed on Spark, into its DuckDB feature table
    (delete-then-insert of the window in one transaction); returns the table."""
    from migrant_assets.features import ensure_schema, features_table

    table = features_table(window)
    ensure_schema(con)
    frame = sql.table(table).where(_equals("window_id", window.window_id)).toArrow()
    columns = ", ".join(quote(c) for c in frame.column_names)
    with registered(con, spark_features=frame), transaction(con):
        con.execute(f"DELETE FROM {quote(table)} WHERE window_id = ?", [window.window_id])
        con.execute(f"INSERT INTO {quote(table)} ({columns}) SELECT {columns} "
                    "FROM spark_features")
    return table


def _equals(column: str, value: Any):
    from pyspark.sql import functions as F

    return F.col(column) == F.lit(value)


def spark_daily_contacts(con: duckdb.DuckDBPyConnection, sql: SparkSQL, days: list[date]
                         ) -> int:
    """The ``daily_contacts`` partitions of ``days`` on Spark (``graphs.build_daily_contacts``,
    the same SQL), from the days' calls copied to the warehouse; returns the calls counted."""
    from migrant_assets.graphs import build_daily_contacts

    export_calls(con, sql, days)
    return sum(build_daily_contacts(sql, day)["n_calls"] or 0 for day in days)


def spark_features(con: duckdb.DuckDBPyConnection, sql: SparkSQL, cfg: StudyConfig,
                   window: Window) -> str:
    """One window's features on Spark (``features.build_features`` from the window's own days,
    the same SQL), written to its warehouse partition and read back into its DuckDB feature
    table (:func:`read_back_features`); returns the table. Needs the window's graph on Spark
    and the inputs copied (:func:`export_inputs`)."""
    from migrant_assets.features import build_features

    build_features(sql, cfg, window, incremental=False)
    return read_back_features(con, sql, window)


@contextmanager
def spark_sql(cfg: StudyConfig) -> Iterator[SparkSQL]:
    """A :class:`SparkSQL` over the study's warehouse, on the session of its ``engine``; a
    session that cannot start, or a warehouse that cannot be written, is a :class:`ConfigError`
    naming the settings to check."""
    try:
        session = spark_session(cfg.engine)
    except Exception as e:  # noqa: BLE001 -- PySpark's and Py4J's errors share no base class
        raise ConfigError(f"Spark could not start ({spark_start_problem(e)})", "engine",
                          _SPARK_START_FIX) from e
    try:
        sql = SparkSQL(session, warehouse_path(cfg))
    except OSError as e:
        raise ConfigError(f"the Spark warehouse cannot be written ({type(e).__name__}: "
                          f"{e.strerror or e})", "engine.warehouse",
                          "set engine.warehouse to a folder this user can write, or a Hadoop "
                          "path (hdfs://, s3a://) on a cluster (docs/spark.md)") from e
    try:
        yield sql
    finally:
        sql.close()
