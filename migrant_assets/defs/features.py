"""Feature assets (SPEC §5): every feature of both papers, per user and window.

Each window family's features are an asset and a table of their own
(`migrant_assets.features.FEATURE_TABLES`; the view `features` unions them): the study weeks of
the two papers start on different weekdays, so the weekly features are two assets, beside
`features_first_k_days` and the descriptive `features_whole_period` (the whole study month, one
partition). Who gets a row is `study.population` (the papers: labelled users). `whole_period` is
the job of the whole-period graph and features, a step of the main job.

`features_first_k_days` reads its own previous partition (k - 1): the additive sums of window k
(locations per cell, the path's length, duration moments) are those stored for window k - 1
plus day k when they are stored and still match the calls, else the sums of all its days
(`features.sum_window`); the rest is computed on window k (docs/data_model.md).

Every feature asset backfills in a single run, window after window in order. The checks of
`migrant_assets.features.CHECKS` judge each stored partition, one evaluation per partition
(`checks.per_partition`; `BLOCKING_CHECKS` block what reads the features).
"""

import dagster as dg

from migrant_assets.defs.checks import outcome_verdict, per_partition
from migrant_assets.defs.graphs import (
    departure_week_graph,
    engine_connection,
    first_k_days_contacts,
    first_k_days_graph,
    integration_week_graph,
    whole_period_graph,
)
from migrant_assets.defs.ingest import calls, cells, estates, subscribers
from migrant_assets.defs.labels import user_labels
from migrant_assets.defs.metadata import (
    each_partition,
    table_metadata,
    table_name_metadata,
    tidy,
)
from migrant_assets.defs.partitions import (
    departure_weeks,
    first_k_days,
    first_k_window_mapping,
    integration_weeks,
    previous_first_k_mapping,
    whole_period,
    whole_period_mapping,
)
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.features import (
    BLOCKING_CHECKS,
    CHECKS,
    FEATURE_TABLES,
    FEATURES,
    build_features,
    cell_prices_stats,
    evaluate_feature_checks,
    null_shares,
    users_by_label,
    write_cell_prices,
)
from migrant_assets.graphs import neighbourhood_once

GROUP = "features"


@dg.asset(group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "shapely"}, deps=[cells, estates],
          metadata=table_name_metadata("cell_prices"))
