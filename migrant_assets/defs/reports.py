"""Report assets (SPEC §6 "Descriptive figures"): group trends, the integration trajectories,
maps, the papers' findings tested on our data, and one self-contained HTML report. Each asset
owns one table; an asset that draws a figure saves it once, and the report reads it."""

import dagster as dg

from migrant_assets.defs.checks import verdict
from migrant_assets.defs.features import (
    features_departure_weeks,
    features_first_k_days,
    features_integration_weeks,
    features_whole_period,
)
from migrant_assets.defs.ingest import estates
from migrant_assets.defs.metadata import markdown_table, table_metadata, table_name_metadata
from migrant_assets.defs.models import (
    departure_curves,
    departure_feature_importance,
    departure_tables,
    departure_transfer,
    integration_models,
)
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.reports import (
    findings,
    group_feature_trends,
    group_maps,
    integration_trajectories,
    plot_trends,
    png_markdown,
    price_distribution,
    render_report,
    save_figure,
    store_report_parts,
)
from migrant_assets.reports.tables import unsuppressed_small_cells

GROUP = "reports"
ALL_FEATURES = [
    dg.AssetDep(a, partition_mapping=dg.AllPartitionMapping())
    for a in (features_integration_weeks, features_departure_weeks, features_first_k_days,
              features_whole_period)
]


def _figure_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(png_markdown(png, alt))


@dg.asset(name="group_feature_trends", group_name=GROUP, pool=DUCKDB_POOL,
          kinds={"duckdb", "matplotlib"}, deps=ALL_FEATURES,
          metadata=table_name_metadata("group_feature_trends"))
def group_feature_trends_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """Mean, standard error and count of every feature per window and group, both studies;
    groups under `min_group_size` suppressed (integration Fig. 2–3, departure Fig. 3, 5–7).
    Draws and saves the figures `trends_integration` and `trends_departure`."""
    cfg = study.config
    with study.connect() as con:
        trends = group_feature_trends(con, cfg)
        metadata = table_metadata(con, "group_feature_trends")
    figures = {study_name: plot_trends(trends, study_name)
               for study_name in ("integration", "departure")}
    for study_name, png in figures.items():
        save_figure(cfg.workdir, f"trends_{study_name}", png)
    return dg.MaterializeResult(metadata={
        **metadata, "suppressed_cells": int(trends["suppressed"].sum()),
        **{name: _figure_markdown(png, f"{name} study trends") for name, png in figures.items()},
    })


def _suppression_check(asset: dg.AssetsDefinition, name: str, table: str,
                       what: str) -> dg.AssetChecksDefinition:
    """A blocking check that no published cell of ``table`` rests on too few users."""

    @dg.asset_check(asset=asset, name=name, blocking=True,
                    description=f"No published {what} rests on fewer than min_group_size users "
                    "(SPEC §1): every cell below it is suppressed.")
    def _check(study: StudyResource) -> dg.AssetCheckResult:
        with study.connect() as con:
            bad, judged = unsuppressed_small_cells(con, study.config, table)
        return verdict(bad == 0, judged, {"unsuppressed_small_cells": bad},
                       reason=None if judged else "no published cell")

    return _check


trends_suppress_small_groups = _suppression_check(
    group_feature_trends_asset, "trends_suppress_small_groups", "group_feature_trends",
    "group mean")


@dg.asset(name="integration_trajectories", group_name=GROUP, pool=DUCKDB_POOL,
          kinds={"duckdb"}, deps=[group_feature_trends_asset],
          metadata=table_name_metadata("integration_trajectories"))
def integration_trajectories_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """The integration paper's Table 2: the ordering of locals, settled and new migrants per
    feature and the trajectory it follows, beside the paper's assignment."""
    with study.connect() as con:
        table = integration_trajectories(con, study.config)
        metadata = table_metadata(con, "integration_trajectories")
    named = table[table["paper_trajectory"].notna()]
    return dg.MaterializeResult(metadata={
        **metadata,
        "agree_with_paper": f"{int(named['agrees'].sum())} of {len(named)}",
        "table": markdown_table(table, ["feature", "ordering", "trajectory",
                                        "paper_trajectory", "agrees"]),
    })


