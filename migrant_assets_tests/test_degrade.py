"""Degrade, never discard (issue 10): experiments the data cannot support are recorded as
skipped with their reason — in the result tables, the assets' metadata, the checks (not judged:
``judged`` 0, WARN and the reason, never a vacuous pass) and the report — and every model and
report asset still materializes. Small hand-made ``features`` tables (test_models.make_features)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import insert_feature_rows, insert_subscribers
from test_models import SEED, SMALL_MODELS, features_db, make_features, run_experiments

import migrant_assets.models as M
from migrant_assets.cli import QUIET
from migrant_assets.config import Calendar, StudyConfig
from migrant_assets.db import connect
from migrant_assets.features import FEATURES
from migrant_assets.ingest import create_tables
from migrant_assets.reports import render_report
from migrant_assets.reports.tables import skipped_experiments, unavailable_data

#: The features the data has no value of when it has no cell locations.
NO_LOCATIONS = ("geography", "housing_price")
LOCATION_FEATURES = [f for f, spec in FEATURES.items() if spec.family in NO_LOCATIONS]

@pytest.fixture(scope="module")
def cfg() -> StudyConfig:
    return StudyConfig(calendar=Calendar(k_min=12), models=SMALL_MODELS)  # k = 12, 13, 14


# ---------------------------------------------------------------- what the data cannot support


def test_class_problem_reasons():
    names = {"a": "leaving migrants", "b": "staying migrants"}
    labels = pd.Series(["a"] * 6 + ["b"] * 50)
    assert M.class_problem(labels, names, 10) == (
        "fewer than 10 leaving migrants (thresholds.min_class_size)")  # no count under 10
    assert M.class_problem(labels, names, 2) is None
    few = pd.Series(["a"] * 3 + ["b"] * 50)
    assert M.class_problem(few, names, 2) == (
        "fewer leaving migrants than the 5 cross-validation folds")
    assert M.class_problem(few, names, 2, n_folds=None) is None
    assert M.class_problem(pd.Series(["b"] * 50), names, 10) == (
        "no leaving migrants: only one class to classify")
    assert M.class_problem(pd.Series([], dtype=object), names, 10) == (
        "no leaving migrants and no staying migrants")
    assert M.min_class_size(StudyConfig()) == StudyConfig().thresholds.min_class_size == 10
    three = {"a": "locals", "b": "settled migrants", "c": "new migrants"}
    assert M.class_problem(pd.Series(["a"] * 50 + ["b"] * 50), three, 10) == (
        "no new migrants: only 2 of the 3 classes to classify")


def test_a_class_too_small_in_the_study_is_not_blamed_on_the_split(cfg):
    """One new migrant in the whole study lands in one half: the three-way skip names the
    study's shortfall (fewer than min_class_size), not the training half's lack of the class;
    a class short in the training half alone is said of the half."""
    from migrant_assets.models.data import class_names
    from migrant_assets.models.integration import INTEGRATION_LABELS, _training_problem

    w2 = M.integration_weeks(cfg)[0]
    labels = ["local"] * 40 + ["settled_migrant"] * 40 + ["new_migrant"]
    halves = ["train", "test"] * 40 + ["test"]
    data = pd.DataFrame({"window_id": w2.window_id, "label": labels, "half": halves})
    classes = class_names(INTEGRATION_LABELS)
    train = data[data["half"] == "train"]
    assert _training_problem(cfg, data, train, classes, {}) == (
        f"the study's users in {w2.label}: fewer than 10 new migrants "
        "(thresholds.min_class_size)")
    data = pd.concat([data, pd.DataFrame({"window_id": w2.window_id, "label": "new_migrant",
                                          "half": ["test"] * 20})])
    assert _training_problem(cfg, data, train, classes, {}) == (
        f"training half ({w2.label}): no new migrants: only 2 of the 3 classes to classify")
    assert _training_problem(cfg, data, train, classes, {w2.window_id: "uncovered"}) == (
        f"training half ({w2.label}): uncovered")


def test_usable_columns_drop_null_groups(cfg):
    data = make_features(cfg, n_locals=0, n_settled=0, n_new=0)
    cols, dropped, reason = M.usable_columns(data, "departure", with_locals=False)
    assert (cols, dropped, reason) == (M.feature_columns("departure", with_locals=False), {},
                                       None)
    # one cell: every geography value the same up to round-off, every price one value (probe
    # 31 H3); a value that differs beyond round-off keeps the group
    one_cell = data.copy()
    geography = M.feature_columns("departure", with_locals=False, groups=["geography"])
    housing = M.feature_columns("departure", with_locals=False, groups=["housing_price"])
    one_cell[geography] = np.tile(np.where(np.arange(len(data)) % 2, 0.0, 1e-12)[:, None],
                                  (1, len(geography)))
    one_cell[housing] = 60702.5
    one_cell.loc[one_cell.index[0], housing[0]] = np.nan  # a user without a price
    assert M.usable_columns(one_cell, "departure", with_locals=False)[1] == {
        "geography": "every geography feature takes one value for every user",
        "housing_price": "every housing price feature takes one value for every user"}
    one_cell.loc[one_cell.index[1], geography[0]] = 1e-3  # a metre
    assert list(M.usable_columns(one_cell, "departure", with_locals=False)[1]) == [
        "housing_price"]
    data[LOCATION_FEATURES] = np.nan
    cols, dropped, reason = M.usable_columns(data, "departure", with_locals=False)
    assert list(dropped) == list(NO_LOCATIONS) and reason is None
    assert cols == M.feature_columns("departure", with_locals=False,
                                     groups=["ego_network", "call_behavior"])
    assert M.usable_columns(data, "departure", with_locals=False, groups=["geography"])[2] == (
        "every geography feature is null: nothing to classify on")
    data[list(FEATURES)] = np.nan
    cols, dropped, reason = M.usable_columns(data, "integration", with_locals=True)
    assert (cols, list(dropped), reason) == (
        [], list(M.INTEGRATION_GROUPS), "every feature is null: nothing to classify on")


@pytest.fixture(scope="module")
def no_locations(cfg):
    """Every experiment on a table whose geography and housing price features are all null
    (the data has no cell locations)."""
    features = make_features(cfg)
    features[LOCATION_FEATURES] = np.nan
    con = features_db(features)
    yield run_experiments(con, cfg, (M.RANDOM_FOREST,))
    con.close()


def test_null_groups_are_dropped_and_the_rest_runs(no_locations):
    kept = M.feature_columns("departure", with_locals=False,
                             groups=["ego_network", "call_behavior"])
    rf = no_locations["k14"].results.set_index("row").loc[M.RANDOM_FOREST]
    assert rf.status == M.OK and rf.n_features == len(kept)
    assert rf.dropped_groups == "geography, housing_price"
    assert rf.f1 > 3 * rf.prevalence  # the planted ego-network / call signal is still found

    t3 = no_locations["table3"].results.set_index("row")
    for row in ("geographical information", "housing price information"):
        assert t3.loc[row, "status"] == M.SKIPPED and pd.isna(t3.loc[row, "f1"])
    assert t3.loc["geographical information", "skip_reason"] == (
        "every geography feature is null: nothing to classify on")
    assert t3.loc["housing price information", "skip_reason"] == (
        "every housing price feature is null: nothing to classify on")
    ok = t3[t3.status == M.OK]
    assert set(ok.index) == {"all features", "ego network properties", "call behavior",
                             "random guess"} and ok.f1.notna().all()
    t1 = no_locations["table1"].results.set_index("row")
    assert t1.loc["all features", "status"] == M.OK
    assert t1.loc["geographical patterns", "status"] == M.SKIPPED

    imp = no_locations["importance"]
    ranked = imp[imp.status == M.OK]
    assert set(ranked.feature) == set(kept)
    assert list(ranked["rank"]) == list(range(1, len(kept) + 1))
    assert ranked.gini.sum() == pytest.approx(1.0)
    dropped = imp[imp.status == M.SKIPPED]
    assert set(dropped.feature) == set(LOCATION_FEATURES) and dropped["rank"].isna().all()
    # each with its group's own reason (usable_columns: null here, one value in a one-cell
    # city, where it said null: probe 35 L1)
    assert (dropped.skip_reason == dropped.family.map({
        "geography": "every geography feature is null",
        "housing_price": "every housing price feature is null"})).all()

    tr = no_locations["transfer"]
    assert len(tr) == 9 and (tr.status == M.OK).all() and tr.f1.notna().all()


def test_integration_without_geography(no_locations):
    res = no_locations["settled"].results
    steps = res[(res.experiment == M.SETTLED_VS_LOCALS) & (res.status == M.OK)
                & (res.row != "random guess")]
    w2 = steps[steps.week == "W2"].sort_values("step")
    # G has no value: the paper's order without it (D is the next most influential group)
    assert list(w2.row) == ["all features", "-D", "-DE"]
    assert (steps.dropped_groups == "G").all()
    dropped = res[(res.row == "group G")]
    assert len(dropped) == 3 and (dropped.status == M.SKIPPED).all()
    assert dropped.skip_reason.str.startswith("every geography (G) feature is null").all()
    shares = res[res.experiment == M.CLASSIFIED_AS_LOCALS]
    assert len(shares) == 6 and (shares.status == M.OK).all()
    three = no_locations["three_way"].results
    assert (three[three.status == M.OK].dropped_groups == "G").all()
    assert len(three[(three.status == M.OK) & (three.row != "random guess")]) == 9
    assert M.no_user_in_train_and_test(no_locations["con"]) == 0


def test_too_few_leaving_migrants_are_skipped(cfg):
    con = features_db(make_features(cfg, n_leaving=6, n_locals=0, n_settled=0, n_new=0))
    folds = M.assign_departure_folds(con, cfg, SEED)
    assert folds.empty
    assert M.departure_folds(con, cfg, SEED)[1] == (
        "no departure folds at k=14: fewer than 10 leaving migrants "
        "(thresholds.min_class_size)")
    ev = M.evaluate_window(con, cfg, M.reference_window(cfg), SEED)
    res = ev.results
    assert len(res) == len(M.CLASSIFIERS) + 1 and (res.status == M.SKIPPED).all()
    assert res.f1.isna().all() and ev.models == {} and ev.fold_metrics.empty
    assert (res.skip_reason == "fewer than 10 leaving migrants (thresholds.min_class_size)").all()
    assert (res.n_pos == 6).all()  # the table keeps the counts; the report suppresses them
    assert M.split_violations(con, [M.LEAVING_VS_STAYING]) == (0, 0)
    integration = M.settled_vs_locals(con, cfg, SEED).results
    assert (integration.status == M.SKIPPED).all() and len(integration) == 3 + 6
    assert (integration.skip_reason
            == "the study's users in W2: no settled migrants and no locals").all()
    con.close()


def test_a_class_not_yet_active_at_k_says_so(cfg):
    """The study has leaving migrants (k = k_max's folds), but none has called by k = 12's
    last day: the window is skipped saying that the others had no call yet."""
    k12 = next(w for w in cfg.calendar.windows("first_k_days") if w.label == "k=12")
    data = make_features(cfg, n_leaving=30, n_staying=60, n_locals=0, n_settled=0, n_new=0)
    con = features_db(data[(data.window_id != k12.window_id)
                           | (data.label != "leaving_migrant")])
    M.assign_departure_folds(con, cfg, SEED)
    res = M.evaluate_window(con, cfg, k12, SEED).results
    assert (res.status == M.SKIPPED).all()
    assert (res.skip_reason == "no leaving migrants: only one class to classify among the "
            "migrants active in the first 12 days (the study's 90 migrants of k = 14: the "
            "others had no call yet)").all()
    con.close()


def test_a_window_of_no_migrant_says_the_studys_reason_first(cfg):
    """Too few leaving migrants for k = k_max's folds, and no migrant called in the first 12
    days: k = 12's reason is the study's (it holds for every k), then the window's own, never
    a bare 'no staying migrants' of a study that has them (probe 19, F2)."""
    k12 = next(w for w in cfg.calendar.windows("first_k_days") if w.label == "k=12")
    data = make_features(cfg, n_leaving=2, n_staying=60, n_locals=0, n_settled=0, n_new=0)
    con = features_db(data[data.window_id != k12.window_id])
    M.assign_departure_folds(con, cfg, SEED)
    res = M.evaluate_window(con, cfg, k12, SEED).results
    assert (res.status == M.SKIPPED).all()
    reason = res.skip_reason.iloc[0]
    assert reason.startswith("no departure folds at k=14: fewer than 10 leaving migrants"), reason
    assert reason.endswith("(and no staying migrants and no leaving migrants among the migrants "
                           "active in the first 12 days)"), reason
    con.close()


def test_windows_with_days_the_calls_do_not_cover_are_skipped(cfg):
    """Day files missing inside the extract (09-06, 09-07, 09-19: no calls): the first-k
    windows and the integration week that hold them are skipped, naming the days, rather
    than reading the missing days as silence (probe 20, finding 1); the other weeks are fit."""
    data = make_features(cfg, n_leaving=30, n_staying=60)
    con = features_db(data)
    gap = {date(2016, 9, 6), date(2016, 9, 7), date(2016, 9, 19)}
    days = [date(2016, 9, d) for d in range(1, 31) if date(2016, 9, d) not in gap]
    con.execute("CREATE TABLE calls (call_date DATE)")
    con.executemany("INSERT INTO calls SELECT ? FROM range(50)", [[d] for d in days])
    M.assign_departure_folds(con, cfg, SEED)
    k12 = next(w for w in cfg.calendar.windows("first_k_days") if w.label == "k=12")
    res = M.evaluate_window(con, cfg, k12, SEED).results
    assert (res.status == M.SKIPPED).all()
    assert set(res.skip_reason) == {
        "the calls do not cover 2 of the days of k=12 (2016-09-06, 2016-09-07: no calls, or far "
        "fewer than a usual day's), which its features would read as silence: deliver and "
        "materialize those days of calls"}
    integration = M.settled_vs_locals(con, cfg, SEED).results.set_index("week")
    assert (integration.loc["W3", "status"] == M.SKIPPED).all()
    assert integration.loc["W3", "skip_reason"].str.startswith(
        "the calls do not cover 1 of the days of W3 (2016-09-19: ").all()
    assert (integration.loc[["W2", "W4"], "status"] == "ok").any()
    three = M.three_way(con, cfg, SEED).results.set_index("week")
    assert (three.loc["W3", "status"] == M.SKIPPED).all()
    assert (three.loc[["W2", "W4"], "status"] == "ok").any()
    con.close()


# ---------------------------------------------------------------- the assets, end to end


def _write_features(path: Path, features: pd.DataFrame) -> None:
    con = connect(path)
    insert_feature_rows(con, features)
    con.register("rows", features)
    create_tables(con)  # cells and estates exist and are empty: no locations
    con.execute("CREATE TABLE user_labels AS SELECT user_id, "
                "any_value(label) FILTER (study = 'integration') AS integration_label, "
                "any_value(label) FILTER (study = 'departure') AS departure_label "
                "FROM rows GROUP BY user_id")
    con.close()


@pytest.fixture(scope="module")
def no_leavers(tmp_path_factory, monkeypatch_module):
    """Every model and report asset materialized (Dagster, in process) on a study whose
    departure study has no leaving migrant and whose data has no cell locations."""
    from migrant_assets.defs import defs

    tmp = tmp_path_factory.mktemp("no_leavers")
    cfg = StudyConfig(workdir=tmp, models=SMALL_MODELS)
    features = make_features(cfg, n_leaving=0, n_staying=300, n_locals=300, n_settled=200,
                             n_new=40)
    features[LOCATION_FEATURES] = np.nan
    _write_features(cfg.duckdb_path, features)
    config_path = tmp / "study.yaml"
    config_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    monkeypatch_module.setenv("MIGRANT_ASSETS_CONFIG", str(config_path))
    monkeypatch_module.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    instance = dg.DagsterInstance.ephemeral()
    first_k = cfg.calendar.windows("first_k_days")
    k_max = first_k[-1].key
    # every k before k_max in one run (Figure 8's curves and the transfer read every k)
    earlier_k = {"dagster/asset_partition_range_start": first_k[0].key,
                 "dagster/asset_partition_range_end": first_k[-2].key}
    job = defs.resolve_implicit_global_asset_job_def()
    steps = {"fold_users": (["departure_folds"], None),
             "train_earlier_k": (["departure_models"], earlier_k),
             "train_departure_models": (["departure_models"], k_max),
             "prediction_results": (["departure_curves", "departure_transfer", "departure_tables",
                                     "departure_feature_importance", "integration_models"], None),
             "report": (["group_feature_trends", "integration_trajectories", "group_maps",
                         "findings", "report"], None)}
    runs = {name: job.execute_in_process(
                run_config=QUIET, instance=instance, raise_on_error=False,
                asset_selection=[dg.AssetKey(a) for a in assets],
                **({"tags": part} if isinstance(part, dict) else {"partition_key": part}))
            for name, (assets, part) in steps.items()}
    con = connect(cfg.duckdb_path)
    yield {"cfg": cfg, "runs": runs, "con": con, "instance": instance, "k_max": k_max,
           "html": (tmp / "report.html").read_text()}
    con.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _metadata(result, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key == dg.AssetKey(asset)]
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


def test_every_asset_materializes(no_leavers):
    for name, result in no_leavers["runs"].items():
        assert result.success, name
    materialized = {e.asset_key.to_user_string() for r in no_leavers["runs"].values()
                    for e in r.get_asset_materialization_events()}
    assert materialized == {"departure_folds", "departure_models", "departure_curves",
                            "departure_transfer", "departure_tables",
                            "departure_feature_importance", "integration_models",
                            "group_feature_trends", "integration_trajectories", "group_maps",
                            "findings", "report"}


def test_result_tables_hold_skipped_rows(no_leavers):
    con = no_leavers["con"]
    reason = "no leaving migrants: only one class to classify"
    rows = con.execute("SELECT experiment, status, skip_reason, count(*) FROM model_results "
                       "GROUP BY ALL ORDER BY ALL").fetchall()
    assert rows == [
        (M.LEAVING_VS_STAYING, "skipped", reason,
         len(no_leavers["cfg"].calendar.windows("first_k_days")) * (len(M.CLASSIFIERS) + 1)),
        (M.TABLE1, "ok", None, 4),  # all features, ego network, call behaviour, random guess
        (M.TABLE1, "skipped", "every geography feature is null: nothing to classify on", 1),
        (M.TABLE1, "skipped", "every housing price feature is null: nothing to classify on", 1),
        (M.TABLE3, "skipped", reason, 6),
    ]
    windows = no_leavers["cfg"].calendar.windows("first_k_days")
    transfer = con.execute("SELECT train_label, status, skip_reason FROM transfer_f1").df()
    assert len(transfer) == len(windows) ** 2 and (transfer.status == "skipped").all()
    assert set(transfer.skip_reason) == {reason}
    (line,) = skipped_experiments(con).query("experiment == 'transfer'").to_dict("records")
    assert line["windows"] == ", ".join(w.label for w in windows) and line["whole"]
    assert line["rows"] == f"{len(windows) ** 2} of {len(windows) ** 2} train-test pairs"
    assert con.execute("SELECT DISTINCT status, skip_reason FROM feature_importance"
                       ).fetchall() == [("skipped", reason)]
    assert con.execute("SELECT count(*) FROM departure_folds").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM integration_results WHERE status = 'ok' "
                       "AND f1 IS NOT NULL").fetchall()[0][0] > 0


def test_findings_untested_name_the_skipped_experiment(no_leavers):
    """A model finding left untested says which experiment was skipped and why, as the report
    lists them, not which internal table is empty (probe 19, F3)."""
    reasons = dict(no_leavers["con"].execute(
        "SELECT finding_id, reason FROM findings WHERE finding_id IN ('DM11', 'DM12')"
    ).fetchall())
    assert reasons["DM11"].startswith("Figure 8(d) (trained on k days, tested on t days), "
                                      "k=3,"), reasons
    assert reasons["DM12"] == "Figure 9 (feature importance): skipped: no leaving migrants: " \
        "only one class to classify", reasons
    assert "skipped: no leaving migrants" in reasons["DM11"]


def test_metadata_names_what_was_skipped(no_leavers):
    runs = no_leavers["runs"]
    folds = _metadata(runs["fold_users"], "departure_folds")
    assert folds["skipped"] == "no departure folds at k=14: no leaving migrants: only one class " \
                               "to classify"
    assert folds["dagster/row_count"] == 0 and folds["dagster/table_name"] == "departure_folds"
    models = _metadata(runs["train_departure_models"], "departure_models")
    assert models["skipped_experiments"] == 1
    assert "k=14: skipped: no leaving migrants" in models["skipped"]
    assert models["dagster/row_count"] == len(M.CLASSIFIERS) + 1  # the partition's rows
    report = _metadata(runs["report"], "report")
    assert report["unavailable_parts"] > 0
    assert "the data has no cell locations" in report["unavailable"]


def _evaluations(result) -> dict:
    return {(e.asset_key.to_user_string(), e.check_name): e
            for e in result.get_asset_check_evaluations()}


def test_checks_with_nothing_to_judge_are_not_judged(no_leavers):
    """Never a vacuous pass: a check with nothing to judge is evaluated as not passed, severity
    WARN, ``judged`` 0 and the reason (a blocking one does not stop the run); the checks that have
    something to judge pass with what they judged."""
    runs = no_leavers["runs"]
    not_judged = {
        ("departure_models", "beats_random_guess"):
            "no classifier was evaluated: every experiment was skipped",
        ("departure_models", "no_user_in_train_and_test"):
            "no split was made: every experiment was skipped",
        ("departure_curves", "f1_rises_with_k"):
            "the random forest was evaluated at 0 k (two are needed): the other windows were "
            "skipped",
        ("departure_transfer", "no_user_in_train_and_test"):
            "no split was made: every experiment was skipped",
    }
    evaluations = {**_evaluations(runs["train_departure_models"]),
                   **_evaluations(runs["prediction_results"])}
    for key, reason in not_judged.items():
        e = evaluations[key]
        assert not e.passed and e.severity == dg.AssetCheckSeverity.WARN, key
        assert e.metadata["judged"].value == 0 and e.metadata["reason"].value == reason, key
    judged = set(evaluations) - set(not_judged)
    assert judged == {("integration_models", "beats_random_guess"),
                      ("integration_models", "no_user_in_train_and_test"),
                      ("departure_tables", "beats_random_guess"),
                      ("departure_tables", "no_user_in_train_and_test")}
    for key in judged - {("departure_tables", "beats_random_guess")}:
        assert evaluations[key].passed and evaluations[key].metadata["judged"].value > 0, key
    # Table 1 ran (new migrants vs locals): its verdict is the stored rows' (no signal is
    # planted in call behaviour alone, so that row may fall either side of the random guess)
    table1 = evaluations["departure_tables", "beats_random_guess"]
    assert table1.severity == dg.AssetCheckSeverity.ERROR
    assert table1.metadata["judged"].value == 3  # all features, ego network, call behaviour
    rows = M.beats_random_guess(no_leavers["con"])
    rows = rows[rows["experiment"] == M.TABLE1]
    assert len(rows) == 3
    losers = [{"experiment": M.TABLE1, "row": r.row, "window_id": r.window_id}
              for r in rows.itertuples() if not r.f1 > r.random_f1]
    assert sorted(table1.metadata["not_above_random_guess"].value, key=str) == sorted(
        losers, key=str)
    assert table1.passed == (not losers)
    assert runs["train_departure_models"].success  # the blocking check warned, nothing failed


def test_a_partitioned_check_records_its_partition(no_leavers):
    """The checks of `departure_models` are partitioned like it: the run of one k records each
    evaluation against that k, in the run and in the instance's check history."""
    k_max, instance = no_leavers["k_max"], no_leavers["instance"]
    evaluations = _evaluations(no_leavers["runs"]["train_departure_models"])
    assert {e.partition for e in evaluations.values()} == {k_max}
    every_k = {w.key for w in no_leavers["cfg"].calendar.windows("first_k_days")}
    for name in ("beats_random_guess", "no_user_in_train_and_test"):
        key = dg.AssetCheckKey(dg.AssetKey("departure_models"), name)
        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
        # one record a k: k_max's run, and the run of every k before it
        assert sorted(r.partition for r in records) == sorted(every_k)
    blocking = {k.name: spec.blocking for k, spec in
                _check_specs("departure_models").items()}
    assert blocking == {"beats_random_guess": False, "no_user_in_train_and_test": True}


def _check_specs(asset: str) -> dict:
    from migrant_assets.defs import defs

    graph = defs.resolve_asset_graph()
    return {k: graph.get_check_spec(k) for k in graph.asset_check_keys
            if k.asset_key == dg.AssetKey(asset)}


def test_report_says_what_was_skipped_and_why(no_leavers):
    html = no_leavers["html"]
    assert ("leaving vs staying migrants (Table 2, Figure 8(a–c)), k=3, k=4, k=5, k=6, k=7, "
            "k=8, k=9, k=10, k=11, k=12, k=13, k=14: skipped: no leaving migrants: only one class "
            "to classify") in html
    assert ("Figure 8(d) (trained on k days, tested on t days), k=3, k=4, k=5, k=6, k=7, k=8, "
            "k=9, k=10, k=11, k=12, k=13, k=14: skipped: no leaving migrants") in html
    assert "Figure 9 (feature importance): skipped: no leaving migrants" in html
    assert ("Table 1 (new migrants vs locals), k=14 (geographical patterns): skipped: every "
            "geography feature is null") in html
    assert ("geography and housing price features are unavailable: the data has no cell "
            "locations (table cells is empty)") in html
    table2 = html[html.index('<table id="table-departure-table2">'):]
    table2 = table2[:table2.index("</table>")]
    assert table2.count("<td>skipped</td>") >= 5 * (len(M.CLASSIFIERS) + 1)


def test_no_ages_no_sexes_and_no_locals_are_named(con):
    """Subscribers of whom none has an age or a sex (an export without those columns: the
    mapping allows it) and a departure study without locals: what the data cannot give names
    the features and the group (probe 26, M2 and L5), beside a study that has its groups."""
    con.executemany("INSERT INTO subscribers VALUES (?, NULL, NULL, ?, true, false, 1)",
                    [(i, "Anhui" if i % 3 else "Shanghai") for i in range(1, 31)])
    con.execute("CREATE TABLE user_labels (user_id BIGINT, integration_label VARCHAR, "
                "departure_label VARCHAR)")
    con.executemany("INSERT INTO user_labels VALUES (?, ?, ?)", [
        (i, ("local", "settled_migrant", "new_migrant")[i % 3],
         (None, "staying_migrant", "leaving_migrant")[i % 3]) for i in range(1, 31)])
    notes = unavailable_data(con)
    assert notes[2:5] == [
        "similar_age is unavailable: no subscriber has an age",
        "same_sex is unavailable: no subscriber has a sex",
        "the departure study has no locals: the experiments that need them are skipped"]
    con.execute("UPDATE subscribers SET age = 30 WHERE user_id = 1")
    con.execute("UPDATE user_labels SET departure_label = 'local' WHERE user_id = 3")
    assert unavailable_data(con)[2:4] == [
        "same_sex is unavailable: no subscriber has a sex",
        "every feature, trend and classifier is unavailable: table features does not exist: "
        "its asset has not been materialized, or its run failed"]
    # no birth province at all: no label, and the note says why (probe 31 M3)
    con.execute("UPDATE subscribers SET birth_province = NULL")
    con.execute("UPDATE user_labels SET integration_label = NULL, departure_label = NULL")
    assert [n for n in unavailable_data(con) if "study is unavailable" in n] == [
        f"the {study} study is unavailable: no {study}-labelled users: no subscriber has a "
        "birth province, which the labels need (SPEC §3; the subscribers' birth_province "
        "column is empty or unreadable)" for study in ("integration", "departure")]


def test_features_null_for_everyone_are_named_with_their_cause(con):
    """Probe 35 M2: every call of 0 s (a missed call, without a duration), or no call between
    two subscribers, leaves features null for every user; the findings that read them pointed
    to what the data cannot give, which named neither. Each is named with its cause; a feature
    of a cause already named (no age) is not named twice."""
    from migrant_assets.db import quote

    insert_subscribers(con, [(1, "Anhui", True, False, None, "F"),
                             (2, "Shanghai", True, False, None, "M")])
    con.execute("INSERT INTO calls VALUES ('2016-09-05', 1, 9, '2016-09-05 10:00:00', NULL, "
                "NULL, NULL, NULL)")  # with a non-subscriber, missed
    con.execute("CREATE TABLE features AS SELECT user_id, " + ", ".join(
        f"CAST(1.0 AS DOUBLE) AS {quote(f)}" for f in FEATURES) + " FROM range(1, 3) AS t(user_id)")
    durations = ["call_duration", "duration_variance", "local_call_duration",
                 "local_duration_variance"]
    contacts = ["same_sex", "similar_age", "townsman", "local", "province_diversity"]
    for f in (*durations, *contacts):
        con.execute(f"UPDATE features SET {quote(f)} = NULL")
    con.execute("UPDATE features SET degree = NULL WHERE user_id = 1")  # null for one user only
    notes = [n for n in unavailable_data(con) if "null for every user" in n]
    by_cause = {n.partition(": null for every user in every window: ")[2]: n for n in notes}
    assert len(by_cause) == 2, notes
    timed = by_cause["no call has a known duration (a call of 0 s is read as a missed call, "
                     "which has none)"]
    assert timed.startswith(", ".join(f for f in FEATURES if f in durations) + " are unavailable")
    joined = by_cause["no call joins two of your subscribers, so no contact's age, sex or "
                      "birth province is known"]
    # similar_age is named for the ages the subscribers lack, not here again
    named = [f for f in FEATURES if f in contacts and f != "similar_age"]
    assert joined.startswith(", ".join(named) + " are unavailable"), joined
    # a place's feature, with cells: not for want of calls between subscribers (review 99 M4)
    con.execute("INSERT INTO cells VALUES ('C1', 31.2, 121.4)")
    located = next(f for f, x in FEATURES.items() if x.support == "located")
    con.execute(f"UPDATE features SET {quote(located)} = NULL")
    [note] = [n for n in unavailable_data(con) if n.startswith(f"{located} is unavailable")]
    assert note.endswith("it needs subscribers (only their calls carry cells), when `cells` has "
                         "rows, and the data have none"), note
    assert "similar_age is unavailable: no subscriber has an age" in unavailable_data(con)
    # a call of known duration between the two subscribers: other causes, by the users needed
    con.execute("INSERT INTO calls VALUES ('2016-09-05', 1, 2, '2016-09-05 11:00:00', NULL, "
                "30.0, NULL, NULL)")
    notes = [n for n in unavailable_data(con) if "null for every user" in n]
    assert notes and all("and the data have none" in n for n in notes), notes


def test_prices_of_part_of_the_cells_are_named(con):
    """An estates file covering part of the city (probe 26, M1: 38 of 301 cells priced): what
    the data cannot give says on how many cells the housing price features rest; with 9 of 10
    priced it says nothing."""
    con.execute("INSERT INTO estates VALUES ('E1', 31.2, 121.4, 52000.0)")
    con.execute("CREATE TABLE cell_prices AS SELECT 'c' || i AS cell_id, "
                "CASE WHEN i < 3 THEN 5e4 END AS price FROM range(10) AS t(i)")
    note = ("housing price features rest on 3 of the 10 cells: the others have no estate within "
            "5 km (SPEC §5; the estates cover part of the city), so the prices of users whose "
            "places lie there are null")
    assert note in unavailable_data(con)
    con.execute("UPDATE cell_prices SET price = 5e4 WHERE cell_id <> 'c9'")
    assert not [n for n in unavailable_data(con) if "rest on" in n]


def test_a_places_file_quarantined_whole_is_named_so(con):
    """A cells file whose every row was quarantined (lat and lon swapped: every tower outside
    the box) is named with its reasons, not as an empty table, which reads as if no file was
    given (probe 32 L2); an estates file never given stays "is empty"."""
    con.executemany("INSERT INTO quarantine_cells VALUES (?, 'towers.csv', ?, '{}')",
                    [("outside_bbox", i) for i in range(2, 5)] + [("missing_id", 5)])
    notes = unavailable_data(con)
    assert notes[:2] == [
        "geography and housing price features are unavailable: the data has no cell locations "
        "(every row of the cells file was quarantined: missing_id 1, outside_bbox 3; see the "
        "check cells.quarantine_share)",
        "housing price features are unavailable: the data has no estates (table estates is "
        "empty)"]


def test_report_with_missing_and_empty_tables(con, tmp_path):
    """The report renders on an empty ingestion schema plus labels without a departure study:
    it says which sections are unavailable and why."""
    con.execute("CREATE TABLE user_labels (user_id BIGINT, integration_label VARCHAR, "
                "departure_label VARCHAR)")
    con.execute("INSERT INTO user_labels VALUES (1, 'local', NULL), (2, 'settled_migrant', NULL)")
    cfg = StudyConfig(workdir=tmp_path)
    notes = unavailable_data(con)
    assert notes == [
        "geography and housing price features are unavailable: the data has no cell locations "
        "(table cells is empty)",
        "housing price features are unavailable: the data has no estates (table estates is "
        "empty)",
        "the integration study has no new migrants: the experiments that need them are "
        "skipped",
        "the departure study is unavailable: no departure-labelled users",
        "every feature, trend and classifier is unavailable: table features does not exist: "
        "its asset has not been materialized, or its run failed",
    ]
    assert skipped_experiments(con).empty
    report = render_report(con, cfg)
    html = report.write(tmp_path / "report.html").read_text()
    for note in notes:
        assert note.replace("'", "&#x27;") in html
    assert "What this report cannot show" in html
    assert "table model_results does not exist" in html
    assert report.problems == notes  # nothing else failed: every section rendered


def test_a_check_runs_on_its_own(no_leavers):
    """A check reads the result tables: the UI can run it alone, and it refits nothing (no
    materialization); a check of `departure_models` runs alone for one k."""
    from migrant_assets.defs import defs

    key = dg.AssetCheckKey(dg.AssetKey("integration_models"), "no_user_in_train_and_test")
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(), asset_check_selection={key})
    result = job.execute_in_process(run_config=QUIET, instance=no_leavers["instance"])
    assert result.success and result.get_asset_materialization_events() == []
    (evaluation,) = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed) == ("no_user_in_train_and_test", True)
    assert evaluation.metadata["memberships_judged"].value > 0

    key = dg.AssetCheckKey(dg.AssetKey("departure_models"), "no_user_in_train_and_test")
    # a check-only run needs a job with the asset's partitions (the global job has several)
    job = dg.Definitions.merge(defs, dg.Definitions(jobs=[dg.define_asset_job(
        "departure_models_job", selection=["departure_models"])])).resolve_job_def(
        "departure_models_job").get_subset(asset_selection=set(), asset_check_selection={key})
    result = job.execute_in_process(run_config=QUIET, instance=no_leavers["instance"],
                                    partition_key=no_leavers["k_max"])
    assert result.success and result.get_asset_materialization_events() == []
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.partition == no_leavers["k_max"]
    assert evaluation.metadata["judged"].value == 0
