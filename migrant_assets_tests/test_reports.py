"""Descriptive findings and the report (migrant_assets.reports) on small hand-made tables whose
results are known: planted group differences, a group below min_group_size, model result rows."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import insert_feature_rows
from markupsafe import Markup, escape

from migrant_assets.config import City, StudyConfig
from migrant_assets.db import connect, query_log, run_sql, start_query_log
from migrant_assets.features import FEATURES
from migrant_assets.ingest import create_tables
from migrant_assets.models.classifiers import CLASSIFIERS
from migrant_assets.models.departure import LEAVING_VS_STAYING, TABLE1, TABLE3
from migrant_assets.models.integration import CLASSIFIED_AS_LOCALS, SETTLED_VS_LOCALS, THREE_WAY
from migrant_assets.reports import (
    FIGURES,
    FINDINGS,
    REPORT_TABLES,
    figure_path,
    findings,
    first_k_curves,
    group_feature_trends,
    group_maps,
    importance_chart,
    integration_classifier_chart,
    integration_trajectories,
    plot_trends,
    png_markdown,
    price_distribution,
    render_report,
    save_figure,
    store_report_parts,
    transfer_heatmap,
)
from migrant_assets.reports.maps import district_outlines
from migrant_assets.reports.plots import STUDY_GROUPS
from migrant_assets.reports.report import SECTIONS, fmt_count, fmt_metric, fmt_z
from migrant_assets.reports.tables import (
    activity_weeks,
    group_sizes,
    unavailable_data,
    unsuppressed_small_cells,
)
from migrant_assets.reports.trends import TREND_FAMILY, panel_groups, trend_figure

BASE_ID = 1_152_921_504_606_846_000  # pseudonym-sized ids, so no count can collide with one
SHARED_DISTRICTS = (Path(__file__).resolve().parents[2] / "shared" / "data"
                    / "shanghai_districts_geojson" / "shanghai_districts_wgs84.json")

#: users per group; leaving migrants are below min_group_size (10)
GROUPS = {
    "integration": {"local": 12, "settled_migrant": 12, "new_migrant": 12},
    "departure": {"local": 12, "staying_migrant": 12, "leaving_migrant": 5},
}
#: planted group means (before noise): degree settled > local > new (001 §3 holds); clustering
#: reversed against 001 §3 (new migrants lowest: I08 must not hold); local contacts with new
#: migrants between locals and settled migrants (not the paper's trajectory)
PLANTED = {
    "local": {"local": 0.7, "settled_migrant": 0.1, "new_migrant": 0.3,
              "staying_migrant": 0.2, "leaving_migrant": 0.2},
    "degree": {"local": 10.0, "settled_migrant": 20.0, "new_migrant": 5.0,
               "staying_migrant": 8.0, "leaving_migrant": 3.0},
    "clustering": {"local": 0.2, "settled_migrant": 0.3, "new_migrant": 0.1,
                   "staying_migrant": 0.2, "leaving_migrant": 0.4},
}


def _features(cfg: StudyConfig) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows, uid = [], BASE_ID
    for study, groups in GROUPS.items():
        family = "integration_week" if study == "integration" else "departure_week"
        for label, n in groups.items():
            users = range(uid, uid + n)
            uid += n
            for t, w in enumerate(cfg.calendar.windows(family)):
                if label == "new_migrant" and t == 0 or label == "leaving_migrant" and t == 2:
                    continue
                for i, user in enumerate(users):
                    row = {"window_id": w.window_id, "study": study, "user_id": user,
                           "label": label}
                    row.update({f: rng.normal(1.0, 0.1) for f in FEATURES})
                    growth = 2.0 * t if label == "new_migrant" else 0.0
                    row["degree"] = PLANTED["degree"][label] + growth + rng.normal(0, 0.5)
                    row["clustering"] = PLANTED["clustering"][label] + rng.normal(0, 0.01)
                    row["local"] = PLANTED["local"][label] + rng.normal(0, 0.01)
                    row["similar_age"] = None if i == 0 else row["similar_age"]  # one null
                    far = label == "settled_migrant" and i < 2
                    row["center_lat"] = 31.23 + (0.3 * (i + 1) if far else 0.0)
                    row["center_lon"] = 121.47
                    rows.append(row)
    return pd.DataFrame(rows)


def _model_tables(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    run_sql(con, "models/schema.sql")
    windows = cfg.calendar.windows("first_k_days")
    k14 = windows[-1]
    common = {"n_features": 30, "pr_auc": 0.2, "paper_f1": None, "seed": 1}
    rows = []
    for w in windows:
        for i, model in enumerate([*CLASSIFIERS, "random guess"]):
            f1 = 0.1 + 0.01 * i + 0.005 * len(w.days)
            rows.append({"experiment": LEAVING_VS_STAYING, "row": model, "window_id": w.window_id,
                         "window_label": w.label, "model": model, "precision": f1 - 0.02,
                         "recall": 0.6, "f1": f1, "f1_ci_low": f1 - 0.03, "f1_ci_high": f1 + 0.03,
                         "n_users": 500, "n_pos": 40, "prevalence": 0.08, **common})
    for experiment in (TABLE1, TABLE3):
        for j, row in enumerate(["all features", "ego network properties", "call behavior"]):
            rows.append({"experiment": experiment, "row": row, "window_id": k14.window_id,
                         "window_label": k14.label, "model": "random forest",
                         "precision": 0.2, "recall": 0.7, "f1": 0.3123 - 0.01 * j,
                         "f1_ci_low": 0.28, "f1_ci_high": 0.34, "n_users": 500, "n_pos": 40,
                         "prevalence": 0.08, **common})
    rows.append({"experiment": TABLE3, "row": "housing price information",
                 "window_id": k14.window_id, "window_label": k14.label,
                 "model": "random forest", "precision": 0.5, "recall": 0.5, "f1": 0.5,
                 "f1_ci_low": 0.4, "f1_ci_high": 0.6, "n_users": 500, "n_pos": 4,  # suppressed
                 "prevalence": 0.008, **common})
    rows = pd.DataFrame(rows)  # the view model_results reads both tables
    _insert(con, "departure_models", rows[rows["experiment"] == LEAVING_VS_STAYING])
    _insert(con, "departure_tables", rows[rows["experiment"] != LEAVING_VS_STAYING])
    _insert(con, "departure_transfer", pd.DataFrame([
        {"train_window": a.window_id, "test_window": b.window_id, "train_label": a.label,
         "test_label": b.label, "model": "random forest", "precision": 0.2, "recall": 0.6,
         "f1": 0.1 + 0.01 * i + 0.005 * j, "f1_ci_low": 0.1, "f1_ci_high": 0.4,
         "n_users": 500, "n_pos": 40}
        for i, a in enumerate(windows) for j, b in enumerate(windows)
    ]))
    names = list(FEATURES)[:15]
    _insert(con, "departure_feature_importance", pd.DataFrame({
        "window_id": k14.window_id, "feature": names,
        "family": [FEATURES[f].family for f in names],
        "gini": np.linspace(0.08, 0.01, len(names)), "permutation_mean": 0.01,
        "permutation_std": 0.002, "rank": np.arange(1, len(names) + 1),
    }))
    integ = []
    for week in ("W2", "W3", "W4"):
        base = {"window_id": f"integration_week:{week}", "week": week, "seed": 1,
                "n_users": 400}
        for step, row in enumerate(["all features", "-G", "-GD", "-GDE"]):
            integ.append({**base, "experiment": SETTLED_VS_LOCALS, "row": row,
                          "target": "settled_migrant", "step": step,
                          "removed_group": row[-1] if step else None, "precision": 0.8,
                          "recall": 0.8, "f1": 0.8 - 0.1 * step, "f1_ci_low": 0.7 - 0.1 * step,
                          "f1_ci_high": 0.9 - 0.1 * step, "prevalence": 0.4})
        for label, share in (("settled_migrant", 0.15), ("new_migrant", 0.13)):
            integ.append({**base, "experiment": CLASSIFIED_AS_LOCALS,
                          "row": "settled migrants" if label == "settled_migrant"
                          else "new migrants", "target": label, "share": share,
                          "share_ci_low": share - 0.02, "share_ci_high": share + 0.02})
        for label, name in (("local", "locals"), ("settled_migrant", "settled migrants"),
                            ("new_migrant", "new migrants")):
            integ.append({**base, "experiment": THREE_WAY, "row": name, "target": label,
                          "precision": 0.5, "recall": 0.5, "f1": 0.5, "f1_ci_low": 0.4,
                          "f1_ci_high": 0.6, "prevalence": 0.3})
    _insert(con, "integration_models", pd.DataFrame(integ))


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    con.register("new_rows", rows)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


@pytest.fixture(scope="module")
def cfg(tmp_path_factory) -> StudyConfig:
    return StudyConfig(workdir=tmp_path_factory.mktemp("work"))


@pytest.fixture(scope="module")
def study(cfg) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the ingestion tables, features, user_labels, estates, one
    quarantined row and the model result tables (shared by the module's tests)."""
    con = connect(":memory:")
    create_tables(con)
    frame = _features(cfg)
    insert_feature_rows(con, frame)
    con.register("new_rows", frame)
    con.execute("""
        CREATE TABLE user_labels AS
        SELECT user_id,
               any_value(label) FILTER (study = 'integration') AS integration_label,
               any_value(label) FILTER (study = 'departure') AS departure_label
        FROM new_rows GROUP BY user_id""")
    con.unregister("new_rows")
    rng = np.random.default_rng(3)
    _insert(con, "estates", pd.DataFrame({
        "estate_id": [f"E{i}" for i in range(300)],
        "lat": rng.uniform(31.0, 31.5, 300), "lon": rng.uniform(121.2, 121.7, 300),
        "price_per_sqm": rng.uniform(20_000, 100_000, 300),
    }))
    con.execute("INSERT INTO quarantine_calls (partition_key, reason, file, row_number, record)"
                " VALUES ('2016-09-01', 'self_call', 'f.csv', 3, '{}')")
    _model_tables(con, cfg)
    _early_warning_tables(con, cfg)
    yield con
    con.close()


