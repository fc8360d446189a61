"""Feature assets (SPEC §5): every feature of both papers, per user and window.

The study weeks of the two papers start on different weekdays, so the weekly features are two
assets (`features_integration_weeks`, `features_departure_weeks`); with
`features_first_k_days` and the descriptive `features_whole_period` (the whole study month, one
partition) they all write the one `features` table, keyed by window. Who gets a row is
`study.population` (the papers: labelled users). `whole_period` is the job of the whole-period
graph and features, a step of the main job.

Checks (`migrant_assets.features.CHECKS`) never pass on nothing: a check with nothing to judge
does not pass, with severity WARN, `judged: 0` and a reason in its metadata.
"""

import dagster as dg

from migrant_assets.defs.graphs import (
    departure_week_graph,
    first_k_days_contacts,
    first_k_days_graph,
    integration_week_graph,
    whole_period_graph,
)
from migrant_assets.defs.ingest import calls, cells, estates, subscribers
from migrant_assets.defs.labels import user_labels
from migrant_assets.defs.partitions import (
    departure_weeks,
    first_k_days,
    first_k_window_mapping,
    integration_weeks,
    whole_period,
    whole_period_mapping,
)
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.features import (
    CHECKS,
    FEATURES,
    CheckOutcome,
    build_features,
    evaluate_feature_checks,
    null_shares,
    write_cell_prices,
)

GROUP = "features"


@dg.asset(group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "shapely"}, deps=[cells, estates])
def cell_prices(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """price(l) of every cell: mean price of estates within 1 km, else the nearest within 5 km,
    else null (SPEC §5), with shapely's STRtree in a metric projection."""
    with study.connect() as con:
        write_cell_prices(con)
        n, priced, lo, hi = con.execute(
            "SELECT count(*), count(price), min(price), max(price) FROM cell_prices"
        ).fetchone()
    return dg.MaterializeResult(
        metadata={"dagster/row_count": n, "cells_with_price": priced,
                  "price_min": lo, "price_max": hi}
    )


def _column_metadata(graph_asset: dg.AssetsDefinition, calls_asset: dg.AssetsDefinition) -> dict:
    """Column schema (SPEC §5 definition of each column) and column lineage of `features`."""
    asset_of_table = {
        "window_graph": graph_asset.key, "calls": calls_asset.key, "cells": cells.key,
        "estates": estates.key, "subscribers": subscribers.key,
        "cell_prices": dg.AssetKey("cell_prices"),
    }
    columns = [
        dg.TableColumn("window_id", "VARCHAR", description="<family>:<partition key>"),
        dg.TableColumn("study", "VARCHAR",
                       description="integration | departure | descriptive (whole_period)"),
        dg.TableColumn("user_id", "BIGINT", description="Pseudonymised user."),
        dg.TableColumn("label", "VARCHAR", description="The user's label in this study; null "
                       "when none (study.population subscribers or all_active)."),
    ]
    lineage = {}
    for name, f in FEATURES.items():
        groups = f"departure group: {f.departure_group}; integration group: " \
            f"{f.integration_group or '—'}"
        columns.append(dg.TableColumn(name, "DOUBLE", description=f"{f.definition} ({groups})"))
        lineage[name] = [
            dg.TableColumnDep(asset_of_table[i.split(".")[0]], i.split(".")[1]) for i in f.inputs
        ]
    return {
        "dagster/column_schema": dg.TableSchema(columns=columns),
        "dagster/column_lineage": dg.TableColumnLineage(deps_by_column=lineage),
    }


def _check_result(check: str, outcome: CheckOutcome) -> dg.AssetCheckResult:
    metadata = {"judged": outcome.judged,
                **{k: dg.MetadataValue.json(v) if isinstance(v, dict) else v
                   for k, v in outcome.metadata.items()}}
    if outcome.reason is not None:
        metadata["reason"] = outcome.reason
    return dg.AssetCheckResult(
        check_name=check, passed=bool(outcome.passed),
        severity=dg.AssetCheckSeverity(outcome.severity), metadata=metadata,
    )


def _features_asset(
    name: str,
    family: str,
    partitions_def: dg.PartitionsDefinition,
    graph_asset: dg.AssetsDefinition,
    daily_upstream: dg.AssetsDefinition,
    daily_mapping: dg.PartitionMapping | None,
    description: str,
) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        group_name=GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        partitions_def=partitions_def,
        deps=[
            graph_asset,
            dg.AssetDep(daily_upstream, partition_mapping=daily_mapping),
            user_labels, subscribers, cells, estates, cell_prices,
        ],
        description=description,
        metadata=_column_metadata(graph_asset, calls),
        check_specs=[dg.AssetCheckSpec(c, asset=name, description=d) for c, d in CHECKS.items()],
    )
    def _asset(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
        cfg = study.config
        window = cfg.calendar.window(family, context.partition_key)
        with study.connect() as con:
            build_features(con, cfg, window)
            outcomes = evaluate_feature_checks(con, cfg, window)
            shares = null_shares(con, window)
            n, by_label = con.execute(
                "SELECT count(*), to_json(histogram(coalesce(label, 'unlabelled'))) "
                "FROM features WHERE window_id = ?",
                [window.window_id],
            ).fetchone()
        return dg.MaterializeResult(
            metadata={
                "window": window.label,
                "first_day": window.start.isoformat(),
                "last_day": window.end.isoformat(),
                "population": cfg.population,
                "dagster/row_count": n,
                "users_by_label": dg.MetadataValue.json(by_label or {}),
                "null_shares": dg.MetadataValue.json(
                    {c: None if s is None else round(s, 4) for c, s in shares.items()}),
            },
            check_results=[_check_result(check, outcomes[check]) for check in CHECKS],
        )

    return _asset


features_integration_weeks = _features_asset(
    "features_integration_weeks", "integration_week", integration_weeks, integration_week_graph,
    calls, None, "SPEC §5 features of the integration study's users in weeks W1..W4.",
)
features_departure_weeks = _features_asset(
    "features_departure_weeks", "departure_week", departure_weeks, departure_week_graph,
    calls, None, "SPEC §5 features of the departure study's users in weeks A..C.",
)
features_first_k_days = _features_asset(
    "features_first_k_days", "first_k_days", first_k_days, first_k_days_graph,
    first_k_days_contacts, first_k_window_mapping,
    "SPEC §5 features of the departure study's users in the first k days (partition D = window "
    "09-05..D, k = 3..14).",
)
features_whole_period = _features_asset(
    "features_whole_period", "whole_period", whole_period, whole_period_graph,
    calls, whole_period_mapping,
    "SPEC §5 features over the whole study month, the descriptive window: the users of "
    "study.population (labelled: with either study's label; label = the integration label, else "
    "the departure label); one partition, keyed by the month's first day.",
)

#: The main job's step for the descriptive window: its graph, then its features.
whole_period_job = dg.define_asset_job(
    "whole_period", selection=[whole_period_graph, features_whole_period],
    description="Graph and features of the whole study month, the descriptive window "
    "(SPEC §2, §4, §5).",
)
