"""Group feature trends (SPEC §6 "Descriptive figures"): mean ± standard error of every feature
per window and group, and their figures in the papers' style (001 Figures 2–3; 000 Figures 3,
5, 6, 7).

- Statistics are over the non-null values of a group's users in a window (a null feature is
  undefined for that user, never 0): n, mean, se = sample sd / sqrt(n). Computed in DuckDB by
  ``sql/reports/group_feature_trends.sql`` (over the window's feature table), every window of the
  calendar: integration weeks W1..W4, departure weeks A..C, the first-k-days windows and the
  descriptive whole-period window (study ``descriptive``).
- Groups are the study labels. Users without a label (``study.population`` ``subscribers`` or
  ``all_active``) belong to no labelled group; the group ``all`` (every featurised user of the
  window, labelled or not) is added for every window when the population is not ``labelled``,
  and for the descriptive window always. ``all`` is suppressed like any group.
- A (window, group, feature) cell of fewer than ``thresholds.min_group_size`` users is
  suppressed (n, mean, se null; ``suppressed`` true) (SPEC §1), and with it every other group's
  cell of its study, window and feature (complementary: ``all``, or the study's total, less the
  others would give it back). A group with no user in a window (new migrants in W1, leaving
  migrants in week C) has no row.
- A window holding days the calls do not cover (``models.data.uncovered_windows``: missing
  data, which its features read as silence, SPEC §3) has its n, mean and se withheld, and the
  reason in ``uncovered``, as the classifiers skip it.
- Figures: one panel per feature, x = week, one line with error bars per group. The integration
  study's panels are grouped by its feature groups D, E, C, G (housing prices are not in that
  study), the departure study's by family (ego network = Figure 3, call behaviour = Figure 5,
  geography = Figure 6, housing prices = Figure 7), on weeks A..C. Coordinates (centre, home,
  work latitude/longitude) are positions, not quantities, and are left out of the figures; the
  maps show them (:mod:`.maps`).
"""

from __future__ import annotations

import math

import duckdb
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from migrant_assets.config import StudyConfig
from migrant_assets.db import has_column, run_sql, transaction
from migrant_assets.errors import InputError
from migrant_assets.features import FEATURES, GROUPS, features_table
from migrant_assets.models.data import uncovered_windows
from migrant_assets.reports.plots import (
    FAMILY_TITLES,
    GROUP_COLORS,
    GROUP_NAMES,
    STUDY_GROUPS,
    feature_label,
    message_figure,
    to_png,
)

#: Position features: shown on maps, not as trends or trajectories.
COORDINATE_FEATURES = tuple(f for f in FEATURES if f.endswith(("_lat", "_lon")))

#: The window family whose windows are the x axis of each study's trend figure.
TREND_FAMILY = {"integration": "integration_week", "departure": "departure_week"}

