"""User population and study labels (SPEC §3), computed in DuckDB by ``sql/labels/``.

Choices where SPEC §3 leaves room (also in ``docs/data_model.md``):

- A *user* is a ``subscribers`` owner with ``has_local_number``; silent users (no call in the
  month) are kept, with every activity fact false and no label.
- Service-like owners are removed from the user population only: owners flagged ``is_service``
  and owners whose undirected degree over the study month (distinct other parties they called or
  were called by, every party counted, subscriber or not) is above ``thresholds.max_degree``.
  They stay in the graphs as parties. ``service_like_users`` keeps one row per (owner, reason).
- An unknown (null or blank) birth province gives ``is_local_born`` null and no label in either
  study: such a user is neither local nor migrant.
- Activity is read from ``calls`` over the study month; a call made or received counts.
- A study's labels are withheld (``withheld_labels``) when a day of the windows whose silence
  decides them is not covered by the calls (:func:`find_uncovered_days`: outside the month's
  first to last day with a call, or with fewer than a tenth of the median day's calls): data
  missing there (an extract that starts on week A, ends inside week C, or lacks a week's files)
  would make every settled migrant new, and every migrant leaving.
  So are they when a whole week of required activity (W2-W4, week A or B) is not covered: no
  one could be active in it.
- The integration study's new migrant needs no call in W1 only: calls on the days before W1
  (09-01, 09-02) do not matter.
- The departure study's leaving migrant needs no call in week C (09-19..09-25) only, as SPEC §3
  reads; calls after week C (09-26..09-30, ignored for holiday travel) do not matter. Such users
  have ``active_after_c`` true and are counted in the stats.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from migrant_assets.config import Calendar, StudyConfig
from migrant_assets.db import first_row, has_table, run_schema_sql, run_sql, transaction

INTEGRATION_LABELS = ("local", "settled_migrant", "new_migrant")
DEPARTURE_LABELS = ("local", "staying_migrant", "leaving_migrant")


def calendar_params(cfg: StudyConfig) -> dict[str, date]:
    """The dates of SPEC §2 as SQL parameters: ``w1_start``..``w4_end``, ``a_start``..``c_end``,
    ``pre_start``/``pre_end`` and ``month_start``/``month_end``."""
    cal = cfg.calendar
    params = {"month_start": cal.month_start, "month_end": cal.month_end}
    params["pre_start"], params["pre_end"] = cal.departure_pre_window
    for w in [*cal.windows("integration_week"), *cal.windows("departure_week")]:
        params[f"{w.label.lower()}_start"] = w.start
        params[f"{w.label.lower()}_end"] = w.end
    return params


def build_user_labels(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> dict[str, Any]:
    """Rebuild ``user_labels`` and ``service_like_users`` (SPEC §3); return counts for metadata.

    The stats hold counts only (never identifiers): users per label per study (unlabelled
    included), owners removed as service-like per reason, the ``max_degree`` threshold and the
    degree range of the removed owners.
    """
    run_schema_sql(con, "labels/schema.sql")
    params = {
        **calendar_params(cfg),
        "province": cfg.city.province,
        "max_degree": cfg.thresholds.max_degree,
    }
    with transaction(con):
        find_uncovered_days(con, cfg, cfg.calendar.month_start, cfg.calendar.month_end)
        run_sql(con, "labels/user_labels.sql", params)

    stats: dict[str, Any] = first_row(run_sql(con, "labels/user_labels_stats.sql"))
    for study, per_label in label_counts(con).items():
        stats[f"{study}_label_counts"] = per_label
    stats["max_degree"] = cfg.thresholds.max_degree
    stats["withheld_labels"] = withheld_labels(con)
    return stats


def find_uncovered_days(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, lo: date,
                        hi: date) -> list[date]:
    """The days of ``lo``..``hi`` the calls do not cover (missing data, not silence), into the
    TEMP table ``uncovered_days`` (``sql/labels/uncovered_days.sql``; thresholds
    ``min_day_share`` and ``dense_day_calls``), and returned in order."""
    run_sql(con, "labels/uncovered_days.sql", {
        "lo": lo, "hi": hi, "min_day_share": cfg.thresholds.min_day_share,
        "dense_day_calls": cfg.thresholds.dense_day_calls})
    return [d for (d,) in con.execute("SELECT day FROM uncovered_days ORDER BY day").fetchall()]


#: The weeks of each study in which every user must call for a label (SPEC §3;
#: ``user_labels.sql``): a day of them without data withholds no label, and may cost one.
ACTIVITY_WEEKS = {"integration": ("W2", "W3", "W4"), "departure": ("A", "B")}
#: The windows whose days, not covered by the calls, withhold each study's labels (SPEC §3).
UNCOVERED_WINDOWS = {
    "integration": "W1, where a new migrant is silent, or a whole week of W2-W4, where every user "
                   "must call,",
    "departure": "the days before week A and week C, where a new and a leaving migrant are "
                 "silent, or a whole week A or B, where every user must call,"}


def _silent_days_before_a(calendar: Calendar) -> int:
    return (calendar.departure_weeks[0] - calendar.month_start).days


def calendar_notes(cfg: StudyConfig) -> list[str]:
    """How the study's label windows differ from the papers' (the default calendar, SPEC §3):
    a departure study whose new migrants are silent on another number of days before week A
    (a calendar that starts later, to fit an extract) labels other migrants new."""
    ours, paper = _silent_days_before_a(cfg.calendar), _silent_days_before_a(Calendar())
    if ours == paper:
        return []
    first, last = cfg.calendar.departure_pre_window
    effect = ("fewer silent days let a migrant who was only away briefly count as new" if
              ours < paper else "more silent days count fewer migrants as new")
    return [f"the departure study's new migrants are silent on the {ours} day(s) before week A "
            f"({first} .. {last}), the papers' on {paper}: {effect}, so its staying and leaving "
            "migrants are not the papers' groups"]


def withheld_labels(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """The studies whose labels ``user_labels.sql`` withheld, each with ``days`` (the days of
    its windows the calls do not cover: missing data, not silence; :data:`UNCOVERED_WINDOWS`),
    ``first`` and ``last`` (the month's first and last day with a call); {} when none."""
    if not has_table(con, "withheld_labels"):
        return {}
    return {study: {"days": days, "first": first, "last": last}
            for study, days, first, last in con.execute(
                "SELECT study, days_not_covered, first_call_day, last_call_day "
                "FROM withheld_labels ORDER BY study").fetchall()}


def withheld_reason(study: str, withheld: dict[str, Any]) -> str:
    """Why a study's labels are withheld, in one sentence naming the days."""
    days = withheld["days"]
    shown = ", ".join(str(d) for d in days[:5]) + (", ..." if len(days) > 5 else "")
    span = (f"the calls cover {withheld['first']} .. {withheld['last']}"
            if withheld["first"] else "no call is stored")
    covered = (withheld["last"] - withheld["first"]).days + 1 if withheld["first"] else 0
    calendar = ("or set a calendar whose windows fall inside the extract" if covered >= 28 else
                "or set a calendar over the days the extract covers, which needs 28 days or "
                f"more (4 integration weeks; the calls of this month cover {covered}): else "
                "deliver a longer extract")
    return (f"the {study} labels are withheld: {UNCOVERED_WINDOWS[study]} include {len(days)} "
            f"days without calls, or with far fewer than a usual day's ({shown}; {span}), so "
            "silence cannot be told from missing data: materialize those days of calls where "
            "the Dagster UI shows their partitions missing, deliver the files of the days the "
            f"extract lacks, {calendar} (docs/your_own_data.md, step 3)")

def label_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Users per label of each study (``integration``, ``departure``), ``unlabelled`` included,
    every label listed (0 when it has no user)."""
    counts = run_sql(con, "labels/label_counts.sql").fetchall()
    out = {}
    for study, labels in (("integration", INTEGRATION_LABELS), ("departure", DEPARTURE_LABELS)):
        per_label = dict.fromkeys([*labels, "unlabelled"], 0)
        per_label.update({label: n for s, label, n in counts if s == study})
        out[study] = per_label
    return out


def label_checks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts the label checks assert are zero (users with two rows, labelled users without
    attributes) and what they judge: ``n_users``, ``n_labelled`` (either study),
    ``n_known_province``."""
    return first_row(run_sql(con, "labels/checks.sql"))
