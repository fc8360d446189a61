"""The study report: one self-contained HTML file (figures embedded as base64 PNG).

Every number shown is read from a DuckDB table by a SQL query at build time, except the papers'
values, which come from the reference constants (``migrant_assets.papers``,
``migrant_assets.models.reference``, :data:`~.maps.PAPER_HOUSING_PRICES`,
:data:`~.trajectories.PAPER_TRAJECTORIES`), and the synthetic city's parameters, read from its
``manifest.json``. Published aggregates suppress cells of fewer than ``min_group_size`` users
(SPEC §1); no identifier is ever read.

The report renders whatever exists (issue 10): a missing or empty table, a section or figure
that cannot be built, is reported as "not available (reason)"; what the data cannot give (no
cell locations, no labelled users of a group) is listed at the top; every skipped experiment
has a "skipped: <reason>" line in its section.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from migrant_assets.config import StudyConfig, SyntheticSource
from migrant_assets.db import run_sql
from migrant_assets.models.data import reference_window
from migrant_assets.models.departure import (
    FEATURE_IMPORTANCE,
    LEAVING_VS_STAYING,
    TABLE1,
    TABLE2,
    TABLE3,
    TRANSFER,
)
from migrant_assets.models.integration import (
    CLASSIFIED_AS_LOCALS,
    PAPER_WEEK,
    SETTLED_VS_LOCALS,
    THREE_WAY,
)
from migrant_assets.models.reference import PAPER_F1, PAPER_SHARE
from migrant_assets.models.store import SKIPPED
from migrant_assets.papers import GROUP_SIZES, PAPER_K
from migrant_assets.reports.findings import Z_CRITICAL
from migrant_assets.reports.maps import PAPER_HOUSING_PRICES, group_maps, price_distribution
from migrant_assets.reports.model_figures import (
    first_k_curves,
    importance_chart,
    integration_classifier_chart,
    transfer_heatmap,
)
from migrant_assets.reports.plots import GROUP_NAMES, message_figure, png_base64
from migrant_assets.reports.tables import (
    SKIPPED_COLUMNS,
    first_k_params,
    skipped_experiments,
    skipped_text,
    table_problem,
    unavailable_data,
)
from migrant_assets.reports.trajectories import TRAJECTORIES
from migrant_assets.reports.trends import plot_trends
from migrant_assets.summary import group_sizes, quarantine_by_reason, table_rows

#: Every figure of the report: key -> (section, caption). A caption is a template of
#: ``{k_max}`` (our largest k, the calendar's) and ``{paper_k}`` (the paper's): see
#: :func:`figure_caption`.
FIGURES: dict[str, tuple[str, str]] = {
    "trends_integration": ("integration", "Group mean ± standard error of every feature per "
                           "week, locals / settled / new migrants (cf. 001 Figures 2–3)."),
    "group_map": ("integration", "ln P_all and ln P_group − ln P_all over a grid of the city "
                  "(cf. 001 Figure 1)."),
    "housing_prices": ("departure", "Housing prices over the city and their histogram "
                       "(cf. 000 Figure 2)."),
    "trends_departure": ("departure", "Group mean ± standard error of every feature per week, "
                         "locals / staying / leaving migrants (cf. 000 Figures 3, 5, 6, 7)."),
    "first_k_curves": ("departure_models", "Precision, recall and F1 against k "
                       "(cf. 000 Figure 8(a–c))."),
    "transfer_heatmap": ("departure_models", "Trained on k days, tested on t days "
                         "(cf. 000 Figure 8(d))."),
    "feature_importance": ("departure_models", "The ten most important features at k = {k_max} "
                           "(cf. 000 Figure 9, at k = {paper_k})."),
    "integration_classifiers": ("integration_models", "Settled migrants vs locals, share "
                                "classified as locals, three-way F1 (cf. 001 Figure 4)."),
}

#: The id of every HTML table of the report.
REPORT_TABLES = (
    "table-rows", "table-quarantine", "table-groups", "table-synthetic-parameters",
    "table-synthetic-behaviour", "table-trajectories", "table-prices", "table-findings",
    "table-departure-table1", "table-departure-table2", "table-departure-table3",
    "table-first-k", "table-importance", "table-integration-ablation",
    "table-integration-classified-as-locals", "table-integration-three-way", "table-trends",
)

DASH = "—"


# ---------------------------------------------------------------- number formats (one each)

def _missing(x: Any) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def fmt_count(x: Any) -> str:
    return DASH if _missing(x) else f"{int(x):,}"


def fmt_metric(x: Any) -> str:
    """Precision, recall, F1, importances: four decimals, as the papers print them."""
    return DASH if _missing(x) else f"{float(x):.4f}"


def fmt_share(x: Any) -> str:
    return DASH if _missing(x) else f"{float(x):.2%}"


def fmt_z(x: Any) -> str:
    return DASH if _missing(x) else f"{float(x):.2f}"


def fmt_value(x: Any) -> str:
    """A feature value of any magnitude: 4 significant figures, thousands separated."""
    if _missing(x):
        return DASH
    v = float(x)
    digits = min(10, max(0, 3 - math.floor(math.log10(abs(v))))) if v else 4
    return f"{v:,.{digits}f}"


def fmt_bool(x: Any) -> str:
    return DASH if _missing(x) else ("yes" if x else "no")


def fmt_text(x: Any) -> str:
    return DASH if _missing(x) else str(x)


Column = tuple[str, str, Callable[[Any], str]]  # (column, header, formatter)


def html_table(table_id: str, df: pd.DataFrame, columns: Sequence[Column],
               suppressed: str | None = None) -> str:
    """An HTML table of ``df``; a row whose ``suppressed`` column is true shows 'suppressed'
    in place of its null numbers, a row whose ``status`` is 'skipped' shows 'skipped'."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = []
    for rec in df.to_dict("records"):
        hidden = ("suppressed" if suppressed and rec.get(suppressed) else
                  SKIPPED if rec.get("status") == SKIPPED else None)
        cells = []
        for col, _, fmt in columns:
            text = fmt(rec.get(col))
            if hidden and text == DASH:
                text = hidden
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _unavailable(what: str, reason: str) -> str:
    return f'<p class="missing">{html.escape(what)}: not available ({html.escape(reason)}).</p>'


