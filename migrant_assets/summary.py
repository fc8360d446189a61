"""The main job's closing summary: what is in DuckDB, what was quarantined, the study groups
beside the papers', and where to look next."""

from __future__ import annotations

from pathlib import Path

import duckdb

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


def prediction_tables(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> dict[str, list]:
    """Tables 1–3 of the departure study at k = k_max: (row, precision, recall, F1, F1 interval,
    the paper's F1) from `model_results` (SPEC §6)."""
    from migrant_assets.models.departure import FIRST_K, TABLE1, TABLE3

    k_max = cfg.calendar.windows("first_k_days")[-1].window_id
    tables = {}
    for title, experiment in (("Table 1: new migrants vs locals, random forest", TABLE1),
                              ("Table 2: leaving vs staying, k = 14", FIRST_K),
                              ("Table 3: leaving vs staying, random forest per group", TABLE3)):
        tables[title] = con.execute(
            'SELECT "row", "precision", recall, f1, f1_ci_low, f1_ci_high, paper_f1 '
            "FROM model_results WHERE experiment = ? AND window_id = ? "
            "ORDER BY model = 'random guess', f1 DESC", [experiment, k_max]).fetchall()
    return tables


def print_summary(cfg: StudyConfig, config_path: Path) -> None:
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        print("Rows per table")
        for table, n in table_rows(con).items():
            print(f"  {table:<28}{n:>12,}")
        print("\nQuarantined rows by reason")
        for source, reason, n in quarantine_by_reason(con):
            print(f"  {source:<12}{reason:<22}{n:>10,}")
        print("\nStudy groups (share of the study's labelled users; the papers' share beside)")
        for study, group, n, ours, paper in group_proportions(con):
            print(f"  {study:<12}{group:<18}{n:>9,}  {ours:7.2%}   paper {paper:7.2%}")
        tables = prediction_tables(con, cfg) if "model_results" in table_rows(con) else {}
        for title, rows in tables.items():
            print(f"\n{title}\n  {'':<28}{'precision':>10}{'recall':>8}{'F1':>8}"
                  f"{'F1 95% CI':>17}{'paper F1':>10}")
            for row, p, r, f1, lo, hi, paper in rows:
                paper_text = f"{paper:10.4f}" if paper is not None else f"{'—':>10}"
                print(f"  {row:<28}{p:>10.4f}{r:>8.4f}{f1:>8.4f}   [{lo:.3f}, {hi:.3f}]"
                      f"{paper_text}")
    finally:
        con.close()
    print(f"\nDuckDB file: {cfg.duckdb_path}")
    report = cfg.workdir / "report.html"
    if report.exists():
        print(f"Report: {report}")
    print(f"Study config: {config_path}")
    print(f"Open the Dagster UI: MIGRANT_ASSETS_CONFIG={config_path} make ui "
          "(then http://127.0.0.1:3000)")
