"""Figures of the classifier experiments, read from their result tables (``sql/models/schema.sql``;
never written here): the departure study's Figure 8(a–c) (precision, recall, F1 against k) and
8(d) (train on k days, test on t days), Figure 9 (feature importances at the calendar's largest
k, ``k_max``; the paper's is at k = ``PAPER_K``), and the
integration study's Figure 4 (ablation, share classified as locals, three-way F1). Rows resting
on fewer than ``min_group_size`` positives or negatives are suppressed (SPEC §1) and not drawn.
A missing or empty table, or experiments that were all skipped (issue 10), give a figure that
says why."""

from __future__ import annotations

import duckdb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from migrant_assets.config import StudyConfig
from migrant_assets.db import run_sql
from migrant_assets.features import DEPARTURE_GROUPS, GROUPS
from migrant_assets.models.classifiers import CLASSIFIERS, RANDOM_FOREST
from migrant_assets.models.data import reference_window
from migrant_assets.models.departure import (
    FEATURE_IMPORTANCE,
    LEAVING_VS_STAYING,
    RANDOM_GUESS,
    TRANSFER,
)
from migrant_assets.models.integration import (
    CLASSIFIED_AS_LOCALS,
    PAPER_WEEK,
    SETTLED_VS_LOCALS,
    THREE_WAY,
)
from migrant_assets.models.reference import PAPER_F1, PAPER_SHARE
from migrant_assets.papers import PAPER_K
from migrant_assets.reports.plots import (
    FAMILY_TITLES,
    GROUP_COLORS,
    GROUP_NAMES,
    STUDY_GROUPS,
    message_figure,
    panel_message,
    to_png,
)
from migrant_assets.reports.tables import (
    first_k_params,
    integration_rows,
    skipped_experiments,
    table_problem,
)

#: One colour per classifier (and the random guess), in every model figure.
MODEL_COLORS = {
    CLASSIFIERS[0]: "#1b9e77", CLASSIFIERS[1]: "#d95f02", CLASSIFIERS[2]: "#7570b3",
    CLASSIFIERS[3]: "#e7298a", RANDOM_GUESS: "#666666",
}
FAMILY_COLORS = {f: GROUPS[f].color for f in DEPARTURE_GROUPS}


def _why_nothing(con: duckdb.DuckDBPyConnection, experiments: list[str], default: str) -> str:
    """Why a figure of ``experiments`` has nothing to draw: the reasons they were skipped, or
    ``default`` (e.g. every row suppressed)."""
    skipped = skipped_experiments(con)
    reasons = list(dict.fromkeys(skipped.loc[skipped["experiment"].isin(experiments), "reason"]))
    if not reasons:
        return default
    more = f" (and {len(reasons) - 2} other reasons)" if len(reasons) > 2 else ""
    return "skipped: " + "; ".join(reasons[:2]) + more