def _early_warning_tables(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    """The early-warning evaluation of out-of-fold probabilities at k = 7 and 14
    (``early_warning.evaluate``, docs/early_warning.md)."""
    from datetime import date

    from migrant_assets.early_warning import evaluate, write_evaluation

    rng = np.random.default_rng(5)
    frames = []
    for k in (7, 14):
        leaving = rng.random(300) < 0.2
        frames.append(pd.DataFrame({
            "k": k, "user_id": np.arange(300), "arrival_day": date(2016, 9, 5),
            "last_call_day": date(2016, 9, 15), "leaving": leaving, "fold": 0,
            "probability": 0.5 * leaving + 0.5 * rng.random(300)}))
    write_evaluation(con, evaluate(pd.concat(frames, ignore_index=True),
                                   pd.DataFrame({"k": [7, 14], "threshold": [0.5, 0.5]}), cfg))


def _save_figures(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                  trends: pd.DataFrame) -> dict[str, bytes]:
    """Draw and save every figure of the report with the functions its assets use (the trend
    figures and maps: ``defs/reports.py``; the model figures: ``defs/models.py``)."""
    figures = {
        "trends_integration": plot_trends(trends, "integration"),
        "trends_departure": plot_trends(trends, "departure"),
        "group_map": group_maps(con, cfg)[1],
        "housing_prices": price_distribution(con, cfg),
        "first_k_curves": first_k_curves(con, cfg),
        "transfer_heatmap": transfer_heatmap(con, cfg),
        "feature_importance": importance_chart(con, cfg),
        "integration_classifiers": integration_classifier_chart(con, cfg),
    }
    for key, png in figures.items():
        save_figure(cfg.workdir, key, png)
    return figures


@pytest.fixture(scope="module")
def figures(study, cfg) -> dict[str, bytes]:
    """Every figure of the report, saved where the report reads it, after the descriptive
    tables are written."""
    return _save_figures(study, cfg, _descriptive(study, cfg))


@pytest.fixture(scope="module")
def rendered(study, cfg, figures):
    manifest = cfg.synthetic_dir / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"preset": "tiny", "seed": 424242,
                                    "parameters": {"n": 5, "note": "<b>bold</b> & co"},
                                    "behaviour": {"local": {"p_local": 0.7}}}))
    return render_report(study, cfg)


@pytest.fixture(scope="module")
def report_html(rendered, cfg) -> str:
    return rendered.write(cfg.workdir / "out" / "report.html").read_text()


def _descriptive(con, cfg) -> pd.DataFrame:
    trends = group_feature_trends(con, cfg)
    integration_trajectories(con, cfg)
    findings(con, cfg)
    return trends


def test_trends_match_numpy(study, cfg):
    trends = group_feature_trends(study, cfg)
    frame = _features(cfg)
    w2 = cfg.calendar.windows("integration_week")[1].window_id
    for feature, label in [("degree", "settled_migrant"), ("similar_age", "local"),
                           ("clustering", "new_migrant")]:
        values = frame.loc[(frame["window_id"] == w2) & (frame["label"] == label),
                           feature].dropna().to_numpy(float)
        row = trends[(trends["window_id"] == w2) & (trends["label"] == label)
                     & (trends["feature"] == feature)].iloc[0]
        assert row["n"] == len(values)
        assert row["mean"] == pytest.approx(values.mean())
        assert row["se"] == pytest.approx(values.std(ddof=1) / np.sqrt(len(values)))
        assert row["window_label"] == "W2" and not row["suppressed"]
    assert trends.loc[(trends["feature"] == "similar_age") & (trends["label"] == "local")
                      & (trends["window_id"] == w2), "n"].item() == 11  # one null skipped


#: Magnitudes of group means that make wide or offset tick labels (a variance in s², a price
#: in yuan, a fraction, a negative difference, ten million).
_MAGNITUDES = (0.0125, -0.35, 12.5, 345.6, 98_765.4, 812_345.6, 1.2e7)


