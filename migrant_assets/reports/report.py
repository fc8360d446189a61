"""The study report (SPEC §6; docs/report.md): one self-contained HTML file rendered from the
Jinja2 templates of ``reports/templates/`` (autoescaped), figures embedded as base64 PNG.

Every number shown is read from a DuckDB table at build time, except the papers' values (from
``data/paper_reference.csv`` through :mod:`migrant_assets.papers`: ``GROUP_SIZES``,
``PAPER_HOUSING_PRICES``, and ``models.reference.PAPER_F1`` / ``PAPER_SHARE``; the categorical
:data:`~.trajectories.PAPER_TRAJECTORIES`) and the synthetic city's parameters (its
``manifest.json``). Published aggregates suppress cells of fewer than ``min_group_size`` users
(SPEC §1); no identifier is ever read.

The report draws nothing: each figure of :data:`FIGURES` is read from
``<workdir>/figures/<key>.png``, where the asset that draws it saved it
(:func:`~.plots.save_figure`); a missing file is an "unavailable" line naming that asset.

The report renders whatever exists (issue 10): a missing or empty table, a section or figure
that cannot be built, is "not available (reason)"; what the data cannot give (no cell
locations, no labelled users of a group) is listed at the top; every skipped experiment has a
"skipped: <reason>" line in its section. :func:`render_report` returns the HTML with one
:class:`Part` (ok or unavailable, and why) per section, figure and table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

import duckdb
import jinja2
import pandas as pd
from markupsafe import Markup

from migrant_assets.config import StudyConfig, SyntheticSource
from migrant_assets.db import run_sql
from migrant_assets.early_warning import no_model_reason
from migrant_assets.lineage import out_of_date
from migrant_assets.models.data import reference_window
from migrant_assets.models.departure import (
    FEATURE_IMPORTANCE,
    LEAVING_VS_STAYING,
    TABLE1,
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
from migrant_assets.papers import GROUP_SIZES, PAPER_HOUSING_PRICES, PAPER_K
from migrant_assets.reports.findings import Z_CRITICAL
from migrant_assets.reports.plots import GROUP_NAMES, figure_message, figure_path, png_base64
from migrant_assets.reports.tables import (
    SKIPPED_COLUMNS,
    departure_table_rows,
    departure_tables,
    first_k_params,
    group_sizes,
    integration_rows,
    landing_exclusions,
    quarantine_by_reason,
    skipped_experiments,
    skipped_text,
    table_problem,
    table_rows,
    unavailable_data,
)
from migrant_assets.reports.trajectories import TRAJECTORIES
from migrant_assets.synthetic.planted import why_not_found


class Figure(NamedTuple):
    """A figure of the report: the section it is shown in, its caption (a template of
    ``{k_max}``, our largest k, and ``{paper_k}``, the paper's: see :func:`figure_caption`) and
    the asset that draws and saves it."""

    section: str
    caption: str
    asset: str


#: Every figure of the report, by the key it is saved under (:func:`~.plots.figure_path`).
FIGURES: dict[str, Figure] = {
    "trends_integration": Figure("integration", "Group mean ± standard error of every feature "
                                 "per week, locals / settled / new migrants (cf. 001 Figures "
                                 "2–3).", "group_feature_trends"),
    "group_map": Figure("integration", "ln P_all and ln P_group − ln P_all over a grid of the "
                        "city (cf. 001 Figure 1).", "group_maps"),
    "housing_prices": Figure("departure", "Housing prices over the city and their histogram "
                             "(cf. 000 Figure 2).", "group_maps"),
    "trends_departure": Figure("departure", "Group mean ± standard error of every feature per "
                               "week, locals / staying / leaving migrants (cf. 000 Figures 3, 5, "
                               "6, 7).", "group_feature_trends"),
    "first_k_curves": Figure("departure_models", "Precision, recall and F1 against k "
                             "(cf. 000 Figure 8(a–c)).", "departure_curves"),
    "transfer_heatmap": Figure("departure_models", "Trained on k days, tested on t days "
                               "(cf. 000 Figure 8(d)).", "departure_transfer"),
    "feature_importance": Figure("departure_models", "The ten most important features at "
                                 "k = {k_max} (cf. 000 Figure 9, at k = {paper_k}).",
                                 "departure_feature_importance"),
    "integration_classifiers": Figure("integration_models", "Settled migrants vs locals, share "
                                      "classified as locals, three-way F1 (cf. 001 Figure 4).",
                                      "integration_models"),
}

#: The rows of the calls files, as the report counts them (``tables.landing_exclusions``).
CALLS_READ = {
    "files": "files read", "rows_read": "rows read", "rows_landed": "landed",
    "rows_quarantined": "quarantined by the landing (table below)",
    "rows_not_a_call": "not calls (the mapping's event types)",
    "rows_outside_calendar": "dated outside the study calendar",
    "rows_other_party_record": "of those landed, left out by the days: the other party's "
                               "records of calls counted once",
    "rows_partial_record": "of those landed, left out by the days: partial records of long "
                           "calls counted as one",
}

#: The sections built from queries (each may fail alone): key -> (what it is called in an
#: "unavailable" line, the ids of its tables).
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "data": ("The data section", ("table-rows", "table-calls-read", "table-quarantine",
                                  "table-groups",
                                  "table-synthetic-parameters", "table-synthetic-behaviour")),
    "trajectories": ("The trajectory table", ("table-trajectories",)),
    "prices": ("The housing prices", ("table-prices",)),
    "findings": ("The findings", ("table-findings", "table-finding-exceptions")),
    "departure_models": ("The departure classifiers", (
        "table-departure-table1", "table-departure-table2", "table-departure-table3",
        "table-first-k", "table-importance")),
    "integration_models": ("The integration classifiers", (
        "table-integration-ablation", "table-integration-classified-as-locals",
        "table-integration-three-way")),
    "appendix": ("The group trends", ("table-trends",)),
    "early_warning": ("The early warning", ("table-early-warning",
                                            "table-early-warning-reliability")),
}

#: The id of every HTML table of the report.
REPORT_TABLES = tuple(t for _, tables in SECTIONS.values() for t in tables)

DASH = "—"
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("migrant_assets", "reports/templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)


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


# ---------------------------------------------------------------- what the templates show

Column = tuple[str, str, Callable[[Any], str]]  # (column, header, formatter)


@dataclass(frozen=True)
class Table:
    """An HTML table: its id, headers and formatted cells."""

    id: str
    headers: list[str]
    rows: list[list[str]]
    kind: ClassVar[str] = "table"


@dataclass(frozen=True)
class Unavailable:
    """A "<what>: not available (<reason>)." line in place of a table, figure or section."""

    what: str
    reason: str
    kind: ClassVar[str] = "unavailable"


@dataclass(frozen=True)
class Image:
    """A figure read from its file: id ``figure-<key>``, caption, base64 PNG."""

    key: str
    caption: str
    png_base64: str
    kind: ClassVar[str] = "figure"


@dataclass(frozen=True)
class Part:
    """A row of the ``report`` table: a section, figure or table of the report, whether it is
    shown and, if not, why."""

    part_id: str
    kind: Literal["section", "figure", "table"]
    status: Literal["ok", "unavailable"]
    reason: str | None = None


@dataclass
class _Parts:
    """Collects the :class:`Part` of every table, figure and section as the report is built."""

    parts: dict[str, Part] = field(default_factory=dict)

    def add(self, part_id: str, kind: Literal["section", "figure", "table"],
            reason: str | None = None) -> None:
        """Record a part: ok, or unavailable for ``reason``."""
        self.parts[part_id] = Part(part_id, kind, "unavailable" if reason else "ok", reason)

    def table(self, table_id: str, df: pd.DataFrame, columns: Sequence[Column],
              suppressed: str | None = None) -> Table:
        """The table of ``df``; a row with an ``uncovered`` reason (days the calls do not cover)
        shows 'withheld' in place of its null numbers, else a row whose ``suppressed`` column is
        true 'suppressed', a row whose ``status`` is 'skipped' 'skipped'."""
        rows = []
        for rec in df.to_dict("records"):
            hidden = ("withheld" if isinstance(rec.get("uncovered"), str) else
                      "suppressed" if suppressed and rec.get(suppressed) else
                      SKIPPED if rec.get("status") == SKIPPED else None)
            cells = [fmt(rec.get(col)) for col, _, fmt in columns]
            rows.append([hidden if hidden and c == DASH else c for c in cells])
        self.add(table_id, "table")
        return Table(table_id, [h for _, h, _ in columns], rows)

    def missing(self, what: str, reason: str, *ids: str) -> Unavailable:
        """The line shown in place of the tables ``ids`` (recorded as unavailable)."""
        for part_id in ids:
            self.add(part_id, "table", reason)
        return Unavailable(what, reason)


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


def figure_caption(key: str, cfg: StudyConfig) -> str:
    """The caption of figure ``key`` (:data:`FIGURES`) for the calendar of ``cfg``."""
    return FIGURES[key].caption.format(k_max=cfg.calendar.k_max, paper_k=PAPER_K)


def _figure(key: str, cfg: StudyConfig, parts: _Parts) -> Image | Unavailable:
    """Figure ``key`` as its asset saved it, or why it is not there."""
    path = figure_path(cfg.workdir, key)
    part_id = f"figure-{key}"
    if not path.is_file() or path.stat().st_size == 0:
        reason = (f"figures/{path.name} not found: the asset {FIGURES[key].asset} draws it "
                  "and has not been materialized, or its run failed")
        parts.add(part_id, "figure", reason)
        return Unavailable(f"Figure {key}", reason)
    png = path.read_bytes()
    message = figure_message(png)  # shown, as it says why; listed with its reason
    parts.add(part_id, "figure", f"the figure says why it has no data: {message}"
              if message else None)
    return Image(key, figure_caption(key, cfg), png_base64(png))


def _skipped_lines(skipped: pd.DataFrame, experiments: Sequence[str]) -> list[str]:
    """A 'skipped: <reason>' line per skipped experiment (or rows of one) of ``experiments``."""
    rows = skipped[skipped["experiment"].isin(experiments)]
    return [skipped_text(r) for r in rows.to_dict("records")]


# ---------------------------------------------------------------- sections (template contexts)


def _data_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts) -> dict:
    rows = pd.DataFrame(list(table_rows(con).items()), columns=["table", "rows"])
    out: dict[str, Any] = {
        "rows": t.table("table-rows", rows, [("table", "table", fmt_text),
                                             ("rows", "rows", fmt_count)]),
        "min_group_size": cfg.thresholds.min_group_size, "no_quarantine": False,
    }
    problem = table_problem(con, "landed_files")
    if problem and "empty" not in problem:
        out["calls_read"] = t.missing("The calls files' rows", problem, "table-calls-read")
    else:  # every row read, landed or counted where it went (probe 25)
        try:
            counts = landing_exclusions(con)
        except duckdb.Error as error:  # this table alone (a landed_files of another shape)
            out["calls_read"] = t.missing("The calls files' rows", _error_reason(error),
                                          "table-calls-read")
        else:
            read = pd.DataFrame([(what, counts[key]) for key, what in CALLS_READ.items()],
                                columns=["what", "rows"])
            out["calls_read"] = t.table("table-calls-read", read, [
                ("what", "calls files", fmt_text), ("rows", "count", fmt_count)])
    problem = table_problem(con, "quarantine")
    if problem and "empty" not in problem:
        out["quarantine"] = t.missing("The quarantine", problem, "table-quarantine")
    else:
        q = pd.DataFrame(quarantine_by_reason(con), columns=["source", "reason", "rows"])
        out["quarantine"] = t.table("table-quarantine", q, [
            ("source", "source", fmt_text), ("reason", "reason", fmt_text),
            ("rows", "rows", fmt_count)])
        out["no_quarantine"] = q.empty
    problem = table_problem(con, "user_labels")
    if problem:
        out["groups"] = t.missing("The study groups", problem, "table-groups")
    else:
        paper = pd.DataFrame([
            {"study": s, "label": g, "paper_n": n, "paper_share": n / sum(groups.values())}
            for s, groups in GROUP_SIZES.items() for g, n in groups.items()
        ])
        groups = paper.merge(group_sizes(con, cfg), on=["study", "label"], how="left")
        groups["group"] = groups["label"].map(GROUP_NAMES)
        out["groups"] = t.table("table-groups", groups, [
            ("study", "study", fmt_text), ("group", "group", fmt_text),
            ("n", "users (ours)", fmt_count), ("share", "share (ours)", fmt_share),
            ("paper_n", "users (paper)", fmt_count), ("paper_share", "share (paper)", fmt_share),
        ])
    return {**out, **_source(cfg, t)}


def _source(cfg: StudyConfig, t: _Parts) -> dict:
    """The data source: a mapping of real files, or the synthetic city's parameters."""
    ids = ("table-synthetic-parameters", "table-synthetic-behaviour")
    if not isinstance(cfg.source, SyntheticSource):
        t.missing("The synthetic city", "the data are the study's own files", *ids)
        return {"mapping": cfg.source.mapping.name}
    path = cfg.synthetic_dir / "manifest.json"
    if not path.exists():
        return {"mapping": None, "manifest": t.missing(
            "The synthetic city's manifest", f"{path.name} not found", *ids)}
    manifest = json.loads(path.read_text())
    meta = {key: manifest.get(key) for key in
            ("preset", "seed", "generator", "generator_version", "start", "end", "proportions",
             "proportions_note")}
    params = {**meta, **manifest.get("parameters", {})}
    table = pd.DataFrame({"parameter": list(params), "value": [
        json.dumps(v) if isinstance(v, list | dict) else v for v in params.values()]})
    behaviour = pd.DataFrame(manifest.get("behaviour", {}))
    behaviour.insert(0, "parameter", behaviour.index)
    return {"mapping": None, "manifest": t.table(
        "table-synthetic-parameters", table,
        [("parameter", "parameter", fmt_text), ("value", "value", fmt_text)]),
        "behaviour": t.table("table-synthetic-behaviour", behaviour,
                             [(c, c, fmt_text) for c in behaviour.columns])}


def _trajectory_section(con: duckdb.DuckDBPyConnection, t: _Parts) -> dict:
    problem = table_problem(con, "integration_trajectories")
    if problem:
        return {"table": t.missing("The trajectory table", problem, "table-trajectories")}
    df = run_sql(con, "reports/trajectory_table.sql").df()
    agree, named = run_sql(con, "reports/trajectory_agreement.sql").fetchone()
    return {"legend": TRAJECTORIES, "agree": fmt_count(agree), "named": fmt_count(named),
            "table": t.table("table-trajectories", df, [
                ("feature", "feature", fmt_text), ("feature_group", "group", fmt_text),
                ("local_mean", "locals", fmt_value), ("settled_mean", "settled", fmt_value),
                ("new_mean", "new", fmt_value), ("ordering", "ordering (W2)", fmt_text),
                ("trajectory", "trajectory", fmt_text), ("min_abs_z", "weakest |z|", fmt_z),
                ("new_toward_settled", "new → settled W2–W4", fmt_bool),
                ("new_toward_locals", "new → locals W2–W4", fmt_bool),
                ("paper_trajectory", "paper", fmt_text), ("agrees", "agrees", fmt_bool),
                ("no_ordering_because", "no ordering because", fmt_text),
                ("no_movement_because", "no W2–W4 movement because", fmt_text),
            ])}


def _price_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts) -> dict:
    problem = table_problem(con, "estates")
    if problem:
        return {"table": t.missing("The housing prices", problem, "table-prices")}
    ours = run_sql(con, "reports/price_summary.sql").df().iloc[0]
    paper = PAPER_HOUSING_PRICES
    currency = cfg.city.currency
    in_yuan = currency == "yuan"  # the paper's prices are in yuan: shown beside ours only then
    table = pd.DataFrame([
        {"statistic": "estates", "ours": fmt_count(ours["n_estates"]), "paper": DASH},
        {"statistic": f"mean ({currency}/m²)", "ours": fmt_count(ours["mean_price"]),
         "paper": fmt_count(paper["mean_yuan_per_m2"]) if in_yuan else DASH},
        {"statistic": f"standard deviation ({currency}/m²)", "ours": fmt_count(ours["sd_price"]),
         "paper": fmt_count(paper["sd_yuan_per_m2"]) if in_yuan else DASH},
    ])
    return {"table": t.table("table-prices", table, [
        ("statistic", "statistic", fmt_text), ("ours", "ours", fmt_text),
        ("paper", "paper", fmt_text)])}


