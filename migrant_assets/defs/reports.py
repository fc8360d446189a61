"""Report assets (SPEC §6 "Descriptive figures"): group trends, the integration trajectories,
maps, the papers' findings tested on our data, and one self-contained HTML report."""

import dagster as dg

from migrant_assets.defs.features import (
    features_departure_weeks,
    features_first_k_days,
    features_integration_weeks,
    features_whole_period,
)
from migrant_assets.defs.ingest import estates
from migrant_assets.defs.metadata import markdown_table
from migrant_assets.defs.models import (
    departure_curves,
    departure_feature_importance,
    departure_tables,
    departure_transfer,
    integration_models,
)
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.reports import (
    build_report,
    findings,
    group_feature_trends,
    group_maps,
    integration_trajectories,
    plot_trends,
    png_markdown,
    price_distribution,
    report_figures,
)

GROUP = "reports"
ALL_FEATURES = [
    dg.AssetDep(a, partition_mapping=dg.AllPartitionMapping())
    for a in (features_integration_weeks, features_departure_weeks, features_first_k_days,
              features_whole_period)
]


@dg.asset(name="group_feature_trends", group_name=GROUP, pool=DUCKDB_POOL,
          kinds={"duckdb", "matplotlib"}, deps=ALL_FEATURES)
def group_feature_trends_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """Mean, standard error and count of every feature per window and group, both studies;
    groups under `min_group_size` suppressed (integration Fig. 2–3, departure Fig. 3, 5–7)."""
    cfg = study.config
    with study.connect() as con:
        trends = group_feature_trends(con, cfg)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(trends),
        "suppressed_cells": int(trends["suppressed"].sum()),
        "integration": dg.MetadataValue.md(png_markdown(plot_trends(trends, "integration"),
                                                        "integration study trends")),
        "departure": dg.MetadataValue.md(png_markdown(plot_trends(trends, "departure"),
                                                      "departure study trends")),
    })


@dg.asset(name="integration_trajectories", group_name=GROUP, pool=DUCKDB_POOL,
          kinds={"duckdb"}, deps=[group_feature_trends_asset])
def integration_trajectories_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """The integration paper's Table 2: the ordering of locals, settled and new migrants per
    feature and the trajectory it follows, beside the paper's assignment."""
    with study.connect() as con:
        table = integration_trajectories(con, study.config)
    named = table[table["paper_trajectory"].notna()]
    return dg.MaterializeResult(metadata={
        "agree_with_paper": f"{int(named['agrees'].sum())} of {len(named)}",
        "table": markdown_table(table, ["feature", "ordering", "trajectory",
                                        "paper_trajectory", "agrees"]),
    })


@dg.asset(name="group_maps", group_name=GROUP, pool=DUCKDB_POOL,
          kinds={"duckdb", "matplotlib", "shapely"}, deps=[features_integration_weeks, estates])
def group_maps_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """Integration Figure 1 (log P_all and log P_group − log P_all over a grid, each person at
    the centre of their active area) and departure Figure 2 (housing prices over the city)."""
    cfg = study.config
    with study.connect() as con:
        cells, png = group_maps(con, cfg)
        prices = price_distribution(con, cfg)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(cells),
        "group_map": dg.MetadataValue.md(png_markdown(png, "where each group lives")),
        "housing_prices": dg.MetadataValue.md(png_markdown(prices, "housing prices")),
    })


@dg.asset(name="findings", group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb"},
          deps=[group_feature_trends_asset, *ALL_FEATURES])
def findings_asset(context: dg.AssetExecutionContext, study: StudyResource):
    """Every qualitative finding the papers state, with the test applied to our data (a
    difference of means with its standard error, or an ordering) and whether it holds here."""
    with study.connect() as con:
        table = findings(con, study.config)
    tested = table[table["holds"].notna()]
    return dg.MaterializeResult(metadata={
        "findings": len(table), "tested": len(tested), "hold": int(tested["holds"].sum()),
        "table": markdown_table(table, ["finding_id", "statement", "difference", "z", "holds"]),
    })


@dg.asset(
    group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "html"},
    deps=[group_feature_trends_asset, integration_trajectories_asset, group_maps_asset,
          findings_asset, departure_curves, departure_transfer, departure_tables,
          departure_feature_importance, integration_models],
)
def report(context: dg.AssetExecutionContext, study: StudyResource):
    """One self-contained HTML report: data summary, group sizes, every table of the prediction
    sections beside the papers' numbers, every figure, the findings, the data's parameters.
    It renders whatever its upstream tables hold: what is missing, skipped or cannot be built
    is said in the report (and listed here under `unavailable`)."""
    cfg = study.config
    out = cfg.workdir / "report.html"
    problems: list[str] = []
    with study.connect() as con:
        figures = report_figures(con, cfg)
        path = build_report(con, cfg, figures, out, problems)
    metadata = {"path": dg.MetadataValue.path(str(path)), "figures": len(figures),
                "bytes": path.stat().st_size, "unavailable_parts": len(problems)}
    if problems:
        metadata["unavailable"] = dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))
    return dg.MaterializeResult(metadata=metadata)