def first_k_curves(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> bytes:
    """000 Figure 8(a–c): precision, recall and F1 of leaving vs staying migrants against k,
    one line per classifier (F1 with its 95 % bootstrap band) and the random guess."""
    title = "Leaving vs staying migrants against the days observed (cf. 000 Figure 8(a–c))"
    problem = table_problem(con, "model_results")
    rows = None if problem else run_sql(con, "reports/model_results.sql", {
        **first_k_params(cfg), "experiment": LEAVING_VS_STAYING,
        "min_group_size": cfg.thresholds.min_group_size,
    }).df().dropna(subset=["f1"])
    if rows is None or rows.empty:
        return message_figure(title, problem or _why_nothing(
            con, [LEAVING_VS_STAYING], f"no published row of experiment {LEAVING_VS_STAYING}"))
    ks = first_k_params(cfg)["ks"]
    unshown = [k for k in ks if k not in set(rows["k"])]
    if unshown:  # a k skipped (or withheld) is said, not left to the axis (probe 35 L5)
        title += (f"\nnot shown: k = {', '.join(map(str, unshown))} (skipped or withheld: see "
                  "the report's skipped experiments)")
    start = cfg.calendar.windows("first_k_days")[0].start
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained", sharex=True)
    fig.suptitle(title, fontsize=13)
    for ax, metric in zip(axes, ("precision", "recall", "f1"), strict=True):
        for model, g in rows.groupby("model", sort=False):
            style = "--" if model == RANDOM_GUESS else "-"
            ax.plot(g["k"], g[metric], style, marker="o", ms=3, label=model,
                    color=MODEL_COLORS.get(model))
            if metric == "f1" and model != RANDOM_GUESS:
                ax.fill_between(g["k"], g["f1_ci_low"], g["f1_ci_high"], alpha=0.15,
                                color=MODEL_COLORS.get(model), lw=0)
        ax.set_title(f"({'abc'[('precision', 'recall', 'f1').index(metric)]}) {metric}")
        ax.set_xticks(ks)  # whole days, every k of the calendar
        ax.set_xlim(min(ks) - 0.5, max(ks) + 0.5)
        ax.set_xlabel(f"k (days observed since {start:%m-%d})")
        ax.set_ylabel(f"{metric} of leaving migrants")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return to_png(fig, dpi=90)


def transfer_heatmap(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> bytes:
    """000 Figure 8(d): F1 of the random forest trained on the first k days (rows) and tested
    on the first t days (columns)."""
    title = "Trained on k days, tested on t days: F1 (cf. 000 Figure 8(d))"
    problem = table_problem(con, "transfer_f1")
    cells = None if problem else run_sql(con, "reports/transfer_f1.sql", {
        **first_k_params(cfg), "model": RANDOM_FOREST,
        "min_group_size": cfg.thresholds.min_group_size,
    }).df()
    if cells is None or cells["f1"].isna().all():
        return message_figure(title, problem or _why_nothing(con, [TRANSFER],
                                                             "no published transfer F1"))
    grid = cells.pivot(index="train_k", columns="test_k", values="f1")
    fig, ax = plt.subplots(figsize=(9, 7.5), layout="constrained")
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="viridis", origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax, label="F1 of leaving migrants")
    ax.set_xticks(range(grid.shape[1]), grid.columns)
    ax.set_yticks(range(grid.shape[0]), grid.index)
    ax.set_xlabel("t: days of features when testing")
    ax.set_ylabel("k: days of features when training")
    ax.set_title(f"{title}, {RANDOM_FOREST}")
    values = grid.to_numpy(dtype=float)
    if values.size <= 196:
        mid = np.nanmean(values)
        for (i, j), v in np.ndenumerate(values):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if v < mid else "black")
    return to_png(fig, dpi=90)


def importance_title(cfg: StudyConfig, top: int = 10) -> str:
    """The title of :func:`importance_chart`: our k is the calendar's largest, the paper's
    :data:`~migrant_assets.papers.PAPER_K`."""
    return (f"The {top} most important features, k = {cfg.calendar.k_max} "
            f"(cf. 000 Figure 9, k = {PAPER_K})")


def importance_chart(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, top: int = 10) -> bytes:
    """000 Figure 9: the ``top`` features of highest Gini importance at k = ``k_max`` (the
    calendar's largest k), coloured by family, beside their permutation importance (mean ± sd
    over folds and repeats)."""
    title = importance_title(cfg, top)
    problem = table_problem(con, "feature_importance")
    rows = None if problem else run_sql(con, "reports/feature_importance.sql", {
        "window_id": reference_window(cfg).window_id,
    }).df().head(top)
    if rows is None or rows.empty:
        return message_figure(title, problem or _why_nothing(
            con, [FEATURE_IMPORTANCE],
            f"no importance for the k = {cfg.calendar.k_max} window"))
    rows = rows.iloc[::-1]
    colors = [FAMILY_COLORS.get(f, "#999999") for f in rows["family"]]
    fig, (ax_g, ax_p) = plt.subplots(1, 2, figsize=(13, 5), layout="constrained", sharey=True)
    fig.suptitle(title, fontsize=13)
    labels = rows["feature"].str.replace("_", " ")
    ax_g.barh(labels, rows["gini"], color=colors)
    ax_g.set_xlabel("relative Gini importance (mean decrease in impurity)")
    ax_g.set_title("random forest, Gini")
    ax_p.barh(labels, rows["permutation_mean"], xerr=rows["permutation_std"], color=colors,
              capsize=3)
    ax_p.set_xlabel("drop in average precision when shuffled")
    ax_p.set_title("permutation, held-out folds")
    for ax in (ax_g, ax_p):
        ax.grid(axis="x", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in FAMILY_COLORS.values()]
    ax_g.legend(handles, [FAMILY_TITLES[f] for f in FAMILY_COLORS], fontsize=8,
                loc="lower right")
    return to_png(fig, dpi=90)