def explain_exceptions(exceptions: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    """The ``explanation`` of each finding that does not hold, with the synthetic city's reason
    when the data are the synthetic city's (``synthetic.planted``, issue 16)."""
    if not isinstance(cfg.source, SyntheticSource):
        return exceptions["explanation"]
    why = [why_not_found(i, null=cfg.source.null) for i in exceptions["finding_id"]]
    return pd.Series([e if w is None else f"{e}; on the synthetic city: {w}"
                      for e, w in zip(exceptions["explanation"], why, strict=True)],
                     index=exceptions.index, dtype=object)


def _findings_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts) -> dict:
    problem = table_problem(con, "findings")
    if problem:
        return {"table": t.missing("The findings table", problem, "table-findings",
                                   "table-finding-exceptions")}
    df = run_sql(con, "reports/finding_table.sql").df()
    held, tested, total = run_sql(con, "reports/finding_tally.sql").fetchone()
    exceptions = run_sql(con, "reports/finding_exceptions.sql").df()
    exceptions["explanation"] = explain_exceptions(exceptions, cfg)
    return {"held": fmt_count(held), "tested": fmt_count(tested), "total": fmt_count(total),
            "z_critical": Z_CRITICAL, "n_exceptions": len(exceptions),
            "table": t.table("table-findings", df, [
                ("finding_id", "id", fmt_text), ("paper_section", "paper, section", fmt_text),
                ("statement", "statement", fmt_text), ("test", "test", fmt_text),
                ("feature", "feature", fmt_text), ("groups", "groups", fmt_text),
                ("window", "week", fmt_text), ("compared", "weakest comparison", fmt_text),
                ("value_a", "value a", fmt_value), ("value_b", "value b", fmt_value),
                ("difference", "difference", fmt_value), ("se", "s.e.", fmt_value),
                ("critical", "needed", fmt_z), ("z", "z (t)", fmt_z),
                ("holds", "holds", fmt_bool), ("verdict", "verdict", fmt_text),
            ]),
            "exceptions": t.table("table-finding-exceptions", exceptions, [
                ("finding_id", "id", fmt_text), ("statement", "statement", fmt_text),
                ("verdict", "verdict", fmt_text), ("compared", "weakest comparison", fmt_text),
                ("z", "z (t)", fmt_z), ("critical", "needed", fmt_z),
                ("method", "test", fmt_text), ("replicates", "folds", fmt_count),
                ("explanation", "why", fmt_text),
            ])}


