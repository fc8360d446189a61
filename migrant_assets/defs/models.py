"""Model assets and their checks (SPEC §6): the departure study's classifiers per first-k-days
window, its Tables 1–3 and Figures 8–9, and the integration study's logistic regressions.

Each asset owns the table named as itself (and its ``_splits`` / ``_fold_metrics`` tables);
the shared names the report reads are views over them (``sql/models/schema.sql``).
`departure_models` is partitioned like the first-k-days features, so a backfill over every
first-k-days partition (k = k_min..k_max of the calendar; one run) trains every k; the assets
after it read whatever k partitions exist and reuse the models it stored (`departure_models_fitted`:
the transfer matrix, Table 3's all-features row, Figure 9), so nothing is fitted twice. Every
fit is bounded by the caps of the study config's `models` section (docs/models.md). An
experiment the data cannot support is written as skipped rows with the reason
(``migrant_assets.models``), listed in the asset's metadata.

The checks read the stored result tables (``migrant_assets.models.checks``), so each can be
re-run alone; a check with nothing to judge is reported as not judged (``defs.checks.verdict``).
The checks of `departure_models` are partitioned like it: a run records one evaluation per k
it fit, tied to that k (`checks.per_partition`, docs/models.md).
"""

from collections.abc import Sequence

import dagster as dg
import pandas as pd

from migrant_assets.defs.checks import outcome_verdict, per_partition
from migrant_assets.defs.features import features_first_k_days, features_integration_weeks
from migrant_assets.defs.metadata import (
    each_partition,
    markdown_table,
    table_metadata,
    table_name_metadata,
)
from migrant_assets.defs.partitions import CALENDAR, first_k_days
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.models import (
    CLASSIFIED_AS_LOCALS,
    DEPARTURE_CURVES,
    DEPARTURE_FEATURE_IMPORTANCE,
    DEPARTURE_FOLDS,
    DEPARTURE_MODELS,
    DEPARTURE_TABLES,
    DEPARTURE_TRANSFER,
    FEATURE_IMPORTANCE,
    INTEGRATION_MODELS,
    LEAVING_VS_STAYING,
    OK,
    RANDOM_FOREST,
    SETTLED_VS_LOCALS,
    TABLE1,
    TABLE3,
    THREE_WAY,
    TRANSFER,
    assign_departure_folds,
    curves_against_k,
    evaluate_integration,
    evaluate_windows,
    feature_importance,
    save_model,
    tables_1_and_3,
    transfer_matrix,
)
from migrant_assets.models.checks import (
    CHECKS,
    f1_rises_with_k,
    no_user_in_train_and_test,
    random_guess_beaten,
)
from migrant_assets.models.data import departure_folds as stored_departure_folds
from migrant_assets.models.workers import release_workers
from migrant_assets.reports import (
    first_k_curves,
    importance_chart,
    integration_classifier_chart,
    transfer_heatmap,
)
from migrant_assets.reports.plots import png_markdown, save_figure
from migrant_assets.reports.tables import skipped_experiments, skipped_text

GROUP = "models"
KINDS = {"duckdb", "sklearn"}
#: The k = k_max window (the calendar's longest first-k-days window) fixes the departure folds
#: and is the window of Tables 1–3 and Figure 9.
K_MAX = dg.AssetDep(features_first_k_days, partition_mapping=dg.LastPartitionMapping())
ALL_K = dg.AssetDep(features_first_k_days, partition_mapping=dg.AllPartitionMapping())
#: The experiments whose rows each asset writes (what its checks judge).
TABLE_EXPERIMENTS = [TABLE1, TABLE3]
INTEGRATION_EXPERIMENTS = [SETTLED_VS_LOCALS, CLASSIFIED_AS_LOCALS, THREE_WAY]

METRIC_COLUMNS = ["row", "window_label", "precision", "recall", "f1", "f1_ci_low", "f1_ci_high",
                  "pr_auc", "paper_f1", "n_users", "n_pos", "n_train", "n_train_available",
                  "status"]


def skipped_metadata(con, experiments: Sequence[str],
                     window_ids: Sequence[str] | None = None) -> dict:
    """``skipped_experiments``: how many (experiment, window, reason) of ``experiments`` were
    skipped, and a markdown line for each (``skipped``) — the lines of the report and summary."""
    skipped = skipped_experiments(con)
    skipped = skipped[skipped["experiment"].isin(experiments)]
    if window_ids is not None:
        skipped = skipped[[bool(set(ids) & set(window_ids)) for ids in skipped["window_ids"]]]
    metadata: dict = {"skipped_experiments": len(skipped)}
    if len(skipped):
        metadata["skipped"] = dg.MetadataValue.md("\n".join(
            f"- {skipped_text(r)}" for r in skipped.to_dict("records")))
    return metadata


