"""Early-warning assets and the landing sensor (issue 15, docs/early_warning.md): the features
of each new migrant's first k days since her arrival (`features_arrival_days`, daily), the risk
models per k (`early_warning_models`), the daily scores (`departure_risk`), their evaluation in
hindsight (`early_warning_evaluation`), and `calls_landing_sensor`, which turns a calls file
dropped in the landing folder into a run of that day from ingestion to `departure_risk`."""

import json
import re
from datetime import date, timedelta

import dagster as dg

from migrant_assets.contract import contract_for
from migrant_assets.defs.checks import verdict
from migrant_assets.defs.features import cell_prices
from migrant_assets.defs.graphs import daily_contacts
from migrant_assets.defs.ingest import calls, cells, estates, landed_calls, subscribers
from migrant_assets.defs.metadata import (
    each_partition,
    markdown_table,
    table_metadata,
    table_name_metadata,
    tidy,
)
from migrant_assets.defs.partitions import days_up_to_mapping, previous_day_mapping, study_days
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.early_warning import (
    build_arrival_features,
    evaluate,
    headline,
    load_models,
    no_model_reason,
    require_duckdb,
    risk_counts,
    score_day,
    train_risk_models,
    without_signal,
    write_evaluation,
    write_models,
)
from migrant_assets.lineage import PATH_KEY, content_hash, out_of_date, recorded_parts

GROUP = "early_warning"

@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=study_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetDep(daily_contacts, partition_mapping=days_up_to_mapping),
          dg.AssetDep(calls, partition_mapping=days_up_to_mapping),
          dg.AssetDep(dg.AssetKey("features_arrival_days"),
                      partition_mapping=previous_day_mapping),
          subscribers, cells, estates, cell_prices],
    metadata=table_name_metadata("features_arrival_days"),
)
def features_arrival_days(context: dg.AssetExecutionContext,
                          study: StudyResource) -> dg.MaterializeResult:
    """SPEC §5 features of every new migrant who arrived in the last `early_warning.horizon_days`
    days, over her own first k days (arrival day .. the partition's day; the graph of all calls
    of those days, restricted to the edges her cohort's features read). Each day's calls are
    summed once (stored daily sums); a window adds up its days'. Also writes
    `arrival_days_windows`, `arrival_days_graph` and the daily sums `arrival_days_daily_*`. A
    run may cover a range of days (single-run backfill), built day after day."""
    cfg = study.config
    require_duckdb(cfg)
    figures = {}
    with study.connect() as con:
        for key in context.partition_keys:
            s = build_arrival_features(con, cfg, date.fromisoformat(key))
            context.log.info(f"features_arrival_days {key}: {s}")
            figures[key] = {"cohorts": s["windows"], "new_migrants": s["users"],
                            "days_summed_from_calls": s["days_summed"]}
        md = table_metadata(con, "features_arrival_days")
    each_partition(context, figures)
    # the table's schema and rows in all (every day's cohorts), beside each day's own figures
    rows = md.pop("dagster/row_count")
    return dg.MaterializeResult(metadata={**md, "rows_in_table": rows})

@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb", "sklearn"},
    deps=[dg.AssetDep(features_arrival_days, partition_mapping=dg.AllPartitionMapping()),
          dg.AssetDep(daily_contacts, partition_mapping=dg.AllPartitionMapping())],
    metadata=table_name_metadata("early_warning_models"),
)
def early_warning_models(context: dg.AssetExecutionContext,
                         study: StudyResource) -> dg.MaterializeResult:
    """The calibrated risk model of every k (the study's classifier inside
    `CalibratedClassifierCV`), trained on the training cohort whose outcome is known; fitted
    models under `models/early_warning/`. Also writes `early_warning_predictions` (out-of-fold
    probabilities, for the evaluation)."""
    cfg = study.config
    require_duckdb(cfg)
    with study.connect() as con:
        models, predictions = train_risk_models(con, cfg, cfg.models_dir / "early_warning")
        write_models(con, models, predictions)
        md = table_metadata(con, "early_warning_models")
    silent = without_signal(models)
    for row in models.itertuples():
        if row.status != "ok":
            context.log.info(f"early warning k={row.k}: skipped ({row.reason})")
        elif row.k in silent:
            context.log.warning(f"early warning k={row.k}: {row.reason}")
    return dg.MaterializeResult(metadata={
        # a skipped k's count of leavers may be under the threshold: not shown (SPEC §1)
        **md, "models": markdown_table(
            models.assign(n_leaving=models["n_leaving"].astype(object).where(
                models["status"] == "ok", None)),
            ["k", "status", "n_train", "n_leaving", "threshold"]),
        "k_without_signal": dg.MetadataValue.json(silent),
        "sha256": dg.MetadataValue.json({int(r.k): r.sha256 for r in models.itertuples()
                                         if r.status == "ok"})})