_METRICS: list[Column] = [
    ("precision", "precision", fmt_metric), ("recall", "recall", fmt_metric),
    ("f1", "F1", fmt_metric), ("f1_ci_low", "F1 95% low", fmt_metric),
    ("f1_ci_high", "F1 95% high", fmt_metric),
]


def _departure_models_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts,
                              skipped: pd.DataFrame) -> dict:
    out: dict[str, Any] = {"skipped": _skipped_lines(
        skipped, [TABLE1, LEAVING_VS_STAYING, TABLE3, TRANSFER, FEATURE_IMPORTANCE]),
        "tables": [], "first_k": None, "sampled": False,
        "max_train_rows": cfg.models.max_train_rows_per_class}
    ids = SECTIONS["departure_models"][1]
    problem = table_problem(con, "model_results")
    if problem:
        out["tables"] = [("", t.missing("The departure classifier tables", problem, *ids[:4]))]
    else:
        for i, (title, experiment, key) in enumerate(departure_tables(cfg), start=1):
            rows = departure_table_rows(con, cfg, experiment, key)
            table_id = f"table-departure-table{i}"
            out["tables"].append((title, t.missing(
                title, f"model_results has no row of experiment {experiment} at "
                       f"{reference_window(cfg).label}", table_id) if rows.empty else
                t.table(table_id, rows, [
                    ("row", "row", fmt_text), ("model", "classifier", fmt_text), *_METRICS,
                    ("paper_f1", "F1 (paper)", fmt_metric), ("n_users", "users", fmt_count),
                    ("n_pos", "leaving / positives", fmt_count),
                    ("training_rows", "training rows (folds)", fmt_text),
                    ("status", "status", fmt_text),
                ], suppressed="suppressed")))
            out["sampled"] = out.get("sampled", False) or bool(rows["sampled"].fillna(False).any())
        curves = run_sql(con, "reports/model_results.sql", {
            **first_k_params(cfg), "experiment": LEAVING_VS_STAYING,
            "min_group_size": cfg.thresholds.min_group_size,
        }).df()
        out["first_k"] = t.table("table-first-k", curves, [
            ("window_label", "k", fmt_text), ("model", "classifier", fmt_text), *_METRICS,
            ("n_users", "users", fmt_count), ("n_pos", "leaving", fmt_count),
            ("status", "status", fmt_text),
        ], suppressed="suppressed")
    problem = table_problem(con, "feature_importance")
    if problem:
        out["importance"] = t.missing("The feature importances", problem, "table-importance")
    else:
        top = run_sql(con, "reports/feature_importance.sql",
                      {"window_id": reference_window(cfg).window_id}).df().head(10)
        out["importance"] = t.table("table-importance", top, [
            ("rank", "rank", fmt_count), ("feature", "feature", fmt_text),
            ("family", "family", fmt_text), ("gini", "Gini importance", fmt_metric),
            ("permutation_mean", "permutation (mean)", fmt_metric),
            ("permutation_std", "permutation (sd)", fmt_metric),
        ])
    return out


