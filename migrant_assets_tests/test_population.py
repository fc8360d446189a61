"""Any population (study.population) and the descriptive whole-period window: every feature of
every featurised user against the independent reference of ``test_features`` (networkx, numpy,
plain Python), who is featurised and with which label, and the group trends' ``all`` group
against pandas."""

from __future__ import annotations

import math
from typing import get_args

import numpy as np
import pandas as pd
import pytest
from test_features import A_WEEK, W2, load, random_city, reference, rows, same

from migrant_assets.config import StudyConfig, Thresholds
from migrant_assets.features import (
    FEATURES,
    POPULATIONS,
    build_features,
    evaluate_feature_checks,
)
from migrant_assets.reports.trends import group_feature_trends

WHOLE = StudyConfig().calendar.windows("whole_period")[0]
OTHER = 10_001  # random_city's other-operator numbers start here


def city(seed: int):
    """random_city, with users 1-3 unlabelled in both studies and user 4 labelled only in the
    departure study, so every population and the descriptive label have their cases."""
    calls, subscribers, cells, estates, labels, special = random_city(seed)
    forced = {1: (None, None), 2: (None, None), 3: (None, None), 4: (None, "local")}
    labels = [(u, *forced.get(u, (i, d))) for u, i, d in labels]
    return calls, subscribers, cells, estates, labels, special


def build(population: str, window, seed: int = 11):
    calls, subscribers, cells, estates, labels, _ = city(seed)
    cfg = StudyConfig(population=population)
    con = load(calls, subscribers, cells, estates, labels, [window])
    build_features(con, cfg, window)
    return con, cfg, (calls, subscribers, cells, estates, labels)


CASES = [(W2, "integration", 10), (A_WEEK, "departure", 5), (WHOLE, "descriptive", 10)]


@pytest.mark.parametrize("population", ["labelled", "subscribers", "all_active"])
@pytest.mark.parametrize(("window", "study", "threshold"), CASES,
                         ids=["integration", "departure", "whole_period"])
def test_population_against_reference(population, window, study, threshold):
    con, cfg, city = build(population, window)
    calls, subscribers, cells, estates, labels = city
    got = rows(con, "features")
    want, label = reference(*city, window, study, threshold, population=population)
    assert set(got) == set(want) and len(want) > 20
    mismatches = [(v, name, got[v][name], want[v][name])
                  for v in want for name in FEATURES if not same(got[v][name], want[v][name])]
    assert not mismatches, mismatches[:10]
    assert all(got[v]["label"] == label[v] and got[v]["study"] == study for v in got)

    active = {p for c in calls if window.start <= c[2].date() <= window.end for p in c[:2]}
    users = {u for u, *_ in labels}
    labelled = {u for u in users if label.get(u) is not None}
    expected = {"labelled": labelled & active, "subscribers": users & active,
                "all_active": active}[population]
    assert set(got) == expected
    if population != "labelled":  # labelled or not, and with the same values either way
        assert any(got[v]["label"] is None for v in got)
        assert labelled & active < set(got)
    if population == "all_active":  # another operator's numbers: no attribute, no location
        others = [v for v in got if v >= OTHER]
        assert others and all(got[v]["similar_age"] is None and got[v]["center_lat"] is None
                              for v in others)
        assert all(got[v]["degree"] >= 1 for v in others)
    outcomes = evaluate_feature_checks(con, cfg, window)
    assert all(o.passed and o.judged > 0 for o in outcomes.values()), outcomes


def test_descriptive_label_is_the_integration_label_else_the_departure_label():
    con, _, city = build("labelled", WHOLE)
    labels = {u: (i, d) for u, i, d in city[4]}
    got = con.execute("SELECT user_id, label, study FROM features").fetchall()
    assert {s for *_, s in got} == {"descriptive"}
    both = [u for u, (i, d) in labels.items() if i is not None and d is not None]
    only_departure = [u for u, (i, d) in labels.items() if i is None and d is not None]
    assert both and only_departure
    for u, lab, _ in got:
        i, d = labels[u]
        assert lab == (i if i is not None else d) and lab is not None
    neither = {u for u, (i, d) in labels.items() if i is None and d is None}
    assert neither and not neither & {u for u, *_ in got}