def _k_max_doc(fn):
    """``fn`` with ``{k_max}`` in its docstring (its asset's description) replaced by the
    calendar's largest k, so no description assumes a fixed k."""
    fn.__doc__ = (fn.__doc__ or "").replace("{k_max}", str(CALENDAR.k_max))
    return fn


def _figure(cfg, key: str, png: bytes, alt: str) -> dict:
    """Save figure ``key`` once for the report (``reports.save_figure``) and keep it in the
    asset's metadata."""
    path = save_figure(cfg.workdir, key, png)
    return {key: dg.MetadataValue.md(png_markdown(png, alt)),
            f"{key}_path": dg.MetadataValue.path(str(path))}


def _save_models(cfg, folder: str, models: dict) -> dg.MetadataValue:
    saved = {}
    for name, model in sorted(models.items()):
        path = cfg.models_dir / folder / f"{name}.joblib"
        saved[name] = {"path": str(path), "sha256": save_model(model, path)}
    return dg.MetadataValue.json(saved)


def _asset(table: str, deps: Sequence, kinds=frozenset(KINDS), **kwargs):
    """A model asset stored as ``table``; its description is the function's docstring."""
    return dg.asset(name=table, group_name=GROUP, pool=DUCKDB_POOL, kinds=set(kinds), deps=deps,
                    metadata=table_name_metadata(table), **kwargs)


@_asset(DEPARTURE_FOLDS, deps=[K_MAX])
@_k_max_doc
def departure_folds(context: dg.AssetExecutionContext, study: StudyResource):
    """Stratified 5-fold assignment of the k = {k_max} staying and leaving migrants, reused by
    every k so Figure 8(d) tests the same users in the same folds (SPEC §6). None, with the
    reason in the metadata, when the data cannot support them (every departure experiment is
    skipped)."""
    cfg = study.config
    with study.connect_models() as con:
        folds = assign_departure_folds(con, cfg, cfg.models.seed)
        missing = stored_departure_folds(con, cfg, cfg.models.seed)[1]
        metadata = {**table_metadata(con, DEPARTURE_FOLDS), "seed": cfg.models.seed}
    if missing:
        context.log.warning(f"departure folds skipped: {missing}")
        return dg.MaterializeResult(metadata={**metadata, "skipped": missing})
    per_fold = folds.groupby("fold")["label"].value_counts().unstack(fill_value=0).reset_index()
    return dg.MaterializeResult(metadata={**metadata, "users_per_fold": markdown_table(per_fold)})


@_asset(DEPARTURE_MODELS, deps=[features_first_k_days, departure_folds],
        partitions_def=first_k_days, backfill_policy=dg.BackfillPolicy.single_run())
@_k_max_doc
def departure_models(context: dg.AssetExecutionContext, study: StudyResource):
    """Leaving vs staying migrants on the first k days: random forest, MLP, SVM and logistic
    regression, stratified 5-fold CV on the shared folds (SPEC §6; Table 2 at k = {k_max}, Figure
    8(a–c) over k). Fitted models are saved as files; per-fold metrics and splits go to
    DuckDB. A window the data cannot support is written as skipped rows with the reason. A run
    may cover a range of k (single-run backfill): the windows' fits run in one stream, each
    window written as soon as its fits are done."""
    cfg = study.config
    windows = [cfg.calendar.window("first_k_days", k) for k in context.partition_keys]
    figures = {}
    with study.connect_models() as con:
        try:
            evaluations = evaluate_windows(con, cfg, windows, cfg.models.seed)
            for key, window, ev in zip(context.partition_keys, windows, evaluations,
                                       strict=True):
                context.log.info(f"{window.label}: " + ", ".join(
                    f"{r.row} F1 {r.f1:.3f}" if r.status == OK else f"{r.row} skipped"
                    for r in ev.results.itertuples()))
                figures[key] = {
                    **table_metadata(con, DEPARTURE_MODELS,
                                     ("window_id", window.window_id, window.window_id)),
                    "window": window.label,
                    "results": markdown_table(ev.results, METRIC_COLUMNS),
                    "models": _save_models(cfg, f"{DEPARTURE_MODELS}/{key}", ev.models),
                    **skipped_metadata(con, [LEAVING_VS_STAYING], [window.window_id])}
        finally:
            release_workers()  # every window of the run is fit
    each_partition(context, figures)
    return dg.MaterializeResult(metadata={"seed": cfg.models.seed})


@_asset(DEPARTURE_CURVES, kinds={"duckdb"},
        deps=[dg.AssetDep(departure_models, partition_mapping=dg.AllPartitionMapping())])
