"""The papers' published numbers (migrant_assets.papers): one CSV shipped in the package is the
only source, and every name that used to be a Python literal is computed from it unchanged."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from migrant_assets import papers
from migrant_assets.config import Calendar, StudyConfig
from migrant_assets.models.reference import PAPER_F1, PAPER_SHARE
from migrant_assets.papers import GROUP_SIZES, PAPER_HOUSING_PRICES

SHARED_CSV = Path(__file__).resolve().parents[2] / "shared" / "paper_reference.csv"

#: The literals these names held before they were read from the CSV (captured before the switch).
OLD_GROUP_SIZES = {
    "integration": {"local": 1_700_000, "settled_migrant": 1_000_000, "new_migrant": 22_000},
    "departure": {"local": 1_800_000, "staying_migrant": 34_000, "leaving_migrant": 1_500},
}
OLD_PAPER_F1 = {
    ("table1_new_vs_locals_rf", "all features"): 0.3678,
    ("table1_new_vs_locals_rf", "ego network properties"): 0.3363,
    ("table1_new_vs_locals_rf", "call behavior"): 0.1820,
    ("table1_new_vs_locals_rf", "geographical patterns"): 0.1433,
    ("table1_new_vs_locals_rf", "housing price information"): 0.1144,
    ("table1_new_vs_locals_rf", "random guess"): 0.0198,
    ("table2_leaving_vs_staying_k14", "random forest"): 0.2576,
    ("table2_leaving_vs_staying_k14", "multilayer perceptron"): 0.2140,
    ("table2_leaving_vs_staying_k14", "support vector machine"): 0.2095,
    ("table2_leaving_vs_staying_k14", "logistic regression"): 0.1762,
    ("table2_leaving_vs_staying_k14", "random guess"): 0.0431,
    ("table3_leaving_vs_staying_rf_k14", "all features"): 0.2576,
    ("table3_leaving_vs_staying_rf_k14", "ego network properties"): 0.2234,
    ("table3_leaving_vs_staying_rf_k14", "housing price information"): 0.1809,
    ("table3_leaving_vs_staying_rf_k14", "call behavior"): 0.1683,
    ("table3_leaving_vs_staying_rf_k14", "geographical information"): 0.1498,
    ("settled_vs_locals_lr", "all features"): 0.82,
    ("three_way", "new migrants"): 0.1,
}
OLD_PAPER_SHARE = {
    ("classified_as_locals", "settled migrants W2"): 0.152,
    ("classified_as_locals", "new migrants W2"): 0.136,
    ("classified_as_locals", "new migrants W3"): 0.144,
}
OLD_PAPER_HOUSING_PRICES = {"mean_yuan_per_m2": 54_300.0, "sd_yuan_per_m2": 29_400.0}


def test_group_sizes_unchanged():
    assert GROUP_SIZES == OLD_GROUP_SIZES
    assert all(type(n) is int for g in GROUP_SIZES.values() for n in g.values())
    assert list(GROUP_SIZES) == list(OLD_GROUP_SIZES)
    for study, groups in OLD_GROUP_SIZES.items():
        assert list(GROUP_SIZES[study]) == list(groups)


def test_paper_f1_unchanged_in_order():
    # The report orders Tables 1-3 by PAPER_F1's key order, so the order is part of the value.
    assert list(PAPER_F1.items()) == list(OLD_PAPER_F1.items())


def test_paper_share_unchanged_in_order():
    assert list(PAPER_SHARE.items()) == list(OLD_PAPER_SHARE.items())


def test_housing_prices_unchanged():
    assert PAPER_HOUSING_PRICES == OLD_PAPER_HOUSING_PRICES
    assert all(type(v) is float for v in PAPER_HOUSING_PRICES.values())


def test_csv_ships_in_the_package_and_matches_shared():
    from importlib.resources import files

    shipped = files("migrant_assets") / "data" / "paper_reference.csv"
    assert shipped.is_file()
    if SHARED_CSV.is_file():
        assert shipped.read_text(encoding="utf-8") == SHARED_CSV.read_text(encoding="utf-8")


def test_loader_is_cached_and_complete():
    rows = papers.paper_reference()
    assert rows is papers.paper_reference()
    assert len(rows) == 66
    assert {r.study for r in rows} == {"departure", "integration"}
    assert all(r.source for r in rows)


def test_paper_value_lookup():
    assert papers.paper_value("departure", "table2_leaving_vs_staying_k14", "random forest",
                              "f1") == 0.2576
    with pytest.raises(KeyError):
        papers.paper_value("departure", "no such experiment", "all features", "f1")


def test_no_paper_number_is_a_literal_in_the_package():
    """The numbers now read from the CSV appear as literals nowhere else in the package (the
    synthetic city's generation parameters, migrant_assets.synthetic, are not a comparison and
    are left to their owner)."""
    root = Path(papers.__file__).resolve().parent
    offenders = []
    for path in [*root.rglob("*.py"), *root.rglob("*.sql"), *root.rglob("*.j2")]:
        if "synthetic" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for literal in ("0.2576", "0.3678", "0.2140", "0.1762", "54_300", "29_400", "1_700_000",
                        "34_000", "0.152", "0.136"):
            if literal in text:
                offenders.append(f"{path.relative_to(root)}: {literal}")
    assert not offenders, offenders


def test_paper_k_is_read_from_the_csv():
    """The paper's k is the ``_k<k>`` ending of its Tables 2–3 experiment ids in the CSV."""
    ids = {v.experiment for v in papers.paper_reference() if v.experiment.startswith("table")}
    assert {i for i in ids if i.endswith(f"_k{papers.PAPER_K}")} == {
        "table2_leaving_vs_staying_k14", "table3_leaving_vs_staying_rf_k14"}
    assert type(papers.PAPER_K) is int


