"""Descriptive findings and the study report (SPEC §6 "Descriptive figures"; docs/report.md).

Plain functions for the assets; each reads DuckDB tables with the SQL of ``sql/reports/`` and
writes its own table (``group_feature_trends``, ``integration_trajectories``, ``group_map``,
``findings``, ``report``); plot functions return PNG bytes, which the asset that draws a figure
saves once (:func:`save_figure`); :func:`render_report` renders the HTML report from the tables
and the saved figures.
"""

from migrant_assets.reports.findings import FINDINGS, Finding, findings
from migrant_assets.reports.maps import group_maps, price_distribution
from migrant_assets.reports.model_figures import (
    first_k_curves,
    importance_chart,
    integration_classifier_chart,
    transfer_heatmap,
)
from migrant_assets.reports.plots import (
    GROUP_COLORS,
    GROUP_NAMES,
    figure_path,
    png_markdown,
    save_figure,
)
from migrant_assets.reports.report import (
    FIGURES,
    REPORT_TABLES,
    Report,
    render_report,
    store_report_parts,
)
from migrant_assets.reports.trajectories import PAPER_TRAJECTORIES, integration_trajectories
from migrant_assets.reports.trends import group_feature_trends, plot_trends

__all__ = [
    "FIGURES",
    "FINDINGS",
    "GROUP_COLORS",
    "GROUP_NAMES",
    "PAPER_TRAJECTORIES",
    "REPORT_TABLES",
    "Finding",
    "Report",
    "figure_path",
    "findings",
    "first_k_curves",
    "group_feature_trends",
    "group_maps",
    "importance_chart",
    "integration_classifier_chart",
    "integration_trajectories",
    "plot_trends",
    "png_markdown",
    "price_distribution",
    "render_report",
    "save_figure",
    "store_report_parts",
    "transfer_heatmap",
]