def departure_curves(study: StudyResource):
    """Figure 8(a–c): precision, recall and F1 of each classifier against k, from whatever k
    partitions of `departure_models` exist; the curves shown are stored."""
    cfg = study.config
    with study.connect_models() as con:
        curves = curves_against_k(con)
        png = first_k_curves(con, cfg)
        metadata = {**table_metadata(con, DEPARTURE_CURVES),
                    "k_available": int(((curves["row"] == RANDOM_FOREST)
                                        & (curves["status"] == OK)).sum()),
                    **skipped_metadata(con, [LEAVING_VS_STAYING])}
    curves_md = markdown_table(curves, ["row", "window_label", "precision", "recall", "f1",
                                        "f1_ci_low", "f1_ci_high", "status"])
    return dg.MaterializeResult(metadata={**metadata, "curves": curves_md,
                                          **_figure(cfg, "first_k_curves", png, "Figure 8(a-c)")})


#: The stored models of every k (the transfer matrix) and of k = k_max (Tables, Figure 9).
ALL_K_MODELS = dg.AssetDep(departure_models, partition_mapping=dg.AllPartitionMapping())
K_MAX_MODELS = dg.AssetDep(departure_models, partition_mapping=dg.LastPartitionMapping())


@_asset(DEPARTURE_TRANSFER, deps=[ALL_K, departure_folds, ALL_K_MODELS])
def departure_transfer(study: StudyResource):
    """Figure 8(d): a random forest trained on the first k days, tested on the first t days, for
    every pair of available windows, same users in the same folds; the forests are the fold
    models `departure_models` fit for each k (reused, not fit again)."""
    cfg = study.config
    # it holds every stored forest: idle workers kept from departure_models (migrant-assets
    # demo) would add their 0.46 GB to its peak (the demo's 1.7 GB to 2.0 GB)
    release_workers(kept_too=True)
    with study.connect_models() as con:
        try:
            matrix = transfer_matrix(con, cfg, cfg.models.seed)
        finally:
            release_workers()  # a model missing from departure_models was fit here
        png = transfer_heatmap(con, cfg)
        metadata = {**table_metadata(con, DEPARTURE_TRANSFER), **skipped_metadata(con, [TRANSFER])}
    table = matrix.pivot(index="train_label", columns="test_label", values="f1").reset_index()
    return dg.MaterializeResult(metadata={
        **metadata, "f1_train_k_test_t": markdown_table(table), "pairs": len(matrix),
        "pairs_skipped": int((matrix["status"] != OK).sum()),
        **_figure(cfg, "transfer_heatmap", png, "Figure 8(d)")})


@_asset(DEPARTURE_TABLES, deps=[K_MAX, departure_folds, K_MAX_MODELS])
@_k_max_doc
def departure_tables(study: StudyResource):
    """Table 1 (new migrants vs locals, random forest, all features and each group alone) and
    Table 3 (leaving vs staying, random forest per feature group) at k = {k_max} (SPEC §6);
    Table 3's all-features forests are those of `departure_models` at k = {k_max}."""
    cfg = study.config
    with study.connect_models() as con:
        try:
            t1, t3 = tables_1_and_3(con, cfg, cfg.models.seed)
        finally:
            release_workers()  # the fits of both tables are done
        metadata = {**table_metadata(con, DEPARTURE_TABLES),
                    "table1": markdown_table(t1.results, METRIC_COLUMNS),
                    "table3": markdown_table(t3.results, METRIC_COLUMNS),
                    **skipped_metadata(con, TABLE_EXPERIMENTS)}
    return dg.MaterializeResult(metadata=metadata)


@_asset(DEPARTURE_FEATURE_IMPORTANCE, deps=[K_MAX, departure_folds, K_MAX_MODELS])
@_k_max_doc
def departure_feature_importance(study: StudyResource):
    """Figure 9: the ten features of highest Gini importance at k = {k_max} (the forest
    `departure_models` fit on every user), with permutation importance of its fold forests on a
    sample of their held-out users beside them."""
    cfg = study.config
    with study.connect_models() as con:
        imp = feature_importance(con, cfg, cfg.models.seed)
        png = importance_chart(con, cfg)
        metadata = {**table_metadata(con, DEPARTURE_FEATURE_IMPORTANCE),
                    **skipped_metadata(con, [FEATURE_IMPORTANCE])}
    top = imp[imp["status"] == OK].sort_values("rank").head(10)
    return dg.MaterializeResult(metadata={
        **metadata,
        "top10": markdown_table(
            top, ["rank", "feature", "family", "gini", "permutation_mean", "permutation_std"]),
        "features_ranked": len(imp) - int((imp["status"] != OK).sum()),
        **_figure(cfg, "feature_importance", png, "Figure 9")})


