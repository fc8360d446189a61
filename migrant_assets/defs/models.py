"""Model assets (SPEC §6): the departure study's classifiers per first-k-days window, its Tables
1–3 and Figures 8–9, and the integration study's logistic regressions.

`departure_models` is partitioned like the first-k-days features, so a backfill over every
first-k-days partition (k = k_min..k_max of the calendar) trains every k; the assets after it
read whatever k partitions exist. Descriptions name the calendar's k_max (:func:`_k_max_doc`).

Every asset materializes whatever the data supports: an experiment it cannot support is written
as skipped rows with the reason (``migrant_assets.models``), listed in the asset's metadata
(``skipped_experiments``). A check with nothing to judge (every experiment skipped, too few
positives) is not evaluated: the assets are multi-assets with ``can_subset=True``, whose check
outputs are optional, so the check is simply not yielded and Dagster records it as skipped
(its planned evaluation never arrives in a successful run); the reason is in the asset's
metadata (``skipped_checks``) and the run log. ``can_subset`` also lets the UI run a check on its
own: the checks read the result tables, so no model is refit for it (docs/models.md).
"""

import inspect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from migrant_assets.defs.features import features_first_k_days, features_integration_weeks
from migrant_assets.defs.metadata import markdown_table
from migrant_assets.defs.partitions import CALENDAR, first_k_days
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.models import (
    CLASSIFIED_AS_LOCALS,
    FEATURE_IMPORTANCE,
    LEAVING_VS_STAYING,
    OK,
    RANDOM_FOREST,
    SETTLED_VS_LOCALS,
    TABLE1,
    TABLE3,
    THREE_WAY,
    TRANSFER,
    assign_departure_folds,
    beats_random_guess,
    evaluate_window,
    feature_importance,
    save_model,
    settled_vs_locals,
    split_violations,
    table1_new_vs_locals,
    table3_feature_groups,
    three_way,
    transfer_matrix,
)
from migrant_assets.models.data import departure_folds as stored_departure_folds
from migrant_assets.reports import (
    first_k_curves,
    importance_chart,
    integration_classifier_chart,
    png_markdown,
    transfer_heatmap,
)
from migrant_assets.reports.tables import skipped_experiments, skipped_text

GROUP = "models"
#: The k = k_max window (the calendar's longest first-k-days window) fixes the departure folds
#: and is the window of Tables 1–3 and Figure 9.
K_MAX = dg.AssetDep(features_first_k_days, partition_mapping=dg.LastPartitionMapping())
ALL_K = dg.AssetDep(features_first_k_days, partition_mapping=dg.AllPartitionMapping())

METRIC_COLUMNS = ["row", "window_label", "precision", "recall", "f1", "f1_ci_low", "f1_ci_high",
                  "pr_auc", "paper_f1", "n_users", "n_pos", "status"]


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


@dataclass(frozen=True)
class NotJudged:
    """A check with nothing to judge: it is not evaluated (Dagster shows it as skipped) and the
    reason goes to the asset's metadata and the run log."""

    check_name: str
    reason: str


Outcome = dg.AssetCheckResult | NotJudged


def _selected(context: dg.AssetExecutionContext) -> bool:
    """Whether the asset itself is materialized (not only its checks) in this run."""
    return dg.AssetKey(context.op_def.name) in context.selected_asset_keys


def _emit(context: dg.AssetExecutionContext, metadata: dict | None,
          outcomes: Iterable[Outcome]) -> Iterator:
    """The materialization (``metadata`` None: the asset is not selected) with the results of
    the selected checks; a check with nothing to judge is left out, so it is skipped."""
    key = dg.AssetKey(context.op_def.name)
    chosen = [o for o in outcomes
              if dg.AssetCheckKey(key, o.check_name) in context.selected_asset_check_keys]
    results = [o for o in chosen if isinstance(o, dg.AssetCheckResult)]
    skipped = {o.check_name: o.reason for o in chosen if isinstance(o, NotJudged)}
    for name, reason in skipped.items():
        context.log.info(f"check {name} not evaluated (skipped): {reason}")
    if metadata is None:
        yield from results
        return
    if skipped:
        metadata["skipped_checks"] = dg.MetadataValue.json(skipped)
    yield dg.MaterializeResult(asset_key=key, metadata=metadata, check_results=results)


def _split_check(con, experiments: Sequence[str], window_ids: Sequence[str] = ()) -> Outcome:
    violations, judged = split_violations(con, experiments, window_ids)
    if not judged:
        return NotJudged("no_user_in_train_and_test",
                         "no split was made: every experiment was skipped")
    return dg.AssetCheckResult(check_name="no_user_in_train_and_test", passed=violations == 0,
                               metadata={"users_in_train_and_test": violations,
                                         "memberships_judged": judged})