#: The tables of 001 Section 5: (table id, title, experiment).
INTEGRATION_TABLES = (
    ("table-integration-ablation", "Settled migrants vs locals, backward removal of feature "
     "groups (001 Section 5.1)", SETTLED_VS_LOCALS),
    ("table-integration-classified-as-locals", "Share of settled and new migrants classified "
     "as locals (001 Section 5.1)", CLASSIFIED_AS_LOCALS),
    ("table-integration-three-way", "Three-way classification (001 Section 5.2)", THREE_WAY),
)


def _integration_table(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts,
                       table_id: str, title: str, experiment: str) -> Table | Unavailable:
    df = integration_rows(con, cfg, experiment)
    if df.empty:
        return t.missing(title, f"integration_results has no row of {experiment}", table_id)
    if experiment == CLASSIFIED_AS_LOCALS:
        df["paper"] = [PAPER_SHARE.get((experiment, f"{r} {w}"))
                       for r, w in zip(df["row"], df["week"], strict=True)]
        cols = [("week", "week", fmt_text), ("row", "group", fmt_text),
                ("share", "share as locals", fmt_share), ("share_ci_low", "95% low", fmt_share),
                ("share_ci_high", "95% high", fmt_share), ("paper", "paper", fmt_share),
                ("n_users", "users", fmt_count), ("status", "status", fmt_text)]
    else:
        df["paper"] = [PAPER_F1.get((experiment, r)) if experiment == SETTLED_VS_LOCALS
                       or w == PAPER_WEEK else None
                       for r, w in zip(df["row"], df["week"], strict=True)]
        cols = [("week", "week", fmt_text), ("row", "row", fmt_text),
                ("target", "class", fmt_text), *_METRICS, ("paper", "F1 (paper)", fmt_metric),
                ("n_users", "test users", fmt_count), ("status", "status", fmt_text)]
    return t.table(table_id, df, cols, suppressed="suppressed")


