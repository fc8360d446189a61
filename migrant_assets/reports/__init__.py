"""Descriptive findings and the study report (SPEC §6 "Descriptive figures"; docs/report.md).

Plain functions for the assets; each reads DuckDB tables with the SQL of ``sql/reports/`` and
writes its own table (``group_feature_trends``, ``integration_trajectories``, ``group_map``,
``findings``); plot functions return PNG bytes; :func:`build_report` writes one HTML file.
"""

from migrant_assets.reports.findings import FINDINGS, Finding, findings
from migrant_assets.reports.maps import group_maps, price_distribution
from migrant_assets.reports.model_figures import (
    first_k_curves,
    importance_chart,
    integration_classifier_chart,
    transfer_heatmap,
)
from migrant_assets.reports.plots import GROUP_COLORS, GROUP_NAMES, png_markdown
from migrant_assets.reports.report import FIGURES, REPORT_TABLES, build_report, report_figures
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
    "build_report",
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
    "report_figures",
    "transfer_heatmap",
]