@_asset(INTEGRATION_MODELS,
        deps=[dg.AssetDep(features_integration_weeks, partition_mapping=dg.AllPartitionMapping())])
def integration_models(study: StudyResource):
    """The integration study's ℓ2 logistic regressions (SPEC §6): settled migrants vs locals with
    greedy backward removal of feature groups, the share of settled and new migrants classified
    as locals per week, and three-way classification F1 per class per week."""
    cfg = study.config
    with study.connect_models() as con:
        settled, three = evaluate_integration(con, cfg, cfg.models.seed)
        release_workers()  # the backward removal's candidates are fit
        png = integration_classifier_chart(con, cfg)
        metadata = {**table_metadata(con, INTEGRATION_MODELS),
                    **skipped_metadata(con, INTEGRATION_EXPERIMENTS)}
    cols = ["experiment", "row", "target", "week", "f1", "f1_ci_low", "f1_ci_high", "share",
            "paper_value", "status"]
    results = pd.concat([settled.results, three.results], ignore_index=True)
    return dg.MaterializeResult(metadata={
        **metadata, "results": markdown_table(results, cols),
        "models": _save_models(cfg, INTEGRATION_MODELS, {**settled.models, **three.models}),
        **_figure(cfg, "integration_classifiers", png, "integration classifiers")})


# ------------------------------------------------------------------------------------ checks
# no_user_in_train_and_test is blocking: a model evaluated on users it was trained on would
# poison every table, curve and figure downstream. A weak classifier (beats_random_guess) or a
# curve that falls with k (f1_rises_with_k) is a finding, not a defect of the inputs.

def _check(asset, name: str, blocking: bool = False):
    return dg.asset_check(asset=asset, name=name, description=CHECKS[name], blocking=blocking,
                          pool=DUCKDB_POOL)


def _per_k_check(name: str, blocking: bool, judge) -> dg.AssetChecksDefinition:
    """A check of `departure_models` judging each k of its run (``judge(con, cfg, window_id)``),
    one evaluation per k (`checks.per_partition`)."""
    spec = dg.AssetCheckSpec(name, asset=departure_models, description=CHECKS[name],
                             blocking=blocking, partitions_def=first_k_days)

    @dg.multi_asset_check(name=f"departure_models_{name}", specs=[spec], can_subset=True,
                          pool=DUCKDB_POOL)
    def _check_k(context: dg.AssetCheckExecutionContext, study: StudyResource):
        cfg = study.config
        with study.connect_models() as con:
            results = {k: outcome_verdict(judge(con, cfg,
                                                cfg.calendar.window("first_k_days", k).window_id))
                       for k in context.partition_keys}
        yield from per_partition(context, [(spec, results)])

    return _check_k


departure_models_beats_random_guess = _per_k_check(
    "beats_random_guess", False, lambda con, cfg, window_id: random_guess_beaten(
        con, [LEAVING_VS_STAYING], cfg.checks.min_positives, [window_id]))
departure_models_no_user_in_train_and_test = _per_k_check(
    "no_user_in_train_and_test", True, lambda con, cfg, window_id: no_user_in_train_and_test(
        con, [LEAVING_VS_STAYING], [window_id]))


@_check(departure_curves, "f1_rises_with_k")
def departure_curves_f1_rises_with_k(study: StudyResource):
    with study.connect_models() as con:
        return outcome_verdict(f1_rises_with_k(con, study.config.checks.min_positives))


@_check(departure_transfer, "no_user_in_train_and_test", blocking=True)
def departure_transfer_no_user_in_train_and_test(study: StudyResource):
    with study.connect_models() as con:
        return outcome_verdict(no_user_in_train_and_test(con, [TRANSFER]))


@_check(departure_tables, "beats_random_guess")
def departure_tables_beats_random_guess(study: StudyResource):
    with study.connect_models() as con:
        return outcome_verdict(random_guess_beaten(con, TABLE_EXPERIMENTS,
                                            study.config.checks.min_positives))


@_check(departure_tables, "no_user_in_train_and_test", blocking=True)
def departure_tables_no_user_in_train_and_test(study: StudyResource):
    with study.connect_models() as con:
        return outcome_verdict(no_user_in_train_and_test(con, TABLE_EXPERIMENTS))


@_check(integration_models, "beats_random_guess")
def integration_models_beats_random_guess(study: StudyResource):
    with study.connect_models() as con:
        return outcome_verdict(random_guess_beaten(con, INTEGRATION_EXPERIMENTS,
                                            study.config.checks.min_positives))


@_check(integration_models, "no_user_in_train_and_test", blocking=True)
def integration_models_no_user_in_train_and_test(study: StudyResource):
    with study.connect_models() as con:
        return outcome_verdict(no_user_in_train_and_test(con, INTEGRATION_EXPERIMENTS))
