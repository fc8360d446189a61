"""The feature stage on Apache Spark (local mode) against DuckDB (issue 14, docs/spark.md).

On the `tiny` city, taken through the pipeline's functions on DuckDB (``stages.py``), the
window graphs and features of the three integration weeks the integration models read and one
first-k-days window are computed again on Spark (``migrant_assets.engines``: the same SQL
files, translated by sqlglot) and read back into a copy of the DuckDB file: every feature
column equals DuckDB's (same users, labels and nulls; values to 1e-9, relative above 1), and
the departure and integration models fit on the Spark-fed features give the same tables as
those fit on DuckDB's. ``MIGRANT_ASSETS_SPARK_ALL_WINDOWS=1`` runs every window of the study
(whole period included; minutes instead of one). The Spark run is a background job of the
session (``background.Job``, in a process of its own, beside the other tests once the
`tiny` demo, which goes first, has ended; it needs none of its files); skipped only when Java
or pyspark is missing. The Dagster assets on Spark run on a copy of the `tiny` demo's files, in
a background job of their own after the demo.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from migrant_assets.config import StudyConfig, SyntheticSource
from migrant_assets.db import connect

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (extra `spark`)")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java runtime: Spark needs one (.ci/run installs openjdk-17-jre-headless)",
                allow_module_level=True)

from migrant_assets import engines  # noqa: E402
from migrant_assets.graphs import build_window_graph, window_graph_stats  # noqa: E402
from migrant_assets.models.data import assign_departure_folds, integration_weeks  # noqa: E402
from migrant_assets.models.departure import evaluate_window  # noqa: E402
from migrant_assets.models.integration import settled_vs_locals, three_way  # noqa: E402
from migrant_assets.models.workers import release_workers  # noqa: E402
from migrant_assets_tests import background  # noqa: E402
from migrant_assets_tests.stages import run_stages, through_features  # noqa: E402

#: The k of the departure models compared (a window whose classes the tiny city supports).
MODEL_K_LABEL = "k=7"
#: The tests' Spark settings over ``engines.SPARK_DEFAULTS``, for inputs of a few thousand rows:
#: two shuffle partitions, no adaptive re-planning, no whole-stage code generation, and a JVM
#: that compiles with C1 only and one GC thread. On such inputs a statement's cost is its
#: planning, its generated code's compilation and the JIT. The four windows of SPARK_RUN took 155.5
#: CPU-s with these against 230.6 with two shuffle partitions alone, the same features
#: (`benchmarks/engines.py --presets tiny --threads 2 --families integration_week first_k_days
#: --labels W2 W3 W4 k=7 --conf former=... --conf suite=...`). How Spark runs a plan, not what
#: it computes: every result is still compared with DuckDB's.
TEST_CONF = {"spark.sql.shuffle.partitions": "2", "spark.sql.adaptive.enabled": "false",
             "spark.sql.codegen.wholeStage": "false",
             "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}


def _windows(cfg) -> list:
    cal = cfg.calendar
    if os.environ.get("MIGRANT_ASSETS_SPARK_ALL_WINDOWS"):
        return cal.windows()
    # the weeks the integration models read (trained on W2, tested on W2..W4) and the first k
    # days of the departure models: Spark's cost is per statement, about a minute a window here
    return [*integration_weeks(cfg),
            next(w for w in cal.windows("first_k_days") if w.label == MODEL_K_LABEL)]


def on_spark(cfg: StudyConfig, warehouse, conf: dict[str, str] = TEST_CONF) -> StudyConfig:
    """``cfg`` with ``engine: spark`` (local, ``conf``: :data:`TEST_CONF`) over
    ``warehouse``."""
    return cfg.model_copy(update={"engine": cfg.engine.model_copy(update={
        "kind": "spark", "warehouse": str(warehouse), "conf": conf})})


def _duckdb_side(cfg: StudyConfig, windows: list) -> None:
    """The study's DuckDB file as the assets leave it for ``windows``: the tiny city through
    their graphs and features (and k = k_max's, for the departure folds), the departure models
    of their first-k-days windows and the integration study's regressions fit on them."""
    seed = cfg.models.seed
    longest = cfg.calendar.windows("first_k_days")[-1]
    built = [*windows, *([] if longest in windows else [longest])]
    try:
        run_stages(cfg, [
            *through_features(cfg, built),
            lambda con: assign_departure_folds(con, cfg, seed),
            *[lambda con, w=w: evaluate_window(con, cfg, w, seed)
              for w in windows if w.family == "first_k_days"],
            lambda con: three_way(con, cfg, seed),
            lambda con: settled_vs_locals(con, cfg, seed),
        ])
    finally:
        release_workers()


def _spark_run() -> dict:
    """The tiny city on DuckDB (:func:`_duckdb_side`), the DuckDB file copied, its windows'
    graphs and features recomputed on Spark local[2] and read back into the copy; DuckDB's
    features and graph stats kept beside. A background job of the session, in a process of its
    own (its JVM stops with it)."""
    tmp = background.scratch("spark")
    cfg = StudyConfig(workdir=tmp / "work", source=SyntheticSource(preset="tiny"))
    windows = _windows(cfg)
    _duckdb_side(cfg, windows)
    shutil.copy(cfg.duckdb_path, tmp / "spark_fed.duckdb")
    cfg = on_spark(cfg, tmp / "warehouse")
    con = connect(tmp / "spark_fed.duckdb", cfg.duckdb)
    try:
        duck = {w.window_id: (
            con.execute("SELECT * FROM features WHERE window_id = ? ORDER BY user_id",
                        [w.window_id]).df(),
            window_graph_stats(con, w)) for w in windows}
        days = sorted({w.start + timedelta(days=i)
                       for w in windows for i in range((w.end - w.start).days + 1)})
        with engines.spark_sql(cfg) as sql:
            engines.export_inputs(con, sql)
            n_calls = engines.spark_daily_contacts(con, sql, days)
            spark = {}
            for w in windows:
                stats = build_window_graph(sql, w, None, cfg)  # as the assets: with the study
                engines.spark_features(con, sql, cfg, w)
                spark[w.window_id] = (
                    con.execute("SELECT * FROM features WHERE window_id = ? ORDER BY user_id",
                                [w.window_id]).df(), stats)
    finally:
        con.close()
    return {"cfg": cfg, "path": tmp / "spark_fed.duckdb", "duck": duck, "spark": spark,
            "windows": windows, "n_calls": n_calls, "days": days}


#: The Spark run, beside the rest of the suite once the `tiny` demo has ended.
SPARK_RUN = background.Job("the Spark features", _spark_run, isolated=True)


#: The tests that read it: the session starts it once they are collected, and runs them last.
reads_spark_run = pytest.mark.background(SPARK_RUN)


@pytest.fixture(scope="module")
def spark_run():
    """:data:`SPARK_RUN`'s result, and ``con``: the Spark-fed copy of the DuckDB file. The
    Spark session the module's tests started in this process is stopped afterwards (the JVM's
    memory back to the rest of the suite)."""
    run = SPARK_RUN.result()
    con = connect(run["path"], run["cfg"].duckdb)
    yield {**run, "con": con}
    con.close()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


@reads_spark_run
def test_spark_features_equal_duckdb_features(spark_run):
    """Every feature column of every window computed: same users, labels and nulls, values to
    1e-9 (relative above 1: a price of 5e4 yuan rounded to the microyuan in the exact sums can
    differ by one unit between the engines' double -> decimal casts, 1e-11 of it)."""
    assert len(spark_run["windows"]) >= 3
    for window_id, (duck, _) in spark_run["duck"].items():
        spark, _ = spark_run["spark"][window_id]
        assert len(duck) > 100, window_id
        assert list(spark.columns) == list(duck.columns)
        assert spark["user_id"].tolist() == duck["user_id"].tolist(), window_id
        assert spark["label"].tolist() == duck["label"].tolist(), window_id
        assert (spark["study"] == duck["study"]).all()
        for column in duck.columns[4:]:
            a = duck[column].to_numpy(float)
            b = spark[column].to_numpy(float)
            assert (np.isnan(a) == np.isnan(b)).all(), (window_id, column)
            both = ~np.isnan(a)
            assert both.any() or column.endswith("price"), (window_id, column)
            gap = np.abs(a[both] - b[both]) / np.maximum(1.0, np.abs(a[both]))
            assert gap.max(initial=0.0) <= 1e-9, (window_id, column, gap.max())


@reads_spark_run
def test_spark_window_graphs_equal_duckdb_graphs(spark_run):
    """Nodes, edges, reciprocity, calls and durations of each window graph built on Spark."""
    assert spark_run["n_calls"] > 1000
    for window_id, (_, duck) in spark_run["duck"].items():
        spark = spark_run["spark"][window_id][1]
        assert spark["built_from"] is None  # on Spark, each window from its own days
        for key in ("n_nodes", "n_edges", "n_undirected_edges", "n_calls"):
            assert spark[key] == duck[key] > 0, (window_id, key)
        for key in ("reciprocity", "duration_s"):
            assert spark[key] == pytest.approx(duck[key], rel=1e-12), (window_id, key)


@reads_spark_run
def test_models_on_spark_features_equal_duckdb_models(spark_run):
    """The departure models of each first-k-days window computed (one k by default, every k
    with ``MIGRANT_ASSETS_SPARK_ALL_WINDOWS=1``), fit again on the Spark-fed features, give
    the table fit on DuckDB's features row for row."""
    cfg, con = spark_run["cfg"], spark_run["con"]
    windows = [w for w in spark_run["windows"] if w.family == "first_k_days"]
    assert any(w.label == MODEL_K_LABEL for w in windows)
    query = ("SELECT * EXCLUDE (fitted_in) FROM departure_models WHERE window_id = ? "
             "ORDER BY experiment, \"row\", model")
    for window in windows:
        before = con.execute(query, [window.window_id]).df()
        if window.label == MODEL_K_LABEL:
            assert (before["status"] == "ok").sum() >= 4  # the classifiers ran on DuckDB's
        evaluate_window(con, cfg, window, cfg.models.seed)
        after = con.execute(query, [window.window_id]).df()
        pd.testing.assert_frame_equal(after, before, check_exact=False, rtol=1e-12,
                                      obj=window.window_id)


@reads_spark_run
def test_integration_models_on_spark_features_equal_duckdb_models(spark_run):
    """The integration study's regressions (settled vs locals with backward removal, the share
    classified as locals, the three-way one), fit again on the Spark-fed features of the weeks
    they read (W2..W4), give the tables fit on DuckDB's features row for row, the backward
    removal's candidates too. Features that differ by round-off (2e-11) gave other rows while the
    solver stopped at scikit-learn's default tolerance (``models.lr_tol``, docs/spark.md)."""
    from migrant_assets.models.integration import CANDIDATES

    cfg, con = spark_run["cfg"], spark_run["con"]
    assert {w.window_id for w in integration_weeks(cfg)} <= {
        w.window_id for w in spark_run["windows"]}
    queries = {
        "integration_models": 'SELECT * FROM integration_models ORDER BY experiment, window_id, '
                              '"row", target, step',
        CANDIDATES: f"SELECT * FROM {CANDIDATES} ORDER BY ALL"}
    before = {t: con.execute(q).df() for t, q in queries.items()}
    ok = before["integration_models"].query("status == 'ok' and c.notna()")
    assert set(ok["experiment"]) == {"settled_vs_locals_lr", "three_way"}  # fit on DuckDB's
    assert (ok["lr_tol"] == cfg.models.lr_tol).all()
    three_way(con, cfg, cfg.models.seed)
    settled_vs_locals(con, cfg, cfg.models.seed)
    for table, query in queries.items():
        after = con.execute(query).df()
        assert len(after) == len(before[table]) > 10, table
        pd.testing.assert_frame_equal(after, before[table], check_exact=False, rtol=1e-12,
                                      obj=table)


@reads_spark_run
def test_partition_overwrite_is_idempotent_and_local(spark_run, tmp_path):
    """On Spark, the delete-then-insert of one partition replaces that partition only, and
    re-running it gives the same rows."""
    cfg = on_spark(spark_run["cfg"], tmp_path / "warehouse")
    with engines.spark_sql(cfg) as sql:
        sql.execute("CREATE TABLE IF NOT EXISTS part_test (window_id VARCHAR, x BIGINT)")
        write = ("DELETE FROM part_test WHERE window_id = $window_id;\n"
                 "INSERT INTO part_test SELECT $window_id AS window_id, $x AS x")
        from migrant_assets.db import run_text

        for window_id, x in (("a:1", 1), ("b:2", 2), ("a:1", 3), ("a:1", 3)):
            run_text(sql, write, {"window_id": window_id, "x": x})
        rows = sorted(sql.execute("SELECT window_id, x FROM part_test").fetchall())
        assert rows == [("a:1", 3), ("b:2", 2)]
        with pytest.raises(ValueError, match="one partition"):
            sql.execute("DELETE FROM part_test WHERE x = $x", {"x": 1})


@reads_spark_run
def test_a_later_steps_session_reads_the_calls_another_step_copied(spark_run):
    """The calls the daily_contacts step copied to the warehouse (the days of the windows) are
    read by a later step's session (another process: it knows only the tables it declares,
    here the view dropped) once engines.declare_calls declares them: DuckDB's calls of those
    days, row for row."""
    from pyspark.sql import SparkSession

    con, days = spark_run["con"], spark_run["days"]
    want = con.execute("SELECT count(*) FROM calls WHERE list_contains(?, call_date)",
                       [days]).fetchone()[0]
    SparkSession.getActiveSession().catalog.dropTempView("calls")
    with engines.spark_sql(spark_run["cfg"]) as sql:
        with pytest.raises(Exception, match="(?i)calls"):
            sql.execute("SELECT count(*) FROM calls").fetchall()
        engines.declare_calls(con, sql)
        rows = sql.execute("SELECT caller, callee, start_ts FROM calls").fetchall()
    assert want > 1000 and len(rows) == want
    frame = pd.DataFrame(rows, columns=["caller", "callee", "start_ts"])
    duck = con.execute("SELECT caller, callee, start_ts FROM calls "
                       "WHERE list_contains(?, call_date) ORDER BY ALL", [days]).df()
    assert frame.sort_values(list(frame.columns)).reset_index(drop=True).equals(duck)


def test_cte_read_twice_is_computed_once_for_its_statement(tmp_path):
    """A CTE read more than once is computed once, as a checkpointed view of the statement (as
    DuckDB materializes it), dropped afterwards; the rows are DuckDB's. A CTE read once stays
    inline."""
    import duckdb

    from migrant_assets.config import StudyConfig
    from migrant_assets.db import run_text

    # Spark's own plan settings (adaptive execution, whole-stage code generation), as a study
    # runs them: the tests' other sessions turn them off (TEST_CONF)
    cfg = on_spark(StudyConfig(), tmp_path / "warehouse", {"spark.sql.shuffle.partitions": "2"})
    setup = ("CREATE TABLE IF NOT EXISTS twice_test (window_id VARCHAR, x BIGINT);\n"
             "DELETE FROM twice_test WHERE window_id = $w;\n"
             "INSERT INTO twice_test SELECT $w AS window_id, x "
             "FROM (VALUES (1), (2), (3), (5), (8)) AS v(x)")
    query = ("WITH p AS (SELECT x FROM twice_test WHERE x > $lo), "
             "s AS (SELECT SUM(x) AS total FROM p) "
             "SELECT a.x, b.x AS y, s.total FROM p AS a JOIN p AS b ON b.x > a.x CROSS JOIN s "
             "ORDER BY a.x, b.x")
    duck = duckdb.connect()
    run_text(duck, setup, {"w": "a"})
    want = duck.execute(query, {"lo": 1}).fetchall()
    assert len(want) == 6 and want[0] == (2, 3, 18)
    with engines.spark_sql(cfg) as sql:
        run_text(sql, setup, {"w": "a"})
        before = sql._cte_count
        got = sql.execute(query, {"lo": 1}).fetchall()
        assert [tuple(r) for r in got] == want
        assert sql._cte_count == before + 1  # p (read three times); s, read once, inline
        assert not sql._cte_views
        assert not [t.name for t in sql.spark.catalog.listTables() if t.name.startswith("cte_")]


def _dagster_on_spark(tiny: dict) -> dict:
    """The Dagster assets of one first-k-days window on Spark, on a copy of the `tiny` demo's
    DuckDB file, what they gave and what the demo's DuckDB run gave: a background job of the
    session (in a process of its own: its JVM, beside the session's tests), after the demo."""
    import dagster as dg
    import yaml
    from pyspark.sql import SparkSession

    from migrant_assets.defs import features as fa
    from migrant_assets.defs import graphs as ga
    from migrant_assets.defs.resources import StudyResource
    from migrant_assets.features import evaluate_feature_checks
    from migrant_assets.graphs import window_graph_consistency

    for var in ("MIGRANT_ASSETS_DUCKDB", "MIGRANT_ASSETS_WORKDIR", "MIGRANT_ASSETS_CONFIG"):
        os.environ.pop(var, None)
    tmp = background.scratch("spark_dagster")
    cfg = tiny["cfg"]
    # the copy taken as the demo ended: the session's tests may be writing the original now
    shutil.copy(tiny["pristine"] / "work" / cfg.duckdb_path.relative_to(cfg.workdir),
                tmp / "migrant_assets.duckdb")
    window = cfg.calendar.windows("first_k_days")[0]
    con = connect(tmp / "migrant_assets.duckdb")
    want = con.execute("SELECT * FROM features WHERE window_id = ? ORDER BY user_id",
                       [window.window_id]).df()
    # on Spark the DuckDB file holds no graph (a fresh study: no window_graph; one a DuckDB run
    # left: stale): the feature checks judge the warehouse's, so an empty one here changes nothing
    con.execute("DELETE FROM first_k_days_graph")
    day_rows = {d.isoformat(): n for d, n in con.execute(
        "SELECT call_date, count(*) FROM daily_contacts WHERE call_date BETWEEN ? AND ? "
        "GROUP BY 1", [window.start, window.end]).fetchall()}
    con.close()
    study = tmp / "study.yaml"
    study.write_text(yaml.safe_dump({
        "workdir": str(tmp), "calendar": cfg.calendar.model_dump(mode="json"),
        "city": cfg.city.model_dump(mode="json"), "source": cfg.source.model_dump(mode="json"),
        "thresholds": cfg.thresholds.model_dump(mode="json"), "population": cfg.population,
        "engine": {"kind": "spark", "warehouse": str(tmp / "warehouse"), "conf": TEST_CONF}}))
    resources = {"study": StudyResource(config_path=str(study))}
    instance = dg.DagsterInstance.ephemeral()
    days = [(window.start + timedelta(days=i)).isoformat()
            for i in range((window.end - window.start).days + 1)]
    span = {"dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1]}
    out: dict = {"days": days, "day_rows": day_rows, "want": want}
    contacts = dg.materialize([ga.daily_contacts], resources=resources, instance=instance,
                              tags=span)
    out["contacts_ok"] = contacts.success
    events = contacts.get_asset_materialization_events()
    out["contacts"] = {e.partition: {k: v.value for k, v in e.materialization.metadata.items()
                                     if k in ("dagster/row_count", "calls_in_run")}
                       for e in events}
    first_k = dg.materialize([ga.first_k_days_contacts], resources=resources, instance=instance,
                             tags=span)
    out["first_k_ok"] = first_k.success  # the view over the span of the first k days
    out["first_k_calls"] = {e.materialization.metadata["calls_in_run"].value
                            for e in first_k.get_asset_materialization_events()}
    result = dg.materialize([ga.first_k_days_graph, ga.first_k_days_graph_edges,
                             fa.features_first_k_days, fa.features_first_k_days_checks],
                            resources=resources, instance=instance, partition_key=window.key)
    out["window_ok"] = result.success
    out["checks"] = {e.check_name: (e.passed, {k: v.value for k, v in e.metadata.items()
                                               if k == "judged"})
                     for e in result.get_asset_check_evaluations()}
    out["engines"] = {m.materialization.metadata["engine"].value
                      for m in result.get_asset_materialization_events()}
    # the check in a later step's session (its own process: the views the steps before it left
    # are gone) reads the calls copied by daily_contacts and today's labels
    out["views_dropped"] = [SparkSession.getActiveSession().catalog.dropTempView(view)
                            for view in ("calls", "user_labels")]
    with ga.engine_connection(resources["study"]) as sql:
        alone = window_graph_consistency(sql, window, resources["study"].config)
    out["alone"] = (alone["ok"], alone["judged"])
    # so do the feature checks, with the inputs the feature step copied
    out["views_dropped"] += [SparkSession.getActiveSession().catalog.dropTempView(view)
                             for view in ("cells", "estates", "subscribers", "cell_prices")]
    with ga.engine_connection(resources["study"], feature_inputs=True) as sql:
        outcomes = evaluate_feature_checks(sql, resources["study"].config, window)
    out["outcomes"] = {name: (o.passed, o.judged) for name, o in outcomes.items()}
    con = connect(tmp / "migrant_assets.duckdb")
    out["got"] = con.execute("SELECT * FROM features WHERE window_id = ? ORDER BY user_id",
                             [window.window_id]).df()
    con.close()
    return out


#: The Dagster assets on Spark, after the `tiny` demo, beside the session's tests.
SPARK_DAGSTER = background.Job("the Dagster assets on Spark", _dagster_on_spark,
                               after=background.TINY, isolated=True)


@pytest.mark.background(SPARK_DAGSTER)
def test_dagster_assets_run_on_spark_with_their_partitions_and_checks():
    """With ``engine: spark`` in the study config, the same assets, partitions and checks on a
    copy of the `tiny` demo's files: the daily contacts of the first three days, the graph of
    k = 3 (its blocking check judged on Spark) and its features (read back; every feature check
    judged on Spark, against the warehouse's graph: the DuckDB file's is emptied) materialize,
    and the features equal the demo's."""
    from migrant_assets.features import CHECKS

    run = SPARK_DAGSTER.result()
    assert run["contacts_ok"]
    assert sorted(run["contacts"]) == run["days"]  # one materialization per day
    meta = run["contacts"][run["days"][0]]
    assert meta["dagster/row_count"] > 0 and meta["calls_in_run"] > 0
    # each day its own rows (the range's total on every day before), as DuckDB's
    assert {day: m["dagster/row_count"] for day, m in run["contacts"].items()} == run["day_rows"]
    assert run["first_k_ok"]
    # the same days' contacts count the same calls
    assert run["first_k_calls"] == {meta["calls_in_run"]}
    assert run["window_ok"]
    checks = run["checks"]
    assert sorted(checks) == sorted(["edges_match_calls", *CHECKS])
    assert checks["edges_match_calls"][0] and checks["edges_match_calls"][1]["judged"] > 0
    assert checks["one_row_per_active_labelled_user"][0]
    assert all(run["views_dropped"])
    ok, judged = run["alone"]
    assert ok and judged > 0
    passed, judged = run["outcomes"]["one_row_per_active_labelled_user"]
    assert passed and judged > 100
    assert run["outcomes"]["null_shares_under_thresholds"][1] > 0
    assert run["engines"] == {"spark"}
    got, want = run["got"], run["want"]
    assert len(got) > 100 and got["user_id"].tolist() == want["user_id"].tolist()
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)


def test_distance_radii_are_the_same_doubles_on_both_engines(tmp_path):
    """The 1 km and 5 km radii of ``housing_price.sql`` (``r / (2 R)``, the earth radius a
    macro) are the same doubles on Spark as on DuckDB, so a position and an estate 1 km apart
    to within 2e-9 (a pair of the ``large`` city whose home centre price differed) are decided
    alike: a decimal literal R made Spark's radius a DECIMAL of 12 digits."""
    import math

    from migrant_assets.config import StudyConfig
    from migrant_assets.db import run_sql

    cfg = StudyConfig()
    cfg = cfg.model_copy(update={"engine": cfg.engine.model_copy(update={
        "kind": "spark", "warehouse": str(tmp_path / "warehouse")})})
    unit = ("COS(RADIANS({0})) * COS(RADIANS({1})) AS x{2}, "
            "COS(RADIANS({0})) * SIN(RADIANS({1})) AS y{2}, SIN(RADIANS({0})) AS z{2}")
    query = (
        "SELECT 4 * POWER(SIN(1.0 / (2 * EARTH_RADIUS_KM())), 2) AS r1, "
        "4 * POWER(SIN(5.0 / (2 * EARTH_RADIUS_KM())), 2) AS r5, "
        "(xp - xe) * (xp - xe) + (yp - ye) * (yp - ye) + (zp - ze) * (zp - ze) "
        "<= 4 * POWER(SIN(1.0 / (2 * EARTH_RADIUS_KM())), 2) AS within "
        f"FROM (SELECT {unit.format('$lat', '$lon', 'p')}, "
        f"{unit.format('$elat', '$elon', 'e')}) AS u")
    pair = {"lat": 31.31704017935768, "lon": 121.51576954337295,
            "elat": 31.308839423431262, "elon": 121.51144896618145}
    duck = connect(":memory:")
    run_sql(duck, "features/macros.sql")
    want = duck.execute(query, pair).fetchone()
    chord = 2 * math.asin(math.sqrt(want[0]) / 2) * 6371.0088
    assert chord == pytest.approx(1.0, rel=1e-12)  # r1 is the 1 km chord
    assert want[2] is False  # the estate lies 1 km + 1.5e-9 relative away
    with engines.spark_sql(cfg) as sql:
        run_sql(sql, "features/macros.sql")
        got = sql.execute(query, pair).fetchone()
    assert tuple(got) == tuple(want)


def test_a_spark_start_that_fails_names_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe 20 (findings 3, 4, 10): the one line a failed Spark start gives the user is the
    cause (a Java home without java, the Java exception's message), not Py4J's generic one."""
    from migrant_assets.engines import spark_start_problem

    monkeypatch.delenv("JAVA_HOME", raising=False)
    py4j = RuntimeError("An error occurred while calling None.org.apache.spark.api.java."
                        "JavaSparkContext.\n: org.apache.spark.SparkException: Could not parse "
                        "Master URL: 'local[two]'\n\tat org.apache.spark.SparkContext$.x")
    assert spark_start_problem(py4j) == "Could not parse Master URL: 'local[two]'"
    gateway = RuntimeError("[JAVA_GATEWAY_EXITED] Java gateway process exited before sending "
                           "its port number.\nmore")
    assert spark_start_problem(gateway) == ("RuntimeError: [JAVA_GATEWAY_EXITED] Java gateway "
                                            "process exited before sending its port number.")
    monkeypatch.setenv("JAVA_HOME", "/nonexistent/jdk")
    assert spark_start_problem(gateway) == "JAVA_HOME=/nonexistent/jdk has no bin/java"
