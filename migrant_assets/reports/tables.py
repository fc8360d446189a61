"""Reading the tables the report and the closing summary publish (both read them here; neither
imports the other): tables that may not exist yet (say so, never crash), what was skipped and
why (issue 10), the windows of the departure study's first-k-days experiments, the study groups
and Tables 1–3 of the departure study beside the papers' numbers (SPEC §6)."""

from __future__ import annotations

import duckdb
import pandas as pd

from migrant_assets.config import StudyConfig
from migrant_assets.db import first_row, has_column, quote_identifier, run_sql
from migrant_assets.features import FAR_KM, FEATURES, cell_prices_stats, valueless_notes
from migrant_assets.ingest import quarantine_reasons
from migrant_assets.labels import (
    ACTIVITY_WEEKS,
    DEPARTURE_LABELS,
    INTEGRATION_LABELS,
    calendar_notes,
    find_uncovered_days,
    withheld_labels,
    withheld_reason,
)
from migrant_assets.models.data import reference_window
from migrant_assets.models.departure import (
    FEATURE_IMPORTANCE,
    LEAVING_VS_STAYING,
    TABLE1,
    TABLE2,
    TABLE3,
    TRANSFER,
)
from migrant_assets.models.integration import CLASSIFIED_AS_LOCALS, SETTLED_VS_LOCALS, THREE_WAY
from migrant_assets.models.reference import PAPER_F1
from migrant_assets.papers import PAPER_K
from migrant_assets.reports.trends import EARLIER_TRENDS, EARLIER_TRENDS_FIX, earlier_trends


