"""Graph assets (SPEC §4): daily contacts and the directed weighted graph G_t of every window.

Each window family's graph is its own asset and table (`graphs.GRAPH_TABLES`); the view
`window_graph` unions them. Window partitions map to the daily partitions they read, so lineage
is partition-to-partition: a week to its seven days, a first-k-days window (keyed by its last
day) to its days from 09-05 on, through `first_k_days_contacts`, and the descriptive whole-period
window (one static partition, keyed by the month's first day) to every day of the study month.
A first-k-days window also reads its own asset's previous partition (k - 1): G_k is G_{k-1} plus
day k when G_{k-1} is stored and still matches the daily contacts, else the sum of its days
(`graphs.build_window_graph`); so a window materialized alone is right, and a backfill in order
reads each day once. Below k_max it keeps the edges of the departure migrants' neighbourhood only
(`graphs.migrants_only`: their users), which it reads from `user_labels`. Every window asset
backfills in a single run, window after window in order.

`edges_match_calls` (blocking) compares each stored graph partition with the calls, one
evaluation per partition (`checks.per_partition`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg
import duckdb

from migrant_assets.defs.checks import per_partition, verdict
from migrant_assets.defs.ingest import calls
from migrant_assets.defs.labels import user_labels
from migrant_assets.defs.metadata import (
    each_partition,
    table_metadata,
    table_name_metadata,
    tidy,
)
from migrant_assets.defs.partitions import (
    CALENDAR,
    departure_weeks,
    first_k_days,
    first_k_window_days,
    first_k_window_mapping,
    integration_weeks,
    previous_first_k_mapping,
    study_days,
    whole_period,
    whole_period_mapping,
)
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.graphs import (
    GRAPH_TABLES,
    build_daily_contacts,
    build_first_k_days_contacts,
    build_window_graph,
    neighbourhood_once,
    previous_window,
    window_graph_consistency,
)

GROUP = "graphs"


@contextmanager
def engine_connection(study: StudyResource, feature_inputs: bool = False) -> Iterator[Any]:
    """Where the study's engine stores the graph stage: the DuckDB connection, or on Spark the
    ``engines.SparkSQL`` over the warehouse, which reads the calls the ``daily_contacts`` step
    copied there (``engines.declare_calls``), with ``feature_inputs`` the inputs a feature step
    copied (``engines.INPUT_TABLES``: its checks', in a step of their own), and today's
    ``user_labels`` (copied: the migrants' neighbourhood of the first-k graphs and of their
    checks, each step in its own process); the stage functions take either."""
    if not study.on_spark:
        with study.connect() as con:
            yield con
        return
    from migrant_assets.engines import (  # the extra `spark`
        INPUT_TABLES,
        declare_calls,
        export_inputs,
    )

    inputs = [t for t in INPUT_TABLES if t != "user_labels"] if feature_inputs else []
    with study.spark() as sql:
        with study.connect() as duck:
            declare_calls(duck, sql, inputs)
            export_inputs(duck, sql, ["user_labels"])
        yield sql


def engine_metadata(con: Any, table: str, rows_of: tuple[str, Any, Any]) -> dict:
    """``table_metadata`` of a table of the DuckDB file, or of the Spark warehouse."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        return table_metadata(con, table, rows_of)
    columns, rows = con.describe(table, rows_of)
    return {**table_name_metadata(table), "dagster/row_count": rows,
            "dagster/column_schema": dg.TableSchema(columns=[
                dg.TableColumn(n, t, constraints=dg.TableColumnConstraints(nullable=null))
                for n, t, null, _ in columns]),
            "warehouse": con.warehouse}


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=study_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[calls],
    metadata=table_name_metadata("daily_contacts"),
)
def daily_contacts(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """One row per (caller, callee) and day: number of calls and total duration (SPEC §4)."""
    keys = context.partition_keys
    if study.on_spark:  # the days' calls copied to the warehouse, the same SQL on Spark
        from migrant_assets.engines import spark_daily_contacts  # the optional extra `spark`

        with study.connect() as con, study.spark() as sql:
            n_calls = spark_daily_contacts(con, sql, [date.fromisoformat(k) for k in keys])
            each_partition(context, {k: engine_metadata(sql, "daily_contacts",
                                                        ("call_date", k, k)) for k in keys})
        return dg.MaterializeResult(metadata={"calls_in_run": n_calls})
    figures = {}
    with study.connect() as con:
        for key in keys:
            n_calls = build_daily_contacts(con, date.fromisoformat(key))["n_calls"] or 0
            figures[key] = {**table_metadata(con, "daily_contacts", ("call_date", key, key)),
                            "calls": n_calls}
    each_partition(context, figures)
    return dg.MaterializeResult()


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=first_k_window_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[daily_contacts],
    metadata=table_name_metadata("first_k_days_contacts"),
)
def first_k_days_contacts(
    context: dg.AssetExecutionContext, study: StudyResource
) -> dg.MaterializeResult:
    """The daily contacts of the days a first-k-days window can cover (SPEC §2: 09-05..09-18),
    as the view `first_k_days_contacts`; each partition records its day's contacts."""
    keys = context.partition_key_range
    with engine_connection(study) as con:
        stats = build_first_k_days_contacts(con, study.config.calendar,
                                            date.fromisoformat(keys.start),
                                            date.fromisoformat(keys.end))
        each_partition(context, {k: engine_metadata(con, "first_k_days_contacts",
                                                    ("call_date", k, k))
                                 for k in context.partition_keys})
    return dg.MaterializeResult(metadata={"calls_in_run": stats["n_calls"]})


