"""The main job's closing summary: what is in DuckDB, what was quarantined, the study groups
beside the papers', what the data could not give and which experiments were skipped (and why),
and where to look next. Every part prints what exists: a missing or empty table is said, never
a crash (issue 10). It reads what it prints through :mod:`migrant_assets.reports.tables`, as the
report does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from migrant_assets.config import StudyConfig
from migrant_assets.papers import GROUP_SIZES
from migrant_assets.reports.tables import (
    departure_table_rows,
    departure_tables,
    group_sizes,
    landing_exclusions,
    quarantine_by_reason,
    skipped_experiments,
    skipped_text,
    table_problem,
    table_rows,
    unavailable_data,
)


def group_proportions(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig
) -> list[tuple[str, str, int | None, float | None, float]]:
    """(study, group, users, our share, the paper's share) for every labelled group; users and
    share are None where suppressed (``reports/group_sizes.sql``: groups under
    ``min_group_size``, and a complementary group where one alone would be derivable)."""
    ours = {(r[0], r[1]): (r[2], r[3]) for r in group_sizes(con, cfg).itertuples(index=False)}
    out = []
    for study, paper in GROUP_SIZES.items():
        paper_total = sum(paper.values())
        for group, n_paper in paper.items():
            n, share = ours.get((study, group), (None, None))
            out.append((study, group, None if pd.isna(n) else int(n),
                        None if pd.isna(share) else float(share), n_paper / paper_total))
    return out


def print_departure_tables(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    """Tables 1–3 of the departure study beside the papers' F1, as the report publishes them
    (rows under ``min_group_size`` suppressed, skipped rows said so)."""
    def num(x, spec: str) -> str:
        return "—" if pd.isna(x) else format(x, spec)

    tables = [(title, departure_table_rows(con, cfg, experiment, key))
              for title, experiment, key in departure_tables(cfg)]
    for title, rows in tables:
        print(f"\n{title}\n  {'':<28}{'precision':>10}{'recall':>8}{'F1':>8}"
              f"{'F1 95% CI':>17}{'paper F1':>10}")
        if rows.empty:
            print(f"  not available: no row at k = {cfg.calendar.k_max}")
        for r in rows.itertuples():
            ci = ("skipped" if r.status == "skipped" else "suppressed" if r.suppressed
                  else f"[{r.f1_ci_low:.3f}, {r.f1_ci_high:.3f}]")
            print(f"  {r.row:<28}{num(r.precision, '.4f'):>10}{num(r.recall, '.4f'):>8}"
                  f"{num(r.f1, '.4f'):>8}{ci:>17}{num(r.paper_f1, '.4f'):>10}")


def print_limits(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    """What the data cannot give, and every skipped experiment with its reason."""
    notes = unavailable_data(con, cfg)
    skipped = skipped_experiments(con)
    if notes:
        print("\nUnavailable")
        for note in notes:
            print(f"  {note}")
    print("\nSkipped experiments (the data cannot support them)")
    if skipped.empty:
        print("  none")
    for rec in skipped.to_dict("records"):
        print(f"  {skipped_text(rec)}")


def _part(title: str, show: Callable[[], None], needs: tuple[str, ...],
          con: duckdb.DuckDBPyConnection) -> None:
    """Print one part of the summary (``show`` reads before it prints), or under ``title`` why
    it is not available: a table it ``needs`` is missing or empty, or reading failed (the
    class and first line of the error)."""
    problem = next((p for p in (table_problem(con, t) for t in needs) if p), None)
    if problem:
        print(f"\n{title}\n  not available: {problem}")
        return
    try:
        show()
    except duckdb.Error as error:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        print(f"\n{title}\n  not available: {type(error).__name__}: {first}")


def print_summary(cfg: StudyConfig, config_path: Path) -> None:
    if not cfg.duckdb_path.exists():
        print(f"No DuckDB file at {cfg.duckdb_path}: nothing was materialized.")
    else:
        con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
        try:
            _print_tables(con, cfg)
        finally:
            con.close()
    print(f"\nDuckDB file: {cfg.duckdb_path}")
    report = cfg.workdir / "report.html"
    if report.exists():
        print(f"Report: {report}")
    else:
        print("Report: not written (the report step did not run)")
    print(f"Study config: {config_path}")
    print(f"Open the Dagster UI: MIGRANT_ASSETS_CONFIG={config_path} make ui "
          "(then http://127.0.0.1:3000)")


def _print_tables(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    print("Rows per table")
    rows = table_rows(con)
    for table, n in rows.items():
        print(f"  {table:<28}{n:>12,}")
    if not rows:
        print("  none")

    def quarantine() -> None:
        rows = quarantine_by_reason(con)
        print("\nQuarantined rows by reason")
        for source, reason, n in rows:
            print(f"  {source:<13}{reason:<22}{n:>10,}")
        if not rows:
            print("  none")

    def landing() -> None:
        n = landing_exclusions(con)
        files, read, not_call, outside = (n["files"], n["rows_read"], n["rows_not_a_call"],
                                          n["rows_outside_calendar"])
        other_party, partial = n["rows_other_party_record"], n["rows_partial_record"]
        print(f"\nCalls files read once: {files:,} file(s), {read:,} rows; left out by the "
              f"mapping's rules: {not_call:,} not calls, {outside:,} dated outside the study "
              "calendar (per file: table landed_files)"
              + (f"; {other_party:,} other party's records of calls counted once (per day: "
                 "table accounting_calls)" if other_party else "")
              + (f"; {partial:,} partial records of long calls made one call with their "
                 "first (per day: table accounting_calls)" if partial else ""))

    def groups() -> None:
        rows = group_proportions(con, cfg)
        print("\nStudy groups (share of the study's labelled users; the papers' share beside;"
              f" groups under {cfg.thresholds.min_group_size} users suppressed)")
        for study, group, n, ours, paper in rows:
            users = "suppressed" if n is None else f"{n:,}"
            share = "" if ours is None else f"{ours:7.2%}"
            print(f"  {study:<12}{group:<18}{users:>10}  {share:>7}   paper {paper:7.2%}")

    _part("Calls files read once", landing, ("landed_files",), con)
    _part("Quarantined rows by reason", quarantine, (), con)
    _part("Study groups", groups, ("user_labels",), con)
    _part("Unavailable", lambda: print_limits(con, cfg), (), con)
    _part("Tables 1–3 of the departure study", lambda: print_departure_tables(con, cfg),
          ("model_results",), con)