def _integration_models_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts,
                                skipped: pd.DataFrame) -> dict:
    problem = table_problem(con, "integration_results")
    return {
        "skipped": _skipped_lines(skipped, [SETTLED_VS_LOCALS, CLASSIFIED_AS_LOCALS, THREE_WAY]),
        "tables": [(title, t.missing(title, problem, table_id) if problem else
                    _integration_table(con, cfg, t, table_id, title, experiment))
                   for table_id, title, experiment in INTEGRATION_TABLES],
    }


def _trends_appendix(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts) -> dict:
    problem = table_problem(con, "group_feature_trends")
    if problem:
        return {"table": t.missing("The group trends", problem, "table-trends")}
    df = run_sql(con, "reports/trend_table.sql").df()
    return {"min_group_size": cfg.thresholds.min_group_size,
            "table": t.table("table-trends", df, [
                ("study", "study", fmt_text), ("feature", "feature", fmt_text),
                ("window_label", "week", fmt_text), ("label", "group", fmt_text),
                ("n", "users", fmt_count), ("mean", "mean", fmt_value),
                ("se", "s.e.", fmt_value),
            ], suppressed="suppressed")}


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Report:
    """The rendered report: its HTML, a :class:`Part` per section, figure and table, and a
    line for everything it could not show (data gaps, skipped experiments, sections that
    could not be built)."""

    html: str
    parts: list[Part]
    problems: list[str]

    @property
    def unavailable(self) -> list[Part]:
        return [p for p in self.parts if p.status == "unavailable"]

    def write(self, out_path: str | Path) -> Path:
        """Write the HTML to ``out_path`` (replacing it) and return the path."""
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(out.suffix + ".tmp")
        tmp.write_text(self.html, encoding="utf-8")
        tmp.replace(out)
        return out