def group_feature_trends(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> pd.DataFrame:
    """Write ``group_feature_trends`` (study, window_family, feature, feature_family, window_id,
    window_label, window_order, label, n, mean, se, suppressed, uncovered, feature_order) and
    return it without ``feature_order``, ordered by study, window, feature, group."""
    common = {
        "features": list(FEATURES),
        "feature_families": [f.family for f in FEATURES.values()],
        "min_group_size": cfg.thresholds.min_group_size,
        "with_all": cfg.population != "labelled",
    }
    windows = cfg.calendar.windows()
    uncovered = uncovered_windows(con, cfg, windows)
    with transaction(con):
        run_sql(con, "reports/group_feature_trends_table.sql")
        for order, w in enumerate(windows, start=1):  # one window in memory
            run_sql(con, "reports/group_feature_trends.sql", {
                **common, "window_id": w.window_id, "window_label": w.label,
                "window_family": w.family, "window_order": order,
                "uncovered": uncovered.get(w.window_id)},
                identifiers={"feature_table": features_table(w)})
    return run_sql(con, "reports/group_feature_trends_rows.sql").df()


#: Why a ``group_feature_trends`` of an earlier version cannot be read, and what to do.
EARLIER_TRENDS = ("group_feature_trends was written by an earlier version of migrant_assets, "
                  "which did not withhold the windows holding days the calls do not cover")
EARLIER_TRENDS_FIX = "materialize group_feature_trends again"


def earlier_trends(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``group_feature_trends`` exists without the column ``uncovered`` (written by an
    earlier version): its readers would fail on the column, or publish withheld windows."""
    return bool(run_sql(con, "reports/relation_exists.sql",
                        {"name": "group_feature_trends"}).fetchall()[0][0]) \
        and not has_column(con, "group_feature_trends", "uncovered")


def require_current_trends(con: duckdb.DuckDBPyConnection) -> None:
    """An :class:`InputError` naming the fix when :func:`earlier_trends`."""
    if earlier_trends(con):
        raise InputError(EARLIER_TRENDS, "the study's DuckDB file", EARLIER_TRENDS_FIX)


def panel_groups(study: str) -> dict[str, list[str]]:
    """The plotted features of a study, by panel group (module docstring)."""
    out: dict[str, list[str]] = {}
    for name, spec in FEATURES.items():
        if name in COORDINATE_FEATURES:
            continue
        group = spec.integration_group if study == "integration" else spec.departure_group
        if group is not None:
            out.setdefault(group, []).append(name)
    return {g: out[g] for g in FAMILY_TITLES if g in out}  # the papers' order


#: The trend grids' geometry in inches: a panel (width, height) with its labels, the margins
#: inside it (left: tick labels and unit; bottom: week labels; top: the feature's title), the
#: figure title, a section's title and the legend. Fixed, not laid out by matplotlib's
#: constrained layout, which measured every tick label of the 130 panels and took half of the
#: figures' drawing time.
PANEL_IN = (3.1, 2.6)
PANEL_MARGINS_IN = {"left": 0.78, "right": 0.12, "bottom": 0.55, "top": 0.32}
TOP_IN, SECTION_IN, LEGEND_IN = 0.6, 0.6, 0.7


def _panel(row: int, col: int, top_in: float, ncols: int, height_in: float
           ) -> tuple[float, float, float, float]:
    """The axes rectangle (figure fractions) of the panel at ``row``, ``col`` of a section whose
    panels start ``top_in`` inches below the figure's top."""
    m, (w, h) = PANEL_MARGINS_IN, PANEL_IN
    left = col * w + m["left"]
    bottom = height_in - (top_in + (row + 1) * h) + m["bottom"]
    return (left / (w * ncols), bottom / height_in,
            (w - m["left"] - m["right"]) / (w * ncols), (h - m["bottom"] - m["top"]) / height_in)


def plot_trends(trends: pd.DataFrame, study: str, ncols: int = 5) -> bytes:
    """The PNG of :func:`trend_figure`, or a figure saying why there is none."""
    fig = trend_figure(trends, study, ncols)
    if fig is None:
        return message_figure(_trend_title(study), "no published group mean (no data, every "
                                                   "cell has fewer users than min_group_size, "
                                                   "or days the calls do not cover)")
    return to_png(fig, dpi=80, laid_out=True)


def _trend_title(study: str) -> str:
    return f"{study.capitalize()} study: group mean ± standard error per week"


def trend_figure(trends: pd.DataFrame, study: str, ncols: int = 5) -> Figure | None:
    """A grid figure of one study: per feature, the group means ± s.e. over the study's weeks,
    panels grouped by feature group with the paper's figure named (module docstring); None
    when no group mean is published. Laid out by :data:`PANEL_IN` and its margins. A week whose
    means are withheld for days the calls do not cover (``uncovered``) keeps its place on the
    axis, marked ``*``, and breaks the lines."""
    rows = trends[(trends["study"] == study) & (trends["window_family"] == TREND_FAMILY[study])]
    data = rows[rows["mean"].notna()]
    if data.empty:
        return None
    weeks = rows.drop_duplicates("window_label").sort_values("window_order")
    withheld = set(weeks.loc[weeks["uncovered"].notna(), "window_label"]) \
        if "uncovered" in weeks else set()
    ticks = [w + "*" * (w in withheld) for w in weeks["window_label"]]
    weeks = list(weeks["window_label"])
    sections = panel_groups(study)
    n_rows = [math.ceil(len(f) / ncols) for f in sections.values()]
    height = TOP_IN + sum(SECTION_IN + PANEL_IN[1] * r for r in n_rows) + LEGEND_IN
    fig = plt.figure(figsize=(PANEL_IN[0] * ncols, height))
    title = _trend_title(study) + (" (* withheld: days the calls do not cover)" if withheld
                                   else "")
    fig.suptitle(title, fontsize=15, y=1 - 0.25 / height, va="top")
    handles = {}
    top = TOP_IN  # inches from the figure's top to the next section
    for (group, features), rows in zip(sections.items(), n_rows, strict=True):
        fig.text(0.5, 1 - (top + 0.3) / height,
                 f"{FAMILY_TITLES[group]} — cf. {GROUPS[group].paper_figure}",
                 ha="center", va="center", fontsize=12, fontweight="bold")
        for i, feature in enumerate(features):
            ax = fig.add_axes(_panel(i // ncols, i % ncols, top + SECTION_IN, ncols, height))
            for label in STUDY_GROUPS[study]:
                g = data[(data["feature"] == feature) & (data["label"] == label)]
                if g.empty:
                    continue
                g = g.set_index("window_label").reindex(weeks)  # a missing week breaks the line
                handles[label] = ax.errorbar(
                    range(len(weeks)), g["mean"], yerr=g["se"], marker="o", ms=4,
                    capsize=3, color=GROUP_COLORS[label], label=GROUP_NAMES[label],
                )
            ax.set_title(feature.replace("_", " "), fontsize=10)
            ax.set_ylabel(feature_label(feature), fontsize=8)
            ax.set_xticks(range(len(weeks)), ticks)
            ax.set_xlabel("week", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
        top += SECTION_IN + PANEL_IN[1] * rows
    fig.legend([handles[g] for g in STUDY_GROUPS[study] if g in handles],
               [GROUP_NAMES[g] for g in STUDY_GROUPS[study] if g in handles],
               loc="lower center", bbox_to_anchor=(0.5, 0.15 / height), ncols=3, fontsize=12)
    return fig
