"""The model findings (issue 16; reports/model_findings.py) on hand-built stored results whose
verdict is known, and in the tiny pipeline."""

from __future__ import annotations

from itertools import pairwise

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from migrant_assets.config import StudyConfig
from migrant_assets.models.classifiers import (
    CLASSIFIERS,
    LOGISTIC_REGRESSION,
    MLP,
    RANDOM_FOREST,
    SVM,
)
from migrant_assets.models.data import integration_weeks, reference_window
from migrant_assets.models.departure import LEAVING_VS_STAYING
from migrant_assets.reports.model_findings import (
    MODEL_FINDINGS,
    Stored,
    candidate_q,
    corrected_t,
    evaluate,
    fold_q,
    gini_q,
    share_q,
)

CFG = StudyConfig()
K_MAX = reference_window(CFG)
K_SMALL = CFG.calendar.windows("first_k_days")[0]
BY_ID = {f.finding_id: f for f in MODEL_FINDINGS}


def folds(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=range(len(values)))


def table2(scores: dict[str, list[float]]) -> Stored:
    """Stored per-fold F1 of each classifier at k_max."""
    return Stored(CFG, replicates={fold_q(LEAVING_VS_STAYING, name, K_MAX, "f1"): folds(v)
                                   for name, v in scores.items()})


def test_corrected_t_by_hand():
    d = np.array([0.05, 0.02, 0.04, 0.03, 0.06])
    mean, se, t, df = corrected_t(d)
    by_hand = d.mean() / np.sqrt(d.var(ddof=1) * (1 / 5 + 1 / 4))
    assert (mean, df) == (pytest.approx(0.04), 4)
    assert t == pytest.approx(by_hand)
    assert se == pytest.approx(d.std(ddof=1) * np.sqrt(0.45))


def test_a_forest_that_clearly_wins_holds():
    rng = np.random.default_rng(3)
    scores = {name: list(0.20 + rng.normal(0, 0.01, 5)) for name in CLASSIFIERS}
    scores[RANDOM_FOREST] = list(0.30 + rng.normal(0, 0.01, 5))
    r = evaluate(BY_ID["DM01"], table2(scores))
    assert r["holds"] is True and r["reason"] is None
    assert r["critical"] == pytest.approx(stats.t.ppf(0.975, 4))  # 2.776
    assert r["replicates"] == 5
    weakest = min((name for name in CLASSIFIERS if name != RANDOM_FOREST),
                  key=lambda n: corrected_t(np.subtract(scores[RANDOM_FOREST], scores[n]))[2])
    assert r["compared"] == f"{RANDOM_FOREST} vs {weakest}"
    assert r["z"] == pytest.approx(
        corrected_t(np.subtract(scores[RANDOM_FOREST], scores[weakest]))[2])


def test_equal_scores_do_not_hold_and_a_loser_is_reversed():
    rng = np.random.default_rng(4)
    equal = {name: list(0.25 + rng.normal(0, 0.02, 5)) for name in CLASSIFIERS}
    r = evaluate(BY_ID["DM01"], table2(equal))
    assert r["holds"] is False and abs(r["z"]) < r["critical"]
    worse = {**{n: [0.30, 0.31, 0.29, 0.30, 0.32] for n in CLASSIFIERS},
             RANDOM_FOREST: [0.10, 0.12, 0.11, 0.09, 0.10]}
    r = evaluate(BY_ID["DM01"], table2(worse))
    assert r["holds"] is False and r["z"] < -r["critical"]