def _graph_asset(
    family: str,
    partitions_def: dg.PartitionsDefinition,
    upstream: dg.AssetsDefinition,
    mapping: dg.PartitionMapping | None,
    description: str,
) -> dg.AssetsDefinition:
    table = GRAPH_TABLES[family]
    deps = [dg.AssetDep(upstream, partition_mapping=mapping)]
    if family == "first_k_days":  # G_k = G_{k-1} plus day k: the asset's previous partition
        deps.append(dg.AssetDep(dg.AssetKey(table), partition_mapping=previous_first_k_mapping))
        deps.append(dg.AssetDep(user_labels))  # below k_max: the migrants' neighbourhood

    @dg.asset(
        name=table,
        group_name=GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=deps,
        description=description,
        metadata=table_name_metadata(table),
    )
    def _asset(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
        calendar = study.config.calendar
        windows = [calendar.window(family, k) for k in context.partition_keys]
        built = []
        with engine_connection(study) as con:  # on Spark, each window from its own days
            with neighbourhood_once():  # below k_max, one neighbourhood for the run
                for window in windows:  # in order: window k reads window k - 1, stored just before
                    stats = build_window_graph(con, window, None if study.on_spark
                                               else previous_window(calendar, window),
                                               study.config)
                    context.log.info(f"{window.label} ({window.start}..{window.end}): {stats}")
                    built.append({
                        **engine_metadata(con, table, ("window_id", window.window_id,
                                                       window.window_id)),
                        "window": window.label,
                        "first_day": window.start.isoformat(),
                        "last_day": window.end.isoformat(),
                        "nodes": stats["n_nodes"],
                        "edges": stats["n_edges"],
                        "undirected_edges": stats["n_undirected_edges"],
                        "reciprocity": tidy(stats["reciprocity"]),
                        "total_calls": stats["n_calls"],
                        "built_from": stats["built_from"] or "its days",
                    })
        each_partition(context, dict(zip(context.partition_keys, built, strict=True)))
        return dg.MaterializeResult(metadata={"engine": study.config.engine.kind})

    return _asset


def _edges_match_calls(consistency: dict) -> dg.AssetCheckResult:
    """The stored graph agrees with the calls; nothing to compare is not judged (WARN)."""
    return verdict(
        consistency["ok"], consistency["judged"],
        {k: v for k, v in consistency.items() if k not in ("ok", "judged")},
        None if consistency["judged"] else "no call in the window's days (below k_max of the "
        "first k days: none of a departure migrant or her contacts): no edge to compare",
    )


def _graph_check(asset: dg.AssetsDefinition, family: str) -> dg.AssetChecksDefinition:
    spec = dg.AssetCheckSpec(
        "edges_match_calls", asset=asset, blocking=True, partitions_def=asset.partitions_def,
        description="The stored edges, calls and durations of each window agree with the graph "
        "recomputed straight from `calls` (blocking: features read these graphs).")

    @dg.multi_asset_check(name=f"{asset.key.path[-1]}_edges_match_calls", specs=[spec],
                          can_subset=True, pool=DUCKDB_POOL)
    def _check(context: dg.AssetCheckExecutionContext, study: StudyResource) -> Iterator:
        """One evaluation per window of the run (`checks.per_partition`)."""
        calendar = study.config.calendar
        with engine_connection(study) as con, neighbourhood_once():  # where the graphs are
            results = {k: _edges_match_calls(window_graph_consistency(
                con, calendar.window(family, k), study.config)) for k in context.partition_keys}
        yield from per_partition(context, [(spec, results)])

    return _check


integration_week_graph = _graph_asset(
    "integration_week", integration_weeks, daily_contacts, None,
    "G_t of the integration study's weeks W1..W4, Saturday-aligned (SPEC §2, §4).",
)
departure_week_graph = _graph_asset(
    "departure_week", departure_weeks, daily_contacts, None,
    "G_t of the departure study's weeks A..C, Monday-aligned (SPEC §2, §4).",
)
first_k_days_graph = _graph_asset(
    "first_k_days", first_k_days, first_k_days_contacts, first_k_window_mapping,
    f"G_t of the first k days from {CALENDAR.first_k_start} (k = {CALENDAR.k_min}.."
    f"{CALENDAR.k_max}), keyed by the window's last day (SPEC §2, §4).",
)
whole_period_graph = _graph_asset(
    "whole_period", whole_period, daily_contacts, whole_period_mapping,
    f"G_t of the whole study month {CALENDAR.month_start}..{CALENDAR.month_end}, the descriptive "
    "window (SPEC §2, §4); one partition, keyed by the month's first day.",
)

integration_week_graph_edges = _graph_check(integration_week_graph, "integration_week")
departure_week_graph_edges = _graph_check(departure_week_graph, "departure_week")
first_k_days_graph_edges = _graph_check(first_k_days_graph, "first_k_days")
whole_period_graph_edges = _graph_check(whole_period_graph, "whole_period")
