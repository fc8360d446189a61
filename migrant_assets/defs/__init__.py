"""The Dagster code location: every asset and check of the pipeline, the resource, and the
automation that keeps the results fresh.

Every asset of the `models` and `reports` groups that is not partitioned updates itself when
something it reads is re-materialized (``AutomationCondition.eager()``): e.g. after a backfill of
some k of `departure_models`, `departure_curves` and then `report` are marked stale and run. The
automation sensor that evaluates these conditions is on by default (the daemon of `dagster dev`
runs it); `migrant-assets demo` materializes everything itself and needs no daemon.
"""

import dagster as dg

from migrant_assets.defs import early_warning, features, graphs, ingest, labels, models, reports
from migrant_assets.defs.resources import StudyResource

#: The groups whose results follow their inputs by themselves.
SELF_UPDATING_GROUPS = ("models", "reports")
#: How often the automation sensor evaluates the conditions (seconds).
AUTOMATION_INTERVAL_S = 10

#: Runs launched from the UI or the daemon: each step still runs in its own process (a step that
#: dies does not take its run down), but the processes are forked from a server that has already
#: imported the code location, instead of each starting Python and importing Dagster, DuckDB and
#: scikit-learn anew (several seconds a step; a run of the models has a dozen steps with checks).
EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["migrant_assets.defs"]}}})


#: Assets that update without waiting for an input nobody materialized: the report reads the
#: early warning's evaluation when there is one (early_warning.enabled) and says so when not.
OPTIONAL_INPUTS = frozenset({dg.AssetKey("report")})


def _self_updating(spec: dg.AssetSpec) -> dg.AssetSpec:
    if spec.group_name in SELF_UPDATING_GROUPS and spec.partitions_def is None:
        condition = dg.AutomationCondition.eager()
        if spec.key in OPTIONAL_INPUTS:
            condition = condition.without(~dg.AutomationCondition.any_deps_missing()).with_label(
                "eager_allow_missing")
        return spec.replace_attributes(automation_condition=condition)
    return spec


_assets = dg.load_assets_from_modules([ingest, labels, graphs, features, models, reports,
                                       early_warning],
                                      include_specs=True)  # the raw inputs' source specs
_checks = dg.load_asset_checks_from_modules([ingest, labels, graphs, features, models, reports,
                                              early_warning])

defs = dg.Definitions(
    assets=_assets,
    asset_checks=_checks,
    resources={"study": StudyResource()},
    executor=EXECUTOR,
    sensors=[early_warning.calls_landing_sensor, dg.AutomationConditionSensorDefinition(
        "keep_results_fresh", target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=AUTOMATION_INTERVAL_S,
        description="Runs the assets whose automation condition is met (the models and reports "
        "after what they read was re-materialized).")],
).map_asset_specs(func=_self_updating)