def test_report_and_summary_do_not_import_each_other():
    """The report and the closing summary read through ``reports.tables``; neither imports the
    other (no import cycle, not even a deferred one)."""
    import ast

    root = Path(papers.__file__).resolve().parent

    def imported(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        return names

    for path in (root / "reports").rglob("*.py"):
        assert "migrant_assets.summary" not in imported(path), path
    assert not {m for m in imported(root / "summary.py")
                if m.startswith("migrant_assets.reports.report")}


# ---------------------------------------------------------------- nothing assumes k = 14

def test_no_report_text_assumes_k_14():
    """Titles and captions name our k (``k_max``) and the paper's (``PAPER_K``), never 14."""
    root = Path(papers.__file__).resolve().parent
    paths = [*(root / "reports").rglob("*.py"), *(root / "reports").rglob("*.j2"),
             root / "summary.py"]
    offenders = [f"{p.name}: {t}" for p in paths for t in ("k = 14", "k=14", "K14", "k14")
                 if t in p.read_text(encoding="utf-8")]
    assert not offenders, offenders


def _cfg_k10() -> StudyConfig:
    return StudyConfig(calendar=Calendar(k_max=10))


def test_departure_table_titles_follow_k_max():
    from migrant_assets.reports.tables import departure_tables

    titles = [t for t, _, _ in departure_tables(_cfg_k10())]
    assert all("k = 10" in t for t in titles), titles
    assert "k = 14" not in titles[0] and "k = 14" not in titles[2]
    assert f"(paper: k = {papers.PAPER_K})" in titles[1]  # the paper's own k stays its own
    default = [t for t, _, _ in departure_tables(StudyConfig())]
    assert "k = 14" in default[1]


def test_figure_texts_follow_k_max():
    from migrant_assets.reports.model_figures import importance_title
    from migrant_assets.reports.report import FIGURES, figure_caption

    cfg = _cfg_k10()
    caption = figure_caption("feature_importance", cfg)
    assert caption.startswith("The ten most important features at k = 10 "), caption
    assert all("{" not in figure_caption(key, cfg) for key in FIGURES)
    assert importance_title(cfg) == ("The 10 most important features, k = 10 "
                                     "(cf. 000 Figure 9, k = 14)")


def test_summary_says_k_max(con, capsys):
    from migrant_assets.models.store import ensure_schema
    from migrant_assets.summary import print_departure_tables

    ensure_schema(con)
    print_departure_tables(con, _cfg_k10())
    out = capsys.readouterr().out
    assert "not available: no row at k = 10" in out
    assert "Table 2: leaving vs staying migrants, k = 10 (paper: k = 14)" in out
    assert "no row at k = 14" not in out


def test_paper_f1_only_beside_the_papers_window():
    from migrant_assets.models.departure import PAPER_WINDOW_LABEL, TABLE2, _paper_f1

    assert PAPER_WINDOW_LABEL == f"k={papers.PAPER_K}"
    cfg = _cfg_k10()
    k10 = cfg.calendar.windows("first_k_days")[-1]
    assert k10.label == "k=10"
    assert math.isnan(_paper_f1(TABLE2, k10, "random forest"))
    k14 = dataclasses.replace(k10, label=PAPER_WINDOW_LABEL)
    assert _paper_f1(TABLE2, k14, "random forest") == 0.2576


def test_model_asset_descriptions_name_the_calendars_k_max():
    from migrant_assets.defs import models as defs_models
    from migrant_assets.defs.partitions import CALENDAR

    assets = [defs_models.departure_folds, defs_models.departure_models,
              defs_models.departure_tables, defs_models.departure_feature_importance]
    texts = [spec.description for a in assets for spec in a.specs]
    texts += [c.description for a in assets + [defs_models.departure_curves] for c in a.check_specs]
    assert not any("{k_max}" in t for t in texts)
    assert all(f"k = {CALENDAR.k_max}" in spec.description
               for a in assets[:2] + assets[3:] for spec in a.specs)
