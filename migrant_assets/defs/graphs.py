"""Graph assets (SPEC §4): daily contacts and the directed weighted graph G_t of every window.

Window partitions map to the daily partitions they read, so lineage is partition-to-partition:
a week to its seven days, a first-k-days window (keyed by its last day) to its days from
09-05 on, through `first_k_days_contacts`, the daily contacts of the days such windows cover, and
the descriptive whole-period window (one static partition, keyed by the month's first day) to
every day of the study month.

The `edges_match_calls` check never passes on nothing: a window with no edge stored and none
expected (no call in its days) is reported as not judged (`judged: 0`, a reason, severity WARN).
"""

from datetime import date

import dagster as dg

from migrant_assets.db import transaction
from migrant_assets.defs.ingest import calls
from migrant_assets.defs.partitions import (
    CALENDAR,
    departure_weeks,
    first_k_days,
    first_k_window_days,
    first_k_window_mapping,
    integration_weeks,
    study_days,
    whole_period,
    whole_period_mapping,
)
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.graphs import (
    build_daily_contacts,
    build_window_graph,
    window_graph_consistency,
)

GROUP = "graphs"


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=study_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[calls],
)
def daily_contacts(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """One row per (caller, callee) and day: number of calls and total duration (SPEC §4)."""
    rows = n_calls = 0
    with study.connect() as con:
        for key in context.partition_keys:
            s = build_daily_contacts(con, date.fromisoformat(key))
            rows, n_calls = rows + s["n_rows"], n_calls + (s["n_calls"] or 0)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "calls": n_calls})


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=first_k_window_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[daily_contacts],
)
def first_k_days_contacts(
    context: dg.AssetExecutionContext, study: StudyResource
) -> dg.MaterializeResult:
    """The daily contacts of the days a first-k-days window can cover (SPEC §2: 09-05..09-18),
    as the view `first_k_days_contacts`; each partition records its day's contacts."""
    keys = first_k_window_days.get_partition_keys()
    first, last = date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])
    with study.connect() as con, transaction(con):
        con.execute(
            "CREATE OR REPLACE VIEW first_k_days_contacts AS SELECT * FROM daily_contacts "
            f"WHERE call_date BETWEEN DATE '{first}' AND DATE '{last}'"
        )
        lo, hi = context.partition_keys[0], context.partition_keys[-1]
        rows, n_calls = con.execute(
            "SELECT count(*), coalesce(sum(n_calls), 0) FROM first_k_days_contacts "
            "WHERE call_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)", [lo, hi]
        ).fetchone()
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "calls": n_calls})


def _graph_asset(
    name: str,
    family: str,
    partitions_def: dg.PartitionsDefinition,
    upstream: dg.AssetsDefinition,
    mapping: dg.PartitionMapping | None,
    description: str,
) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        group_name=GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        partitions_def=partitions_def,
        deps=[dg.AssetDep(upstream, partition_mapping=mapping)],
        description=description,
        check_specs=[
            dg.AssetCheckSpec(
                "edges_match_calls",
                asset=name,
                description="Edges, calls and durations agree with the calls of the window.",
            )
        ],
    )
    def _asset(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
        window = study.config.calendar.window(family, context.partition_key)
        with study.connect() as con:
            stats = build_window_graph(con, window)
            consistency = window_graph_consistency(con, window)
        context.log.info(f"{window.label} ({window.start}..{window.end}): {stats}")
        return dg.MaterializeResult(
            metadata={
                "window": window.label,
                "first_day": window.start.isoformat(),
                "last_day": window.end.isoformat(),
                "nodes": stats["n_nodes"],
                "edges": stats["n_edges"],
                "undirected_edges": stats["n_undirected_edges"],
                "reciprocity": stats["reciprocity"],
                "total_calls": stats["n_calls"],
                "dagster/row_count": stats["n_edges"],
            },
            check_results=[_edges_match_calls(consistency)],
        )

    return _asset


def _edges_match_calls(consistency: dict) -> dg.AssetCheckResult:
    """The stored graph agrees with the calls; nothing to compare is not judged (WARN)."""
    metadata = {k: v for k, v in consistency.items() if k != "ok"}
    if consistency["judged"] == 0:
        return dg.AssetCheckResult(
            check_name="edges_match_calls", passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**metadata, "reason": "no call in the window's days: no edge to compare"},
        )
    return dg.AssetCheckResult(
        check_name="edges_match_calls", passed=bool(consistency["ok"]), metadata=metadata
    )


integration_week_graph = _graph_asset(
    "integration_week_graph", "integration_week", integration_weeks, daily_contacts, None,
    "G_t of the integration study's weeks W1..W4, Saturday-aligned (SPEC §2, §4).",
)
departure_week_graph = _graph_asset(
    "departure_week_graph", "departure_week", departure_weeks, daily_contacts, None,
    "G_t of the departure study's weeks A..C, Monday-aligned (SPEC §2, §4).",
)
first_k_days_graph = _graph_asset(
    "first_k_days_graph", "first_k_days", first_k_days, first_k_days_contacts,
    first_k_window_mapping,
    f"G_t of the first k days from {CALENDAR.first_k_start} (k = {CALENDAR.k_min}.."
    f"{CALENDAR.k_max}), keyed by the window's last day (SPEC §2, §4).",
)
whole_period_graph = _graph_asset(
    "whole_period_graph", "whole_period", whole_period, daily_contacts, whole_period_mapping,
    f"G_t of the whole study month {CALENDAR.month_start}..{CALENDAR.month_end}, the descriptive "
    "window (SPEC §2, §4); one partition, keyed by the month's first day.",
)