def _wide_trends(study: str) -> pd.DataFrame:
    """A trend table of every plotted feature of ``study`` for its three groups over four
    weeks, means of several magnitudes."""
    rows = []
    features = [f for fs in panel_groups(study).values() for f in fs]
    for i, feature in enumerate(features):
        base = _MAGNITUDES[i % len(_MAGNITUDES)]
        for g, label in enumerate(STUDY_GROUPS[study]):
            for week in range(4):
                rows.append({"study": study, "window_family": TREND_FAMILY[study],
                             "window_order": week, "window_label": f"W{week + 1}",
                             "feature": feature, "label": label,
                             "mean": base * (1 + 0.1 * g - 0.05 * week), "se": abs(base) * 0.02})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("study_name", ["integration", "departure"])
def test_trend_panels_never_overlap(study_name):
    """The trend grids are laid out by fixed margins, not by matplotlib's layout engine: every
    panel with its title, tick labels, unit and offset text, every section title and the legend
    stay inside the figure and apart from each other, with means of any magnitude."""
    fig = trend_figure(_wide_trends(study_name), study_name)
    assert fig is not None and fig.get_layout_engine() is None
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    assert len(boxes) == sum(len(f) for f in panel_groups(study_name).values())
    boxes += [t.get_window_extent(renderer) for t in fig.texts]  # the title, section titles
    boxes.append(fig.legends[0].get_window_extent(renderer))
    inside = fig.bbox
    for i, box in enumerate(boxes):
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, (i, box)
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, (i, box)
        for other in boxes[i + 1:]:
            assert not box.overlaps(other), (i, box, other)
    plt.close(fig)


def test_a_withheld_week_keeps_its_place_and_breaks_the_lines():
    """A week whose means are withheld for days the calls do not cover stays on the axis,
    marked, and the groups' lines break there, never joining W1 to W3 as neighbours."""
    trends = _wide_trends("integration").assign(uncovered=None)
    w2 = trends["window_label"] == "W2"
    trends.loc[w2, ["mean", "se"]] = np.nan
    trends.loc[w2, "uncovered"] = "the calls do not cover 1 of the days of W2"
    fig = trend_figure(trends, "integration")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W1", "W2*", "W3", "W4"]
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [0, 1, 2, 3] and np.isnan(line.get_ydata()[1])
    assert "* withheld" in fig._suptitle.get_text()
    plt.close(fig)


def test_trends_suppress_small_groups(study, cfg):
    trends = group_feature_trends(study, cfg)
    leaving = trends[trends["label"] == "leaving_migrant"]
    assert not leaving.empty and leaving["suppressed"].all()
    assert leaving[["n", "mean", "se"]].isna().all().all()
    # the complement: beside a suppressed cell no other group of its study, window and feature
    # is published (its count, with 'all' or the study's total, would give the cell back)
    sets = trends.groupby(["study", "window_id", "feature"])["suppressed"]
    assert (sets.transform("all") == sets.transform("any")).all()
    beside = trends.merge(leaving[["study", "window_id", "feature"]].drop_duplicates())
    assert set(beside["label"]) >= {"local", "staying_migrant"} and beside["suppressed"].all()
    assert not trends.loc[trends["study"] == "integration", "suppressed"].any()
    assert (trends["n"].dropna() >= cfg.thresholds.min_group_size).all()


def test_findings_planted_and_reversed(study, cfg):
    group_feature_trends(study, cfg)
    result = findings(study, cfg).set_index("finding_id")
    assert result.loc["I05", "holds"]  # degree: settled > local > new, planted
    assert result.loc["I15", "holds"]  # new migrants' degree grows W2 -> W4 (paired)
    assert result.loc["I15", "difference"] == pytest.approx(-4.0, abs=0.5)
    # the z needed has the paper's sign (probe 27, L1): W2 < W4 stated, so -1.96 and z below
    assert result.loc["I15", "critical"] == -1.96 and result.loc["I15", "z"] < -1.96
    assert result.loc["I05", "critical"] == 1.96 and result.loc["I05", "z"] > 1.96
    assert not result.loc["I08", "holds"]  # clustering planted in the reverse order
    assert result.loc["I08", "z"] < -1.96
    assert pd.isna(result.loc["D05", "holds"])  # needs the suppressed leaving migrants
    assert pd.isna(result.loc["D05", "value_b"])
    assert result.loc[["I05", "I08", "D05"], "verdict"].tolist() == ["holds", "reversed",
                                                                     "untested"]
    assert "suppressed" in result.loc["D05", "reason"]
    # the model findings follow: those of the per-fold tables untested (they are empty here)
    models = result[result["kind"] == "model"]
    departure = models[models["study"] == "departure"]
    assert len(models) == 20 and departure["holds"].isna().all()
    assert (departure["reason"] == "table model_fold_metrics is empty").any()


def test_findings_are_defined_with_their_source():
    assert len(FINDINGS) >= 15
    assert len({f.finding_id for f in FINDINGS}) == len(FINDINGS)
    for f in FINDINGS:
        assert re.match(r"00[01] §\d", f.paper_section), f
        assert f.feature in FEATURES and f.statement
    assert {f.study for f in FINDINGS} == {"integration", "departure"}


def test_trajectories_beside_the_paper(study, cfg):
    group_feature_trends(study, cfg)
    table = integration_trajectories(study, cfg).set_index("feature")
    assert table.loc["degree", "ordering"] == "new < locals < settled"
    assert table.loc["degree", "trajectory"] == "locals_between"
    assert table.loc["degree", "agrees"]
    assert table.loc["degree", "new_toward_settled"]
    assert table.loc["local", "ordering"] == "settled < new < locals"
    assert table.loc["local", "trajectory"] == "new_between"
    assert table.loc["local", "paper_trajectory"] == "settled_between"
    assert not table.loc["local", "agrees"]
    assert "center_lat" not in table.index and "avg_price" not in table.index
    assert table["no_ordering_because"].isna().all()