def cell_prices(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """price(l) of every cell: mean price of estates within 1 km, else the nearest within 5 km,
    else null (SPEC §5), with shapely's STRtree in a metric projection."""
    with study.connect() as con:
        write_cell_prices(con)
        stats = cell_prices_stats(con)
        meta = table_metadata(con, "cell_prices")
    return dg.MaterializeResult(metadata={
        **meta, "cells_with_price": stats["cells_with_price"],
        "price_min": tidy(stats["price_min"]), "price_max": tidy(stats["price_max"])})


def _column_lineage(graph_asset: dg.AssetsDefinition) -> dg.TableColumnLineage:
    """The stored inputs of each feature column (`Feature.inputs`), as asset columns."""
    asset_of_table = {
        "window_graph": graph_asset.key, "calls": calls.key, "cells": cells.key,
        "estates": estates.key, "subscribers": subscribers.key, "cell_prices": cell_prices.key,
    }
    return dg.TableColumnLineage(deps_by_column={
        name: [dg.TableColumnDep(asset_of_table[i.split(".")[0]], i.split(".")[1])
               for i in f.inputs]
        for name, f in FEATURES.items()})


def _features_asset(
    family: str,
    partitions_def: dg.PartitionsDefinition,
    graph_asset: dg.AssetsDefinition,
    daily_upstream: dg.AssetsDefinition,
    daily_mapping: dg.PartitionMapping | None,
    description: str,
) -> dg.AssetsDefinition:
    table = FEATURE_TABLES[family]
    deps = [graph_asset, dg.AssetDep(daily_upstream, partition_mapping=daily_mapping),
            user_labels, subscribers, cells, estates, cell_prices]
    if family == "first_k_days":  # sums of window k = those of window k - 1 plus day k
        deps.append(dg.AssetDep(dg.AssetKey(table), partition_mapping=previous_first_k_mapping))

    @dg.asset(
        name=table,
        group_name=GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=deps,
        description=description,
        metadata={**table_name_metadata(table),
                  "dagster/column_lineage": _column_lineage(graph_asset)},
    )
    def _asset(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
        cfg = study.config
        windows = [cfg.calendar.window(family, k) for k in context.partition_keys]
        built = []
        with study.connect() as con, neighbourhood_once():  # below k_max: one for the run
            if study.on_spark:  # the same SQL on Spark, the rows read back into the table
                from migrant_assets.engines import declare_calls, export_inputs, spark_features

                with study.spark() as sql:
                    export_inputs(con, sql)
                    declare_calls(con, sql)  # copied by the daily_contacts step
                    for window in windows:
                        spark_features(con, sql, cfg, window)
            for window in windows:  # in order: window k adds to the sums of window k - 1
                if not study.on_spark:
                    build_features(con, cfg, window)
                built.append({
                    **table_metadata(con, table, ("window_id", window.window_id,
                                                  window.window_id)),
                    "window": window.label,
                    "first_day": window.start.isoformat(),
                    "last_day": window.end.isoformat(),
                    "users_by_label": dg.MetadataValue.json(users_by_label(con, window)),
                    "null_shares": dg.MetadataValue.json(tidy(null_shares(con, window))),
                })
        each_partition(context, dict(zip(context.partition_keys, built, strict=True)))
        return dg.MaterializeResult(
            metadata={"population": cfg.population, "engine": cfg.engine.kind})

    return _asset


def _feature_checks(asset: dg.AssetsDefinition, family: str) -> dg.AssetChecksDefinition:
    """The checks of `CHECKS` on one feature asset: one op judging the selected ones from the
    stored rows of each partition it runs for, one evaluation per check and partition
    (`checks.per_partition`)."""
    specs = {check: dg.AssetCheckSpec(check, asset=asset, description=text,
                                      blocking=check in BLOCKING_CHECKS,
                                      partitions_def=asset.partitions_def)
             for check, text in CHECKS.items()}

    @dg.multi_asset_check(name=f"{asset.key.path[-1]}_checks", specs=list(specs.values()),
                          can_subset=True, pool=DUCKDB_POOL)
    def _checks(context: dg.AssetCheckExecutionContext, study: StudyResource):
        cfg = study.config
        selected = [k.name for k in context.selected_asset_check_keys]
        # on Spark the graphs are in the warehouse only: the checks read its features there,
        # and the inputs the feature step copied
        with engine_connection(study, feature_inputs=True) as con:
            by_key = {k: evaluate_feature_checks(con, cfg, cfg.calendar.window(family, k),
                                                 selected)
                      for k in context.partition_keys}
        yield from per_partition(context, [
            (specs[check], {k: outcome_verdict(outcomes[check], check_name=check)
                            for k, outcomes in by_key.items()})
            for check in selected])

    return _checks


features_integration_weeks = _features_asset(
    "integration_week", integration_weeks, integration_week_graph, calls, None,
    "SPEC §5 features of the integration study's users in weeks W1..W4.",
)
features_departure_weeks = _features_asset(
    "departure_week", departure_weeks, departure_week_graph, calls, None,
    "SPEC §5 features of the departure study's users in weeks A..C.",
)
features_first_k_days = _features_asset(
    "first_k_days", first_k_days, first_k_days_graph, first_k_days_contacts,
    first_k_window_mapping,
    "SPEC §5 features of the departure study's users in the first k days (partition D = window "
    "09-05..D, k = 3..14).",
)
features_whole_period = _features_asset(
    "whole_period", whole_period, whole_period_graph, calls, whole_period_mapping,
    "SPEC §5 features over the whole study month, the descriptive window: the users of "
    "study.population (labelled: with either study's label; label = the integration label, else "
    "the departure label); one partition, keyed by the month's first day.",
)

features_integration_weeks_checks = _feature_checks(features_integration_weeks, "integration_week")
features_departure_weeks_checks = _feature_checks(features_departure_weeks, "departure_week")
features_first_k_days_checks = _feature_checks(features_first_k_days, "first_k_days")
features_whole_period_checks = _feature_checks(features_whole_period, "whole_period")
