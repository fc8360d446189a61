"""Asset jobs, one per stage and partitioning, and the order the main job runs them in."""

from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from migrant_assets.defs import features, graphs, ingest, labels, models, reports


@dataclass(frozen=True)
class Step:
    """One step of the main job: a job over all its partitions — one run for the whole range
    when its assets backfill in a single run, else one run per partition."""

    job: UnresolvedAssetJobDefinition
    partitioned: bool = False
    single_run: bool = False


def _job(name: str, assets: list, description: str) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(name, selection=assets, description=description)


ingest_reference = _job(
    "ingest_reference", [ingest.subscribers, ingest.cells, ingest.estates, ingest.landed_calls],
    "Subscribers, cells, estates, and every calls file read once (SPEC §1).",
)
ingest_daily = _job(
    "ingest_daily", [ingest.calls, graphs.daily_contacts],
    "Calls and daily contacts, one daily partition each (SPEC §1, §4).",
)
label_users = _job("label_users", [labels.user_labels], "User labels of both studies (SPEC §3).")
integration_graphs = _job(
    "integration_graphs", [graphs.integration_week_graph], "Weekly graphs W1..W4 (SPEC §4).")
departure_graphs = _job(
    "departure_graphs", [graphs.departure_week_graph], "Weekly graphs A..C (SPEC §4).")
first_k_contacts = _job(
    "first_k_contacts", [graphs.first_k_days_contacts],
    "Daily contacts of the first-k-days span (SPEC §2).",
)
first_k_graphs = _job(
    "first_k_graphs", [graphs.first_k_days_graph], "First-k-days graphs, k = 3..14 (SPEC §4).")

price_cells = _job("price_cells", [features.cell_prices], "Housing price of every cell (SPEC §5).")
integration_features = _job(
    "integration_features", [features.features_integration_weeks],
    "Features of weeks W1..W4 (SPEC §5).",
)
departure_features = _job(
    "departure_features", [features.features_departure_weeks],
    "Features of weeks A..C (SPEC §5).",
)
first_k_features = _job(
    "first_k_features", [features.features_first_k_days],
    "Features of the first k days, k = 3..14 (SPEC §5).",
)

fold_users = _job("fold_users", [models.departure_folds], "Departure study folds (SPEC §6).")
train_departure_models = _job(
    "train_departure_models", [models.departure_models],
    "The four classifiers on each first-k-days window, k = 3..14 (SPEC §6).",
)
prediction_results = _job(
    "prediction_results",
    [models.departure_curves, models.departure_transfer, models.departure_tables,
     models.departure_feature_importance, models.integration_models],
    "Tables 1–3, Figures 8–9 and the integration study's classifiers (SPEC §6).",
)

describe_and_report = _job(
    "describe_and_report",
    [reports.group_feature_trends_asset, reports.integration_trajectories_asset,
     reports.group_maps_asset, reports.findings_asset, reports.report],
    "Group trends, trajectories, maps, findings and the HTML report (SPEC §6).",
)

#: What `migrant-assets demo` materializes, in order.
MAIN_PLAN: list[Step] = [
    Step(ingest_reference),
    Step(ingest_daily, partitioned=True, single_run=True),
    Step(label_users),
    Step(integration_graphs, partitioned=True),
    Step(departure_graphs, partitioned=True),
    Step(first_k_contacts, partitioned=True, single_run=True),
    Step(first_k_graphs, partitioned=True),
    Step(price_cells),
    Step(integration_features, partitioned=True),
    Step(departure_features, partitioned=True),
    Step(first_k_features, partitioned=True),
    Step(features.whole_period_job, partitioned=True),
    Step(fold_users),
    Step(train_departure_models, partitioned=True),
    Step(prediction_results),
    Step(describe_and_report),
]
JOBS = [step.job for step in MAIN_PLAN]