#: Fewer positive test users than this make an F1 too noisy to compare with random guess: such
#: rows are listed in the check's metadata, not judged (the `tiny` city has about a dozen
#: leavers; the `demo` city about 300).
MIN_POSITIVES = 30


def _random_guess_check(con, experiments: Sequence[str],
                        window_ids: Sequence[str] | None = None) -> Outcome:
    rows = beats_random_guess(con)  # computed (not skipped) rows only
    rows = rows[rows["experiment"].isin(experiments)]
    if window_ids is not None:
        rows = rows[rows["window_id"].isin(window_ids)]
    # Ablation steps of the integration study remove feature groups until the model may sit at
    # chance: that is the experiment's result, reported in its table, not a classifier defect.
    ablation = (rows["experiment"] == SETTLED_VS_LOCALS) & (rows["row"] != "all features")
    too_few = rows[~ablation & (rows["n_pos"] < MIN_POSITIVES)]
    judged = rows[~ablation & (rows["n_pos"] >= MIN_POSITIVES)]
    if judged.empty:
        if rows.empty:
            reason = "no classifier was evaluated: every experiment was skipped"
        elif len(too_few):
            reason = (f"every classifier row rests on fewer than {MIN_POSITIVES} positive test "
                      f"users ({len(too_few)} rows)")
        else:
            reason = "only ablation steps were evaluated, and they are not judged"
        return NotJudged("beats_random_guess", reason)
    losers = judged[~(judged["f1"] > judged["random_f1"])]
    return dg.AssetCheckResult(
        check_name="beats_random_guess",
        passed=bool(losers.empty),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "classifiers_checked": len(judged),
            "not_judged_too_few_positives": len(too_few),
            "not_judged_ablation_steps": int(ablation.sum()),
            "min_positives": MIN_POSITIVES,
            "not_above_random_guess": dg.MetadataValue.json(
                losers[["experiment", "row", "window_id"]].to_dict("records")),
            "f1_interval_above_random_guess": int(judged["beats"].sum()),
            "f1_interval_above_all_positive": int(judged["beats_all_positive"].sum()),
        },
    )


def _f1_rises_check(curves: pd.DataFrame) -> Outcome:
    """Random forest F1 at the largest k evaluated is not below F1 at the smallest (windows
    are ordered by ``window_id``, the last day)."""
    rf = curves[(curves["row"] == RANDOM_FOREST) & (curves["status"] == OK)]
    if len(rf) < 2:
        return NotJudged("f1_rises_with_k", f"the random forest was evaluated at {len(rf)} k "
                                            "(two are needed): the other windows were skipped")
    first, last = rf.iloc[0], rf.iloc[-1]
    return dg.AssetCheckResult(
        check_name="f1_rises_with_k", passed=bool(last["f1"] >= first["f1"]),
        metadata={"first_k": first["window_label"], "last_k": last["window_label"],
                  "rf_f1_first_k": float(first["f1"]), "rf_f1_last_k": float(last["f1"]),
                  "k_evaluated": len(rf)})


_CHECK_TEXT = {
    "beats_random_guess": "Every classifier's F1 is above its random-guess F1 (the prevalence); "
                          "skipped when no row has enough positive test users.",
    "no_user_in_train_and_test": "No user is in both the train and the test users of any split; "
                                 "skipped when no split was made.",
    "f1_rises_with_k": f"Random forest F1 at the largest k evaluated (k = {CALENDAR.k_max} "
                       "unless skipped) is not below F1 at the smallest "
                       f"(k = {CALENDAR.k_min} unless skipped).",
}


def _k_max_doc(fn):
    """``fn`` with ``{k_max}`` in its docstring (its asset's description) replaced by the
    calendar's largest k, so no description assumes a fixed k."""
    fn.__doc__ = (fn.__doc__ or "").replace("{k_max}", str(CALENDAR.k_max))
    return fn


def _checks(asset: str, *names: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(n, asset=asset, description=_CHECK_TEXT[n]) for n in names]


def experiment_asset(*checks: str, deps: Sequence, kinds: frozenset = frozenset({"duckdb",
                                                                                 "sklearn"}),
                     partitions_def: dg.PartitionsDefinition | None = None):
    """An asset of the classifier experiments with its ``checks``: a multi-asset of one asset
    with ``can_subset=True`` (module docstring); its description is the function's docstring.
    The function yields through :func:`_emit`."""

    def decorate(fn):
        name = fn.__name__
        return dg.multi_asset(
            name=name,
            specs=[dg.AssetSpec(name, deps=deps, group_name=GROUP, kinds=set(kinds),
                                description=inspect.cleandoc(fn.__doc__ or ""))],
            check_specs=_checks(name, *checks),
            can_subset=True,
            pool=DUCKDB_POOL,
            partitions_def=partitions_def,
        )(fn)

    return decorate


