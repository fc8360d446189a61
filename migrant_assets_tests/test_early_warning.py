"""Early warning (issue 15, docs/early_warning.md): arrival-relative windows against the
fixed-calendar ones, the risk model's pieces, and the landing sensor driving daily
`departure_risk` partitions on a scoring city with a model trained on another city."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold

from migrant_assets import early_warning as ew
from migrant_assets.config import StudyConfig
from migrant_assets.db import connect, run_sql
from migrant_assets.early_warning import best_f1_threshold, evaluate, train_risk_models
from migrant_assets.features import FEATURES
from migrant_assets.graphs import arrival_window
from migrant_assets.models.classifiers import make_classifier
from migrant_assets.models.data import usable_columns
from migrant_assets.models.departure import fit_classifier


def _read(cfg: StudyConfig) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(cfg.duckdb_path), read_only=True)


def test_arrival_k14_equals_fixed_calendar_k14_for_first_day_arrivals(tiny: dict) -> None:
    """A migrant whose first call is on the first-k-days start has the same first 14 days in
    both families: every feature column agrees, nulls included (the arrival-relative window was
    built day after day from its own stored graph and sums, the fixed one likewise)."""
    cfg = tiny["cfg"]
    start = cfg.calendar.first_k_start
    k14 = cfg.calendar.windows("first_k_days")[-1]
    mine = arrival_window(start, k14.end)
    con = _read(cfg)
    try:
        cols = ", ".join(f'"{c}"' for c in FEATURES)
        fixed = con.execute(f"SELECT user_id, {cols} FROM features_first_k_days "
                            "WHERE window_id = ? ORDER BY user_id", [k14.window_id]).df()
        arrival = con.execute(f"SELECT user_id, {cols} FROM features_arrival_days "
                              "WHERE window_id = ? ORDER BY user_id", [mine.window_id]).df()
        # independently: who made or got a first call on `start`, silent on the days before
        first_day = dict(con.execute(
            "SELECT party, min(call_date) FROM (SELECT caller AS party, call_date FROM calls "
            "UNION ALL SELECT callee, call_date FROM calls) GROUP BY party").fetchall())
        reused = con.execute("SELECT count(*) FROM arrival_days_windows WHERE arrival_day = ? "
                             "AND k > 1", [start]).fetchone()[0]
    finally:
        con.close()
    assert reused == cfg.early_warning.horizon_days - 1
    assert set(arrival["user_id"]) and all(first_day[u] == start for u in arrival["user_id"])
    both = sorted(set(fixed["user_id"]) & set(arrival["user_id"]))
    assert len(both) >= 20
    a = arrival.set_index("user_id").loc[both]
    f = fixed.set_index("user_id").loc[both]
    differing = [c for c in FEATURES if not a[c].equals(f[c])]
    assert not differing, differing
    assert a.isna().any(axis=None)  # the comparison covers nulls too


def test_restricted_windows_equal_full_window_features(tiny: dict, tmp_path) -> None:
    """A later cohort's window at a middle k and at k = 14, built from its neighbourhood's graph
    and stored daily sums, equals the same window rebuilt straight: the graph of all calls of
    its days (``build_window_graph``) and its sums from the calls (``incremental=False``); every
    feature column, nulls included."""
    from migrant_assets.features import build_features
    from migrant_assets.graphs import build_window_graph

    cfg = tiny["cfg"]
    a = cfg.calendar.first_k_start + timedelta(3)
    windows = [arrival_window(a, a + timedelta(6)), arrival_window(a, a + timedelta(13))]
    path = tmp_path / "copy.duckdb"
    shutil.copy(cfg.duckdb_path, path)
    cols = ", ".join(f'"{c}"' for c in FEATURES)
    con = connect(path)
    try:
        def rows(window):
            return con.execute(f"SELECT user_id, {cols} FROM features_arrival_days WHERE "
                               "window_id = ? ORDER BY user_id", [window.window_id]).df()

        stored = [rows(w) for w in windows]
        # the longest stored window's graph (the last day's) against all edges of its days
        restricted, full = con.execute(
            "WITH w AS (SELECT * FROM arrival_days_windows WHERE window_id IN (SELECT window_id "
            "FROM arrival_days_graph) ORDER BY k DESC LIMIT 1) "
            "SELECT (SELECT count(*) FROM arrival_days_graph AS g JOIN w USING (window_id)), "
            "(SELECT count(DISTINCT (caller, callee)) FROM daily_contacts AS d JOIN w "
            "ON d.call_date BETWEEN w.arrival_day AND w.end_day)").fetchone()
        for w, mine in zip(windows, stored, strict=True):
            con.execute("CREATE OR REPLACE TEMP TABLE feat_cohort AS SELECT u.user_id, "
                        "CAST(NULL AS VARCHAR) AS label FROM (SELECT DISTINCT user_id FROM "
                        "features_arrival_days WHERE window_id = ?) AS u", [w.window_id])
            build_window_graph(con, w)
            build_features(con, cfg, w, incremental=False)
            straight = rows(w)
            assert len(mine) >= 20 and list(mine["user_id"]) == list(straight["user_id"])
            differing = [c for c in FEATURES if not mine[c].equals(straight[c])]
            assert not differing, (w.window_id, differing)
            assert mine.isna().any(axis=None)
    finally:
        con.close()
    assert 0 < restricted < full  # the stored graphs are restricted to the neighbourhoods


def test_best_f1_threshold_by_hand() -> None:
    y = np.array([1, 0, 1, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.3, 0.3, 0.1])
    # flag >= 0.9: F1 = 2/(1+3) = .5; >= 0.8: 2/(2+3) = .4; >= 0.7: 4/(3+3) = .667;
    # >= 0.3: 4/(5+3) = .5; >= 0.1: 6/(6+3) = .667 -> the tie goes to the higher threshold
    assert best_f1_threshold(y, p) == 0.7


def test_a_ranking_no_better_than_chance_flags_no_one() -> None:
    """Leavers and stayers with the same probabilities (AUC 0.5 by hand: every pair of a
    leaver and a stayer ties or is matched by its mirror) make the F1-best threshold flag
    everyone (F1 2s/(1+s) = 1/3 at a leaving share s = 0.2, above any smaller flag set); with
    no signal nobody is flagged instead, and the reason gives the AUC. A ranking that puts
    every leaver first keeps the F1-best threshold."""
    levels = np.array([0.1, 0.2, 0.3, 0.4])
    y = np.r_[np.ones(4, bool), np.zeros(16, bool)]
    p = np.r_[levels, np.tile(levels, 4)]
    assert best_f1_threshold(y, p) == 0.1  # flags all 20
    threshold, reason = ew.flag_threshold(y, p, 0.05)
    assert threshold == float("inf") and not (p >= threshold).any()
    assert reason.startswith("no signal") and "AUC 0.500" in reason
    separated = np.r_[levels + 0.5, np.tile(levels, 4)]
    assert ew.flag_threshold(y, separated, 0.05) == (best_f1_threshold(y, separated), None)
    assert best_f1_threshold(y, separated) == 0.6  # the four leavers, F1 1
    models = pd.DataFrame({"k": [1, 2, 3], "status": ["ok", "ok", "skipped"],
                           "threshold": [None, 0.6, None]})
    assert ew.without_signal(models) == [1]


def test_evaluation_suppresses_small_cells_and_computes_by_hand() -> None:
    cfg = StudyConfig.model_validate({"thresholds": {"min_group_size": 3},
                                      "early_warning": {"random_rankings": 5}})
    a = date(2016, 9, 5)
    preds = pd.DataFrame({
        "k": [1] * 6, "user_id": range(6), "arrival_day": [a] * 6,
        "last_call_day": [a + timedelta(9)] * 6,
        "leaving": [True, True, False, False, False, False],
        "fold": [0] * 6, "probability": [0.9, 0.2, 0.8, 0.1, 0.1, 0.1]})
    models = pd.DataFrame({"k": [1], "threshold": [0.5]})
    cells = evaluate(preds, models, cfg).set_index(["metric"])
    cells = cells[cells["k"] == 1]
    # flagged: users 0 and 2 -> precision 1/2 over 2 flagged users (< 3: suppressed)
    assert cells.loc["precision", "suppressed"] and pd.isna(cells.loc["precision", "value"])
    assert cells.loc["leaving_share", "value"] == pytest.approx(2 / 6)
    brier = np.mean((np.array([0.9, 0.2, 0.8, 0.1, 0.1, 0.1]) - [1, 1, 0, 0, 0, 0]) ** 2)
    assert cells.loc["brier", "value"] == pytest.approx(brier)


def test_path_tests_node_by_node_and_level_by_level_agree_with_the_decision_paths() -> None:
    """The inputs tested on the path to each node, walked node by node and level by level,
    equal, independently, those of scikit-learn's ``decision_path`` of rows reaching each leaf;
    on small trees and bushy ones (leaves free on 3,000 rows)."""
    rng = np.random.default_rng(5)
    for n in (150, 3000):
        X = rng.normal(size=(n, 8))
        y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(size=n)) > 0.5
        forest = RandomForestClassifier(5, max_samples=0.5, random_state=n).fit(X, y)
        for tree in forest.estimators_:
            t = tree.tree_
            by_node, by_level = ew._path_tests_by_node(t, 9), ew._path_tests_by_level(t, 9)
            assert np.array_equal(by_node, by_level)
            paths = tree.decision_path(X).tocsr()
            for i in range(0, n, 7):
                nodes = paths.indices[paths.indptr[i]:paths.indptr[i + 1]]
                tested = np.zeros(9, bool)
                tested[t.feature[nodes[t.children_left[nodes] >= 0]]] = True
                assert np.array_equal(by_node[tree.apply(X[i:i + 1])[0]], tested)
    assert t.node_count >= 10 * (t.max_depth + 1)  # the last tree is walked level by level


def test_risk_models_fit_in_worker_processes_equal_a_plain_fit(tiny: dict, tmp_path) -> None:
    """The risk models of k = 1..3 on a copy of the `tiny` city, fit one after the other here
    (``models.n_jobs`` 1) and in two worker processes, give the same model rows and the same
    out-of-fold probabilities; and fold 1 of k = 2 equals, independently, scikit-learn's
    ``CalibratedClassifierCV`` of the forest (seed + 1) fit on the other folds' users."""
    base = tiny["cfg"].model_copy(update={"early_warning": tiny["cfg"].early_warning.model_copy(
        update={"horizon_days": 3})})
    shutil.copy(tiny["cfg"].duckdb_path, tmp_path / "copy.duckdb")
    con = connect(tmp_path / "copy.duckdb")
    try:
        runs = {}
        for jobs in (1, 2):
            cfg = base.model_copy(update={"models": base.models.model_copy(
                update={"n_trees": 20, "n_jobs": jobs})})
            runs[jobs] = train_risk_models(con, cfg, tmp_path / f"models{jobs}")
        data = ew._training_matrix(con, 2)  # the temp tables of the last run
    finally:
        con.close()
    (models1, preds1), (models2, preds2) = runs[1], runs[2]
    assert list(models1["status"]) == ["ok"] * 3, models1[["k", "status", "reason"]]
    # the files' hashes differ: a tree's node records pickle their padding bytes too
    same = ["k", "status", "n_train", "n_leaving", "leaving_share", "threshold", "features"]
    pd.testing.assert_frame_equal(models1[same], models2[same])
    pd.testing.assert_frame_equal(preds1, preds2)

    y = data["leaving"].to_numpy(bool)
    X = data[usable_columns(data, "departure", with_locals=False)[0]].to_numpy(float)
    seed, ew_cfg = cfg.models.seed, cfg.early_warning
    train, test = list(StratifiedKFold(ew.OUTER_FOLDS, shuffle=True, random_state=seed)
                       .split(X, y))[1]
    plain = CalibratedClassifierCV(
        make_classifier(ew_cfg.classifier, seed + 1, cfg.models), method=ew_cfg.calibration,
        cv=StratifiedKFold(ew_cfg.calibration_folds, shuffle=True, random_state=seed + 1))
    plain.fit(X[train], y[train])
    got = preds2[(preds2["k"] == 2) & (preds2["fold"] == 1)]
    assert list(got["user_id"]) == list(data["user_id"].to_numpy()[test])
    np.testing.assert_allclose(got["probability"], plain.predict_proba(X[test])[:, 1],
                               rtol=0, atol=1e-12)