def _error_reason(error: Exception) -> str:
    """A section or figure that raised: the exception's class and the first line of its
    message (never a data line: the report reads aggregates only)."""
    first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"it could not be built: {type(error).__name__}" + (f": {first}" if first else "")


def _attempt(what: str, build: Callable[[], Any], problems: list[str]) -> tuple[Any, str | None]:
    """``(build(), None)``, or ``(None, reason)`` when it raises, the reason added to
    ``problems``: one part of the report that cannot be built never discards the others."""
    try:
        return build(), None
    except Exception as error:  # noqa: BLE001 -- the report shows what it can (issue 10)
        reason = _error_reason(error)
        problems.append(f"{what}: {reason}")
        return None, reason


def _section(what: str, build: Callable[[], str], problems: list[str]) -> str:
    """``build()``, or a 'not available' line saying why it could not be built."""
    html_text, reason = _attempt(what, build, problems)
    return _unavailable(what, reason) if reason else html_text


def _skipped_list(skipped: pd.DataFrame, experiments: Sequence[str]) -> str:
    """A 'skipped: <reason>' line per skipped experiment (or rows of one) of ``experiments``."""
    rows = skipped[skipped["experiment"].isin(experiments)]
    if rows.empty:
        return ""
    items = "".join(f"<li>{html.escape(skipped_text(r))}</li>" for r in rows.to_dict("records"))
    return f'<ul class="skipped">{items}</ul>'