def test_a_feature_without_an_ordering_says_why(cfg):
    """A feature whose W2 means are suppressed (a group under ``min_group_size``), absent
    (no new migrant has a value) or withheld (a day of W2 the calls do not cover) has no
    ordering, and the table names the cause."""
    w2 = cfg.calendar.windows("integration_week")[1].window_id
    groups = ("local", "settled_migrant", "new_migrant")
    rows = [("degree", label, 2.0 + i, 0.1, False, None) for i, label in enumerate(groups)]
    rows += [("clustering", label, None, None, True, None) for label in groups]
    rows += [("townsman", label, 0.5, 0.1, False, None) for label in ("local", "settled_migrant")]
    uncovered = "the calls do not cover 1 of the days of W2 (2016-09-14: ...)"
    rows += [("weighted_degree", label, None, None, False, uncovered) for label in groups]
    with connect(":memory:") as con:
        con.execute("CREATE TABLE group_feature_trends (study VARCHAR, window_id VARCHAR, "
                    "feature VARCHAR, label VARCHAR, mean DOUBLE, se DOUBLE, suppressed BOOLEAN, "
                    "uncovered VARCHAR)")
        con.executemany("INSERT INTO group_feature_trends VALUES "
                        "('integration', ?, ?, ?, ?, ?, ?, ?)", [(w2, *row) for row in rows])
        table = integration_trajectories(con, cfg).set_index("feature")
    why = table["no_ordering_because"]
    assert table.loc["degree", "ordering"] == "locals < settled < new" and pd.isna(why["degree"])
    assert why["clustering"] == (f"suppressed in W2: a group has fewer than "
                                 f"{cfg.thresholds.min_group_size} users with a value, so every "
                                 "group's mean is withheld")
    assert why["townsman"] == "no W2 value for new migrants"
    assert why["weighted_degree"] == uncovered
    assert why["similar_age"] == "no W2 value for locals, settled migrants, new migrants"
    # the last week (W4) withheld, or a group absent there: no movement, and why (review 94 L4)
    w4 = cfg.calendar.windows("integration_week")[-1].window_id
    last = "the calls do not cover 1 of the days of W4 (2016-09-28: ...)"
    with connect(":memory:") as con:
        con.execute("CREATE TABLE group_feature_trends (study VARCHAR, window_id VARCHAR, "
                    "feature VARCHAR, label VARCHAR, mean DOUBLE, se DOUBLE, suppressed BOOLEAN, "
                    "uncovered VARCHAR)")
        con.executemany(
            "INSERT INTO group_feature_trends VALUES ('integration', ?, ?, ?, ?, ?, ?, ?)",
            [(w2, "degree", label, 2.0 + i, 0.1, False, None) for i, label in enumerate(groups)]
            + [(w2, "townsman", label, 2.0 + i, 0.1, False, None)
               for i, label in enumerate(groups)]
            + [(w4, "degree", label, None, None, False, last) for label in groups]
            + [(w4, "townsman", label, 3.0, 0.1, False, None) for label in groups[:2]])
        table = integration_trajectories(con, cfg).set_index("feature")
    moved = table[["new_toward_settled", "new_toward_locals", "no_movement_because"]]
    assert moved.loc["degree", ["new_toward_settled", "new_toward_locals"]].isna().all()
    assert moved.loc["degree", "no_movement_because"] == last
    assert moved.loc["townsman", "no_movement_because"] == "no W4 value for new migrants"
    assert table["no_movement_because"].drop(["degree", "townsman"]).isna().all()


def test_prices_in_another_currency_are_not_set_beside_the_papers(study, cfg):
    """The price table names ``city.currency``; the papers' prices, in yuan, are shown beside
    ours only in yuan (a study in pesos showed "mean (yuan/m²) 43,440 | paper 54,300")."""
    from migrant_assets.papers import PAPER_HOUSING_PRICES
    from migrant_assets.reports.report import _Parts, _price_section

    paper_mean = fmt_count(PAPER_HOUSING_PRICES["mean_yuan_per_m2"])
    yuan = str(_price_section(study, cfg, _Parts()))
    assert "mean (yuan/m²)" in yuan and paper_mean in yuan
    pesos = cfg.model_copy(update={"city": City(currency="pesos")})
    text = str(_price_section(study, pesos, _Parts()))
    assert "mean (pesos/m²)" in text and "yuan" not in text and paper_mean not in text


def test_group_map_suppresses_small_cells(study, cfg):
    group_feature_trends(study, cfg)
    cells, png = group_maps(study, cfg)
    shown = cells[~cells["suppressed"]]
    assert set(shown["label"]) == {"all", "local", "settled_migrant", "new_migrant"}
    assert (shown["n"] >= cfg.thresholds.min_group_size).all()
    assert cells.loc[cells["suppressed"], ["n", "log_p", "log_ratio"]].isna().all().all()
    centre = shown.set_index("label")
    assert centre.loc["all", "n"] == 34  # 12 locals + 10 settled + 12 new at the centre
    assert centre.loc["all", "log_p"] == pytest.approx(np.log(34 / 36))
    assert centre.loc["local", "log_ratio"] == pytest.approx(np.log(12 / 12) - np.log(34 / 36))
    _assert_png(png)


def test_a_map_without_centres_says_why_not_that_cells_are_small(cfg, monkeypatch):
    """No user has a centre (no cells file: no call has a place) and the map says so, not
    that its grid cells are too small (probe 26, L3); cells of few users say that."""
    from migrant_assets.reports import maps

    said: list[str] = []
    monkeypatch.setattr(maps, "message_figure", lambda title, text: said.append(text) or b"")
    con = connect(":memory:")
    create_tables(con)
    frame = _features(cfg)
    insert_feature_rows(con, frame.assign(center_lat=np.nan, center_lon=np.nan))
    cells, _ = group_maps(con, cfg)
    assert cells.empty and said == [
        "no user has a centre in W2-W4 (no cell locations, or no labelled user active then)"]
    few = connect(":memory:")  # a user in twenty: every cell under min_group_size
    create_tables(few)
    insert_feature_rows(few, frame[frame["user_id"] % 20 == 0])
    cells, _ = group_maps(few, cfg)
    assert not cells.empty and cells["suppressed"].all()
    assert said[-1] == "no grid cell has min_group_size users or more"


def _square(lon: float, lat: float, d: float = 0.1) -> list:
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


def test_district_outlines_from_geojson(study, cfg, tmp_path):
    path = tmp_path / "districts.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "a"},
         "geometry": {"type": "Polygon", "coordinates": [_square(121.4, 31.2),
                                                         _square(121.42, 31.22, 0.02)]}},
        {"type": "Feature", "properties": {"name": "b"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[_square(121.6, 31.1)],
                                                              [_square(121.8, 31.3)]]}},
    ]}))
    rings = district_outlines(path)
    assert len(rings) == 4  # 3 exteriors, 1 hole
    assert all(r.shape == (5, 2) for r in rings)
    with_districts = cfg.model_copy(update={"city": City(districts_geojson=path)})
    group_feature_trends(study, with_districts)
    _assert_png(group_maps(study, with_districts)[1])


@pytest.mark.skipif(not SHARED_DISTRICTS.exists(), reason="shared district outlines absent")
def test_real_district_outlines(study, cfg):
    rings = district_outlines(SHARED_DISTRICTS)
    assert len(rings) >= 16
    points = np.concatenate(rings)
    assert points[:, 0].min() > 120.5 and points[:, 0].max() < 122.5
    assert points[:, 1].min() > 30.5 and points[:, 1].max() < 32.0
    with_districts = cfg.model_copy(update={"city": City(districts_geojson=SHARED_DISTRICTS)})
    _assert_png(group_maps(study, with_districts)[1])


def _assert_png(png: bytes) -> None:
    image = mpimg.imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 150 and image.shape[1] > 200
    assert image.reshape(-1, image.shape[-1]).std(axis=0).max() > 0  # not one colour


def test_every_figure_is_a_real_png(figures, cfg):
    assert set(figures) == set(FIGURES)
    for key in FIGURES:
        _assert_png(figure_path(cfg.workdir, key).read_bytes())
    assert png_markdown(b"\x89PNG", "alt text") == "![alt text](data:image/png;base64,iVBORw==)"


