"""The main job's closing summary: what is in DuckDB, what was quarantined, the study groups
beside the papers', and where to look next."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from migrant_assets.config import StudyConfig
from migrant_assets.papers import GROUP_SIZES


def table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
    return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sorted(tables)}


def quarantine_by_reason(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    return con.execute(
        "SELECT source, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY 1, 3 DESC"
    ).fetchall()


def group_proportions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, float, float]]:
    """(study, group, users, our share, the paper's share) for every labelled group."""
    out = []
    for study, paper in GROUP_SIZES.items():
        counts = dict(con.execute(
            f"SELECT {study}_label, count(*) FROM user_labels "
            f"WHERE {study}_label IS NOT NULL GROUP BY 1"
        ).fetchall())
        ours_total, paper_total = sum(counts.values()) or 1, sum(paper.values())
        for group, n_paper in paper.items():
            n = counts.get(group, 0)
            out.append((study, group, n, n / ours_total, n_paper / paper_total))
    return out


def print_departure_tables(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    """Tables 1–3 of the departure study beside the papers' F1, as the report publishes them
    (rows under ``min_group_size`` suppressed)."""
    from migrant_assets.reports.report import DEPARTURE_TABLES, departure_table_rows

    def num(x, spec: str) -> str:
        return "—" if pd.isna(x) else format(x, spec)

    for title, experiment, key in DEPARTURE_TABLES:
        print(f"\n{title}\n  {'':<28}{'precision':>10}{'recall':>8}{'F1':>8}"
              f"{'F1 95% CI':>17}{'paper F1':>10}")
        for r in departure_table_rows(con, cfg, experiment, key).itertuples():
            ci = "suppressed" if r.suppressed else f"[{r.f1_ci_low:.3f}, {r.f1_ci_high:.3f}]"
            print(f"  {r.row:<28}{num(r.precision, '.4f'):>10}{num(r.recall, '.4f'):>8}"
                  f"{num(r.f1, '.4f'):>8}{ci:>17}{num(r.paper_f1, '.4f'):>10}")


def print_summary(cfg: StudyConfig, config_path: Path) -> None:
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        print("Rows per table")
        rows = table_rows(con)
        for table, n in rows.items():
            print(f"  {table:<28}{n:>12,}")
        print("\nQuarantined rows by reason")
        for source, reason, n in quarantine_by_reason(con):
            print(f"  {source:<12}{reason:<22}{n:>10,}")
        print("\nStudy groups (share of the study's labelled users; the papers' share beside)")
        for study, group, n, ours, paper in group_proportions(con):
            print(f"  {study:<12}{group:<18}{n:>9,}  {ours:7.2%}   paper {paper:7.2%}")
        if "model_results" in rows:
            print_departure_tables(con, cfg)
    finally:
        con.close()
    print(f"\nDuckDB file: {cfg.duckdb_path}")
    report = cfg.workdir / "report.html"
    if report.exists():
        print(f"Report: {report}")
    print(f"Study config: {config_path}")
    print(f"Open the Dagster UI: MIGRANT_ASSETS_CONFIG={config_path} make ui "
          "(then http://127.0.0.1:3000)")