def test_ties_and_too_few_folds_are_untested_with_a_reason():
    tie = {n: [0.2, 0.3, 0.25, 0.2, 0.3] for n in CLASSIFIERS}
    r = evaluate(BY_ID["DM01"], table2(tie))
    assert r["holds"] is None and r["reason"].startswith("a tie")
    two = {n: [0.2 + (n == RANDOM_FOREST), 0.3] for n in CLASSIFIERS}
    r = evaluate(BY_ID["DM01"], table2(two))
    assert r["holds"] is None and "fewer than 3 folds" in r["reason"]
    missing = table2({RANDOM_FOREST: [0.3] * 5, MLP: [0.2] * 5, SVM: [0.2] * 5})
    missing.skipped = {(LEAVING_VS_STAYING, LOGISTIC_REGRESSION, K_MAX.window_id):
                       "fewer than 10 leaving migrants"}
    r = evaluate(BY_ID["DM01"], missing)
    assert r["holds"] is None and r["reason"].endswith("fewer than 10 leaving migrants")
    r = evaluate(BY_ID["DM01"], Stored(CFG, missing={"fold": "table model_fold_metrics is empty"}))
    assert r["holds"] is None and r["reason"] == "table model_fold_metrics is empty"
    # every experiment skipped, so no fold was stored: the skip's reason (probe 31 L2)
    skip = "leaving vs staying migrants, k=14: skipped: no leaving migrant"
    r = evaluate(BY_ID["DM01"], Stored(CFG, missing={"fold": "table model_fold_metrics is empty"},
                                       skipped_lines={LEAVING_VS_STAYING: skip}))
    assert r["holds"] is None and r["reason"] == skip
    # every k skipped, k_max too: the trend findings quote k_max's skip, not "no k below k_max"
    every = Stored(CFG, skipped={(LEAVING_VS_STAYING, RANDOM_FOREST, K_MAX.window_id):
                                 "fewer than 10 leaving migrants"})
    for finding in ("DM07", "DM08"):
        r = evaluate(BY_ID[finding], every)
        assert r["holds"] is None and r["reason"].endswith("fewer than 10 leaving migrants"), r


def test_table1_order_is_the_papers_numbers():
    """DM04 tests Table 1's order after the ego network as the paper's F1 has it (SPEC §6), one
    contrast per adjacent pair: an ordering that holds passes, one swapped pair fails."""
    from migrant_assets.models.departure import TABLE1, TABLE1_ROWS
    from migrant_assets.models.reference import PAPER_F1

    others = [r for r in TABLE1_ROWS.values() if r != TABLE1_ROWS["ego_network"]]
    by_paper = sorted(others, key=lambda r: -PAPER_F1[(TABLE1, r)])
    assert BY_ID["DM04"].groups == " > ".join(by_paper)
    rng = np.random.default_rng(5)
    f1 = {row: 0.5 - 0.1 * i + rng.normal(0, 0.005, 5) for i, row in enumerate(by_paper)}
    stored = Stored(CFG, replicates={fold_q(TABLE1, row, K_MAX, "f1"): folds(v)
                                     for row, v in f1.items()})
    r = evaluate(BY_ID["DM04"], stored)
    assert r["holds"] is True
    assert r["compared"] in {f"{a} vs {b}" for a, b in pairwise(by_paper)}
    stored.replicates[fold_q(TABLE1, by_paper[2], K_MAX, "f1")] = folds(f1[by_paper[0]] + 0.1)
    r = evaluate(BY_ID["DM04"], stored)
    assert r["holds"] is False and r["compared"] == f"{by_paper[1]} vs {by_paper[2]}"


def test_precision_carries_the_gain_in_logs():
    q = lambda w, m: fold_q(LEAVING_VS_STAYING, RANDOM_FOREST, w, m)  # noqa: E731
    p_small, p_big = np.array([.10, .11, .09, .10, .12]), np.array([.16, .18, .15, .17, .16])
    r_small, r_big = np.array([.60, .62, .58, .61, .60]), np.array([.62, .63, .61, .60, .64])
    s = Stored(CFG, replicates={q(K_SMALL, "precision"): folds(p_small),
                                q(K_MAX, "precision"): folds(p_big),
                                q(K_SMALL, "recall"): folds(r_small),
                                q(K_MAX, "recall"): folds(r_big),
                                q(K_SMALL, "f1"): folds(r_small / 4),
                                q(K_MAX, "f1"): folds(r_small / 4 + 0.2)})
    r = evaluate(BY_ID["DM09"], s)  # the F1 gain is far stronger: the log contrast is weakest
    d = np.log(p_big / p_small) - np.log(r_big / r_small)
    assert r["difference"] == pytest.approx(d.mean())
    assert r["z"] == pytest.approx(corrected_t(d)[2]) and r["holds"] is True
    s.replicates[q(K_MAX, "f1")] = folds(r_small / 4)  # no improvement: nothing to explain
    assert evaluate(BY_ID["DM09"], s)["holds"] is None  # an exact tie in F1
    s.replicates[q(K_MAX, "f1")] = folds(r_small / 4 + 0.2)
    # no log of 0: one such fold leaves it untested (the other four are not tested alone)
    s.replicates[q(K_SMALL, "precision")] = folds([.10, 0, .09, .10, .12])
    r = evaluate(BY_ID["DM09"], s)
    assert r["holds"] is None and "no logarithm" in r["reason"]
    assert q(K_SMALL, "precision") in r["reason"]