def test_labelled_population_unchanged_by_the_switch_defaults():
    """The default population is the papers': the same rows as an explicit 'labelled'."""
    assert StudyConfig().population == "labelled"
    assert get_args(StudyConfig.model_fields["population"].annotation) == POPULATIONS
    with pytest.raises(ValueError):
        StudyConfig(population="everyone")
    a, _, _ = build("labelled", A_WEEK)
    calls, subscribers, cells, estates, labels, _ = city(11)
    b = load(calls, subscribers, cells, estates, labels, [A_WEEK])
    build_features(b, StudyConfig(), A_WEEK)
    first = a.execute("SELECT * FROM features ORDER BY user_id").df()
    second = b.execute("SELECT * FROM features ORDER BY user_id").df()
    pd.testing.assert_frame_equal(first, second)


def _trends_by_pandas(features: pd.DataFrame, with_all: bool, min_size: int) -> pd.DataFrame:
    """Group mean and s.e. per (window, group, feature) computed independently with pandas."""
    long = features.melt(id_vars=["window_id", "study", "user_id", "label"],
                         value_vars=list(FEATURES), var_name="feature").dropna(subset=["value"])
    groups = [long[long["label"].notna()]]
    if with_all:
        groups.append(long.assign(label="all"))
    long = pd.concat(groups)
    stats = long.groupby(["window_id", "label", "feature"])["value"].agg(
        n="count", mean="mean", sd=lambda x: x.std(ddof=1)).reset_index()
    stats["se"] = stats["sd"] / np.sqrt(stats["n"])
    # a small cell, and every other group's of its window and feature (the complement)
    stats["suppressed"] = (stats["n"] < min_size).groupby(
        [stats["window_id"], stats["feature"]]).transform("any")
    return stats


@pytest.mark.parametrize("population", ["labelled", "subscribers", "all_active"])
def test_group_trends_add_an_all_group(population):
    calls, subscribers, cells, estates, labels, _ = city(12)
    cfg = StudyConfig(population=population, thresholds=Thresholds(min_group_size=12))
    con = load(calls, subscribers, cells, estates, labels, [W2, A_WEEK, WHOLE])
    for window in (W2, A_WEEK, WHOLE):
        build_features(con, cfg, window)
    got = group_feature_trends(con, cfg)
    features = con.execute("SELECT * FROM features").df()
    want = _trends_by_pandas(features, population != "labelled", 12)
    descriptive = _trends_by_pandas(features[features["study"] == "descriptive"], True, 12)
    if population == "labelled":  # 'all' only for the descriptive window
        want = pd.concat([want, descriptive[descriptive["label"] == "all"]])
    merged = got.merge(want, on=["window_id", "label", "feature"], how="outer",
                       suffixes=("", "_want"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["suppressed"] == merged["suppressed_want"]).all()
    shown = merged[~merged["suppressed"]]
    assert shown["n"].tolist() == shown["n_want"].tolist()
    for a, b in zip(shown["mean"], shown["mean_want"], strict=True):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    for a, b in zip(shown["se"], shown["se_want"], strict=True):
        assert (a is None or pd.isna(a)) == pd.isna(b) and (pd.isna(b) or math.isclose(
            a, b, rel_tol=1e-6, abs_tol=1e-9))
    suppressed = merged[merged["suppressed"]]
    assert suppressed[["n", "mean", "se"]].isna().all().all()
    all_rows = merged[merged["label"] == "all"]
    # 'all' is suppressed with a small group of its window (the complement), published else
    assert len(all_rows) > 0 and (~merged["suppressed"]).any()
    assert set(all_rows["study"]) == ({"descriptive"} if population == "labelled" else
                                      {"integration", "departure", "descriptive"})
    if population != "labelled":  # unlabelled users are in 'all' only: it holds more users
        n_all = merged[(merged["label"] == "all") & (merged["feature"] == "degree")]
        n_groups = merged[(merged["label"] != "all") & (merged["feature"] == "degree")]
        for window_id, n in zip(n_all["window_id"], n_all["n_want"], strict=True):
            assert n > n_groups.loc[n_groups["window_id"] == window_id, "n_want"].sum()
    assert got["label"].notna().all()