def integration_classifier_chart(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> bytes:
    """001 Figure 4: (a) F1 of settled migrants vs locals along the backward removal of feature
    groups (W2), (b) share of settled and new migrants classified as locals per week, (c)
    three-way F1 per class per week; the paper's values as black markers."""
    title = "Distinguishing migrants from locals (cf. 001 Figure 4)"
    problem = table_problem(con, "integration_results")
    if problem:
        return message_figure(title, problem)
    read = {e: integration_rows(con, cfg, e)
            for e in (SETTLED_VS_LOCALS, CLASSIFIED_AS_LOCALS, THREE_WAY)}
    if all(df.empty for df in read.values()):
        return message_figure(title, "integration_results has none of the three experiments")
    if all((df["status"] != "ok").all() for df in read.values()):
        return message_figure(title, _why_nothing(con, list(read), "every row was skipped"))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8), layout="constrained")
    fig.suptitle(title, fontsize=13)
    small = cfg.thresholds.min_group_size

    def why_none(df: pd.DataFrame, shown: pd.DataFrame, label: str | None = None) -> str | None:
        """Why a panel (or one group of it) draws nothing: the experiment's skip reason, or
        its rows suppressed (SPEC §1); None when it draws something."""
        rows = df if label is None else df[df["target"] == label]
        if not (shown if label is None else shown[shown["target"] == label]).empty:
            return None
        skipped = rows.loc[rows["status"] != "ok", "skip_reason"].dropna()
        if not skipped.empty:
            return f"skipped: {skipped.iloc[0]}"
        if rows["suppressed"].any():
            return f"suppressed: fewer than {small} users (SPEC §1)"
        return "no row"

    ablation = read[SETTLED_VS_LOCALS]
    ablation = ablation[(ablation["week"] == "W2") & ablation["f1"].notna()]
    axes[0].bar(ablation["row"], ablation["f1"], color="#E69F00",
                yerr=[ablation["f1"] - ablation["f1_ci_low"],
                      ablation["f1_ci_high"] - ablation["f1"]], capsize=3)
    paper = [PAPER_F1.get((SETTLED_VS_LOCALS, r), np.nan) for r in ablation["row"]]
    axes[0].plot(ablation["row"], paper, "kD", label="paper")
    axes[0].set_title("(a) settled migrants vs locals, W2: feature groups removed")
    axes[0].set_ylabel("F1 of settled migrants")
    axes[0].tick_params(axis="x", rotation=30)
    shares = read[CLASSIFIED_AS_LOCALS].dropna(subset=["share"])
    for label, g in shares.groupby("target"):
        axes[1].errorbar(g["week"], g["share"], yerr=[g["share"] - g["share_ci_low"],
                                                      g["share_ci_high"] - g["share"]],
                         marker="o", capsize=3, color=GROUP_COLORS[label],
                         label=GROUP_NAMES[label])
        paper = [PAPER_SHARE.get((CLASSIFIED_AS_LOCALS, f"{GROUP_NAMES[label]} {w}"), np.nan)
                 for w in g["week"]]
        axes[1].plot(g["week"], paper, "D", color=GROUP_COLORS[label], mec="black",
                     label=f"{GROUP_NAMES[label]}, paper")
    axes[1].set_title("(b) share classified as locals")
    axes[1].set_ylabel("share of the group")
    three = read[THREE_WAY]
    three = three[(three["row"] != RANDOM_GUESS) & three["f1"].notna()]
    for label in STUDY_GROUPS["integration"]:
        g = three[three["target"] == label]
        if g.empty:
            continue
        axes[2].plot(g["week"], g["f1"], marker="o", color=GROUP_COLORS[label],
                     label=GROUP_NAMES[label])
        paper = PAPER_F1.get((THREE_WAY, GROUP_NAMES[label]))
        if paper is not None and PAPER_WEEK in set(g["week"]):
            axes[2].plot([PAPER_WEEK], [paper], "D", color=GROUP_COLORS[label], mec="black",
                         label=f"{GROUP_NAMES[label]}, paper")
    axes[2].set_title("(c) three-way classification")
    axes[2].set_ylabel("F1 of the class")
    settled, classes = read[SETTLED_VS_LOCALS], read[THREE_WAY]
    for ax, df, drawn in ((axes[0], settled[settled["week"] == "W2"], ablation),
                          (axes[1], read[CLASSIFIED_AS_LOCALS], shares),
                          (axes[2], classes[classes["row"] != RANDOM_GUESS], three)):
        reason = why_none(df, drawn)
        if reason:
            panel_message(ax, reason)
        elif ax is not axes[0]:  # a group the panel leaves out, and why
            notes = [f"{GROUP_NAMES[g]}: {why}" for g in STUDY_GROUPS["integration"]
                     if g in set(df["target"]) and (why := why_none(df, drawn, g))]
            if notes:
                ax.text(0.01, 0.01, "\n".join(notes), fontsize=7, va="bottom",
                        transform=ax.transAxes, wrap=True)
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    for ax in axes[1:]:
        ax.set_xlabel("test week")
    return to_png(fig, dpi=90)