_EARLY_WARNING_METRICS = ("leaving_share", "precision", "recall", "f1", "precision_top_1pct",
                          "precision_top_5pct", "brier")


def _early_warning_section(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, t: _Parts) -> dict:
    """Early warning in hindsight (docs/early_warning.md): per k the metrics of the out-of-fold
    calibrated probabilities, the lead time of flagged leavers, the reliability curve."""
    problem = table_problem(con, "early_warning_evaluation")
    stale = None if problem else out_of_date(con, cfg, "early_warning_evaluation")
    if stale:  # the report is not refused for it (lineage.unread_inputs): said here
        problem = (f"{stale.what}: materialize the early-warning assets again (migrant-assets "
                   "demo --early-warning)")
    elif not cfg.early_warning.enabled and problem:
        problem = ("the early warning is off in this study (migrant-assets demo --early-warning, "
                   "or early_warning.enabled; docs/early_warning.md)")
    elif problem and table_problem(con, "early_warning_models") is None:
        problem = no_model_reason(con) or problem
    if problem:
        return {"table": t.missing("The early-warning evaluation", problem, "table-early-warning",
                                   "table-early-warning-reliability"), "reliability": None,
                "lead": DASH, "random_lead": DASH, "n_lead": DASH}
    cells = run_sql(con, "reports/early_warning.sql").df()
    per_k = cells[cells["k"].notna() & cells["bin"].isna()]
    wide = per_k.pivot(index="k", columns="metric", values="value").reindex(
        columns=list(_EARLY_WARNING_METRICS))
    hidden = per_k.pivot(index="k", columns="metric", values="suppressed").reindex(
        columns=list(_EARLY_WARNING_METRICS)).fillna(False).any(axis=1)
    wide = wide.reset_index().assign(suppressed=hidden.to_numpy())
    lead = cells[cells["k"].isna()].set_index("metric")
    reliability = cells[cells["metric"].isin(["reliability_predicted", "reliability_observed"])
                        & cells["k"].isin([7, cfg.early_warning.horizon_days])]
    rel = reliability.pivot_table(index=["k", "bin"], columns="metric", values="value",
                                  aggfunc="first", dropna=False).reset_index()
    counts = reliability.groupby(["k", "bin"])["n"].first().reset_index()
    rel = rel.merge(counts, on=["k", "bin"])
    return {
        "table": t.table("table-early-warning", wide, [
            ("k", "k", fmt_count), ("leaving_share", "leaving share", fmt_share),
            ("precision", "precision", fmt_metric), ("recall", "recall", fmt_metric),
            ("f1", "F1", fmt_metric), ("precision_top_1pct", "precision, top 1%", fmt_metric),
            ("precision_top_5pct", "precision, top 5%", fmt_metric),
            ("brier", "Brier score", fmt_metric)], suppressed="suppressed"),
        "reliability": t.table("table-early-warning-reliability", rel, [
            ("k", "k", fmt_count), ("bin", "bin", fmt_count),
            ("reliability_predicted", "mean predicted", fmt_metric),
            ("reliability_observed", "observed leaving share", fmt_metric),
            ("n", "users", fmt_count)]),
        "lead": fmt_z(lead["value"].get("median_lead_days")),
        "random_lead": fmt_z(lead["value"].get("random_median_lead_days")),
        "n_lead": fmt_count(lead["n"].get("median_lead_days")),
    }