def figure_caption(key: str, cfg: StudyConfig) -> str:
    """The caption of figure ``key`` (:data:`FIGURES`) for the calendar of ``cfg``."""
    return FIGURES.get(key, ("", key))[1].format(k_max=cfg.calendar.k_max, paper_k=PAPER_K)


def _figure(key: str, figures: dict[str, bytes], cfg: StudyConfig) -> str:
    caption = figure_caption(key, cfg)
    if key not in figures:
        return _unavailable(f"Figure {key}", "it was not produced for this report")
    return (f'<figure id="figure-{key}"><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{png_base64(figures[key])}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


# ---------------------------------------------------------------- figures


def report_figures(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                   trends: pd.DataFrame | None = None) -> dict[str, bytes]:
    """Every figure of :data:`FIGURES`, from the DuckDB tables (``group_feature_trends`` unless
    ``trends`` is given; ``group_map`` is rewritten). A figure whose tables are missing, or
    that cannot be drawn, is a figure saying why."""
    trends_problem = None
    if trends is None:
        trends_problem = table_problem(con, "group_feature_trends")
        trends = None if trends_problem else con.execute(
            "SELECT * FROM group_feature_trends").df()

    def trend_figure(study: str) -> bytes:
        if trends is None:
            return message_figure(f"{study.capitalize()} study trends", trends_problem)
        return plot_trends(trends, study)

    def group_map() -> bytes:
        problem = table_problem(con, "features")
        if problem:
            return message_figure("Where each group lives (cf. 001 Figure 1)", problem)
        return group_maps(con, cfg)[1]

    makers: dict[str, Callable[[], bytes]] = {
        "trends_integration": lambda: trend_figure("integration"),
        "group_map": group_map,
        "housing_prices": lambda: price_distribution(con, cfg),
        "trends_departure": lambda: trend_figure("departure"),
        "first_k_curves": lambda: first_k_curves(con, cfg),
        "transfer_heatmap": lambda: transfer_heatmap(con, cfg),
        "feature_importance": lambda: importance_chart(con, cfg),
        "integration_classifiers": lambda: integration_classifier_chart(con, cfg),
    }
    figures = {}
    for key, make in makers.items():
        png, reason = _attempt(f"Figure {key}", make, [])
        figures[key] = message_figure(figure_caption(key, cfg), reason) if reason else png
    return figures


# ---------------------------------------------------------------- sections


def _data_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> str:
    k = cfg.thresholds.min_group_size
    rows = pd.DataFrame(list(table_rows(con).items()), columns=["table", "rows"])
    out = ["<h2 id='data'>1. Data</h2>", "<h3>Rows per table</h3>",
           html_table("table-rows", rows, [("table", "table", fmt_text),
                                           ("rows", "rows", fmt_count)])]
    out.append("<h3>Quarantined input rows by reason (SPEC §1)</h3>")
    problem = table_problem(con, "quarantine")
    if problem and "empty" not in problem:
        out.append(_unavailable("The quarantine", problem))
    else:
        q = pd.DataFrame(quarantine_by_reason(con), columns=["source", "reason", "rows"])
        out.append(html_table("table-quarantine", q, [
            ("source", "source", fmt_text), ("reason", "reason", fmt_text),
            ("rows", "rows", fmt_count)]))
        if q.empty:
            out.append("<p>No input row was quarantined.</p>")
    out.append(f"<h3>Study groups beside the papers' (groups under {k} users suppressed)</h3>")
    problem = table_problem(con, "user_labels")
    if problem:
        out.append(_unavailable("The study groups", problem))
    else:
        ours = group_sizes(con, cfg)
        paper = pd.DataFrame([
            {"study": s, "label": g, "paper_n": n, "paper_share": n / sum(groups.values())}
            for s, groups in GROUP_SIZES.items() for g, n in groups.items()
        ])
        groups = paper.merge(ours, on=["study", "label"], how="left")
        groups["group"] = groups["label"].map(GROUP_NAMES)
        out.append(html_table("table-groups", groups, [
            ("study", "study", fmt_text), ("group", "group", fmt_text),
            ("n", "users (ours)", fmt_count), ("share", "share (ours)", fmt_share),
            ("paper_n", "users (paper)", fmt_count), ("paper_share", "share (paper)", fmt_share),
        ]))
    out.append(_source_section(cfg))
    return "\n".join(out)


def _source_section(cfg: StudyConfig) -> str:
    if not isinstance(cfg.source, SyntheticSource):
        return ("<h3>Data source</h3><p>Study files described by the mapping "
                f"<code>{html.escape(cfg.source.mapping.name)}</code> (real data).</p>")
    path = cfg.synthetic_dir / "manifest.json"
    out = ["<h3>The synthetic city (SPEC §7)</h3>"]
    if not path.exists():
        return out[0] + _unavailable("The synthetic city's manifest", f"{path.name} not found")
    manifest = json.loads(path.read_text())
    meta = {key: manifest.get(key) for key in
            ("preset", "seed", "generator", "generator_version", "start", "end", "proportions",
             "proportions_note")}
    params = {**meta, **manifest.get("parameters", {})}
    table = pd.DataFrame({"parameter": list(params), "value": [json.dumps(v) if
                          isinstance(v, list | dict) else v for v in params.values()]})
    out.append(html_table("table-synthetic-parameters", table,
                          [("parameter", "parameter", fmt_text), ("value", "value", fmt_text)]))
    behaviour = pd.DataFrame(manifest.get("behaviour", {}))
    behaviour.insert(0, "parameter", behaviour.index)
    out.append("<details><summary>Behavioural parameters per simulated group</summary>")
    out.append(html_table("table-synthetic-behaviour", behaviour,
                          [(c, c, fmt_text) for c in behaviour.columns]))
    out.append("</details>")
    return "\n".join(out)


def _trajectory_section(con: duckdb.DuckDBPyConnection) -> str:
    problem = table_problem(con, "integration_trajectories")
    head = "<h3>Trajectories of new migrants (cf. 001 Table 2)</h3>"
    if problem:
        return head + _unavailable("The trajectory table", problem)
    df = con.execute("SELECT * FROM integration_trajectories ORDER BY feature_order").df()
    n = con.execute("SELECT count(*) FILTER (agrees), count(agrees) "
                    "FROM integration_trajectories").fetchall()[0]
    legend = "".join(f"<li><code>{k}</code>: {html.escape(v)}</li>"
                     for k, v in TRAJECTORIES.items())
    return "\n".join([
        head,
        f"<p>Orderings of the W2 group means; trajectory named by the group in the middle:</p>"
        f"<ul>{legend}</ul><p>Agreement with the paper's assignment (001 Section 4): "
        f"{fmt_count(n[0])} of {fmt_count(n[1])} features it names.</p>",
        html_table("table-trajectories", df, [
            ("feature", "feature", fmt_text), ("feature_group", "group", fmt_text),
            ("local_mean", "locals", fmt_value), ("settled_mean", "settled", fmt_value),
            ("new_mean", "new", fmt_value), ("ordering", "ordering (W2)", fmt_text),
            ("trajectory", "trajectory", fmt_text), ("min_abs_z", "weakest |z|", fmt_z),
            ("new_toward_settled", "new → settled W2–W4", fmt_bool),
            ("new_toward_locals", "new → locals W2–W4", fmt_bool),
            ("paper_trajectory", "paper", fmt_text), ("agrees", "agrees", fmt_bool),
        ]),
    ])


def _price_section(con: duckdb.DuckDBPyConnection) -> str:
    problem = table_problem(con, "estates")
    head = "<h3>Housing prices (cf. 000 Section 2.2)</h3>"
    if problem:
        return head + _unavailable("The housing prices", problem)
    ours = run_sql(con, "reports/price_summary.sql").df().iloc[0]
    table = pd.DataFrame([
        {"statistic": "estates", "ours": fmt_count(ours["n_estates"]), "paper": DASH},
        {"statistic": "mean (yuan/m²)", "ours": fmt_count(ours["mean_price"]),
         "paper": fmt_count(PAPER_HOUSING_PRICES["mean_yuan_per_m2"])},
        {"statistic": "standard deviation (yuan/m²)", "ours": fmt_count(ours["sd_price"]),
         "paper": fmt_count(PAPER_HOUSING_PRICES["sd_yuan_per_m2"])},
    ])
    return head + html_table("table-prices", table, [
        ("statistic", "statistic", fmt_text), ("ours", "ours", fmt_text),
        ("paper", "paper", fmt_text)])


def _findings_section(con: duckdb.DuckDBPyConnection) -> str:
    head = "<h2 id='findings'>4. The papers' findings on our data</h2>"
    problem = table_problem(con, "findings")
    if problem:
        return head + _unavailable("The findings table", problem)
    df = con.execute("SELECT * FROM findings ORDER BY finding_order").df()
    held, tested, total = con.execute(
        "SELECT count(*) FILTER (holds), count(holds), count(*) FROM findings").fetchall()[0]
    return "\n".join([
        head,
        f"<p>{fmt_count(held)} of {fmt_count(tested)} tested findings hold "
        f"({fmt_count(total)} defined; a finding is untested when a mean it needs is "
        f"suppressed). A finding holds when each of its comparisons has the paper's sign and "
        f"|z| ≥ {Z_CRITICAL}; the weakest comparison is shown (value a − value b).</p>",
        html_table("table-findings", df, [
            ("finding_id", "id", fmt_text), ("paper_section", "paper, section", fmt_text),
            ("statement", "statement", fmt_text), ("test", "test", fmt_text),
            ("feature", "feature", fmt_text), ("groups", "groups", fmt_text),
            ("window", "week", fmt_text), ("compared", "weakest comparison", fmt_text),
            ("value_a", "value a", fmt_value), ("value_b", "value b", fmt_value),
            ("difference", "difference", fmt_value), ("se", "s.e.", fmt_value),
            ("z", "z", fmt_z), ("holds", "holds", fmt_bool),
        ]),
    ])


_METRICS: list[Column] = [
    ("precision", "precision", fmt_metric), ("recall", "recall", fmt_metric),
    ("f1", "F1", fmt_metric), ("f1_ci_low", "F1 95% low", fmt_metric),
    ("f1_ci_high", "F1 95% high", fmt_metric),
]


#: Tables 1–3 of the departure study: (title, experiment in model_results, the paper's key).
#: Titles are templates of ``{k_max}`` and ``{paper_k}``: see :func:`departure_tables`.
DEPARTURE_TABLES = (
    ("Table 1: new migrants vs locals, random forest, k = {k_max}", TABLE1, TABLE1),
    ("Table 2: leaving vs staying migrants, k = {k_max} (paper: k = {paper_k})", LEAVING_VS_STAYING,
     TABLE2),
    ("Table 3: leaving vs staying migrants, random forest per feature group, k = {k_max}",
     TABLE3, TABLE3),
)


def departure_tables(cfg: StudyConfig) -> list[tuple[str, str, str]]:
    """:data:`DEPARTURE_TABLES` with their titles for the calendar of ``cfg`` (our tables are at
    its largest k; the paper's at :data:`~migrant_assets.papers.PAPER_K`)."""
    return [(title.format(k_max=cfg.calendar.k_max, paper_k=PAPER_K), experiment, key)
            for title, experiment, key in DEPARTURE_TABLES]


def departure_table_rows(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, experiment: str,
                         paper_key: str) -> pd.DataFrame:
    """One of Tables 1–3 at k = k_max in the paper's row order, the paper's F1 beside ours,
    rows under ``min_group_size`` positives or negatives suppressed (SPEC §1, §6)."""
    rows = run_sql(con, "reports/model_results.sql", {
        "window_ids": [reference_window(cfg).window_id], "ks": [cfg.calendar.k_max],
        "experiment": experiment, "min_group_size": cfg.thresholds.min_group_size,
    }).df()
    rows["paper_f1"] = [PAPER_F1.get((paper_key, r)) for r in rows["row"]]
    order = [r for (e, r) in PAPER_F1 if e == paper_key]
    rows["_order"] = [order.index(r) if r in order else len(order) for r in rows["row"]]
    return rows.sort_values(["_order", "row"]).drop(columns="_order")


def _departure_table(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, table_id: str,
                     title: str, experiment: str, paper_key: str) -> str:
    head = f"<h3>{html.escape(title)}</h3>"
    rows = departure_table_rows(con, cfg, experiment, paper_key)
    if rows.empty:
        return head + _unavailable(title, f"model_results has no row of experiment "
                                          f"{experiment} at {reference_window(cfg).label}")
    return head + html_table(table_id, rows, [
        ("row", "row", fmt_text), ("model", "classifier", fmt_text), *_METRICS,
        ("paper_f1", "F1 (paper)", fmt_metric), ("n_users", "users", fmt_count),
        ("n_pos", "leaving / positives", fmt_count), ("status", "status", fmt_text),
    ], suppressed="suppressed")


def _departure_models_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                              figures: dict[str, bytes], skipped: pd.DataFrame) -> str:
    out = ["<h2 id='departure-models'>5. Predicting leaving migrants (000 Section 4)</h2>",
           _skipped_list(skipped, [TABLE1, LEAVING_VS_STAYING, TABLE3, TRANSFER,
                                   FEATURE_IMPORTANCE])]
    problem = table_problem(con, "model_results")
    if problem:
        out.append(_unavailable("The departure classifier tables", problem))
    else:
        out += [
            _departure_table(con, cfg, f"table-departure-table{i}", title, experiment, key)
            for i, (title, experiment, key) in enumerate(departure_tables(cfg), start=1)
        ]
        curves = run_sql(con, "reports/model_results.sql", {
            **first_k_params(cfg), "experiment": LEAVING_VS_STAYING,
            "min_group_size": cfg.thresholds.min_group_size,
        }).df()
        out.append("<details><summary>Figure 8(a–c) in numbers: every classifier and k"
                   "</summary>")
        out.append(html_table("table-first-k", curves, [
            ("window_label", "k", fmt_text), ("model", "classifier", fmt_text), *_METRICS,
            ("n_users", "users", fmt_count), ("n_pos", "leaving", fmt_count),
            ("status", "status", fmt_text),
        ], suppressed="suppressed"))
        out.append("</details>")
    out += [_figure("first_k_curves", figures, cfg), _figure("transfer_heatmap", figures, cfg)]
    out.append("<h3>Feature importance (cf. 000 Figure 9)</h3>")
    problem = table_problem(con, "feature_importance")
    if problem:
        out.append(_unavailable("The feature importances", problem))
    else:
        top = run_sql(con, "reports/feature_importance.sql",
                      {"window_id": reference_window(cfg).window_id}).df().head(10)
        out.append(html_table("table-importance", top, [
            ("rank", "rank", fmt_count), ("feature", "feature", fmt_text),
            ("family", "family", fmt_text), ("gini", "Gini importance", fmt_metric),
            ("permutation_mean", "permutation (mean)", fmt_metric),
            ("permutation_std", "permutation (sd)", fmt_metric),
        ]))
    out.append(_figure("feature_importance", figures, cfg))
    return "\n".join(out)