@dg.asset(name="group_maps", group_name=GROUP, pool=DUCKDB_POOL,
          kinds={"duckdb", "matplotlib", "shapely"}, deps=[features_integration_weeks, estates],
          metadata=table_name_metadata("group_map"))
def group_maps_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """Integration Figure 1 (log P_all and log P_group − log P_all over a grid, each person at
    the centre of their active area; table `group_map`) and departure Figure 2 (housing prices
    over the city). Draws and saves the figures `group_map` and `housing_prices`."""
    cfg = study.config
    with study.connect() as con:
        _, group_png = group_maps(con, cfg)
        prices_png = price_distribution(con, cfg)
        metadata = table_metadata(con, "group_map")
    save_figure(cfg.workdir, "group_map", group_png)
    save_figure(cfg.workdir, "housing_prices", prices_png)
    return dg.MaterializeResult(metadata={
        **metadata,
        "group_map": _figure_markdown(group_png, "where each group lives"),
        "housing_prices": _figure_markdown(prices_png, "housing prices"),
    })


map_suppresses_small_cells = _suppression_check(
    group_maps_asset, "map_suppresses_small_cells", "group_map", "map cell")


@dg.asset(name="findings", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb"},
          deps=[group_feature_trends_asset, *ALL_FEATURES, departure_curves, departure_tables,
                departure_transfer, departure_feature_importance, integration_models],
          metadata=table_name_metadata("findings"))
def findings_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """Every qualitative finding the papers state, with the test applied to our data and
    whether it holds here: the group-means findings (a difference of means with its standard
    error, or an ordering) and the model findings (issue 16: classifier and feature-set
    rankings, Figures 8-9, the ablation, the shares classified as locals, the three-way F1;
    tested over the cross-validation folds or with a z), each with its verdict and, when
    untested, the reason."""
    with study.connect() as con:
        table = findings(con, study.config)
        metadata = table_metadata(con, "findings")
    tested = table[table["holds"].notna()]
    by_kind = {kind: f"{int(g['holds'].fillna(False).sum())} of {int(g['holds'].notna().sum())}"
               for kind, g in table.groupby("kind")}
    return dg.MaterializeResult(metadata={
        **metadata, "tested": len(tested), "hold": int(tested["holds"].sum()),
        **{f"hold_{kind.replace(' ', '_')}": text for kind, text in by_kind.items()},
        "table": markdown_table(table, ["finding_id", "statement", "difference", "z",
                                        "critical", "holds", "verdict"]),
    })


@dg.asset(
    group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "html"},
    deps=[group_feature_trends_asset, integration_trajectories_asset, group_maps_asset,
          findings_asset, departure_curves, departure_transfer, departure_tables,
          departure_feature_importance, integration_models,
          dg.AssetKey("early_warning_evaluation")],  # defs/early_warning.py
    metadata=table_name_metadata("report"),
)
def report(context: dg.AssetExecutionContext, study: StudyResource):
    """One self-contained HTML report (`report.html`: open it from `path` / `url`): data
    summary, group sizes, every table of the prediction sections beside the papers' numbers,
    every figure its asset saved, the findings, the data's parameters. It renders whatever its
    upstream tables and figures hold; table `report` has one row per section, figure and table,
    with why it is unavailable (listed here under `unavailable`)."""
    cfg = study.config
    with study.connect() as con:
        rendered = render_report(con, cfg)
        path = rendered.write(cfg.workdir / "report.html")
        store_report_parts(con, rendered.parts)
        metadata = table_metadata(con, "report")
    lines = rendered.problems + [f"{p.part_id}: {p.reason}" for p in rendered.unavailable]
    metadata.update({
        "path": dg.MetadataValue.path(str(path)),
        "url": dg.MetadataValue.url(path.resolve().as_uri()),
        "bytes": path.stat().st_size,
        "figures": sum(p.kind == "figure" and p.status == "ok" for p in rendered.parts),
        "unavailable_parts": len(rendered.unavailable),
    })
    if lines:
        metadata["unavailable"] = dg.MetadataValue.md("\n".join(f"- {line}" for line in lines))
    return dg.MaterializeResult(metadata=metadata)