def test_a_skipped_risk_model_gives_no_count_under_the_threshold(tiny: dict, tmp_path) -> None:
    """A k with too few leavers is skipped saying the threshold, never the count under it (the
    report publishes the reason: SPEC §1; probe 31 M4)."""
    cfg = tiny["cfg"].model_copy(update={
        "thresholds": tiny["cfg"].thresholds.model_copy(update={"min_class_size": 100_000}),
        "early_warning": tiny["cfg"].early_warning.model_copy(update={"horizon_days": 2})})
    from migrant_assets.early_warning import write_models

    shutil.copy(tiny["cfg"].duckdb_path, tmp_path / "copy.duckdb")
    con = connect(tmp_path / "copy.duckdb")
    try:
        models, predictions = train_risk_models(con, cfg, tmp_path / "models")
        write_models(con, models, predictions)  # the asset's write takes the skipped rows
        assert con.execute("SELECT count(*) FROM early_warning_models WHERE status = 'skipped'"
                           ).fetchone()[0] == 2
    finally:
        con.close()
    assert list(models["status"]) == ["skipped"] * 2
    for reason in models["reason"]:
        assert re.fullmatch(r"fewer than 100000 leaving migrants \(thresholds.min_class_size\) "
                            r"with a known outcome among the arrivals of "
                            r"\d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d", reason), reason