def test_gini_findings():
    w = K_MAX
    gini = {"degree": [.09, .10, .08, .09, .10], "neighbor_avg_price": [.07, .08, .07, .07, .08],
            "avg_price": [.07, .07, .06, .07, .07], "in_calls": [.03, .03, .04, .03, .02],
            "clustering": [.02, .03, .02, .02, .03]}
    s = Stored(CFG, replicates={gini_q(w, f): folds(v) for f, v in gini.items()})
    top = evaluate(BY_ID["DM12"], s)
    assert top["holds"] is True and top["compared"] == "degree vs neighbor_avg_price"
    housing = evaluate(BY_ID["DM13"], s)
    # 2nd housing feature (avg_price) vs 2nd other feature (in_calls)
    assert housing["compared"].startswith("avg_price (2nd housing) vs in_calls")
    assert housing["holds"] is True
    s.replicates[gini_q(w, "in_calls")] = folds([.09, .08, .09, .09, .1])  # now 2nd other
    assert evaluate(BY_ID["DM13"], s)["holds"] is False


def _candidates(chosen: dict[int, str]) -> pd.DataFrame:
    """Backward-removal candidates: the group removed at each step is ``chosen``; the chosen
    candidate's CV F1 is 0.1 lower on every fold (with noise)."""
    rng, rows, left, done = np.random.default_rng(5), [], list("DECG"), ""
    for step in (1, 2, 3):
        for g in left:
            for fold in range(5):
                rows.append({"step": step, "candidate": g, "removed": done + g,
                             "chosen": g == chosen[step], "fold": fold,
                             "cv_f1": 0.8 - 0.1 * (g == chosen[step]) + rng.normal(0, 0.01)})
        left.remove(chosen[step])
        done += chosen[step]
    c = pd.DataFrame(rows)
    return c.assign(quantity=[candidate_q(s, r) for s, r in zip(c["step"], c["removed"],
                                                               strict=True)])


def _with_candidates(c: pd.DataFrame) -> Stored:
    return Stored(CFG, candidates=c, replicates={
        q: g.set_index("fold")["cv_f1"] for q, g in c.groupby("quantity")})


def test_ablation_order():
    s = _with_candidates(_candidates({1: "G", 2: "D", 3: "E"}))
    assert [evaluate(BY_ID[i], s)["holds"] for i in ("IM01", "IM02", "IM03")] == [True] * 3
    s = _with_candidates(_candidates({1: "D", 2: "G", 3: "E"}))
    first = evaluate(BY_ID["IM01"], s)
    assert first["holds"] is False and first["z"] < -first["critical"]  # removing D hurt most
    second = evaluate(BY_ID["IM02"], s)
    assert second["holds"] is None and "not the paper's G" in second["reason"]


def test_shares_classified_as_locals_by_hand():
    weeks = {w.label: w for w in integration_weeks(CFG)}
    p_settled, n_settled, p_new, n_new = 0.152, 4000, 0.136, 900
    se = lambda p, n: np.sqrt(p * (1 - p) / n)  # noqa: E731
    s = Stored(CFG, estimates={
        share_q("settled_migrant", weeks["W2"]): (p_settled, se(p_settled, n_settled)),
        share_q("new_migrant", weeks["W2"]): (p_new, se(p_new, n_new))})
    r = evaluate(BY_ID["IM04"], s)
    z = (p_settled - p_new) / np.sqrt(se(p_settled, n_settled) ** 2 + se(p_new, n_new) ** 2)
    assert r["z"] == pytest.approx(z) and r["critical"] == 1.96
    assert z < 1.96 and r["holds"] is False  # the paper's own gap, too small for these sizes
    trend = evaluate(BY_ID["IM05"], s)
    assert trend["holds"] is None and "share/new migrants/W4" in trend["reason"]


