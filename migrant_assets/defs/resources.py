"""The one resource every asset uses: the study configuration and its DuckDB file, as a
`dagster_duckdb.DuckDBResource` (``get_connection``) that opens the file with the study's
settings (memory cap, spill directory, a clear error when another process holds the lock)."""

import functools
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from migrant_assets import lineage
from migrant_assets.config import StudyConfig
from migrant_assets.contract import DataContract, contract_for
from migrant_assets.db import connect, lower_memory_limit, query_log, start_query_log
from migrant_assets.errors import InputError
from migrant_assets.runs import claim_workdir

#: Every asset that writes the DuckDB file runs in this pool (limit 1, dagster.yaml).
DUCKDB_POOL = "duckdb"
#: When set, every statement an asset or check runs is appended to this JSON-lines file with
#: the step's asset and check keys (the test that no table is written by two assets).
SQL_LOG_ENV = "MIGRANT_ASSETS_SQL_LOG"


def _current_step() -> dict:
    """The asset and check keys of the step running now (empty outside a step)."""
    try:
        context = dg.AssetExecutionContext.get()
    except Exception:  # noqa: BLE001 -- no step is running (a test or a script)
        return {"assets": [], "checks": []}
    op = context.op_execution_context
    return {"assets": sorted(k.to_user_string() for k in op.selected_asset_keys),
            "checks": sorted(f"{k.asset_key.to_user_string()}.{k.name}"
                             for k in op.selected_asset_check_keys)}


#: The plan of each running step (its run and step key): checked when the step opens its first
#: connection, recorded each time one of its connections closes without an error.
_PLANS: dict[tuple[str, str], lineage.Plan] = {}


@functools.cache
def _asset_graph():
    """The asset graph of the code location (a run of ``materialize`` has no repository)."""
    from migrant_assets.defs import defs  # the code location imports this module

    return defs.resolve_asset_graph()


#: Not an input a step must find materialized: the synthetic city's files are read through the
#: data contract, which says when they are not generated yet.
_SYNTHETIC_CITY = dg.AssetKey("synthetic_city")


def _step_targets(context: dg.AssetExecutionContext,
                  cfg: StudyConfig) -> list[lineage.Target]:
    """The asset partitions the running step writes, each with the partitions it reads (the
    asset graph's partition mappings, less what the study leaves unread:
    ``lineage.unread_inputs``); none for a check."""
    from migrant_assets.defs.partitions import CALENDAR  # the code location's calendar

    op = context.op_execution_context
    graph = _asset_graph()
    targets = []
    unread = lineage.unread_inputs(cfg)
    for key in sorted(op.selected_asset_keys):
        if not graph.has(key):
            continue  # an asset of a test's own definitions
        node = graph.get(key)
        settings = lineage.settings_key(key.to_user_string(), node.group_name)
        if settings is None:
            continue
        parts = list(context.partition_keys) if node.partitions_def is not None else [None]
        # every partition under the calendar now, when the code location's partitions are
        # the step's study's (else none: nothing is dropped, lineage.drop_left_partitions)
        every = tuple(node.partitions_def.get_partition_keys()) \
            if node.partitions_def is not None and cfg.calendar == CALENDAR else ()
        built_from = {key, *graph.get_ancestor_asset_keys(key)}
        lands = tuple(sorted({k.to_user_string() for k in built_from}
                             & set(lineage.LANDED_BY.values())))
        for part in parts:
            parents = [p for p in graph.get_parents_partitions(key, part).parent_partitions
                       if (key.to_user_string(), p.asset_key.to_user_string()) not in unread]
            required = {(k.to_user_string(), str(graph.get(k).metadata.get(
                             "dagster/table_name", k.to_user_string())))
                        for k in {p.asset_key for p in parents} - {key, _SYNTHETIC_CITY}
                        if graph.has(k) and graph.get(k).is_materializable
                        and lineage.settings_key(k.to_user_string(), graph.get(k).group_name)}
            targets.append(lineage.Target(
                key.to_user_string(), part, settings,
                tuple(sorted(((p.asset_key.to_user_string(), p.partition_key) for p in parents),
                             key=lambda p: (p[0], p[1] or ""))), lands, tuple(sorted(required)),
                every))
    return targets


def _step_plan(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> lineage.Plan | None:
    """The lineage plan of the asset step running now (:mod:`migrant_assets.lineage`)."""
    try:
        context = dg.AssetExecutionContext.get()
    except Exception:  # noqa: BLE001 -- no step is running (a test or a script)
        return None
    if context is None or not context.op_execution_context.selected_asset_keys:
        return None
    step = (context.run.run_id, str(context.op_execution_context.node_handle))
    if step not in _PLANS:
        for done in [k for k in _PLANS if k[0] != step[0]]:  # runs of this process end
            del _PLANS[done]                                         # before the next starts
        try:
            contract: DataContract | None = contract_for(cfg)
        except InputError:
            contract = None  # not generated yet (synthetic_city), or reported by the asset
        _PLANS[step] = lineage.plan(con, cfg, contract, _step_targets(context, cfg))
    return _PLANS[step]


class StudyResource(DuckDBResource):
    """The study (``config/study.yaml`` unless ``config_path`` or MIGRANT_ASSETS_CONFIG says);
    ``database`` defaults to the study's DuckDB file."""

    database: str = ""
    config_path: str | None = None

    @property
    def config(self) -> StudyConfig:
        return StudyConfig.load(self.config_path)

    def contract(self) -> DataContract:
        """The data contract: the mapping's files, or the synthetic city the `synthetic_city`
        asset generated."""
        return contract_for(self.config)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cfg = self.config
        database = self.database or cfg.duckdb_path
        if str(database) != ":memory:":
            claim_workdir(cfg.workdir, Path(database))
        con = connect(database, cfg.duckdb)
        log_path = os.environ.get(SQL_LOG_ENV)
        if log_path:
            start_query_log(con)
        try:
            plan = _step_plan(con, cfg)
            yield con
            if plan is not None:
                lineage.record(con, plan)
        finally:
            if log_path:
                step = _current_step()
                with open(log_path, "a", encoding="utf-8") as log:
                    for statement in query_log(con):
                        log.write(json.dumps({**step, "sql": statement}) + "\n")
            con.close()

    def connect(self):
        """The connection of :meth:`get_connection` (the name the assets use)."""
        return self.get_connection()

    @contextmanager
    def connect_models(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """:meth:`connect` with DuckDB capped at ``duckdb.models_memory_limit`` (the model
        assets and their checks: ``db.lower_memory_limit``)."""
        with self.get_connection() as con:
            limit = self.config.duckdb.models_memory_limit
            if limit is not None:
                lower_memory_limit(con, limit)
            yield con

    @contextmanager
    def spark(self):
        """The study's Spark engine (``engine: spark``, docs/spark.md): a
        ``migrant_assets.engines.SparkSQL`` over its Parquet warehouse, on the session that
        dagster-pyspark builds from the study's ``engine`` settings (master, app name, conf)."""
        from migrant_assets.engines import spark_sql  # pyspark: the optional extra `spark`

        with spark_sql(self.config) as sql:
            yield sql

    @property
    def on_spark(self) -> bool:
        """Whether the feature stage runs on Spark (the study's ``engine.kind``)."""
        return self.config.engine.kind == "spark"