def test_report_shows_every_table_and_figure(study, cfg, report_html):
    html = report_html
    for key in FIGURES:
        assert re.search(rf'<figure id="figure-{key}"><img [^>]*src="data:image/png;base64,',
                         html), key
    for table_id in REPORT_TABLES:
        assert f'<table id="{table_id}">' in html, table_id
    assert "validate the pipeline, not the social science" in html
    assert "424242" in html
    # the study it is of: the city's province, its zone, the calendar and the currency
    assert (f"the city of <strong>{cfg.city.province}</strong>" in html
            and f"times in {cfg.city.timezone}, the calendar {cfg.calendar.month_start} to "
            f"{cfg.calendar.month_end}, prices in\n{cfg.city.currency} per m²" in html)

    f1 = study.execute(f"SELECT f1 FROM model_results WHERE experiment = '{TABLE1}' "
                       "AND \"row\" = 'all features'").fetchall()[0][0]
    table1 = re.search(r'<table id="table-departure-table1">.*?</table>', html).group(0)
    assert f"<td>all features</td><td>random forest</td><td>{fmt_metric(0.2)}</td>" in table1
    assert f"<td>{fmt_metric(f1)}</td>" in table1
    n_local = study.execute("SELECT count(*) FROM user_labels "
                            "WHERE integration_label = 'local'").fetchall()[0][0]
    assert f"<td>integration</td><td>locals</td><td>{fmt_count(n_local)}</td>" in html
    z = study.execute("SELECT z FROM findings WHERE finding_id = 'I05'").fetchall()[0][0]
    row = re.search(r"<tr><td>I05</td>.*?</tr>", html).group(0)
    assert f"<td>{fmt_z(z)}</td><td>yes</td>" in row
    table3 = re.search(r'<table id="table-departure-table3">.*?</table>', html).group(0)
    assert "<td>housing price information</td><td>random forest</td><td>suppressed" in table3
    for key in FIGURES:  # the very file its asset saved, embedded
        src = base64.b64encode(figure_path(cfg.workdir, key).read_bytes()).decode()
        assert f'src="data:image/png;base64,{src}"' in html, key


def test_report_escapes_what_it_reads(report_html):
    """Autoescaped templates: a value read from a file or table is text, never markup."""
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in report_html
    assert "<b>bold</b>" not in report_html


def test_report_parts_are_all_ok_and_stored(study, rendered):
    """One part per section, table and figure; with every table and figure there, all ok; the
    ``report`` table holds them (the asset's one table)."""
    ids = [p.part_id for p in rendered.parts]
    assert len(ids) == len(set(ids))
    assert {p for p in ids if p.startswith("table-")} == set(REPORT_TABLES)
    assert {p for p in ids if p.startswith("figure-")} == {f"figure-{k}" for k in FIGURES}
    assert {p for p in ids if p.startswith("section-")} == (
        {"section-limits"} | {f"section-{k}" for k in SECTIONS})
    assert rendered.unavailable == []
    assert rendered.problems == unavailable_data(study)  # the fixture has no cells: a data gap
    store_report_parts(study, rendered.parts)
    stored = study.execute("SELECT part_id, kind, status, reason FROM report "
                           "ORDER BY part_order").fetchall()
    assert stored == [(p.part_id, p.kind, p.status, p.reason) for p in rendered.parts]


def test_report_draws_nothing_and_writes_nothing(study, cfg, figures):
    """The report reads the tables and the saved figures: it runs no statement that writes, and
    leaves every figure file as its asset saved it."""
    saved = {k: figure_path(cfg.workdir, k).stat().st_mtime_ns for k in FIGURES}
    start_query_log(study)
    before = len(query_log(study))
    render_report(study, cfg)
    statements = query_log(study)[before:]
    study.execute("CALL disable_logging()")
    assert statements
    writes = [s for s in statements if re.match(
        r"\s*(INSERT|DELETE|UPDATE|CREATE|DROP|ALTER|COPY)\b", s, re.IGNORECASE)]
    assert writes == []
    assert {k: figure_path(cfg.workdir, k).stat().st_mtime_ns for k in FIGURES} == saved