def render_report(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> Report:
    """Render the report from the tables of ``con`` (whichever exist) and the figures saved
    under ``cfg.workdir`` (module docstring)."""
    problems: list[str] = []
    t = _Parts()
    notes, reason_notes = _attempt("Data availability", lambda: unavailable_data(con, cfg),
                                   problems)
    skipped, reason_skipped = _attempt("Skipped experiments", lambda: skipped_experiments(con),
                                       problems)
    skipped = pd.DataFrame(columns=SKIPPED_COLUMNS) if skipped is None else skipped
    notes = notes or []
    problems += notes + [skipped_text(r) for r in skipped.to_dict("records")]
    t.add("section-limits", "section", reason_notes or reason_skipped)

    figures = {key: _figure(key, cfg, t) for key in FIGURES}
    builders: dict[str, Callable[[], dict]] = {
        "data": lambda: _data_section(con, cfg, t),
        "trajectories": lambda: _trajectory_section(con, t),
        "prices": lambda: _price_section(con, cfg, t),
        "findings": lambda: _findings_section(con, cfg, t),
        "departure_models": lambda: _departure_models_section(con, cfg, t, skipped),
        "integration_models": lambda: _integration_models_section(con, cfg, t, skipped),
        "appendix": lambda: _trends_appendix(con, cfg, t),
        "early_warning": lambda: _early_warning_section(con, cfg, t),
    }
    sections = {}
    for key, build in builders.items():
        what, table_ids = SECTIONS[key]
        html, reason = _attempt(what, lambda key=key, build=build: Markup(TEMPLATES.get_template(
            f"section_{key}.html.j2").render(figures=figures, **build())), problems)
        sections[key] = Unavailable(what, reason) if reason else html
        t.add(f"section-{key}", "section", reason)
        if reason:  # none of its tables is shown
            t.missing(what, reason, *table_ids)
    html = TEMPLATES.get_template("report.html.j2").render(
        built=f"{datetime.now():%Y-%m-%d %H:%M}",
        province=cfg.city.province, timezone=cfg.city.timezone, currency=cfg.city.currency,
        first_day=cfg.calendar.month_start, last_day=cfg.calendar.month_end,
        synthetic=isinstance(cfg.source, SyntheticSource),
        min_group_size=cfg.thresholds.min_group_size,
        notes=notes, n_skipped=len(skipped), figures=figures, sections=sections,
        section_figures={key: [figures[f] for f, spec in FIGURES.items() if spec.section == key]
                         for key in SECTIONS},
    )
    order = ["section-limits", *(f"section-{k}" for k in SECTIONS), *REPORT_TABLES,
             *(f"figure-{k}" for k in FIGURES)]
    return Report(html, [t.parts[p] for p in order], problems)


def store_report_parts(con: duckdb.DuckDBPyConnection, parts: Sequence[Part]) -> None:
    """Write the ``report`` table: one row per section, figure and table of the report."""
    run_sql(con, "reports/report.sql", {
        "part_ids": [p.part_id for p in parts], "kinds": [p.kind for p in parts],
        "statuses": [p.status for p in parts], "reasons": [p.reason for p in parts],
    })