@dg.asset(group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "sklearn"}, deps=[K_MAX])
@_k_max_doc
def departure_folds(context: dg.AssetExecutionContext, study: StudyResource):
    """Stratified 5-fold assignment of the k = {k_max} staying and leaving migrants, reused by
    every k so Figure 8(d) tests the same users in the same folds (SPEC §6). None, with the
    reason in the metadata, when the data cannot support them (every departure experiment is
    skipped)."""
    cfg = study.config
    with study.connect() as con:
        folds = assign_departure_folds(con, cfg, cfg.models.seed)
        missing = stored_departure_folds(con, cfg, cfg.models.seed)[1]
    metadata = {"dagster/row_count": len(folds), "seed": cfg.models.seed}
    if missing:
        context.log.warning(f"departure folds skipped: {missing}")
        return dg.MaterializeResult(metadata={**metadata, "skipped": missing})
    per_fold = folds.groupby("fold")["label"].value_counts().unstack(fill_value=0).reset_index()
    return dg.MaterializeResult(metadata={**metadata, "users_per_fold": markdown_table(per_fold)})


@experiment_asset("beats_random_guess", "no_user_in_train_and_test",
                  deps=[features_first_k_days, departure_folds], partitions_def=first_k_days)
@_k_max_doc
def departure_models(context: dg.AssetExecutionContext, study: StudyResource):
    """Leaving vs staying migrants on the first k days: random forest, MLP, SVM and logistic
    regression, stratified 5-fold CV on the shared folds (SPEC §6; Table 2 at k = {k_max}, Figure
    8(a–c) over k). Fitted models are saved as files; per-fold metrics go to DuckDB. A window
    the data cannot support is written as skipped rows with the reason."""
    cfg = study.config
    window = cfg.calendar.window("first_k_days", context.partition_key)
    metadata, ev = None, None
    with study.connect() as con:
        if _selected(context):
            ev = evaluate_window(con, cfg, window, cfg.models.seed)
            metadata = {"window": window.label,
                        "results": markdown_table(ev.results, METRIC_COLUMNS),
                        "seed": cfg.models.seed,
                        **skipped_metadata(con, [LEAVING_VS_STAYING], [window.window_id])}
        outcomes = [_random_guess_check(con, [LEAVING_VS_STAYING], [window.window_id]),
                    _split_check(con, [LEAVING_VS_STAYING], [window.window_id])]
    if ev is not None:
        saved = {}
        for name, model in sorted(ev.models.items()):
            path = cfg.models_dir / "departure_models" / context.partition_key / f"{name}.joblib"
            saved[name] = {"path": str(path), "sha256": save_model(model, path)}
        metadata["models"] = dg.MetadataValue.json(saved)
        context.log.info(f"{window.label}: " + ", ".join(
            f"{r.row} F1 {r.f1:.3f}" if r.status == OK else f"{r.row} skipped"
            for r in ev.results.itertuples()))
    yield from _emit(context, metadata, outcomes)


@experiment_asset("f1_rises_with_k", kinds=frozenset({"duckdb"}),
                  deps=[dg.AssetDep(departure_models, partition_mapping=dg.AllPartitionMapping())])
def departure_curves(context: dg.AssetExecutionContext, study: StudyResource):
    """Figure 8(a–c): precision, recall and F1 of each classifier against k, from whatever k
    partitions of `departure_models` exist."""
    metadata = None
    with study.connect() as con:
        curves = con.execute(
            "SELECT \"row\", window_label, \"precision\", recall, f1, f1_ci_low, f1_ci_high, "
            "status FROM model_results WHERE experiment = 'leaving_vs_staying' "
            "ORDER BY \"row\", window_id"
        ).df()
        if _selected(context):
            figure = first_k_curves(con, study.config)
            metadata = {"curves": markdown_table(curves),
                        "k_available": int(((curves["row"] == RANDOM_FOREST)
                                            & (curves["status"] == OK)).sum()),
                        "figure_8abc": dg.MetadataValue.md(png_markdown(figure, "Figure 8(a-c)")),
                        **skipped_metadata(con, [LEAVING_VS_STAYING])}
    yield from _emit(context, metadata, [_f1_rises_check(curves)])