@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=study_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[features_arrival_days, early_warning_models],
    metadata=table_name_metadata("departure_risk"),
)
def departure_risk(context: dg.AssetExecutionContext, study: StudyResource
                   ) -> dg.MaterializeResult:
    """Each day, every new migrant who arrived in the last `early_warning.horizon_days` days:
    pseudonym, arrival day, k, calibrated probability of leaving within her first two weeks,
    rank, risk band and the three features moving her score most. Metadata: each day's counts
    by band and by k, never an identifier. A day is not scored (no row; listed in
    `days_not_scored`) when the calls do not cover it or a day between the feed's first and
    it (no calls, or far fewer than a usual day's): its windows would read missing data as
    silence."""
    cfg = study.config
    require_duckdb(cfg)
    keys = context.partition_keys
    with study.connect() as con:
        models = load_models(con, cfg)
        not_scored = []  # days without data: no row (early_warning.score_day)
        figures = {}
        for key in keys:
            stats = score_day(con, cfg, date.fromisoformat(key), models)
            context.log.info(f"departure_risk {key}: {stats['not_scored'] or stats['by_band']}")
            if stats["not_scored"]:
                not_scored.append(key)
            figures[key] = {
                **table_metadata(con, "departure_risk", ("call_date", key, key)), "day": key,
                "by_risk_band": dg.MetadataValue.json(risk_counts(con, date.fromisoformat(key))),
                "by_k": dg.MetadataValue.json(stats["by_k"])}
        each_partition(context, figures)
        unscored = {} if models else {"unscored_because": no_model_reason(con) or (
            "no risk model is stored: materialize early_warning_models")}
    return dg.MaterializeResult(metadata={
        **unscored,
        "models": len(models),
        "models_from": str(cfg.early_warning.models_from or "this study"),
        "days_not_scored": dg.MetadataValue.json(not_scored)})

@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=[early_warning_models],
    metadata=table_name_metadata("early_warning_evaluation"),
)
def early_warning_evaluation(study: StudyResource) -> dg.MaterializeResult:
    """In hindsight, per k: precision, recall, F1 at the flag threshold, precision in the top 1%
    and 5%, Brier score and reliability curve of the out-of-fold calibrated probabilities, and
    the median lead time of flagged leavers against random rankings; cells of fewer than
    `thresholds.min_group_size` users suppressed."""
    cfg = study.config
    require_duckdb(cfg)
    with study.connect() as con:
        models = con.execute("SELECT * FROM early_warning_models").df()
        preds = con.execute("SELECT * FROM early_warning_predictions").df()
        write_evaluation(con, evaluate(preds, models, cfg))
        line = headline(con, cfg.early_warning.horizon_days)
        md = table_metadata(con, "early_warning_evaluation")
        reason = no_model_reason(con)
    return dg.MaterializeResult(metadata={**md, **({"empty_because": reason} if reason else {}),
                                          **{k: tidy(v) for k, v in line.items()
                                             if v is not None}})


@dg.asset_check(asset=departure_risk, name="scores_up_to_date", pool=DUCKDB_POOL,
                description="Every day of departure_risk was scored from the features and "
                "models as they are now (a corrected calls file or a changed setting makes the "
                "days that read it out of date; nothing reads the scores to refuse them). "
                "Warns naming the days to score again.")
def departure_risk_scores_up_to_date(study: StudyResource) -> dg.AssetCheckResult:
    """Probe 36 H1: after a correction, the scores of the days it touched stayed as they were,
    with nothing refusing or flagging them."""
    with study.connect() as con:
        days = recorded_parts(con, "departure_risk")
        stale = out_of_date(con, study.config, "departure_risk", days) if days else None
    return verdict(stale is None, len(days), {"days_judged": len(days)},
                   None if days else "no day has been scored yet", dg.AssetCheckSeverity.WARN,
                   check_first=f"{stale.what}: {stale.fix}" if stale else None)


# ------------------------------------------------------------------------------------ sensor
#: What a landed day runs: its ingestion and everything down to `departure_risk`.
DAY_ASSETS = [landed_calls, calls, daily_contacts, features_arrival_days, departure_risk]
#: The run tags of a range of partitions (Dagster's, as a single-run backfill sets them).
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"

@dg.sensor(
    asset_selection=DAY_ASSETS,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches the calls landing folder (the mapping's calls path): a new day file, or "
    "one re-delivered with other bytes, requests that day's ingestion and everything down to "
    "departure_risk, with the day before when it has files too (a day's file may hold calls "
    "of the day before). The run key is the day and the file's sha256, so a file seen before "
    "requests nothing.",
)
def calls_landing_sensor(context: dg.SensorEvaluationContext, study: StudyResource):
    """One run request per landed day whose files' content is new (docs/early_warning.md)."""
    cfg = study.config
    contract = contract_for(cfg)
    cache = json.loads(context.cursor) if context.cursor else {}
    # an earlier version's keys (paths, plain hashes of paths) left out: hashed again
    cache = {k: v for k, v in cache.items() if re.fullmatch(PATH_KEY, k)}
    requests = []
    by_day, undated = contract.calls_files_by_day(cfg.calendar.days)
    if undated:  # never their names: a file's name may be a subscriber's number
        context.log.warning(
            f"{undated} calls file(s) the mapping's calls path matches name no day of the "
            "calendar (2016-09-05 or 20160905 in a file or folder name, or a {date} field in "
            "the path): the sensor requests no run for them")
    for d, paths in by_day.items():
        day = d.isoformat()
        try:
            sha = content_hash(paths, cache, cfg.pseudonym_key)
        except OSError as e:  # a file still being copied, or gone: the next tick sees it
            context.log.warning(f"{day}: a calls file could not be read ({e.strerror}); "
                                "tried again at the next evaluation")
            continue
        tags = {"landed_file_sha256": sha}
        previous = d - timedelta(days=1)
        # a day's file may hold calls of the day before (records written when a call ends,
        # a late delivery): that day's calls are built again in the same run
        if previous in by_day:
            tags |= {PARTITION_RANGE_START: previous.isoformat(), PARTITION_RANGE_END: day}
        requests.append(dg.RunRequest(run_key=f"{day}:{sha[:16]}", tags=tags,
                                      partition_key=None if previous in by_day else day))
    context.update_cursor(json.dumps(cache, sort_keys=True))
    return requests