@pytest.mark.parametrize("classifier, calibration", [
    ("random forest", "sigmoid"), ("random forest", "isotonic"),
    ("logistic regression", "sigmoid")])
def test_top_features_equal_the_model_predicting_each_occluded_row(classifier, calibration
                                                                   ) -> None:
    """The occlusion of top_features (a calibrated forest evaluated tree by tree, re-running a
    tree only where the occluded feature is on the row's path; another model: one stacked
    predict) equals, independently, the calibrated model's predict_proba of each row with one
    feature set to its median, feature by feature; missing values and rows at the median
    included, and more users than one batch."""
    cfg = StudyConfig.model_validate({
        "models": {"n_trees": 15}, "early_warning": {
            "classifier": classifier, "calibration": calibration}})
    rng = np.random.default_rng(3)
    n, m = 300, 6
    X = rng.normal(size=(n, m))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(scale=0.7, size=n)) > 1.0
    X[rng.random((n, m)) < 0.1] = np.nan  # missing values: the imputer's indicators move too
    medians = np.nanmedian(X, axis=0)
    X[:20, 2] = medians[2]  # already at the median: moves nothing
    fitted = fit_classifier(classifier, X, y, 11, cfg.models, calibration=(
        calibration, cfg.early_warning.calibration_folds))
    model = ew.RiskModel(7, fitted, [f"f{j}" for j in range(m)], medians, 0.5, float(y.mean()))
    assert (ew._forest_stages(model.model) is None) == (classifier != "random forest")
    old = ew.OCCLUSION_BATCH
    ew.OCCLUSION_BATCH = 128  # three batches
    try:
        p, q = ew.occluded_probabilities(model, X)
        tops = [json.loads(t) for t in ew.top_features(model, p, q)]
    finally:
        ew.OCCLUSION_BATCH = old
    p_ref = model.model.predict_proba(X)[:, 1]
    q_ref = np.empty((n, m))
    for j in range(m):
        Xj = X.copy()
        Xj[:, j] = medians[j]
        q_ref[:, j] = model.model.predict_proba(Xj)[:, 1]
    np.testing.assert_allclose(p, p_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(q, q_ref, rtol=0, atol=1e-12)
    assert (q[:20, 2] == p[:20]).all()
    delta_ref = p_ref[:, None] - q_ref
    assert np.abs(delta_ref).max() > 0.05  # the occlusion moves probabilities
    for i, top in enumerate(tops):
        assert [round(d, 4) for _, d in top] == pytest.approx(
            sorted(delta_ref[i], key=abs, reverse=True)[:3], abs=1e-4)
        ref = np.abs(delta_ref[i])
        got = [int(name[1:]) for name, _ in top]
        # the three largest |changes|; a swap only between changes equal to 1e-12
        assert all(ref[j] >= np.sort(ref)[-3] - 1e-12 for j in got), (i, top)


def _scoring_city(tmp: Path, model_dir: Path) -> tuple[StudyConfig, Path, Path]:
    """A `tiny` city of another seed (the scoring month) whose calls files wait in a staging
    folder, scored with the models of ``model_dir``."""
    from migrant_assets.ingest import generate_city

    tmp.mkdir(parents=True, exist_ok=True)
    study = tmp / "study.yaml"
    study.write_text(yaml.safe_dump({
        "workdir": str(tmp / "work"),
        "source": {"kind": "synthetic", "preset": "tiny", "seed": 7},
        "early_warning": {"models_from": str(model_dir)},
    }))
    cfg = StudyConfig.load(study)
    generate_city(cfg)
    staging = tmp / "staging"
    shutil.move(cfg.synthetic_dir / "calls", staging)
    (cfg.synthetic_dir / "calls").mkdir()
    return cfg, study, staging


def test_sensor_drops_day_files_one_by_one_into_daily_risk_partitions(tiny: dict, tmp_path,
                                                                       monkeypatch) -> None:
    """Trained on the `tiny` city's month, scoring another city as its day files land: each
    dropped file gives one run request (key: day and content hash), the run of that day gives
    one `departure_risk` partition whose k is each migrant's days since her first call; a file
    seen before requests nothing, and re-running a day leaves the same rows. A day's file that
    holds a call of the day before (written when it ended) runs the day before again: every
    day's calls are those landed for it."""
    from migrant_assets.defs import early_warning as ewd
    from migrant_assets.defs import features as fd
    from migrant_assets.defs import ingest as ind
    from migrant_assets.defs.resources import StudyResource

    for var in ("MIGRANT_ASSETS_DUCKDB", "MIGRANT_ASSETS_WORKDIR", "MIGRANT_ASSETS_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    # the training month: the tiny city's stored windows, a fast classifier, a smaller class
    # minimum (the tiny city has about ten leavers)
    train_cfg = tiny["cfg"].model_copy(update={
        "thresholds": tiny["cfg"].thresholds.model_copy(update={"min_class_size": 5}),
        "early_warning": tiny["cfg"].early_warning.model_copy(
            update={"classifier": "logistic regression"})})
    train_db = tmp_path / "train.duckdb"
    shutil.copy(tiny["cfg"].duckdb_path, train_db)
    con = connect(train_db)
    try:
        models, _ = train_risk_models(con, train_cfg, tmp_path / "models")
    finally:
        con.close()
    assert (models["status"] == "ok").sum() >= 10, models[["k", "status", "reason"]]

    cfg, study_path, staging = _scoring_city(tmp_path / "scoring", tmp_path / "models")
    study = StudyResource(config_path=str(study_path))
    resources = {"study": study}
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([ind.subscribers, ind.cells, ind.estates], resources=resources,
                          instance=instance).success
    landing = cfg.synthetic_dir / "calls"
    days = [d.isoformat() for d in cfg.calendar.days[:7]]  # 09-01 .. 09-07
    # the last call of 09-05 delivered in 09-06's file (a record written when the call ended)
    late = pq.read_table(staging / f"{days[4]}.parquet")
    pq.write_table(late.slice(0, late.num_rows - 1), staging / f"{days[4]}.parquet")
    later = pq.read_table(staging / f"{days[5]}.parquet")
    pq.write_table(pa.concat_tables([later, late.slice(late.num_rows - 1).cast(later.schema)]),
                   staging / f"{days[5]}.parquet")
    cursor, keys = None, set()
    for i, day in enumerate(days):
        shutil.copy(staging / f"{day}.parquet", landing / f"{day}.parquet")
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
        requests = ewd.calls_landing_sensor(context)
        cursor = context.cursor
        new = [r for r in requests if r.run_key not in keys]
        assert len(new) == 1 and new[0].run_key.startswith(f"{day}:")
        # the day, and the day before when it has a file
        assert ([new[0].partition_key] if i == 0 else
                [new[0].tags[ewd.PARTITION_RANGE_START], new[0].tags[ewd.PARTITION_RANGE_END]]
                ) == days[max(i - 1, 0):i + 1]
        keys.add(new[0].run_key)
        if day == days[0]:  # cell prices once the cells are in
            assert dg.materialize([fd.cell_prices], resources=resources,
                                  instance=instance).success
        assert dg.materialize(ewd.DAY_ASSETS, resources=resources, instance=instance,
                              partition_key=new[0].partition_key, tags=new[0].tags).success
    # a re-delivered identical file requests nothing new; other bytes request that day again
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    assert {r.run_key for r in ewd.calls_landing_sensor(context)} == keys
    con = connect(cfg.duckdb_path)
    try:
        # each day's calls were built from the rows landed for it, 09-05's late call included
        landed = dict(con.execute("SELECT CAST(call_date AS VARCHAR), count(*) FROM landed_calls "
                                  "GROUP BY ALL").fetchall())
        read = dict(con.execute("SELECT partition_key, rows_read FROM accounting_calls"
                                ).fetchall())
        assert read == landed and set(read) == set(days)
        risk = con.execute("SELECT * FROM departure_risk ORDER BY call_date, user_id").df()
        first_call = dict(con.execute(
            "SELECT party, min(call_date) FROM (SELECT caller AS party, call_date FROM calls "
            "UNION ALL SELECT callee, call_date FROM calls) GROUP BY party").fetchall())
    finally:
        con.close()
    scored_days = sorted({d.isoformat() for d in risk["call_date"].dt.date})
    # 09-01..09-04: nobody can have arrived yet (the feed's silent days, min_silent_days)
    assert scored_days == days[4:]
    assert len(risk) > 50 and risk["probability"].notna().mean() > 0.9
    for row in risk.itertuples():
        assert row.arrival_day.date() == first_call[row.user_id]
        assert row.k == (row.call_date - row.arrival_day).days + 1
    assert set(risk["risk_band"]) <= set(ew.BANDS)
    one_day = risk[risk["call_date"] == pd.Timestamp(days[-1])]
    assert sorted(one_day["risk_rank"]) == sorted(
        one_day["probability"].rank(ascending=False, method="min").astype(int))

    # re-running a day changes nothing (its windows now summed from their days: the stored
    # windows of the day before were dropped when the next day ran)
    def stored() -> tuple[pd.DataFrame, pd.DataFrame]:
        con = connect(cfg.duckdb_path)
        try:
            return (con.execute("SELECT * FROM departure_risk ORDER BY call_date, user_id").df(),
                    con.execute("SELECT * FROM features_arrival_days "
                                "ORDER BY window_id, user_id").df())
        finally:
            con.close()

    _, features_before = stored()
    assert dg.materialize(ewd.DAY_ASSETS, resources=resources, instance=instance,
                          partition_key=days[5]).success
    risk_again, features_again = stored()
    pd.testing.assert_frame_equal(risk, risk_again)
    pd.testing.assert_frame_equal(features_before, features_again)
    # other bytes for a landed day: a new run key for that day only
    shutil.copy(staging / f"{days[1]}.parquet", landing / f"{days[5]}.parquet")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    fresh = [r for r in ewd.calls_landing_sensor(context) if r.run_key not in keys]
    assert [(r.tags[ewd.PARTITION_RANGE_START], r.tags[ewd.PARTITION_RANGE_END])
            for r in fresh] == [(days[4], days[5])]

    # probe 33 F2: a day's scores, from features that read a day's calls that have changed
    # since, are refused until the features are built again (the synthetic city's files are
    # its asset's: the file itself is not judged here, test_reruns)
    def refusal(assets: list, **run) -> str | None:
        result = dg.materialize(assets, resources=resources, instance=instance,
                                raise_on_error=False, **run)
        errors = [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
        return "\n".join(str(e.cause.message if e.cause else e.message) for e in errors) or None

    # 09-06's file corrected (a call taken out), as the operator delivers it again
    corrected = pq.read_table(staging / f"{days[5]}.parquet")
    pq.write_table(corrected.slice(1), landing / f"{days[5]}.parquet")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    fresh = [r for r in ewd.calls_landing_sensor(context) if r.run_key not in keys]
    assert len(fresh) == 1
    assert refusal(ewd.DAY_ASSETS, tags=fresh[0].tags) is None
    error = refusal([ewd.departure_risk], partition_key=days[6])
    assert f"features_arrival_days ({days[6]}) is out of date: since it was built, " in error \
        and re.search(rf"\bcalls \([^)]*{days[5]}", error), error

    def scores_check() -> dg.AssetCheckEvaluation:
        result = dg.materialize([ewd.departure_risk, ewd.departure_risk_scores_up_to_date],
                                resources=resources, instance=instance, partition_key=days[5])
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    # the scores of 09-07 stay as they were: the check names them (probe 36 H1)
    check = scores_check()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["check_first"].value.startswith(
        f"departure_risk ({days[6]}) is out of date"), check.metadata["check_first"].value
    assert refusal([ewd.features_arrival_days, ewd.departure_risk],
                   partition_key=days[6]) is None
    check = scores_check()
    assert check.passed and check.metadata["days_judged"].value == len(days)


def test_an_edited_model_file_is_refused(tmp_path) -> None:
    """A pickle is code: a model file whose bytes are not those saved is never loaded."""
    from migrant_assets.early_warning import RiskModel, load_models, write_models
    from migrant_assets.models.store import save_model

    path = tmp_path / "k07.joblib"
    sha = save_model(RiskModel(7, None, ["degree"], np.zeros(1), 0.5, 0.04), path)
    con = connect(tmp_path / "db.duckdb")
    try:
        write_models(con, pd.DataFrame([{"k": 7, "classifier": "random forest", "status": "ok",
                                         "n_train": 20, "n_leaving": 10, "path": str(path),
                                         "sha256": sha}]), pd.DataFrame())
        assert load_models(con, StudyConfig())[7].threshold == 0.5
        path.write_bytes(path.read_bytes() + b"\0")
        with pytest.raises(ValueError, match="sha256 differs"):
            load_models(con, StudyConfig())
    finally:
        con.close()


def test_a_study_without_arrivals_says_so(tiny: dict, tmp_path) -> None:
    """No new migrant among the training arrivals (a city of one province): each k is skipped
    saying the cohort is empty, not that it has fewer than 10 leavers (probe 35 L3); the model
    files of an earlier training are removed, which models_from would load (probe 36 H2)."""
    db = tmp_path / "train.duckdb"
    shutil.copy(tiny["cfg"].duckdb_path, db)
    earlier = tmp_path / "models" / "k15.joblib"
    earlier.parent.mkdir()
    earlier.write_bytes(b"an earlier training's model")
    con = connect(db)
    try:
        con.execute("DELETE FROM features_arrival_days")
        models, _ = train_risk_models(con, tiny["cfg"], tmp_path / "models")
    finally:
        con.close()
    assert (models["status"] == "skipped").all() and (models["n_train"] == 0).all()
    assert not list((tmp_path / "models").glob("*.joblib"))
    assert models["reason"].str.fullmatch(
        r"no new migrant with a known outcome arrived on \S+\.\.\S+ "
        r"\(early_warning.train_arrivals\): the study has no arrival to train on").all()


def test_the_headline_reads_the_last_k_of_the_horizon(tmp_path) -> None:
    """With horizon_days 10 the demo's line showed "k = 14 n/a" (probe 36 L2): it reads k = 7
    and the horizon's last k, and k = the horizon when it is shorter than 7."""
    from migrant_assets.early_warning import ensure_schema, headline

    con = connect(tmp_path / "db.duckdb")
    try:
        ensure_schema(con)
        con.executemany("INSERT INTO early_warning_evaluation VALUES (?, ?, NULL, ?, 100, false)",
                        [(k, m, v) for k in (5, 7, 10) for m, v in (
                            ("precision_top_5pct", k / 100), ("leaving_share", k / 1000))])
        h = headline(con, 10)
        assert (h["k_short"], h["top5_k_short"], h["k_last"], h["top5_k_last"],
                h["share_k_last"]) == (7, 0.07, 10, 0.10, 0.010)
        h = headline(con, 5)
        assert (h["k_short"], h["k_last"], h["top5_k_short"]) == (5, 5, 0.05)
    finally:
        con.close()


def test_no_risk_model_says_why_where_its_results_are_read(tmp_path) -> None:
    """Every k skipped (too few leavers): the report's early-warning part and what reads the
    models say the models' reason, not that a table is empty (probe 19, F4)."""
    from migrant_assets.early_warning import ensure_schema, no_model_reason, write_models
    from migrant_assets.reports.report import render_report

    con = connect(tmp_path / "db.duckdb")
    try:
        cfg = StudyConfig(workdir=tmp_path, early_warning={"enabled": True})
        ensure_schema(con)
        assert no_model_reason(con) is None  # none tried
        reason = ("fewer than 10 leaving migrants (thresholds.min_class_size) with a known "
                  "outcome among the arrivals of 2016-09-05..2016-09-11")
        write_models(con, pd.DataFrame([
            {"k": k, "classifier": "random forest", "status": "skipped", "reason": reason,
             "n_train": 46, "n_leaving": 1} for k in (7, 14)]), pd.DataFrame())
        expected = f"no risk model could be trained (early_warning_models, k = 7: {reason})"
        assert no_model_reason(con) == expected
        html = render_report(con, cfg).html
        assert f"The early-warning evaluation: not available ({expected})" in html, html
    finally:
        con.close()


@pytest.mark.parametrize(("settings", "message"), [
    ({"classifier": "xgboost"}, "early_warning.classifier must be one of 'random forest', "),
    ({"train_arrivals": ["2016-09-20", "2016-09-10"]},
     "must be [first day, last day] in order: 2016-09-20 comes after 2016-09-10"),
    ({"train_arrivals": ["2016-10-01", "2016-10-07"]},
     "early_warning.train_arrivals (2016-10-01 .. 2016-10-07) must lie inside the study month"),
])
def test_early_warning_settings_are_refused_when_the_config_is_read(settings, message) -> None:
    """A classifier it cannot fit, or a training cohort out of order or outside the month, is
    refused with the config, not after the month's arrival features (probe 20, finding 7)."""
    from pydantic import ValidationError

    from migrant_assets.config import validation_problems

    with pytest.raises(ValidationError) as info:
        StudyConfig.model_validate({"early_warning": settings})
    assert message in validation_problems(info.value)


def test_the_sensor_cursor_keeps_no_file_name(tmp_path) -> None:
    """The landing sensor's cache of file hashes is keyed by an HMAC of each path under the
    pseudonymisation key: a per-party file's name (a subscriber's number) never reaches
    Dagster's cursor storage, nor a plain hash of it (which hashing the numbers one by one
    would give back); a file's hash is reused until its size or modification time changes."""
    import hmac

    from migrant_assets.lineage import content_hash

    path = tmp_path / "13912345678.csv"
    path.write_bytes(b"a,b\n1,2\n")
    cache: dict[str, list] = {}
    first = content_hash([path], cache, "k" * 32)
    assert first == hashlib.sha256(hashlib.sha256(b"a,b\n1,2\n").hexdigest().encode()).hexdigest()
    assert "13912345678" not in json.dumps(cache) and len(cache) == 1
    assert list(cache) == ["k:" + hmac.new(b"k" * 32, b"source file path\0" + str(path).encode(),
                                           hashlib.sha256).hexdigest()]
    assert hashlib.sha256(str(path).encode()).hexdigest() not in json.dumps(cache)
    (key, seen), = cache.items()
    cache[key] = [*seen[:2], "0" * 64]  # the same size and time: the cached hash is used
    assert content_hash([path], cache, "k" * 32) == hashlib.sha256(b"0" * 64).hexdigest()
    path.write_bytes(b"a,b\n1,3\n")
    os.utime(path, ns=(seen[1] + 10**9, seen[1] + 10**9))
    assert content_hash([path], cache, "k" * 32) not in (first,
                                                         hashlib.sha256(b"0" * 64).hexdigest())
    assert len(cache) == 1


@pytest.mark.parametrize(("path", "files", "expected", "undated"), [
    # a glob of ISO-dated names (the synthetic city's layout)
    ("calls/*.csv", ["calls/2016-09-05.csv", "calls/2016-09-06.csv"],
     {5: ["calls/2016-09-05.csv"], 6: ["calls/2016-09-06.csv"]}, 0),
    # compact dates inside a name; a day outside the calendar names no day of it
    ("calls/*.csv", ["calls/cdr_20160905.csv", "calls/cdr_20160905_b.csv",
                     "calls/cdr_20161005.csv"],
     {5: ["calls/cdr_20160905.csv", "calls/cdr_20160905_b.csv"]}, 1),
    # a Hive/Spark export as a folder: the day in the folder's name, its markers left out
    ("calls", ["calls/day=2016-09-05/part-0.parquet", "calls/day=2016-09-05/part-1.parquet",
               "calls/day=2016-09-05/_SUCCESS", "calls/day=2016-09-07/part-0.parquet"],
     {5: ["calls/day=2016-09-05/part-0.parquet", "calls/day=2016-09-05/part-1.parquet"],
      7: ["calls/day=2016-09-07/part-0.parquet"]}, 0),
    # a {date} path to a folder per day
    ("calls/dt={date:%Y%m%d}", ["calls/dt=20160906/part-0.parquet",
                                "calls/dt=20160906/.part-0.parquet.crc"],
     {6: ["calls/dt=20160906/part-0.parquet"]}, 0),
    # a name with no day, or two different days, is counted, never guessed
    ("calls/*.csv", ["calls/all.csv", "calls/2016-09-05_to_2016-09-06.csv",
                     "calls/13912345678.csv"], {}, 3),
])
def test_the_sensor_finds_each_days_calls_files_in_any_export_layout(
        tmp_path: Path, path: str, files: list[str], expected: dict[int, list[str]],
        undated: int) -> None:
    """The landing sensor's day files: a day named in a file or folder (ISO or compact), or a
    {date} path; a folder stands for its data files; a file naming no single day of the
    calendar is counted (the sensor warns), not assigned."""
    from migrant_assets.contract import DataContract, TableSource

    base = tmp_path / "operator"
    for f in files:
        (base / f).parent.mkdir(parents=True, exist_ok=True)
        (base / f).write_text("x\n")
    contract = DataContract(base_dir=base, calls=TableSource(path=path),
                            subscribers=TableSource(path="subscribers.csv"))
    days = [date(2016, 9, 1) + timedelta(days=i) for i in range(30)]
    by_day, n_undated = contract.calls_files_by_day(days)
    assert {d.day: [str(p.relative_to(base)) for p in ps] for d, ps in by_day.items()} \
        == expected
    assert n_undated == undated


def test_training_medians_skip_what_is_not_finite_without_a_warning() -> None:
    """The medians a risk model occludes with: each column's median of its finite values
    (numpy's nanmedian of the column with infinities as missing), NaN for a column with none,
    and no all-NaN RuntimeWarning in the run's log."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(41, 4))
    X[::3, 0] = np.inf
    X[::4, 1] = np.nan
    X[:, 2] = np.nan
    X[::2, 3] = -np.inf
    expected = [np.nanmedian(np.where(np.isfinite(X[:, j]), X[:, j], np.nan)) for j in (0, 1, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ew.training_medians(X)
    assert got[[0, 1, 3]].tolist() == expected and np.isnan(got[2])


@pytest.mark.parametrize(("gap", "expected"), [
    ((25, 26), {1: (False, False), 2: (True, False), 3: (True, True), 4: (False, True)}),
    ((22,), {1: (False, False), 2: (True, False), 3: (True, True), 4: (False, True)}),
    ((8,), {1: (False, True), 2: (True, True), 3: (True, True), 4: (False, True)}),
    ((3,), {1: (False, True), 2: (True, True), 3: (True, True), 4: (False, True)})])
def test_days_the_calls_do_not_cover_give_no_outcome(gap: tuple, expected: dict, con,
                                                     add_calls) -> None:
    """An arrival's outcome is read only where the calls cover every day from the feed's
    first to the end of her week C: days holding 2 calls where a usual day holds 30 (their
    files missing) at 09-25/26 or 09-22 fall in the weeks B and C (09-12..09-25) of the
    arrivals of 09-05, so they have no outcome, the one who stops on 09-18 and the one who
    stays alike (dropping only the silent would bias the leaving share), while those of 09-01
    (weeks B and C 09-08..09-21, covered) are staying and leaving; 09-08, in the first week of
    the 09-05 arrivals and the second of the 09-01 ones, would be read as silence by their
    first-k features; 09-03, before the 09-05 arrivals, may hide a call that makes them no
    new migrants (and is in the first week of the 09-01 ones). Worked out here by hand."""
    from migrant_assets.graphs import build_daily_contacts
    from migrant_assets.graphs import ensure_schema as ensure_graph_schema
    from migrant_assets.labels import find_uncovered_days

    cfg = StudyConfig()
    add_calls([(1000 + i, 2000 + i, date(2016, 9, d)) for d in range(1, 31)
               for i in range(2 if d in gap else 30)])
    spans = {1: (1, 30), 2: (1, 14), 3: (5, 18), 4: (5, 30)}  # each user's days with a call
    add_calls([(u, 100 + u, date(2016, 9, d)) for u, (a, b) in spans.items()
               for d in range(a, b + 1) if d not in gap])
    ensure_graph_schema(con)
    for d in range(1, 31):
        build_daily_contacts(con, date(2016, 9, d))
    con.execute("CREATE TEMP TABLE ew_arrivals AS SELECT * FROM (VALUES (1, DATE '2016-09-01'), "
                "(2, DATE '2016-09-01'), (3, DATE '2016-09-05'), (4, DATE '2016-09-05')) "
                "AS t(user_id, arrival_day)")
    find_uncovered_days(con, cfg, cfg.calendar.month_start, date(2016, 9, 30))
    got = {u: (leaving, uncovered) for u, _, _, leaving, uncovered in run_sql(
        con, "early_warning/outcomes.sql",
        {"day": date(2016, 9, 30), "month_start": cfg.calendar.month_start}).fetchall()}
    assert got == expected
    uncovered = sum(u for _, u in got.values())
    note = ew._training_notes(con, cfg, uncovered, date(2016, 9, 5))
    assert note.startswith(f"{uncovered} arrivals of the training cohort have no outcome")
    assert "(" + ", ".join(f"2016-09-{d:02d}" for d in gap) + ")" in note
    assert ew._training_notes(con, cfg, 0, date(2016, 9, 5)) is None


def test_a_feed_that_begins_late_has_no_arrival_on_its_first_days(con, add_subscribers,
                                                                    add_calls) -> None:
    """A new migrant is silent on the feed's first days (min_silent_days, 4 by default): a
    feed whose calls begin on 09-05, four days after the month's, has everyone's first call on
    09-05, so no arrival before 09-09 is counted (every migrant was one), and the training's
    note says why. The arrivals are those worked out here by hand."""
    from migrant_assets.graphs import build_daily_contacts
    from migrant_assets.graphs import ensure_schema as ensure_graph_schema

    cfg = StudyConfig()
    add_subscribers([(1, "Anhui"), (2, "Anhui"), (3, "Anhui"), (4, "Shanghai")])
    first_days = {1: 5, 2: 8, 3: 9, 4: 5}  # 1 and 4 were there all along, 3 arrived on 09-09
    add_calls([(u, 100 + u, date(2016, 9, d)) for u, a in first_days.items()
               for d in range(a, 31)])
    ensure_graph_schema(con)
    for d in range(1, 31):
        build_daily_contacts(con, date(2016, 9, d))
    ew._arrivals(con, cfg, date(2016, 9, 30), date(2016, 9, 5), date(2016, 9, 11))
    assert con.execute("SELECT user_id, arrival_day FROM ew_arrivals ORDER BY 1").fetchall() \
        == [(3, date(2016, 9, 9))]
    note = ew._training_notes(con, cfg, 0, date(2016, 9, 5))
    assert note == ("the calls begin on 2016-09-05, after the month's first day: arrivals "
                    "before 2016-09-09 (4 silent days later, early_warning.min_silent_days) "
                    "cannot be told from users already there and none is counted")


def test_a_day_corrected_with_as_many_calls_is_summed_again(con, add_subscribers,
                                                            add_calls) -> None:
    """The stored daily sums of a day are reused only while that day's `calls` partition has
    the version they were summed from (the lineage's built_from): a day file corrected with as
    many calls, landed again, gets another version, and its sums are redone, where the count
    alone kept the old ones. So is a fixed window's stored key."""
    from migrant_assets import features
    from migrant_assets.graphs import ensure_schema as ensure_graph_schema

    cfg = StudyConfig()
    add_subscribers([(1, "Anhui"), (2, "Shanghai")])
    add_calls([(1, 2, date(2016, 9, d)) for d in range(1, 8)])
    ensure_graph_schema(con)
    features.ensure_schema(con)
    features.write_cell_prices(con)
    ew.ensure_schema(con)
    first, day = date(2016, 9, 1), date(2016, 9, 7)
    window = cfg.calendar.windows("first_k_days")[0]  # k = 3: 09-05 .. 09-07
    key = features.stored_sums_key(con, window, None)
    con.executemany("INSERT INTO built_from VALUES ('calls', ?, ?, '{}')",
                    [(f"2016-09-0{d}", f"v{d}") for d in range(1, 8)])
    assert ew._sum_days(con, cfg, first, day) == 7
    assert ew._sum_days(con, cfg, first, day) == 0  # nothing changed: nothing summed again
    keyed = features.stored_sums_key(con, window, None)
    assert keyed["inputs"] != key["inputs"]
    con.execute("UPDATE built_from SET version = 'v6b' WHERE part = '2016-09-06'")
    assert ew._sum_days(con, cfg, first, day) == 1
    changed = features.stored_sums_key(con, window, None)
    assert changed["n_calls"] == keyed["n_calls"] and changed["inputs"] != keyed["inputs"]


def test_a_day_the_calls_do_not_cover_has_no_risk_row(con, add_calls) -> None:
    """The feed has reached 09-21 (30 calls a day): 09-23's windows would read two days
    without data as the silence of leavers, so 09-23 has no row (a stale one written before is
    removed) and says why, while 09-21 is scored as it is."""
    add_calls([(1000 + i, 2000 + i, date(2016, 9, d)) for d in range(1, 22) for i in range(30)])
    cfg = StudyConfig()
    ew.ensure_schema(con)
    con.execute("INSERT INTO departure_risk (call_date, user_id, arrival_day, k, probability, "
                "risk_rank, risk_band) VALUES (DATE '2016-09-23', 7, DATE '2016-09-10', 14, "
                "0.9, 1, 'high')")
    late = ew.score_day(con, cfg, date(2016, 9, 23), {})
    assert late["users"] == 0 and late["not_scored"].startswith("no data for 2016-09-23")
    assert con.execute("SELECT count(*) FROM departure_risk").fetchall() == [(0,)]
    assert ew.score_day(con, cfg, date(2016, 9, 21), {})["not_scored"] is None


def test_a_day_after_a_day_the_calls_do_not_cover_has_no_risk_row(con, add_calls) -> None:
    """09-10 holds 2 calls where a usual day holds 30 (its file missing): every later day's
    windows, and the days before its arrivals, would read it as silence, so 09-11 and 09-21
    have no row and name 09-10, while 09-09, before it, is scored; so is every day once 09-10
    is delivered."""
    add_calls([(1000 + i, 2000 + i, date(2016, 9, d)) for d in range(1, 22)
               for i in range(2 if d == 10 else 30)])
    cfg = StudyConfig()
    ew.ensure_schema(con)
    for day in (11, 21):
        got = ew.score_day(con, cfg, date(2016, 9, day), {})["not_scored"]
        assert got.startswith("the calls do not cover 2016-09-10 ") and f"2016-09-{day}" in got
    assert ew.score_day(con, cfg, date(2016, 9, 9), {})["not_scored"] is None
    add_calls([(3000 + i, 4000 + i, date(2016, 9, 10)) for i in range(28)])
    assert ew.score_day(con, cfg, date(2016, 9, 21), {})["not_scored"] is None


def test_the_early_warning_refuses_the_spark_engine(tmp_path) -> None:
    """The early warning reads daily_contacts in the DuckDB file, which engine: spark keeps in
    its warehouse (it said "no calls landed" and scored no one): the config refuses
    early_warning.enabled with it, `demo --early-warning` refuses it before running anything,
    and its assets, materialized from the UI, fail at once naming the engine."""
    import argparse

    import yaml
    from pydantic import ValidationError

    from migrant_assets.cli import _effective_config
    from migrant_assets.config import validation_problems
    from migrant_assets.errors import ConfigError, InputError

    with pytest.raises(ValidationError, match="runs on the DuckDB engine only") as info:
        StudyConfig.model_validate({"engine": "spark", "early_warning": {"enabled": True}})
    assert validation_problems(info.value).startswith("the early warning runs on the DuckDB")
    spark = StudyConfig.model_validate({"engine": "spark"})
    with pytest.raises(InputError, match="daily_contacts, which engine: spark keeps"):
        ew.require_duckdb(spark)
    ew.require_duckdb(StudyConfig())  # DuckDB: nothing to refuse
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"engine": "spark", "workdir": str(tmp_path / "work")}))
    args = argparse.Namespace(config=str(study), workdir=None, early_warning=True, preset=None,
                              seed=None, calls=None)
    with pytest.raises(ConfigError, match="DuckDB engine only"):
        _effective_config(args)
    assert not (tmp_path / "work").exists()  # refused before anything was written