def table_problem(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """Why ``table`` (a table, or a view over the tables of several assets) cannot be shown
    (missing or empty), or None when it has rows."""
    (exists,) = run_sql(con, "reports/relation_exists.sql", {"name": table}).fetchall()[0]
    if not exists:
        # never built, or its run failed (probe 24 F3: a step out of memory)
        return (f"table {table} does not exist: its asset has not been materialized, or its "
                "run failed")
    if con.execute(f"SELECT count(*) FROM {quote_identifier(table)}").fetchall()[0][0] == 0:  # noqa: S608
        return f"table {table} is empty"
    return None


def _places_problem(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """:func:`table_problem` of cells or estates, naming the quarantine's reasons when every
    row of the file was quarantined (probe 32 L2: "table cells is empty" read as if no file
    was given, when all 303 towers were outside the box)."""
    problem = table_problem(con, table)
    reasons = {} if problem is None or table_problem(con, "quarantine") \
        else quarantine_reasons(con, table)
    if not reasons:
        return problem
    return (f"every row of the {table} file was quarantined: "
            + ", ".join(f"{reason} {n:,}" for reason, n in reasons.items())
            + f"; see the check {table}.quarantine_share")


def first_k_params(cfg: StudyConfig) -> dict[str, list]:
    """``window_ids`` and ``ks`` of the first-k-days windows, as SQL parameters."""
    windows = cfg.calendar.windows("first_k_days")
    return {
        "window_ids": [w.window_id for w in windows],
        "ks": [(w.end - w.start).days + 1 for w in windows],
    }


#: The result tables whose rows may be skipped (issue 10), each read by
#: ``sql/reports/skipped_<table>.sql``.
SKIP_TABLES = ("model_results", "transfer_f1", "feature_importance", "integration_results")
SKIPPED_COLUMNS = ["experiment", "window_ids", "windows", "reason", "whole", "rows"]


def skipped_experiments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every skipped experiment (or rows of one) in the result tables that exist, one line per
    experiment, reason and rows skipped: ``experiment, window_ids`` (the windows it applies
    to), ``windows`` (their labels, in order), ``reason, whole`` (every row of those windows
    skipped), ``rows`` (the rows skipped). Empty when nothing was skipped or computed."""
    frames = [run_sql(con, f"reports/skipped_{t}.sql").df() for t in SKIP_TABLES
              if has_column(con, t, "status")]
    frames = [f for f in frames if len(f)]
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=SKIPPED_COLUMNS))


def experiment_title(experiment: str) -> str:
    """How the report and the summary name an experiment (the papers' tables and figures)."""
    return {
        TABLE1: "Table 1 (new migrants vs locals)",
        LEAVING_VS_STAYING: "leaving vs staying migrants (Table 2, Figure 8(a–c))",
        TABLE3: "Table 3 (leaving vs staying, per feature group)",
        TRANSFER: "Figure 8(d) (trained on k days, tested on t days)",
        FEATURE_IMPORTANCE: "Figure 9 (feature importance)",
        SETTLED_VS_LOCALS: "settled migrants vs locals (001 Section 5.1)",
        CLASSIFIED_AS_LOCALS: "share classified as locals (001 Section 5.1)",
        THREE_WAY: "three-way classification (001 Section 5.2)",
    }.get(experiment, experiment)


def skipped_text(skipped: dict) -> str:
    """One line of :func:`skipped_experiments`: '<experiment>, <windows> (<rows>): skipped:
    <reason>' (rows only when part of the experiment's windows ran)."""
    where = experiment_title(skipped["experiment"])
    if isinstance(skipped.get("windows"), str):
        where += f", {skipped['windows']}"
    if not skipped["whole"]:
        where += f" ({skipped['rows']})"
    return f"{where}: skipped: {skipped['reason']}"


#: Below this share of the cells with a price (an estates file covering part of the city), the
#: housing price features are said to rest on part of the city only.
PRICED_CELLS_SHARE = 0.9


def unavailable_data(con: duckdb.DuckDBPyConnection, cfg: StudyConfig | None = None
                     ) -> list[str]:
    """What the data cannot give, and why, from the input tables: no cell locations (geography
    and housing price features), no estates, no ages or sexes, no labelled users of a study or
    a group, no features, windows holding days the calls do not cover; with ``cfg``, label
    windows other than the papers' (``labels.calendar_notes``). Empty when everything is
    there."""
    out = calendar_notes(cfg) if cfg is not None else []
    no_cells = _places_problem(con, "cells")
    if no_cells:
        out.append(f"geography and housing price features are unavailable: the data has no cell "
                   f"locations ({no_cells})")
    no_estates = problem = _places_problem(con, "estates")
    if problem:
        out.append(f"housing price features are unavailable: the data has no estates "
                   f"({problem})")
    elif not table_problem(con, "cell_prices"):
        priced = cell_prices_stats(con)
        if priced["cells_with_price"] < PRICED_CELLS_SHARE * priced["n_cells"]:
            out.append(f"housing price features rest on {priced['cells_with_price']:,} of the "
                       f"{priced['n_cells']:,} cells: the others have no estate within "
                       f"{FAR_KM:g} km (SPEC §5; the estates cover part of the city), so the "
                       "prices of users whose places lie there are null")
    people = {}
    if not table_problem(con, "subscribers"):
        people = first_row(run_sql(con, "reports/attribute_presence.sql"))
        for column, feature, one in (("ages", "similar_age", "an age"),
                                     ("sexes", "same_sex", "a sex")):
            if people["users"] and not people[column]:
                out.append(f"{feature} is unavailable: no subscriber has {one}")
    problem = table_problem(con, "user_labels")
    unlabelled = {"integration", "departure"} if problem else set()  # no label to have lost
    withheld: dict = {}
    if problem:
        out.append(f"both studies are unavailable: there are no user labels ({problem})")
    else:
        n = run_sql(con, "reports/label_presence.sql").df().iloc[0]
        withheld = withheld_labels(con)
        for study, groups in (("integration", ("local", "settled_migrant", "new_migrant")),
                              ("departure", ("local", "staying_migrant", "leaving_migrant"))):
            if study in withheld:
                out.append(f"the {study} study is unavailable: "
                           f"{withheld_reason(study, withheld[study])}")
                continue
            if not n[study]:
                why = (": no subscriber has a birth province, which the labels need (SPEC §3; "
                       "the subscribers' birth_province column is empty or unreadable)"
                       if people.get("users") and not people["provinces"] else "")
                out.append(f"the {study} study is unavailable: no {study}-labelled users{why}")
                continue
            for group in groups:
                if not n[f"{study}_{group}" if group == "local" else group]:
                    name = group.replace("_", " ") + "s"
                    out.append(f"the {study} study has no {name}: the experiments that "
                               "need them are skipped")
    problem = table_problem(con, "features")
    if not problem:  # a feature null for everyone, for a cause not named above
        named = {*(f for f, x in FEATURES.items()
                   if (no_cells and x.support in ("located", "priced"))
                   or (no_estates and x.support == "priced")),
                 *(f for f, column in (("similar_age", "ages"), ("same_sex", "sexes"))
                   if people.get("users") and not people[column])}
        out.extend(valueless_notes(con, named))
    if problem:
        out.append(f"every feature, trend and classifier is unavailable: {problem}")
    elif earlier_trends(con):
        out.append(f"{EARLIER_TRENDS}: {EARLIER_TRENDS_FIX}")
    elif not table_problem(con, "group_feature_trends"):
        windows = run_sql(con, "reports/uncovered_trend_windows.sql").fetchall()
        weeks = activity_weeks(windows, set(withheld) | unlabelled)
        lost = first_row(run_sql(con, "reports/labels_lost_to_uncovered_weeks.sql", {
            "integration_weeks": weeks["integration"], "departure_weeks": weeks["departure"]
        })) if any(weeks.values()) else {}
        out.extend(uncovered_notes(windows, weeks, lost, uncovered_days(con, cfg)
                                   if windows and cfg is not None else None))
    return out


def uncovered_days(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> list[str] | None:
    """The days of the study month the calls do not cover (``labels.find_uncovered_days``, the
    rule that withholds the trends' windows), or None without a calls table."""
    if table_problem(con, "calls"):
        return None
    return [d.isoformat() for d in find_uncovered_days(con, cfg, cfg.calendar.month_start,
                                                       cfg.calendar.month_end)]


#: The study whose weeks each family's windows are.
STUDY_OF_WEEKS = {"integration_week": "integration", "departure_week": "departure"}


def activity_weeks(windows: list[tuple[str, str, str]], withheld: set[str]
                   ) -> dict[str, list[str]]:
    """Per study, the weeks of required activity among :file:`uncovered_trend_windows.sql`'s
    (label, family, reason) rows, but none of a study in ``withheld`` (labels withheld whole,
    or none)."""
    out: dict[str, list[str]] = {study: [] for study in STUDY_OF_WEEKS.values()}
    for label, family, _ in windows:
        study = STUDY_OF_WEEKS.get(family)
        if study and label in ACTIVITY_WEEKS[study] and study not in withheld:
            out[study].append(label)
    return out


def uncovered_notes(windows: list[tuple[str, str, str]], weeks: dict[str, list[str]],
                    lost: dict[str, int], days: list[str] | None = None) -> list[str]:
    """What days the calls do not cover cost: the windows (``windows``: label, family, reason)
    whose group means and findings are withheld (as the classifiers skip them), with those
    ``days`` (:func:`uncovered_days`; without them, the first window's reason), and per study
    the weeks of required activity holding such days (``weeks``: :func:`activity_weeks`) with
    the users who may have lost a label to them (``lost``:
    :file:`labels_lost_to_uncovered_weeks.sql`)."""
    if not windows:
        return []
    shown = ", ".join(label for label, _, _ in windows[:12]) + (", ..." * (len(windows) > 12))
    why = windows[0][2] if not days else (
        f"the calls do not cover {len(days)} day(s) ({', '.join(days[:10])}"
        f"{', ...' * (len(days) > 10)}: no calls, or far fewer than a usual day's), which their "
        "features would read as silence: deliver and materialize those days of calls")
    out = [f"the group means and findings of {len(windows)} window(s) ({shown}) are withheld: "
           f"{why}"]
    for study, labels in weeks.items():
        if labels:
            out.append(f"the {study} study's users must call in {', '.join(labels)}, which hold "
                       f"days without data: up to {lost.get(study, 0):,} user(s) who called on "
                       "none of the other days of such a week have no label (they may have "
                       "called on those days)")
    return out


def table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every table of the DuckDB file, by name."""
    tables = sorted(r[0] for r in con.execute("SHOW TABLES").fetchall())
    return {t: con.execute(f"SELECT count(*) FROM {quote_identifier(t)}").fetchone()[0]  # noqa: S608
            for t in tables}


def landing_exclusions(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Calls files read (``files``), their rows (``rows_read``), landed and quarantined by the
    landing, not calls, dated outside the calendar (``landed_files``), other party's records
    and partial records of calls already counted (``accounting_calls``): what the landing made
    of every row read, what the mapping's rules left out counted, never silently."""
    return {k: int(v) for k, v in first_row(run_sql(con, "reports/landing_exclusions.sql"))
            .items()}


def quarantine_by_reason(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(source, reason, rows) of the quarantined input rows."""
    return run_sql(con, "reports/quarantine_by_reason.sql").fetchall()


def group_sizes(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> pd.DataFrame:
    """Users and share per study group, as published (suppressed where SPEC §1 says)."""
    return run_sql(con, "reports/group_sizes.sql", {
        "min_group_size": cfg.thresholds.min_group_size,
        "integration_labels": list(INTEGRATION_LABELS),
        "departure_labels": list(DEPARTURE_LABELS),
    }).df()


#: Tables 1–3 of the departure study: (title, experiment in model_results, the paper's key).
#: Titles are templates of ``{k_max}`` and ``{paper_k}``: see :func:`departure_tables`.
DEPARTURE_TABLES = (
    ("Table 1: new migrants vs locals, random forest, k = {k_max}", TABLE1, TABLE1),
    ("Table 2: leaving vs staying migrants, k = {k_max} (paper: k = {paper_k})",
     LEAVING_VS_STAYING, TABLE2),
    ("Table 3: leaving vs staying migrants, random forest per feature group, k = {k_max}",
     TABLE3, TABLE3),
)


def departure_tables(cfg: StudyConfig) -> list[tuple[str, str, str]]:
    """:data:`DEPARTURE_TABLES` with their titles for the calendar of ``cfg`` (our tables are at
    its largest k; the paper's at :data:`~migrant_assets.papers.PAPER_K`)."""
    return [(title.format(k_max=cfg.calendar.k_max, paper_k=PAPER_K), experiment, key)
            for title, experiment, key in DEPARTURE_TABLES]


def integration_rows(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                     experiment: str) -> pd.DataFrame:
    """The rows of one integration experiment as published: rows resting on fewer than
    ``min_group_size`` users (or positives, or negatives) suppressed (SPEC §1,
    ``reports/integration_results.sql``)."""
    run_sql(con, "reports/macros.sql")
    return run_sql(con, "reports/integration_results.sql", {
        "experiment": experiment, "min_group_size": cfg.thresholds.min_group_size}).df()


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


#: The published aggregates of people whose small cells are suppressed (SPEC §1), each with the
#: SQL that counts the cells that are not (the checks of the assets that write them).
SUPPRESSION_CHECKS = {
    "group_feature_trends": "reports/check_trends_suppression.sql",
    "group_map": "reports/check_map_suppression.sql",
}


def unsuppressed_small_cells(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                             table: str) -> tuple[int, int]:
    """(cells published although under ``min_group_size`` or with numbers left in a suppressed
    cell, cells judged) of ``table``, one of :data:`SUPPRESSION_CHECKS`."""
    bad, judged = run_sql(con, SUPPRESSION_CHECKS[table],
                          {"min_group_size": cfg.thresholds.min_group_size}).fetchone()
    return int(bad), int(judged)
