"""Feature checks that fit the data (migrant_assets.features.evaluate_feature_checks): thresholds
from the study config, null shares judged over the users whose data can support a value, no
check passing on nothing, planted faults caught; and the Dagster assets materializing on a data
source without cells or estates."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest
import yaml
from test_features import A_WEEK, load, random_city

from migrant_assets.config import Checks, StudyConfig
from migrant_assets.db import connect, quote_identifier
from migrant_assets.features import (
    CHECKS,
    FEATURES,
    build_features,
    evaluate_feature_checks,
    features_table,
    judged_null_shares,
)
from migrant_assets.graphs import build_daily_contacts, graph_table

CFG = StudyConfig()
TABLE = features_table(A_WEEK)  # the departure weeks' table, under the view `features`
PRICES = [n for n, f in FEATURES.items() if f.family == "housing_price"]
GEOGRAPHY = [n for n, f in FEATURES.items() if f.family == "geography"]


@pytest.fixture
def city():
    return random_city(13)


@pytest.fixture
def built(city):
    calls, subscribers, cells, estates, labels, _ = city
    con = load(calls, subscribers, cells, estates, labels, [A_WEEK])
    build_features(con, CFG, A_WEEK)
    yield con
    con.close()


def not_judged(outcome) -> bool:
    return not outcome.passed and outcome.judged == 0 and outcome.severity == "WARN" \
        and bool(outcome.reason)


def test_a_good_window_passes_every_check_with_something_judged(built):
    outcomes = evaluate_feature_checks(built, CFG, A_WEEK)
    assert set(outcomes) == set(CHECKS)
    n = built.execute("SELECT count(*) FROM features").fetchone()[0]
    assert all(o.passed and o.judged > 0 and o.reason is None for o in outcomes.values())
    assert outcomes["one_row_per_active_labelled_user"].metadata["n_rows"] == n > 20
    assert outcomes["null_shares_under_thresholds"].judged == len(FEATURES)


def test_zero_rows_fail_while_the_population_has_users(built):
    """A window whose features vanished (or were never written) must not pass."""
    built.execute(f"DELETE FROM {TABLE}")
    outcomes = evaluate_feature_checks(built, CFG, A_WEEK)
    rows = outcomes["one_row_per_active_labelled_user"]
    assert not rows.passed and rows.judged > 0 and rows.severity == "ERROR"
    assert rows.metadata["missing_users"] == rows.metadata["n_expected"] > 0
    for check in CHECKS:
        if check != "one_row_per_active_labelled_user":
            assert not_judged(outcomes[check]), check
    # a week the data hold no call of a labelled user in (they start later, an outage): not
    # judged, saying so; with their calls there but none in its graph: a failure
    quiet = CFG.calendar.window("integration_week", "2016-09-24")
    assert built.execute("SELECT count(*) FROM calls WHERE call_date >= '2016-09-24'"
                         ).fetchone()[0] == 0
    outcomes = evaluate_feature_checks(built, CFG, quiet)
    rows = outcomes["one_row_per_active_labelled_user"]
    assert not_judged(rows) and rows.metadata["n_candidates"] > 0
    assert "none of the" in rows.reason and "labelled users is active" in rows.reason
    built.execute("INSERT INTO calls SELECT DATE '2016-09-25', caller, callee, "
                  "start_ts + INTERVAL 20 DAY, NULL, NULL, NULL, NULL FROM calls WHERE caller IN "
                  "(SELECT user_id FROM user_labels WHERE integration_label IS NOT NULL) "
                  "ORDER BY start_ts, caller, callee LIMIT 1")
    outcomes = evaluate_feature_checks(built, CFG, quiet)
    rows = outcomes["one_row_per_active_labelled_user"]
    assert not rows.passed and rows.severity == "ERROR" and rows.metadata["n_expected"] == 0
    assert rows.metadata["n_candidates"] > 0 and "no featurised user" in rows.reason


def test_nothing_at_all_is_not_judged(built):
    built.execute(f"DELETE FROM {TABLE}")
    built.execute("DELETE FROM user_labels")
    built.execute(f"DELETE FROM {graph_table(A_WEEK)}")
    outcomes = evaluate_feature_checks(built, CFG, A_WEEK)
    assert all(not_judged(o) for o in outcomes.values()), outcomes


@pytest.mark.parametrize(("column", "value", "check"), [
    ("clustering", 1.5, "fractions_in_unit_interval"),
    ("reciprocal_call", -0.01, "fractions_in_unit_interval"),
    ("communication_diversity", 1.1, "entropies_in_range"),
    ("province_diversity", -0.5, "entropies_in_range"),
    ("max_radius", 500.0, "radii_consistent"),  # further than any two cells are apart
    ("home_work_distance", 500.0, "radii_consistent"),
    ("center_lat", 32.5, "radii_consistent"),  # outside the cells' bounding box
    ("work_lon", 120.0, "radii_consistent"),
    ("neighbor_avg_price", 1e7, "prices_within_estates_range"),
])
def test_planted_out_of_range_values_fail(built, column, value, check):
    uid = built.execute("SELECT min(user_id) FROM features WHERE center_lat IS NOT NULL "
                        "AND province_diversity IS NOT NULL").fetchone()[0]
    built.execute(f'UPDATE {TABLE} SET "{column}" = ? WHERE user_id = ?', [value, uid])
    outcomes = evaluate_feature_checks(built, CFG, A_WEEK)
    assert not outcomes[check].passed and outcomes[check].judged > 0
    assert outcomes[check].severity == "ERROR"
    assert outcomes[check].metadata["rows_out_of_range"] == 1
    assert all(o.passed for c, o in outcomes.items() if c not in (check,
               "null_shares_under_thresholds"))


def test_tolerance_comes_from_the_config(built):
    uid = built.execute("SELECT min(user_id) FROM features").fetchone()[0]
    built.execute(f"UPDATE {TABLE} SET clustering = 1 + 1e-10 WHERE user_id = ?", [uid])
    assert evaluate_feature_checks(built, CFG, A_WEEK)["fractions_in_unit_interval"].passed
    strict = StudyConfig(checks=Checks(tolerance=0.0))
    assert not evaluate_feature_checks(built, strict, A_WEEK)["fractions_in_unit_interval"].passed


def test_label_and_row_faults_fail(built):
    uid, other = built.execute("SELECT min(user_id), max(user_id) FROM features").fetchone()
    built.execute(f"UPDATE {TABLE} SET label = 'local' WHERE user_id = ? AND label <> 'local'",
                  [uid])
    built.execute(f"UPDATE {TABLE} SET label = 'staying_migrant' WHERE user_id = ? "
                  "AND label = 'local'", [uid])
    built.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE} WHERE user_id = ?", [other])
    rows = evaluate_feature_checks(built, CFG, A_WEEK)["one_row_per_active_labelled_user"]
    assert not rows.passed and rows.metadata["wrong_labels"] >= 1
    assert rows.metadata["duplicate_rows"] == 1


def test_demographic_null_share_is_judged_over_supported_users_only(city, built):
    """similar_age is judged over users of known age with a contact of known age (computed here
    from the city); users without one are null by definition and do not count."""
    calls, subscribers, *_ = city
    age = {u: a for u, a, *_ in subscribers}
    featurised = {r[0] for r in built.execute("SELECT user_id FROM features").fetchall()}
    contacts = {u: set() for u in featurised}
    for a, b, start, *_ in calls:
        if A_WEEK.start <= start.date() <= A_WEEK.end:
            for u, v in ((a, b), (b, a)):
                if u in contacts:
                    contacts[u].add(v)
    supported = {u for u in featurised if age.get(u) is not None
                 and any(age.get(v) is not None for v in contacts[u])}
    nulls = {r[0] for r in built.execute(
        "SELECT user_id FROM features WHERE similar_age IS NULL").fetchall()}
    assert nulls and not nulls & supported  # nulls exist, only where there is no support
    shares = judged_null_shares(built, CFG, A_WEEK)
    assert shares["similar_age"]["judged"] == len(supported) < len(featurised)
    assert shares["similar_age"]["share"] == 0.0
    # a null planted on a supported user is caught at the default threshold (0) ...
    victim = min(supported)
    built.execute(f"UPDATE {TABLE} SET similar_age = NULL WHERE user_id = ?", [victim])
    outcome = evaluate_feature_checks(built, CFG, A_WEEK)["null_shares_under_thresholds"]
    assert not outcome.passed and outcome.severity == "ERROR"
    assert outcome.metadata["too_null"] == {"similar_age": round(1 / len(supported), 4)}
    # ... and passes under a threshold the study config raises
    lenient = StudyConfig(checks={"max_null_share": {"similar_age": 0.5}})
    assert lenient.checks.max_null_share["same_sex"] == 0.0  # the others keep their defaults
    assert evaluate_feature_checks(built, lenient, A_WEEK)["null_shares_under_thresholds"].passed
    # a column null for every user where behaviour can make it null (duration_variance: one
    # call each) is thin data, a WARN; beside a null the definition forbids, an ERROR
    built.execute(f"UPDATE {quote_identifier(TABLE)} SET duration_variance = NULL")
    outcome = evaluate_feature_checks(built, lenient, A_WEEK)["null_shares_under_thresholds"]
    assert not outcome.passed and outcome.severity == "WARN"
    assert outcome.metadata["too_null"] == {"duration_variance": 1.0}
    outcome = evaluate_feature_checks(built, CFG, A_WEEK)["null_shares_under_thresholds"]
    assert outcome.severity == "ERROR"
    assert set(outcome.metadata["too_null"]) == {"similar_age", "duration_variance"}


def test_duration_null_share_is_judged_over_users_with_a_timed_call(city):
    """The duration features are judged over the users with a call of known duration in the
    window (computed here from the calls); a user whose calls were all missed has none."""
    calls, subscribers, cells, estates, labels, _ = city
    silent = {u for u, *_ in subscribers[::3]}  # their calls are all missed (no duration)
    calls = [(a, b, start, None if {a, b} & silent else d, *rest)
             for a, b, start, d, *rest in calls]
    con = load(calls, subscribers, cells, estates, labels, [A_WEEK])
    build_features(con, CFG, A_WEEK)
    featurised = {r[0] for r in con.execute("SELECT user_id FROM features").fetchall()}
    timed = {u for a, b, start, d, *_ in calls if d is not None
             and A_WEEK.start <= start.date() <= A_WEEK.end for u in (a, b)}
    shares = judged_null_shares(con, CFG, A_WEEK)
    timed_features = [n for n, f in FEATURES.items() if f.support == "timed_call"]
    assert timed_features
    for name in timed_features:
        assert shares[name]["judged"] == len(featurised & timed) < len(featurised)


def test_every_feature_has_a_default_threshold_and_a_support():
    assert set(Checks().max_null_share) == set(FEATURES)
    assert {f.support for f in FEATURES.values()} == {
        "every", "contact_age", "contact_sex", "contact_province", "townsman", "timed_call",
        "located", "priced"}
    assert {FEATURES[n].support for n in GEOGRAPHY} == {"located"}
    assert {FEATURES[n].support for n in PRICES} == {"priced"}
    with pytest.raises(ValueError):
        StudyConfig(checks={"max_null_share": {"no_such_feature": 0.1}})
    with pytest.raises(ValueError):
        StudyConfig(checks={"max_null_share": {"degree": 1.5}})


@pytest.mark.parametrize("missing", ["cells", "estates"])
def test_empty_places_are_not_judged_and_say_so(city, missing):
    calls, subscribers, cells, estates, labels, _ = city
    if missing == "cells":
        calls, cells = [(*c[:4], None, None) for c in calls], []
    con = load(calls, subscribers, cells, [], labels, [A_WEEK])
    build_features(con, CFG, A_WEEK)
    outcomes = evaluate_feature_checks(con, CFG, A_WEEK)
    prices = outcomes["prices_within_estates_range"]
    assert not_judged(prices) and f"the {missing} table is empty" in prices.reason
    radii = outcomes["radii_consistent"]
    if missing == "cells":
        assert not_judged(radii) and "cells table is empty" in radii.reason
    else:
        assert radii.passed and radii.judged > 0
    shares = outcomes["null_shares_under_thresholds"]
    assert shares.passed and shares.judged > 0
    skipped = GEOGRAPHY + PRICES if missing == "cells" else PRICES
    assert set(shares.metadata["not_judged"]) == set(skipped)
    assert all(f"{missing} table is empty" in r for r in shares.metadata["not_judged"].values())
    for check in ("one_row_per_active_labelled_user", "fractions_in_unit_interval",
                  "entropies_in_range"):
        assert outcomes[check].passed and outcomes[check].judged > 0


# --------------------------------------------------------------------------- Dagster, end to end
def _file_city(tmp_path, missing: str, population: str) -> StudyResource:  # noqa: F821
    from migrant_assets.defs.resources import StudyResource

    calls, subscribers, cells, estates, labels, _ = random_city(14)
    if missing == "cells":
        calls, cells = [(*c[:4], None, None) for c in calls], []
    mem = load(calls, subscribers, cells, [], labels, [])
    db = tmp_path / "migrant_assets.duckdb"
    mem.execute(f"ATTACH '{db}' AS f")
    mem.execute("COPY FROM DATABASE memory TO f")
    mem.close()
    con = connect(db)
    for day in CFG.calendar.days:
        build_daily_contacts(con, day)
    con.close()
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"workdir": str(tmp_path), "population": population}))
    return StudyResource(config_path=str(study))


@pytest.mark.parametrize(("missing", "population"),
                         [("cells", "labelled"), ("estates", "all_active")])
def test_assets_materialize_without_cells_or_estates(tmp_path, monkeypatch, missing, population):
    """cell_prices, the window graphs and every feature asset materialize on a data source with
    no locations (or no prices); the checks that cannot judge say so, the others pass."""
    from migrant_assets.defs import features as fa
    from migrant_assets.defs import graphs as ga

    for var in ("MIGRANT_ASSETS_DUCKDB", "MIGRANT_ASSETS_WORKDIR", "MIGRANT_ASSETS_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    resources = {"study": _file_city(tmp_path, missing, population)}
    instance = dg.DagsterInstance.ephemeral()
    runs = [
        ([fa.cell_prices], None),
        ([ga.first_k_days_contacts], None),
        ([ga.integration_week_graph, ga.integration_week_graph_edges,
          fa.features_integration_weeks, fa.features_integration_weeks_checks], "2016-09-10"),
        ([ga.departure_week_graph, ga.departure_week_graph_edges,
          fa.features_departure_weeks, fa.features_departure_weeks_checks], "2016-09-05"),
        ([ga.first_k_days_graph, ga.first_k_days_graph_edges,
          fa.features_first_k_days, fa.features_first_k_days_checks], "2016-09-11"),
        ([ga.whole_period_graph, ga.whole_period_graph_edges,
          fa.features_whole_period, fa.features_whole_period_checks],
         date(2016, 9, 1).isoformat()),
    ]
    unpriced = {"prices_within_estates_range"} | ({"radii_consistent"} if missing == "cells"
                                                  else set())
    for assets, key in runs:
        # the first-k days' contacts of each day window k = 7 reads (09-05..09-11), one run
        days = {"dagster/asset_partition_range_start": "2016-09-05",
                "dagster/asset_partition_range_end": "2016-09-11"} \
            if assets == [ga.first_k_days_contacts] else None
        result = dg.materialize(assets, resources=resources, instance=instance,
                                partition_key=None if days else key, tags=days)
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        if len(assets) > 1:  # the graph's check and every feature check, once, for this key
            assert sorted(e.check_name for e in evaluations) == sorted(
                ["edges_match_calls", *CHECKS])
        for e in evaluations:
            assert e.partition == key, (e.check_name, e.partition)
            meta = {k: getattr(v, "value", getattr(v, "text", v)) for k, v in e.metadata.items()}
            if e.check_name in unpriced:
                assert not e.passed and e.severity == dg.AssetCheckSeverity.WARN, e.check_name
                assert meta["judged"] == 0 and "table is empty" in meta["reason"]
            else:
                assert e.passed, (e.asset_key, e.check_name, meta)
    con = connect(tmp_path / "migrant_assets.duckdb")
    try:
        windows = dict(con.execute("SELECT window_id, count(*) FROM features GROUP BY 1")
                       .fetchall())
        assert set(windows) == {"integration_week:2016-09-10", "departure_week:2016-09-05",
                                "first_k_days:2016-09-11", "whole_period:2016-09-01"}
        assert all(n > 20 for n in windows.values())
        price_cols = ", ".join(f"count({c})" for c in PRICES)
        assert set(con.execute(f"SELECT {price_cols} FROM features").fetchone()) == {0}
        if missing == "cells":
            geo_cols = ", ".join(f"count({c})" for c in GEOGRAPHY)
            assert set(con.execute(f"SELECT {geo_cols} FROM features").fetchone()) == {0}
        nulls = con.execute("SELECT count(*) FROM features WHERE label IS NULL").fetchone()[0]
        assert (nulls > 0) == (population == "all_active")
    finally:
        con.close()


def test_null_share_limit_is_crossed_beyond_sampling_only():
    """above_limit: the binomial tail P(X >= nulls | judged, limit) under 5%, summed here by
    hand; a limit of 0 fails on one null, a share under the limit never fails."""
    from math import comb

    from migrant_assets.features import above_limit

    def tail(n, k, p):
        return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))

    for judged, nulls, limit in [(47, 46, 0.95), (60, 60, 0.95), (500, 490, 0.95),
                                 (100, 60, 0.5), (100, 57, 0.5), (30, 1, 0.0)]:
        share = {"judged": judged, "nulls": nulls, "max_share": limit}
        assert above_limit(share) == (nulls > limit * judged and tail(judged, nulls, limit) < 0.05)
    assert not above_limit({"judged": 47, "nulls": 46, "max_share": 0.95})  # 1 value of 47
    assert above_limit({"judged": 1000, "nulls": 1000, "max_share": 0.95})  # a broken column
    assert above_limit({"judged": 30, "nulls": 1, "max_share": 0.0})
    assert not above_limit({"judged": 10, "nulls": 5, "max_share": 0.5})


def test_a_first_k_window_with_no_active_migrant_is_not_judged():
    """A first-k-days window below k_max featurises the departure study's migrants: when none is
    active in its days (a migrant who arrives later) its row check is not judged, with the
    reason, where a window with locals and no active user fails (blocking)."""
    from test_features import FIRST_7, FIRST_14

    calls = [(1, 9, "2016-09-06 10:00:00", 60.0, "P0", None),  # the local, in k = 7's days
             (2, 9, "2016-09-15 10:00:00", 60.0, "P0", None)]  # the migrant, after them
    subscribers = [(1, 40, "M", "Shanghai"), (2, 25, "F", "Anhui")]
    labels = [(1, None, "local"), (2, None, "staying_migrant")]
    con = load(calls, subscribers, [("P0", 31.0, 121.0)], [("e1", 31.0, 121.0, 5e4)], labels,
               [FIRST_7, FIRST_14])
    build_features(con, CFG, FIRST_7)
    row = evaluate_feature_checks(con, CFG, FIRST_7)["one_row_per_active_labelled_user"]
    assert not_judged(row) and "none of the 1 migrants" in row.reason
    assert row.metadata["n_rows"] == 0 and row.metadata["n_candidates"] == 1
    build_features(con, CFG, FIRST_14)  # k_max: the local and the migrant
    row = evaluate_feature_checks(con, CFG, FIRST_14)["one_row_per_active_labelled_user"]
    assert row.passed and row.metadata["n_rows"] == 2