def _integration_models_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                                figures: dict[str, bytes], skipped: pd.DataFrame) -> str:
    out = ["<h2 id='integration-models'>6. Distinguishing migrants from locals "
           "(001 Section 5)</h2>",
           _skipped_list(skipped, [SETTLED_VS_LOCALS, CLASSIFIED_AS_LOCALS, THREE_WAY])]
    problem = table_problem(con, "integration_results")
    k = cfg.thresholds.min_group_size
    specs = [
        ("table-integration-ablation", "Settled migrants vs locals, backward removal of "
         "feature groups (001 Section 5.1)", SETTLED_VS_LOCALS),
        ("table-integration-classified-as-locals", "Share of settled and new migrants "
         "classified as locals (001 Section 5.1)", CLASSIFIED_AS_LOCALS),
        ("table-integration-three-way", "Three-way classification (001 Section 5.2)",
         THREE_WAY),
    ]
    for table_id, title, experiment in specs:
        out.append(f"<h3>{html.escape(title)}</h3>")
        if problem:
            out.append(_unavailable(title, problem))
            continue
        df = run_sql(con, "reports/integration_results.sql",
                     {"experiment": experiment, "min_group_size": k}).df()
        if df.empty:
            out.append(_unavailable(title, f"integration_results has no row of {experiment}"))
            continue
        if experiment == CLASSIFIED_AS_LOCALS:
            df["paper"] = [PAPER_SHARE.get((experiment, f"{r} {w}"))
                           for r, w in zip(df["row"], df["week"], strict=True)]
            cols = [("week", "week", fmt_text), ("row", "group", fmt_text),
                    ("share", "share as locals", fmt_share),
                    ("share_ci_low", "95% low", fmt_share), ("share_ci_high", "95% high",
                                                             fmt_share),
                    ("paper", "paper", fmt_share), ("n_users", "users", fmt_count),
                    ("status", "status", fmt_text)]
        else:
            df["paper"] = [PAPER_F1.get((experiment, r)) if experiment == SETTLED_VS_LOCALS
                           or w == PAPER_WEEK else None
                           for r, w in zip(df["row"], df["week"], strict=True)]
            cols = [("week", "week", fmt_text), ("row", "row", fmt_text),
                    ("target", "class", fmt_text), *_METRICS,
                    ("paper", "F1 (paper)", fmt_metric), ("n_users", "test users", fmt_count),
                    ("status", "status", fmt_text)]
        out.append(html_table(table_id, df, cols, suppressed="suppressed"))
    out.append(_figure("integration_classifiers", figures, cfg))
    return "\n".join(out)