@experiment_asset("no_user_in_train_and_test", deps=[ALL_K, departure_folds])
def departure_transfer(context: dg.AssetExecutionContext, study: StudyResource):
    """Figure 8(d): a random forest trained on the first k days, tested on the first t days, for
    every pair of available windows, same users in the same folds."""
    cfg = study.config
    metadata = None
    with study.connect() as con:
        if _selected(context):
            matrix = transfer_matrix(con, cfg, cfg.models.seed)
            figure = transfer_heatmap(con, cfg)
            table = matrix.pivot(index="train_label", columns="test_label",
                                 values="f1").reset_index()
            metadata = {"f1_train_k_test_t": markdown_table(table), "pairs": len(matrix),
                        "pairs_skipped": int((matrix["status"] != OK).sum()),
                        "figure_8d": dg.MetadataValue.md(png_markdown(figure, "Figure 8(d)")),
                        **skipped_metadata(con, [TRANSFER])}
        outcomes = [_split_check(con, [TRANSFER])]
    yield from _emit(context, metadata, outcomes)


@experiment_asset("beats_random_guess", "no_user_in_train_and_test",
                  deps=[K_MAX, departure_folds])
@_k_max_doc
def departure_tables(context: dg.AssetExecutionContext, study: StudyResource):
    """Table 1 (new migrants vs locals, random forest, all features and each group alone) and
    Table 3 (leaving vs staying, random forest per feature group) at k = {k_max} (SPEC §6)."""
    cfg = study.config
    metadata = None
    with study.connect() as con:
        if _selected(context):
            t1 = table1_new_vs_locals(con, cfg, cfg.models.seed)
            t3 = table3_feature_groups(con, cfg, cfg.models.seed)
            metadata = {"table1": markdown_table(t1.results, METRIC_COLUMNS),
                        "table3": markdown_table(t3.results, METRIC_COLUMNS),
                        **skipped_metadata(con, [TABLE1, TABLE3])}
        outcomes = [_random_guess_check(con, [TABLE1, TABLE3]),
                    _split_check(con, [TABLE1, TABLE3])]
    yield from _emit(context, metadata, outcomes)


@dg.asset(group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "sklearn"},
          deps=[K_MAX, departure_folds])
@_k_max_doc
def departure_feature_importance(context: dg.AssetExecutionContext, study: StudyResource):
    """Figure 9: the ten features of highest Gini importance at k = {k_max}, with permutation
    importance on the held-out folds beside them."""
    cfg = study.config
    with study.connect() as con:
        imp = feature_importance(con, cfg, cfg.models.seed)
        figure = importance_chart(con, cfg)
        skipped = skipped_metadata(con, [FEATURE_IMPORTANCE])
    top = imp[imp["status"] == OK].sort_values("rank").head(10)
    return dg.MaterializeResult(metadata={
        "top10": markdown_table(
            top, ["rank", "feature", "family", "gini", "permutation_mean", "permutation_std"]),
        "features_ranked": len(imp) - int((imp["status"] != OK).sum()),
        "figure_9": dg.MetadataValue.md(png_markdown(figure, "Figure 9")), **skipped})


@experiment_asset(
    "beats_random_guess", "no_user_in_train_and_test",
    deps=[dg.AssetDep(features_integration_weeks, partition_mapping=dg.AllPartitionMapping())],
)
def integration_models(context: dg.AssetExecutionContext, study: StudyResource):
    """The integration study's ℓ2 logistic regressions (SPEC §6): settled migrants vs locals with
    greedy backward removal of feature groups, the share of settled and new migrants classified
    as locals per week, and three-way classification F1 per class per week."""
    cfg = study.config
    experiments = [SETTLED_VS_LOCALS, CLASSIFIED_AS_LOCALS, THREE_WAY]
    metadata, fitted = None, {}
    with study.connect() as con:
        if _selected(context):
            settled = settled_vs_locals(con, cfg, cfg.models.seed)
            three = three_way(con, cfg, cfg.models.seed)
            fitted = {**settled.models, **three.models}
            figure = integration_classifier_chart(con, cfg)
            cols = ["experiment", "row", "target", "week", "f1", "f1_ci_low", "f1_ci_high",
                    "share", "paper_value", "status"]
            results = pd.concat([settled.results, three.results], ignore_index=True)
            metadata = {
                "results": markdown_table(results, cols),
                "figure": dg.MetadataValue.md(png_markdown(figure, "integration classifiers")),
                **skipped_metadata(con, experiments),
            }
        outcomes = [_random_guess_check(con, experiments), _split_check(con, experiments)]
    if metadata is not None:
        saved = {}
        for name, model in sorted(fitted.items()):
            path = cfg.models_dir / "integration_models" / f"{name}.joblib"
            saved[name] = {"path": str(path), "sha256": save_model(model, path)}
        metadata["models"] = dg.MetadataValue.json(saved)
    yield from _emit(context, metadata, outcomes)