def test_published_cells_are_suppressed(study, cfg, figures):
    """The blocking checks of group_feature_trends and group_maps judge every cell and find
    none published under min_group_size; a cell published under it is found."""
    for table in ("group_feature_trends", "group_map"):
        bad, judged = unsuppressed_small_cells(study, cfg, table)
        assert (bad, judged) == (0, study.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    strict = cfg.model_copy(update={"thresholds": cfg.thresholds.model_copy(
        update={"min_group_size": 13})})  # every published group of 12 users is now too small
    bad, _ = unsuppressed_small_cells(study, strict, "group_feature_trends")
    assert bad > 0


def test_report_never_shows_an_identifier(study, report_html):
    ids = [r[0] for r in study.execute("SELECT DISTINCT user_id FROM features").fetchall()]
    assert ids and not any(str(i) in report_html or f"{i:,}" in report_html for i in ids)


def test_report_says_when_tables_are_missing(con, tmp_path):
    cfg = StudyConfig(workdir=tmp_path)
    save_figure(tmp_path, "group_map", b"")  # an empty file is no figure
    report = render_report(con, cfg)
    html = report.write(tmp_path / "report.html").read_text()
    assert "table model_results does not exist" in html
    assert "table integration_results does not exist" in html
    assert "table findings does not exist" in html
    assert "manifest.json not found" in html
    for key, figure in FIGURES.items():
        reason = (f"figures/{key}.png not found: the asset {figure.asset} draws it and has not "
                  "been materialized, or its run failed")
        assert f"Figure {key}: not available ({reason})." in html
    parts = {p.part_id: p for p in report.parts}
    assert parts["figure-group_map"].status == "unavailable"
    assert parts["table-findings"].reason == ("table findings does not exist: its asset has "
                                              "not been materialized, or its run failed")
    assert parts["table-rows"].status == "ok"
    assert {p.part_id for p in report.unavailable} >= {f"figure-{k}" for k in FIGURES}
    assert all(p.reason for p in report.unavailable)


def test_report_accounts_for_every_row_of_the_calls_files(tmp_path):
    """The report's data section says what the landing made of the calls files' rows (probe 25:
    only the terminal did): files read, rows read = landed + quarantined + not calls + dated
    outside the calendar (an identity test_real_shapes.py holds on three landings), and, of those
    landed, what the days left out; summed here from the rows inserted."""
    con = connect(":memory:")
    create_tables(con)
    files = [  # file_id, read, landed, quarantined, not calls, outside the calendar
        (1, 1000, 950, 20, 25, 5), (2, 700, 690, 0, 10, 0), (3, 3, 0, 3, 0, 0)]
    for i, read, landed, quarantined, not_call, outside in files:
        con.execute("INSERT INTO landed_files VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, "
                    "NULL, NULL, 0)", [i, f"cdr_{i}.csv", read, landed, quarantined, not_call,
                                       outside])
    con.execute("INSERT INTO accounting_calls VALUES ('2016-09-05', 900, NULL, 40, 0, 15, 0), "
                "('2016-09-06', 700, NULL, 12, 0, 0, 0)")
    html = render_report(con, StudyConfig(workdir=tmp_path)).write(
        tmp_path / "report.html").read_text()
    table = re.search(r'<table id="table-calls-read">.*?</table>', html, re.S).group(0)
    cells = [Markup(c).unescape() for c in re.findall(r"<td>(.*?)</td>", table)]
    got = dict(zip(cells[::2], cells[1::2], strict=True))
    column = list(zip(*files, strict=True))
    assert [got[k] for k in ("files read", "rows read", "landed")] == [
        fmt_count(len(files)), fmt_count(sum(column[1])), fmt_count(sum(column[2]))]
    assert got["quarantined by the landing (table below)"] == fmt_count(sum(column[3]))
    assert got["not calls (the mapping's event types)"] == fmt_count(sum(column[4]))
    assert got["dated outside the study calendar"] == fmt_count(sum(column[5]))
    other, partial = (v for k, v in got.items() if k.startswith("of those landed"))
    assert (other, partial) == (fmt_count(40 + 12 - 15), fmt_count(15))


def test_a_section_that_fails_keeps_its_figures(con, tmp_path):
    """A section whose query fails (a table of another shape) is one "not available" line with
    the error; its tables are unavailable for that reason and its saved figures still shown."""
    from migrant_assets.reports.plots import message_figure

    con.execute("CREATE TABLE model_results (x INTEGER)")
    con.execute("INSERT INTO model_results VALUES (1)")
    cfg = StudyConfig(workdir=tmp_path)
    save_figure(tmp_path, "first_k_curves", message_figure("curves", "a saved figure"))
    report = render_report(con, cfg)
    assert re.search(r'<p class="missing">The departure classifiers: not available \(it could '
                     r"not be built: \w+Exception: ", report.html)
    assert '<figure id="figure-first_k_curves"><img ' in report.html
    parts = {p.part_id: p for p in report.parts}
    section = parts["section-departure_models"]
    assert section.status == "unavailable" and section.reason.startswith("it could not be built")
    for table_id in SECTIONS["departure_models"][1]:
        assert parts[table_id].reason == section.reason
    # the figure says why it has no data (probe 26, L3): shown, and listed with its message
    assert parts["figure-first_k_curves"].status == "unavailable"
    assert parts["figure-first_k_curves"].reason == \
        "the figure says why it has no data: a saved figure"
    assert f"The departure classifiers: {section.reason}" in report.problems


@pytest.mark.parametrize(("sizes", "suppressed"), [
    # integration (local, settled, new), departure (local, staying, leaving) -> suppressed labels
    ((50, 40, 30, 50, 40, 30), set()),
    # primary: 3 < 10; complementary: every other group of the study (a published count and
    # its share give the total, and the total less the others the suppressed count)
    ((50, 40, 3, 50, 40, 30), {("integration", "new_migrant"), ("integration", "settled_migrant"),
                               ("integration", "local")}),
    # an empty group is no person: published as 0, and never a complement
    ((50, 40, 3, 50, 0, 30), {("integration", "new_migrant"), ("integration", "settled_migrant"),
                              ("integration", "local")}),
    ((80, 0, 0, 50, 0, 5), {("departure", "leaving_migrant"), ("departure", "local")}),
    # two primaries of one user each: their sum, from the total, would give both back
    ((50, 1, 1, 50, 40, 30), {("integration", "new_migrant"), ("integration", "settled_migrant"),
                              ("integration", "local")}),
])
def test_group_sizes_suppress_small_groups_and_their_complement(sizes, suppressed) -> None:
    """SPEC §1: no published count or share gives a group under min_group_size back."""
    con = duckdb.connect()
    con.execute("CREATE TABLE user_labels (user_id BIGINT, integration_label VARCHAR, "
                "departure_label VARCHAR)")
    labels = [("integration", g) for g in ("local", "settled_migrant", "new_migrant")] + \
        [("departure", g) for g in ("local", "staying_migrant", "leaving_migrant")]
    uid = 0
    for (study, group), n in zip(labels, sizes, strict=True):
        for _ in range(n):
            uid += 1
            con.execute(f"INSERT INTO user_labels (user_id, {study}_label) VALUES (?, ?)",
                        [uid, group])
    got = group_sizes(con, StudyConfig())
    hidden = {(r.study, r.label) for r in got.itertuples() if r.suppressed}
    assert hidden == suppressed
    assert got[got.suppressed][["n", "share"]].isna().all().all()
    totals = {"integration": sum(sizes[:3]), "departure": sum(sizes[3:])}
    for r in got[~got.suppressed].itertuples():
        n = sizes[labels.index((r.study, r.label))]
        assert r.n == n and r.share == pytest.approx(n / totals[r.study])
    # what is published cannot give a suppressed count back: a study that hides a group hides
    # every group that has a user, and with them its total
    for study in totals:
        nonempty = {label for (s, label), n in zip(labels, sizes, strict=True)
                    if s == study and n > 0}
        assert {label for s, label in hidden if s == study} in (set(), nonempty)


def test_report_assets_own_one_table_each(study, tmp_path, monkeypatch):
    """The report assets in Dagster: each names its table and returns its column schema and
    rows; the figure assets save their figures; the report opens from its asset page (path and
    file:// URL), writes table ``report`` and names which asset draws each missing figure; the
    suppression checks pass."""
    import dagster as dg
    import yaml

    from migrant_assets.defs import reports as defs_reports
    from migrant_assets.defs.resources import StudyResource

    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    cfg = StudyConfig(workdir=tmp_path)
    study.execute("ATTACH ? AS copy", [str(cfg.duckdb_path)])
    study.execute("COPY FROM DATABASE memory TO copy")
    study.execute("DETACH copy")
    config_path = tmp_path / "study.yaml"
    config_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    assets = [defs_reports.group_feature_trends_asset, defs_reports.integration_trajectories_asset,
              defs_reports.group_maps_asset, defs_reports.findings_asset, defs_reports.report]
    result = dg.materialize(
        [*assets, defs_reports.trends_suppress_small_groups,
         defs_reports.map_suppresses_small_cells],
        resources={"study": StudyResource(config_path=str(config_path))})
    assert result.success
    tables = {"group_feature_trends": "group_feature_trends",
              "integration_trajectories": "integration_trajectories", "group_maps": "group_map",
              "findings": "findings", "report": "report"}
    con = connect(cfg.duckdb_path)
    for asset in assets:
        (spec,) = asset.specs
        name = spec.key.to_user_string()
        assert spec.metadata["dagster/table_name"] == tables[name]
        (event,) = [e for e in result.get_asset_materialization_events()
                    if e.asset_key == spec.key]
        md = event.materialization.metadata
        assert md["dagster/table_name"].value == tables[name]
        rows = con.execute(f"SELECT count(*) FROM {tables[name]}").fetchone()[0]
        assert md["dagster/row_count"].value == rows > 0
        columns = md["dagster/column_schema"].value.columns
        assert columns and all(c.description for c in columns), name
    for key in ("trends_integration", "trends_departure", "group_map", "housing_prices"):
        _assert_png(figure_path(tmp_path, key).read_bytes())
    report_md = result.asset_materializations_for_node("report")[0].metadata
    path = Path(report_md["path"].value)
    assert path == tmp_path / "report.html" and path.is_file()
    assert report_md["url"].value == path.resolve().as_uri()
    assert report_md["figures"].value == 4
    # the model figures were not drawn, and this study has no synthetic city manifest
    unavailable = {f"figure-{k}" for k, f in FIGURES.items() if f.section.endswith("_models")}
    unavailable |= {"table-synthetic-parameters", "table-synthetic-behaviour"}
    assert report_md["unavailable_parts"].value == len(unavailable)
    assert ("figure-first_k_curves: figures/first_k_curves.png not found: the asset "
            "departure_curves draws it") in report_md["unavailable"].value
    assert {r[0] for r in con.execute("SELECT part_id FROM report WHERE status = 'unavailable'"
                                      ).fetchall()} == unavailable
    con.close()
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"trends_suppress_small_groups": True, "map_suppresses_small_cells": True}