def test_model_findings_in_the_tiny_pipeline(tiny: dict) -> None:
    """The findings asset ran in the demo: every model finding has a row, tested or with its
    reason, and those tested from the per-fold tables agree with a rebuild from them."""
    cfg = tiny["cfg"]
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        table = con.execute("SELECT * FROM findings WHERE kind = 'model' "
                            "ORDER BY finding_order").df()
        folds_f1 = con.execute(
            "SELECT model, fold, f1 FROM model_fold_metrics WHERE experiment = ? "
            "AND window_id = ? ORDER BY fold", [LEAVING_VS_STAYING,
                                                reference_window(cfg).window_id]).df()
        n_candidates = con.execute("SELECT count(*) FROM integration_models_candidates"
                                   ).fetchone()[0]
        n_gini = con.execute("SELECT count(DISTINCT fold) FROM "
                             "departure_feature_importance_folds").fetchone()[0]
    finally:
        con.close()
    assert list(table["finding_id"]) == [f.finding_id for f in MODEL_FINDINGS]
    assert (table["holds"].notna() | table["reason"].notna()).all()
    assert table["holds"].notna().sum() >= 10  # most are testable on the tiny city
    assert n_candidates == 5 * (4 + 3 + 2) and n_gini == 5
    dm01 = table.set_index("finding_id").loc["DM01"]
    f1 = folds_f1.pivot(index="fold", columns="model", values="f1")
    t = {n: corrected_t((f1[RANDOM_FOREST] - f1[n]).to_numpy())[2]
         for n in CLASSIFIERS if n != RANDOM_FOREST}
    assert dm01["z"] == pytest.approx(min(t.values()))
    assert dm01["holds"] == all(v >= stats.t.ppf(0.975, 4) for v in t.values())


def test_feature_quality_contrast_by_hand():
    """Figure 8(d): [F1(5→max) − F1(5→5)] − [F1(max→max) − F1(5→max)] per fold."""
    from migrant_assets.reports.model_findings import transfer_q

    k5 = next(w for w in CFG.calendar.windows("first_k_days") if w.label == "k=5")
    f_5max, f_55 = np.array([.20, .22, .19, .21, .20]), np.array([.10, .11, .09, .12, .10])
    f_maxmax = np.array([.21, .22, .20, .22, .21])
    s = Stored(CFG, replicates={transfer_q(k5, K_MAX): folds(f_5max),
                                transfer_q(k5, k5): folds(f_55),
                                transfer_q(K_MAX, K_MAX): folds(f_maxmax)})
    r = evaluate(BY_ID["DM11"], s)
    d = (f_5max - f_55) - (f_maxmax - f_5max)
    assert r["difference"] == pytest.approx(d.mean())
    assert r["value_a"] == pytest.approx((f_5max - f_55).mean())
    assert r["z"] == pytest.approx(corrected_t(d)[2]) and r["holds"] is True
    # k=5 skipped (and k=3 before it, for another reason): the reason is k=5's, not the first
    from migrant_assets.models.departure import TRANSFER

    s = Stored(CFG, replicates={transfer_q(K_MAX, K_MAX): folds(f_maxmax)},
               skipped_lines={TRANSFER: "k=3: skipped: too few leaving migrants"},
               skipped_windows={(TRANSFER, K_SMALL.window_id): "k=3: skipped: too few",
                                (TRANSFER, k5.window_id): "k=5: skipped: a day uncovered"})
    assert evaluate(BY_ID["DM11"], s)["reason"] == "k=5: skipped: a day uncovered"