def _trends_appendix(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> str:
    head = "<h2 id='appendix'>7. Appendix: group means per week</h2>"
    problem = table_problem(con, "group_feature_trends")
    if problem:
        return head + _unavailable("The group trends", problem)
    df = con.execute(
        "SELECT * FROM group_feature_trends "
        "WHERE window_family IN ('integration_week', 'departure_week') "
        "ORDER BY study DESC, feature_order, window_order, label").df()
    return "\n".join([
        head,
        f"<details><summary>Mean, standard error and users with a value, every feature, week "
        f"and group (cells of fewer than {cfg.thresholds.min_group_size} users suppressed)"
        f"</summary>",
        html_table("table-trends", df, [
            ("study", "study", fmt_text), ("feature", "feature", fmt_text),
            ("window_label", "week", fmt_text), ("label", "group", fmt_text),
            ("n", "users", fmt_count), ("mean", "mean", fmt_value), ("se", "s.e.", fmt_value),
        ], suppressed="suppressed"),
        "</details>",
    ])


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1500px;margin:2em auto;
padding:0 1.5em;color:#222;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tbody tr:nth-child(even){background:#fafafa}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:13px;color:#555}
.banner{background:#fff4d6;border:1px solid #e0b84c;padding:.8em 1em;border-radius:4px}
.missing{color:#a33;font-style:italic}code{background:#f4f4f4;padding:0 3px}
.skipped li,.unavailable li{color:#a33}
"""


def _limits_section(notes: list[str], skipped: pd.DataFrame) -> str:
    """What this report cannot show, and why: the data's gaps and how many experiments were
    skipped (each has its line in its section)."""
    if not notes and skipped.empty:
        return ""
    items = [f"<li>{html.escape(n)}</li>" for n in notes]
    if len(skipped):
        items.append(f"<li>{len(skipped)} experiment(s) or rows of one were skipped because "
                     "the data cannot support them; each is listed, with the reason, in "
                     "sections <a href='#departure-models'>5</a> and "
                     "<a href='#integration-models'>6</a>.</li>")
    return ("<h2 id='unavailable'>What this report cannot show</h2>"
            f"<ul class='unavailable'>{''.join(items)}</ul>")


def build_report(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, figures: dict[str, bytes],
                 out_path: str | Path, problems: list[str] | None = None) -> Path:
    """Write the HTML report to ``out_path`` and return it. ``figures`` maps the keys of
    :data:`FIGURES` (and any others, shown at the end) to PNG bytes; reads the descriptive
    tables (``group_feature_trends``, ``integration_trajectories``, ``findings``), the
    classifier result tables and the data tables, whichever exist. ``problems``, if given,
    receives a line for everything the report could not show (data gaps, skipped experiments,
    sections that could not be built)."""
    problems = [] if problems is None else problems
    k = cfg.thresholds.min_group_size
    synthetic = isinstance(cfg.source, SyntheticSource)
    banner = (
        "These results are computed on the <strong>synthetic city</strong> (SPEC §7): they "
        "validate the pipeline, not the social science. The city's behaviour is calibrated to "
        "the papers' published aggregates, so agreement with the papers is built in, not "
        "discovered."
        if synthetic else
        "These results are computed on the study's own data files."
    ) + (f" Published aggregates suppress every cell of fewer than {k} users (SPEC §1); "
         "no identifier appears in this report.")
    notes = _attempt("Data availability", lambda: unavailable_data(con), problems)[0] or []
    skipped = _attempt("Skipped experiments", lambda: skipped_experiments(con), problems)[0]
    if skipped is None:
        skipped = pd.DataFrame(columns=SKIPPED_COLUMNS)
    problems += notes + [skipped_text(r) for r in skipped.to_dict("records")]
    extra = [key for key in figures if key not in FIGURES]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>migrant_assets report</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>Migrant integration and early departure: study report</h1>",
        f"<p>Built {datetime.now():%Y-%m-%d %H:%M} from the DuckDB tables of the study. "
        "Papers: 001 = <em>Urban Dreams of Migrants</em> (integration study), 000 = its "
        "follow-up on early departure.</p>",
        f"<p class='banner'>{banner}</p>",
        _limits_section(notes, skipped),
        _section("The data section", lambda: _data_section(con, cfg), problems),
        "<h2 id='integration'>2. Locals, settled and new migrants (001 Sections 3–4)</h2>",
        _figure("trends_integration", figures, cfg),
        _section("The trajectory table", lambda: _trajectory_section(con), problems),
        _figure("group_map", figures, cfg),
        "<h2 id='departure'>3. Locals, staying and leaving migrants (000 Section 3)</h2>",
        _section("The housing prices", lambda: _price_section(con), problems),
        _figure("housing_prices", figures, cfg),
        _figure("trends_departure", figures, cfg),
        _section("The findings", lambda: _findings_section(con), problems),
        _section("The departure classifiers",
                 lambda: _departure_models_section(con, cfg, figures, skipped), problems),
        _section("The integration classifiers",
                 lambda: _integration_models_section(con, cfg, figures, skipped), problems),
        _section("The group trends", lambda: _trends_appendix(con, cfg), problems),
    ]
    if extra:
        parts.append("<h2>Other figures</h2>")
        parts += [_figure(key, figures, cfg) for key in extra]
    parts.append("</body></html>")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