def test_exceptions_on_the_synthetic_city_say_why(tiny: dict) -> None:
    """Each finding that does not hold on the synthetic city carries the generator's reason in
    the report, when the generator says why (issue 16); the reasons name real findings."""
    from migrant_assets.reports.model_findings import MODEL_FINDINGS
    from migrant_assets.synthetic import GENERATOR_VERSION
    from migrant_assets.synthetic.planted import FOR_GENERATOR, NOT_PLANTED

    assert FOR_GENERATOR == GENERATOR_VERSION  # the reasons describe the city generated now
    ids = {f.finding_id for f in FINDINGS} | {f.finding_id for f in MODEL_FINDINGS}
    assert set(NOT_PLANTED) <= ids and all(NOT_PLANTED.values())
    html = (tiny["cfg"].workdir / "report.html").read_text()
    table = re.search(r'<table id="table-finding-exceptions">.*?</table>', html, re.S).group(0)
    rows = dict(re.findall(r"<tr><td>(\w+)</td>(.*?)</tr>", table, re.S))
    con = duckdb.connect(str(tiny["cfg"].duckdb_path), read_only=True)
    try:
        failing = {r[0] for r in con.execute(
            "SELECT finding_id FROM findings WHERE verdict <> 'holds'").fetchall()}
    finally:
        con.close()
    assert set(rows) == failing
    explained = failing & set(NOT_PLANTED)
    assert explained  # the tiny city leaves several of them untested or too weak
    for finding_id in explained:
        assert str(escape(NOT_PLANTED[finding_id])) in rows[finding_id], finding_id
    for finding_id in failing - set(NOT_PLANTED):
        assert "on the synthetic city" not in rows[finding_id], finding_id


def test_a_finding_on_a_feature_no_user_has_names_it(cfg):
    """A feature null for every user (an operator that gave no ages: similar_age) leaves its
    findings untested, saying that no user has a value, not that a mean is suppressed."""
    con = connect(":memory:")
    create_tables(con)
    frame = _features(cfg)
    frame["similar_age"] = np.nan
    insert_feature_rows(con, frame)
    group_feature_trends(con, cfg)
    result = findings(con, cfg).set_index("finding_id")
    assert result.loc["I02", "verdict"] == "untested"
    assert result.loc["I02", "reason"].startswith(
        "no user of a group it compares has a value of similar_age")
    assert result.loc["I05", "verdict"] != "untested"  # degree has values


def test_a_day_the_calls_do_not_cover_withholds_the_means_and_findings_of_its_windows(cfg):
    """No calls on 09-14 (a day file missing inside the extract): the group means of the
    windows holding it (W2, week B, k = 10..14, the whole period) are withheld with the day
    named, as the classifiers skip those windows, never published as if the day were silent
    (probe 26, H1); the findings that read them are untested with that reason; the other
    windows' means are published; the report's list of what the data cannot give names them
    and the weeks of required activity whose labels may have lost users."""
    from datetime import date, timedelta

    con = connect(":memory:")
    create_tables(con)
    insert_feature_rows(con, _features(cfg))
    gap = date(2016, 9, 14)
    con.execute("CREATE OR REPLACE TABLE calls (call_date DATE)")  # 50 calls a day
    con.executemany("INSERT INTO calls SELECT ? FROM range(50)",
                    [[date(2016, 9, 1) + timedelta(days=d)] for d in range(30)
                     if date(2016, 9, 1) + timedelta(days=d) != gap])
    trends = group_feature_trends(con, cfg)
    holding = {w.window_id: w.label for w in cfg.calendar.windows() if w.start <= gap <= w.end}
    assert sorted(holding.values()) == sorted(
        ["W2", "B", "whole period", *(f"k={k}" for k in range(10, 15))])
    withheld = trends[trends["window_id"].isin(holding)]
    assert set(withheld["window_label"]) == {"W2", "B"}
    assert withheld[["n", "mean", "se"]].isna().all().all()
    for window_id, reason in withheld.groupby("window_id")["uncovered"].unique().items():
        assert list(reason) == [
            f"the calls do not cover 1 of the days of {holding[window_id]} (2016-09-14: no "
            "calls, or far fewer than a usual day's), which its features would read as "
            "silence: deliver and materialize those days of calls"]
    published = trends[~trends["window_id"].isin(holding)]
    assert published["uncovered"].isna().all()
    assert published.loc[published["study"] == "integration", "mean"].notna().all()
    assert published.loc[~published["suppressed"].astype(bool), "mean"].notna().all()
    assert run_sql(con, "reports/check_trends_suppression.sql", {
        "min_group_size": cfg.thresholds.min_group_size}).fetchall()[0][0] == 0
    result = findings(con, cfg).set_index("finding_id")
    for finding_id in ("I05", "I15"):  # W2's degree order; new migrants' degree W2 -> W4
        assert result.loc[finding_id, "verdict"] == "untested"
        assert result.loc[finding_id, "reason"].startswith(
            "the calls do not cover 1 of the days of W2 (2016-09-14")
        assert pd.isna(result.loc[finding_id, "z"])
    assert "do not cover" not in str(result.loc["D03", "reason"])  # week A: its own verdict
    notes = unavailable_data(con)  # the weeks hold features here, not the first-k windows
    assert "the group means and findings of 2 window(s) (W2, B) are withheld: the calls do not " \
        "cover 1 of the days of W2 (2016-09-14" in " ".join(notes)
    assert not [n for n in notes if "must call" in n]  # no user_labels: no label lost
    # a study whose labels are withheld whole lost none to a week of required activity
    rows = run_sql(con, "reports/uncovered_trend_windows.sql").fetchall()
    assert activity_weeks(rows, {"departure"}) == {"integration": ["W2"], "departure": []}
    assert activity_weeks(rows, set()) == {"integration": ["W2"], "departure": ["B"]}
    # with labels: the users who called on none of the covered days of W2 (B), and would have a
    # label had they called on the missing one, are counted
    con.execute("CREATE TABLE user_labels (user_id BIGINT, is_local_born BOOLEAN, "
                "active_pre BOOLEAN, active_w1 BOOLEAN, active_w2 BOOLEAN, active_w3 BOOLEAN, "
                "active_w4 BOOLEAN, active_a BOOLEAN, active_b BOOLEAN, active_c BOOLEAN, "
                "integration_label VARCHAR, departure_label VARCHAR)")
    t, f = True, False
    con.executemany("INSERT INTO user_labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                        (1, t, t, t, t, t, t, t, t, t, "local", "local"),
                        (2, f, f, t, f, t, t, t, t, t, None, "staying_migrant"),  # W2: counted
                        (3, t, t, t, t, t, t, t, f, t, "local", None),  # B: counted
                        (4, f, t, t, t, f, t, t, f, t, None, None),  # W3 and silent before A
                        (5, None, f, t, f, t, t, t, t, t, None, None),  # no birth province
                        (6, t, t, f, f, t, t, t, t, t, None, "local"),  # a local silent in W1
                        (7, f, f, f, f, f, f, f, f, f, None, None)])  # silent all month
    notes = unavailable_data(con)
    assert "the integration study's users must call in W2, which hold days without data: up " \
        "to 1 user(s) who called on none of the other days of such a week have no label (they " \
        "may have called on those days)" in notes
    assert any(n.startswith("the departure study's users must call in B, which hold days "
                            "without data: up to 1 user(s)") for n in notes)
    # a second gap, 09-21: the note names both days, not only those of its first window
    con.execute("DELETE FROM calls WHERE call_date = DATE '2016-09-21'")
    group_feature_trends(con, cfg)
    assert "the group means and findings of 4 window(s) (W2, W3, B, C) are withheld: the calls " \
        "do not cover 2 day(s) (2016-09-14, 2016-09-21: no calls, or far fewer than a usual " \
        "day's), which their features would read as silence" in " ".join(unavailable_data(con, cfg))