def test_share_trends_net_of_the_locals_drift():
    """IM05/IM06 from a stored integration_results: the locals' share classified as locals is
    derived from the settled-vs-locals row (tn / negatives); the trends are net of it."""
    from migrant_assets.models.integration import (
        CLASSIFIED_AS_LOCALS,
        SETTLED_VS_LOCALS,
    )
    from migrant_assets.reports.model_findings import load_stored

    con = duckdb.connect(":memory:")
    rows = []
    # per week: locals 600 (tn), settled 400 (tp = recall * 400), precision from fp
    drift = {"W2": 0.00, "W3": 0.02, "W4": 0.04}  # every group's share as locals rises
    for week, d in drift.items():
        tn_share = 0.80 + d
        fp, tp = 600 * (1 - tn_share), 400 * 0.85
        rows.append((SETTLED_VS_LOCALS, "all features", week, 1000, tp / (tp + fp), 0.85, 0.4,
                     None))
        rows.append((CLASSIFIED_AS_LOCALS, "settled migrants", week, 400, None, None, None,
                     0.15 + d))  # settled: the drift alone
        rows.append((CLASSIFIED_AS_LOCALS, "new migrants", week, 300, None, None, None,
                     0.10 + 3 * d))  # new migrants: the drift and a rise of their own
    con.execute("CREATE TABLE integration_results (experiment VARCHAR, \"row\" VARCHAR, "
                "week VARCHAR, n_users BIGINT, \"precision\" DOUBLE, recall DOUBLE, "
                "prevalence DOUBLE, share DOUBLE, status VARCHAR DEFAULT 'ok', f1 DOUBLE, "
                "f1_ci_low DOUBLE, f1_ci_high DOUBLE, window_id VARCHAR, skip_reason VARCHAR)")
    con.executemany("INSERT INTO integration_results (experiment, \"row\", week, n_users, "
                    "\"precision\", recall, prevalence, share) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows)
    s = load_stored(con, CFG)
    weeks = {w.label: w for w in integration_weeks(CFG)}
    assert s.estimates[share_q("local", weeks["W4"])][0] == pytest.approx(0.84)
    se = np.sqrt(0.84 * 0.16 / 600)
    assert s.estimates[share_q("local", weeks["W4"])][1] == pytest.approx(se)
    new = evaluate(BY_ID["IM05"], s)
    assert new["difference"] == pytest.approx(0.12 - 0.04) and new["value_b"] == pytest.approx(
        0.04)
    settled = evaluate(BY_ID["IM06"], s)  # the settled share rose with the drift: no fall
    assert settled["difference"] == pytest.approx(0.0, abs=1e-12) and settled["holds"] is False
    # 6 new migrants in W2: the report suppresses their share, so no finding tests it and none
    # shows it (SPEC §1; probe 31 H2)
    con.execute("UPDATE integration_results SET n_users = 6 WHERE \"row\" = 'new migrants' "
                "AND week = 'W2'")
    s = load_stored(con, CFG)
    assert share_q("new_migrant", weeks["W2"]) not in s.estimates
    for finding in ("IM04", "IM05"):
        got = evaluate(BY_ID[finding], s)
        assert got["holds"] is None and got.get("value_a") is None and got.get(
            "value_b") is None, got
        assert got["reason"].endswith("rests on fewer than 10 users "
                                      "(thresholds.min_group_size): suppressed, as in the "
                                      "report (SPEC §1)"), got
    assert evaluate(BY_ID["IM06"], s)["holds"] is False  # the settled migrants' still tested


def test_findings_after_an_upstream_failure_say_why_they_are_untested():
    """A file where no feature or group mean was written (a run before ``findings`` failed):
    the findings asset still writes every finding, untested, with the reason, rather than fail
    on the missing tables."""
    from migrant_assets.reports.findings import FINDINGS, findings

    con = duckdb.connect()
    table = findings(con, StudyConfig())
    means = table[table["kind"] == "group means"]
    assert len(means) == len(FINDINGS) and means["holds"].isna().all()
    assert means["reason"].str.startswith(
        "group_feature_trends and features not materialized").all()
    models = table[table["kind"] == "model"]
    assert len(models) > 0 and models["holds"].isna().all() and models["reason"].notna().all()