def test_group_means_of_an_earlier_version_are_named_with_the_fix(cfg):
    """A group_feature_trends written before the column uncovered (a DuckDB file of an earlier
    version, its findings materialized alone): the findings and the trajectories refuse it
    naming the fix, not a Binder error, and the notes say the same."""
    from migrant_assets.errors import InputError

    con = connect(":memory:")
    create_tables(con)
    insert_feature_rows(con, _features(cfg))
    con.execute("CREATE TABLE group_feature_trends (study VARCHAR, window_id VARCHAR, "
                "feature VARCHAR, label VARCHAR, mean DOUBLE, se DOUBLE, suppressed BOOLEAN)")
    for reader in (findings, integration_trajectories):
        with pytest.raises(InputError, match="written by an earlier version .* Fix: "
                                             "materialize group_feature_trends again"):
            reader(con, cfg)
    assert "group_feature_trends was written by an earlier version of migrant_assets, which " \
        "did not withhold the windows holding days the calls do not cover: materialize " \
        "group_feature_trends again" in unavailable_data(con)
    group_feature_trends(con, cfg)  # materialized again: read
    assert not findings(con, cfg).empty


def test_a_finding_whose_values_do_not_vary_says_so_not_suppressed(cfg):
    """Every leaving migrant's reciprocal_call is 0 in weeks A and B (probe 27, M1): the paired
    differences are all 0, so D18 has no z; it is untested saying the values do not vary, not
    that a mean is suppressed (there are enough pairs). Two groups each of one value (D16's
    staying and leaving migrants, D17's staying migrants in A and B) are named the same way."""
    cfg = cfg.model_copy(update={"thresholds": cfg.thresholds.model_copy(
        update={"min_group_size": 5})})  # the fixture's 5 leaving migrants are tested
    con = connect(":memory:")
    create_tables(con)
    frame = _features(cfg)
    leaving = frame["label"] == "leaving_migrant"
    frame.loc[leaving, "reciprocal_call"] = 0.0
    frame.loc[frame["label"] == "staying_migrant", "reciprocal_call"] = 0.5
    insert_feature_rows(con, frame)
    group_feature_trends(con, cfg)
    result = findings(con, cfg).set_index("finding_id")
    assert (frame[leaving].groupby("window_id").size() >= cfg.thresholds.min_group_size).all()
    assert pd.isna(result.loc["D18", "z"])
    for finding_id in ("D18", "D17", "D16"):  # D16's locals vs staying has a z
        row = result.loc[finding_id]
        assert row["verdict"] == "untested", finding_id
        assert row["reason"].startswith("the values it compares do not vary"), row["reason"]


def test_a_finding_on_an_empty_group_says_so(cfg):
    """A group with no user (no leaving migrant in the data, or its study's labels withheld)
    leaves its findings untested saying that the group is empty, not that a value is missing."""
    con = connect(":memory:")
    create_tables(con)
    frame = _features(cfg)
    insert_feature_rows(con, frame[frame["label"] != "leaving_migrant"])
    group_feature_trends(con, cfg)
    result = findings(con, cfg).set_index("finding_id")
    assert result.loc["D05", "verdict"] == "untested"
    assert result.loc["D05", "reason"].startswith("a group it compares has no user")
    # an untested finding shows the comparison it could not make, not a z beside it (D16:
    # locals > staying > leaving; probe 31 L1)
    untested = result[(result["kind"] == "group means") & (result["verdict"] == "untested")]
    assert untested["z"].isna().all(), untested[["compared", "z"]]
    assert "leaving_migrant" in result.loc["D16", "compared"]


def test_a_panel_without_data_says_why(cfg, monkeypatch):
    """001 Figure 4 when the three-way classification was skipped and the new migrants' share
    is suppressed: panel (c) says the skip's reason, panel (b) names the group it leaves out
    and why, panel (a) draws its bars (probe 31 M2)."""
    from migrant_assets.reports import model_figures

    said: list[str] = []
    monkeypatch.setattr(model_figures, "panel_message", lambda ax, message: said.append(message))
    notes: list[str] = []
    text = plt.Axes.text
    monkeypatch.setattr(plt.Axes, "text", lambda ax, x, y, s, *a, **k: (
        notes.append(s), text(ax, x, y, s, *a, **k))[1])
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE integration_results (experiment VARCHAR, \"row\" VARCHAR, "
                "target VARCHAR, step INTEGER, removed_group VARCHAR, week VARCHAR, "
                "n_users BIGINT, \"precision\" DOUBLE, recall DOUBLE, prevalence DOUBLE, "
                "f1 DOUBLE, f1_ci_low DOUBLE, f1_ci_high DOUBLE, share DOUBLE, "
                "share_ci_low DOUBLE, share_ci_high DOUBLE, status VARCHAR, "
                "skip_reason VARCHAR)")
    skip = "the study's users in W2: fewer than 10 new migrants"
    con.executemany("INSERT INTO integration_results VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?, "
                    "?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (SETTLED_VS_LOCALS, "all features", "settled_migrant", "W2", 1000, 0.8, 0.85, 0.4,
         0.82, 0.8, 0.84, None, None, None, "ok", None),
        (CLASSIFIED_AS_LOCALS, "settled migrants", "settled_migrant", "W2", 400, None, None,
         None, None, None, None, 0.15, 0.12, 0.18, "ok", None),
        (CLASSIFIED_AS_LOCALS, "new migrants", "new_migrant", "W2", 6, None, None, None, None,
         None, None, 1 / 6, 0.0, 0.5, "ok", None),
        (THREE_WAY, "three-way", "all", "W2", None, None, None, None, None, None, None, None,
         None, None, "skipped", skip)])
    png = model_figures.integration_classifier_chart(con, cfg)
    assert png.startswith(b"\x89PNG")
    assert said == [f"skipped: {skip}"]
    assert "new migrants: suppressed: fewer than 10 users (SPEC §1)" in notes
