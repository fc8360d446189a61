"""SPEC §5 features: hand-worked examples per family, and every feature of every featurised user
of random small cities against an independent implementation (networkx, numpy, plain Python)."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import duckdb
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from migrant_assets.config import SQL_DIR, StudyConfig, Window
from migrant_assets.db import run_sql
from migrant_assets.features import (
    EARTH_RADIUS_KM,
    FAMILIES,
    FEATURE_TABLES,
    FEATURES,
    KEPT_TEMP_TABLES,
    build_features,
    cell_prices,
    drop_unread,
    features_table,
    run_family,
    write_cell_prices,
)
from migrant_assets.graphs import EVERY_EDGE, graph_table
from migrant_assets.ingest import create_tables

CFG = StudyConfig()
R = 6371.0088
KM_PER_DEG = R * math.pi / 180  # along a meridian, haversine km = KM_PER_DEG * |delta lat|
FIRST_7 = CFG.calendar.window("first_k_days", "2016-09-11")  # departure study, 09-05..09-11
W1 = CFG.calendar.window("integration_week", "2016-09-03")  # integration study, 09-03..09-09
W2 = CFG.calendar.window("integration_week", "2016-09-10")  # integration study, 09-10..09-16
A_WEEK = CFG.calendar.window("departure_week", "2016-09-05")  # departure study, 09-05..09-11
FIRST_14 = CFG.calendar.window("first_k_days", "2016-09-18")  # k_max, 09-05..09-18


def load(calls: list[tuple], subscribers: list[tuple], cells: list[tuple], estates: list[tuple],
         labels: list[tuple], windows: list[Window]) -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB with the ingestion tables, user_labels, the windows' graphs (summed here
    from calls, into their family's table under the view window_graph) and cell_prices."""
    con = duckdb.connect(":memory:")
    create_tables(con)
    run_sql(con, "graphs/schema.sql")
    con.execute("CREATE TABLE user_labels (user_id BIGINT, integration_label VARCHAR, "
                "departure_label VARCHAR)")
    calls_df = pd.DataFrame(calls, columns=["caller", "callee", "start_ts", "duration_s",
                                            "caller_cell", "callee_cell"])
    calls_df["start_ts"] = pd.to_datetime(calls_df["start_ts"])
    calls_df["call_date"] = calls_df["start_ts"].dt.date
    calls_df["end_ts"] = calls_df["start_ts"] + pd.to_timedelta(calls_df["duration_s"], "s")
    for sql, values in (("INSERT INTO subscribers VALUES (?, ?, ?, ?, true, false, 1)",
                         subscribers),
                        ("INSERT INTO cells VALUES (?, ?, ?)", cells),
                        ("INSERT INTO estates VALUES (?, ?, ?, ?)", estates),
                        ("INSERT INTO user_labels VALUES (?, ?, ?)", labels)):
        if values:  # a data source may have no cells or no estates
            con.executemany(sql, values)
    con.register("calls_df", calls_df)
    con.execute("INSERT INTO calls SELECT call_date, caller, callee, start_ts, end_ts, duration_s,"
                " caller_cell, callee_cell FROM calls_df")
    for w in windows:
        con.execute(
            f"INSERT INTO {graph_table(w)} SELECT ?, caller, callee, COUNT(*), "  # noqa: S608
            "SUM(duration_s) FROM calls WHERE call_date BETWEEN ? AND ? GROUP BY caller, callee",
            [w.window_id, w.start, w.end],
        )
        if w.family == "first_k_days":  # a graph of every edge (graphs.build_window_graph)
            con.execute("INSERT INTO first_k_days_graph_neighbourhood VALUES (?, ?)",
                        [w.window_id, EVERY_EDGE])
    write_cell_prices(con)
    return con


def rows(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, dict]:
    df = con.table(table).df().astype(object)
    df = df.where(pd.notna(df), None)
    return {r["user_id"]: r for r in df.to_dict("records")}


# ---------------------------------------------------------------- hand-worked city (departure)
# Parties: users A=1, B=2, C=3, D=4, E=5 of the operator, X=1001 of another operator.
# Cells on one meridian (lon 121.0), so haversine km = KM_PER_DEG * |delta lat| exactly:
# P0 at lat 31.0, P1 at 31.1, P2 at 31.3.
A, B, C, D, E, X = 1, 2, 3, 4, 5, 1001


def ts(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2016, 9, day, hh, mm)


HAND_CALLS = [  # caller, callee, start, duration_s, caller_cell, callee_cell
    (A, B, ts(5, 21), 60.0, "P0", "P1"),  # 1: A home at P0
    (A, B, ts(6, 10), 120.0, "P0", "P1"),  # 2: A work at P0 ...
    (B, A, ts(6, 10), 30.0, "P1", "P2"),  # 3: ... and at P2 in the same second
    (A, C, ts(7, 8), 300.0, "P1", "P0"),  # 4: A at P1, neither home nor work
    (B, C, ts(7, 12), 10.0, "P1", "P0"),  # 5
    (D, A, ts(7, 23, 30), 90.0, None, "P1"),  # 6: A home at P1; D never has a location
    (A, X, ts(8, 15), 45.0, None, None),  # 7: no location for A
    (C, X, ts(8, 18), 20.0, "P2", None),  # 8
    (E, A, ts(1, 12), 50.0, "P0", "P0"),  # before the window: E is not active in it
]
HAND_SUBSCRIBERS = [  # user_id, age, sex, birth_province
    (A, 30, "M", "Anhui"), (B, 33, "F", "Anhui"), (C, 40, "M", "Shanghai"),
    (D, None, "M", None), (E, 25, "F", "Henan"),
]
HAND_CELLS = [("P0", 31.0, 121.0), ("P1", 31.1, 121.0), ("P2", 31.3, 121.0)]
HAND_ESTATES = [  # estate_id, lat, lon, price_per_sqm
    ("e1", 31.0, 121.005, 40000.0),  # 0.48 km from P0
    ("e2", 30.995, 121.0, 60000.0),  # 0.56 km from P0
    ("e3", 31.13, 121.0, 30000.0),  # 3.34 km from P1, tied with e5
    ("e5", 31.13, 121.0, 50000.0),
]
HAND_LABELS = [  # user_id, integration_label, departure_label
    (A, "settled_migrant", "staying_migrant"), (B, None, "leaving_migrant"), (C, None, "local"),
    (D, None, "staying_migrant"), (E, None, "leaving_migrant"),
]


@pytest.fixture(scope="module")
def hand():
    con = load(HAND_CALLS, HAND_SUBSCRIBERS, HAND_CELLS, HAND_ESTATES, HAND_LABELS,
               [FIRST_7, FIRST_14, A_WEEK, W1, W2])
    yield con
    con.close()


def test_hand_ego_network(hand):
    # Undirected contacts: A {B, C, D, X} (d=4), B {A, C} (2), C {A, B, X} (3), D {A} (1),
    # X {A, C} (2). E only called before the window: not featurised.
    got = rows(hand, run_family(hand, CFG, A_WEEK, "ego_network"))
    assert set(got) == {A, B, C, D}
    a = got[A]
    # in(A) = {B, D}, out(A) = {B, C, X}; A made 4 calls (1, 2, 4, 7) and received 2 (3, 6).
    assert (a["degree"], a["in_degree"], a["out_degree"], a["weighted_degree"]) == (4, 2, 3, 6)
    assert a["neighbor_degree"] == pytest.approx((2 + 3 + 1 + 2) / 4)
    # Edges among N(A) = {B, C, D, X}: B-C and C-X -> 2 * 2 / (4 * 3).
    assert a["clustering"] == pytest.approx(1 / 3)
    # Known ages: B 33 (|3| <= 5), C 40 (|10| > 5); sexes B F, C M, D M -> C, D same;
    # provinces B Anhui, C Shanghai: local 1/2, townsman (Anhui) 1/2.
    assert a["similar_age"] == pytest.approx(0.5)
    assert a["same_sex"] == pytest.approx(2 / 3)
    assert a["local"] == pytest.approx(0.5) and a["townsman"] == pytest.approx(0.5)
    # B: N(B) = {A, C}, edge A-C -> clustering 1.
    assert got[B]["clustering"] == pytest.approx(1.0)
    # D: one contact -> clustering 0; own age unknown -> similar_age null; own province unknown
    # -> townsman null; A is not a local -> local 0.
    d = got[D]
    assert (d["degree"], d["clustering"], d["similar_age"], d["townsman"]) == (1, 0.0, None, None)
    assert (d["same_sex"], d["local"]) == (1.0, 0.0)
    # C is a local: townsman 0 although A and B share a province.
    assert got[C]["townsman"] == 0.0 and got[C]["local"] == 0.0
    # Integration study (W1 holds the same calls; only A has an integration label): threshold
    # 10 years, |33 - 30| and |40 - 30| <= 10 -> similar_age 2/2.
    got = rows(hand, run_family(hand, CFG, W1, "ego_network"))
    assert set(got) == {A} and got[A]["similar_age"] == pytest.approx(1.0)


def test_hand_call_behavior(hand):
    got = rows(hand, run_family(hand, CFG, A_WEEK, "call_behavior"))
    a = got[A]
    assert (a["in_calls"], a["out_calls"], a["out_minus_in"]) == (2, 4, 2)
    # A's durations 60, 120, 30, 300, 90, 45: mean 645 / 6 = 107.5; squared deviations
    # 2256.25 + 156.25 + 6006.25 + 37056.25 + 306.25 + 3906.25 = 49687.5, / 5 = 9937.5.
    assert a["call_duration"] == pytest.approx(107.5)
    assert a["duration_variance"] == pytest.approx(9937.5)
    # Calls with locals: only A->C (300 s): variance of one call is null.
    assert a["local_call_duration"] == pytest.approx(300.0)
    assert a["local_duration_variance"] is None
    # Known provinces of contacts: Anhui (B), Shanghai (C) -> 1 bit.
    assert a["province_diversity"] == pytest.approx(1.0)
    # out {B, C, X} & in {B, D} = {B}: 1/3.
    assert a["reciprocal_call"] == pytest.approx(1 / 3)
    # Calls made 2 (B), 1 (C), 1 (X): H = 1.5 ln 2, / ln 3.
    assert a["communication_diversity"] == pytest.approx(1.5 * math.log(2) / math.log(3))
    # C made one call (to X): k = 1 -> communication_diversity null; reciprocal 0/1.
    c = got[C]
    assert (c["out_calls"], c["in_calls"], c["out_minus_in"]) == (1, 2, -1)
    assert c["communication_diversity"] is None and c["reciprocal_call"] == 0.0
    # D made a single call: variance null; no contact with a known local -> local duration null.
    d = got[D]
    assert d["duration_variance"] is None and d["local_call_duration"] is None
    assert d["province_diversity"] == 0.0 and d["reciprocal_call"] == 0.0
    # B received calls 1, 2 and made 3, 5: B->A reciprocated, B->C not: 1/2.
    assert got[B]["reciprocal_call"] == pytest.approx(0.5)


def test_hand_geography(hand):
    got = rows(hand, run_family(hand, CFG, A_WEEK, "geography"))
    a = got[A]
    # L_A by (start_ts, cell_id): P0 (call 1), P0 and P2 (calls 2, 3 tie at 10:00 -> P0 first),
    # P1 (call 4), P1 (call 6); call 7 has no cell. lats 31.0, 31.0, 31.3, 31.1, 31.1.
    assert a["center_lat"] == pytest.approx(31.1) and a["center_lon"] == pytest.approx(121.0)
    # Distances to the centre 0.1, 0.1, 0.2, 0, 0 degrees: mean 0.08, max 0.2.
    assert a["avg_radius"] == pytest.approx(0.08 * KM_PER_DEG)
    assert a["max_radius"] == pytest.approx(0.2 * KM_PER_DEG)
    # Steps 0 + 0.3 + 0.2 + 0 = 0.5 degrees (the other tie order would give 0.7); / |L| = 5.
    assert a["moving_distance"] == pytest.approx(0.5 * KM_PER_DEG)
    assert a["avg_moving_distance"] == pytest.approx(0.1 * KM_PER_DEG)
    # Home: 21:00 at P0, 23:30 at P1 -> 31.05; work: 10:00 at P0 and P2 -> 31.15; 0.1 apart.
    assert a["home_lat"] == pytest.approx(31.05) and a["work_lat"] == pytest.approx(31.15)
    assert a["home_work_distance"] == pytest.approx(0.1 * KM_PER_DEG)
    # D never has a location: all null. C: P0 at 08:00, P0 at 12:00 (work), P2 at 18:00.
    assert all(got[D][k] is None for k in FEATURES if FEATURES[k].family == "geography")
    c = got[C]
    assert c["center_lat"] == pytest.approx(31.1) and c["home_lat"] is None
    assert c["work_lat"] == pytest.approx(31.0) and c["home_work_distance"] is None
    assert c["moving_distance"] == pytest.approx(0.3 * KM_PER_DEG)  # P0, P0, P2


def test_hand_housing_price(hand):
    # Cell prices: P0 has e1, e2 within 1 km -> 50000; P1 has none within 1 km, nearest e3 and
    # e5 tied at 3.34 km -> 40000; P2 (>= 18 km from every estate) -> null.
    prices = dict(hand.execute("SELECT cell_id, price FROM cell_prices").fetchall())
    assert prices["P0"] == pytest.approx(50000.0) and prices["P1"] == pytest.approx(40000.0)
    assert prices["P2"] is None
    got = rows(hand, run_family(hand, CFG, FIRST_7, "housing_price"))
    a = got[A]
    # L_A prices 50000, 50000, -, 40000, 40000 -> 45000; centre (31.1, 121.0) is P1 -> 40000.
    assert a["avg_price"] == pytest.approx(45000.0)
    assert a["center_price"] == pytest.approx(40000.0)
    # Home: P0, P1 -> 45000; home centre 31.05 is >= 5.5 km from every estate -> null.
    assert a["home_avg_price"] == pytest.approx(45000.0) and a["home_center_price"] is None
    # Work: P0, P2 -> 50000; work centre 31.15 is 2.2 km from e3/e5 -> 40000.
    assert a["work_avg_price"] == pytest.approx(50000.0)
    assert a["work_center_price"] == pytest.approx(40000.0)
    # Contacts: B (all P1: 40000, 40000), C (P0, P0, P2: avg 50000, centre 31.1 -> 40000),
    # D and X have no location.
    assert a["neighbor_avg_price"] == pytest.approx(45000.0)
    assert a["neighbor_center_price"] == pytest.approx(40000.0)
    assert got[D]["avg_price"] is None and got[D]["neighbor_avg_price"] == pytest.approx(45000.0)


def test_build_features_table(hand):
    assert build_features(hand, CFG, FIRST_7) == "features_first_k_days"
    # delete-then-insert: idempotent
    assert build_features(hand, CFG, FIRST_7) == "features_first_k_days"
    build_features(hand, CFG, W2)  # no calls in W2: no rows, no error
    df = hand.table("features").df()
    assert list(df.columns) == ["window_id", "study", "user_id", "label", *FEATURES]
    # the local C is left out: a first-k-days window below k_max featurises the migrants only
    assert sorted(df["user_id"]) == [A, B, D]
    assert set(df["window_id"]) == {FIRST_7.window_id} and set(df["study"]) == {"departure"}
    assert dict(zip(df["user_id"], df["label"], strict=True))[B] == "leaving_migrant"


def test_first_k_windows_below_k_max_leave_the_locals_out(hand):
    """A first-k-days window below k_max featurises the departure study's migrants only, and
    gives them the features of any window over the same days: the departure week A (09-05..
    09-11, the days of k = 7) has the local C and the same rows for A, B and D, every column
    (degrees, neighbourhoods and neighbour prices read every party, featurised or not). k_max
    (k = 14, no call after 09-11 here) has the local again, with the week's values."""
    def table(window):
        build_features(hand, CFG, window)
        return hand.execute("SELECT * EXCLUDE (window_id, study) FROM features "
                            "WHERE window_id = ? ORDER BY user_id", [window.window_id]).df()

    week, first_7, first_14 = table(A_WEEK), table(FIRST_7), table(FIRST_14)
    assert sorted(week["user_id"]) == [A, B, C, D] and list(first_14["user_id"]) == [A, B, C, D]
    assert list(first_7["user_id"]) == [A, B, D]
    pd.testing.assert_frame_equal(first_7, week[week["user_id"] != C].reset_index(drop=True))
    pd.testing.assert_frame_equal(first_14, week)


# ------------------------------------------------------------------ random cities vs reference
PROVINCES = ["Shanghai", "Anhui", "Jiangsu", "Henan", "Sichuan"]


def random_city(seed: int):
    rng = np.random.default_rng(seed)
    n_users, n_other = 70, 25
    users = list(range(1, n_users + 1))
    others = list(range(10_001, 10_001 + n_other))

    def maybe(value, p=0.15):
        return None if rng.random() < p else value

    subscribers = [(u, maybe(int(rng.integers(18, 70))), maybe(str(rng.choice(["M", "F"]))),
                    maybe(str(rng.choice(PROVINCES)))) for u in users]
    cells = [(f"c{i:02d}", float(rng.uniform(31.10, 31.30)), float(rng.uniform(121.35, 121.60)))
             for i in range(20)]
    cells += [("far0", 31.85, 121.95), ("far1", 31.80, 121.90)]  # no estate within 5 km
    estates = [(f"e{i}", float(rng.uniform(31.12, 31.28)), float(rng.uniform(121.37, 121.58)),
                float(rng.uniform(20_000, 100_000))) for i in range(40)]
    estates += [(f"s{i}", 31.60 + 0.02 * i, 121.75, float(rng.uniform(20_000, 100_000)))
                for i in range(3)]  # sparse suburb: nearest-estate rule
    parties = users + others
    community = {p: int(rng.integers(0, 4)) for p in parties}
    special = users[-6:]  # hand-shaped users below
    ordinary = [p for p in parties if p not in special]
    days = [date(2016, 9, 1) + timedelta(d) for d in range(20)]

    def when():
        day = days[int(rng.integers(0, len(days)))]
        # few distinct start times, so some user has two calls starting in the same second
        return datetime(day.year, day.month, day.day, int(rng.integers(0, 24)),
                        int(rng.choice([0, 30])))

    def cell_of(p):
        if p >= 10_001 or rng.random() < 0.15:
            return None
        return cells[int(rng.integers(0, len(cells)))][0]

    calls = []

    def call(a, b, start=None):
        calls.append((a, b, start or when(), float(rng.integers(1, 900)), cell_of(a), cell_of(b)))

    for _ in range(700):
        a = ordinary[int(rng.integers(0, len(ordinary)))]
        same = [p for p in ordinary if community[p] == community[a] and p != a]
        pool = same if rng.random() < 0.8 else [p for p in ordinary if p != a]
        call(a, pool[int(rng.integers(0, len(pool)))])
    in_window = [datetime(2016, 9, 10, 12, 0), datetime(2016, 9, 11, 22, 0)]
    zero, one, two, incoming, no_loc, no_attr = special
    call(one, users[0], in_window[0])  # one contact
    call(two, users[1], in_window[0])
    call(users[2], two, in_window[1])  # two contacts
    for p in users[3:6]:  # only incoming calls, three contacts
        call(p, incoming, in_window[1])
    for p in users[6:9]:  # calls without locations on their side
        calls.append((no_loc, p, in_window[0], 60.0, None, cell_of(p)))
        calls.append((p, no_loc, in_window[1], 30.0, cell_of(p), None))
    for p in users[9:11]:
        call(no_attr, p, in_window[0])
    subscribers = [s if s[0] != no_attr else (no_attr, None, None, None) for s in subscribers]
    labels = [(u, maybe(str(rng.choice(["local", "settled_migrant", "new_migrant"]))),
               maybe(str(rng.choice(["local", "staying_migrant", "leaving_migrant"]))))
              for u in users]
    labels = [(u, i, d) if u not in special else (u, "new_migrant", "leaving_migrant")
              for u, i, d in labels]
    assert zero not in {p for c in calls for p in c[:2]}
    return calls, subscribers, cells, estates, labels, special


def haversine(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2)
    return 2 * R * np.arcsin(np.sqrt(h))


def brute_price(lat, lon, estates):
    """price of a point by the SPEC §5 rule, against every estate."""
    if not estates:
        return None
    e = np.array([x[1:] for x in estates])
    d = haversine(lat, lon, e[:, 0], e[:, 1])
    if (d <= 1.0).any():
        return float(e[d <= 1.0, 2].mean())
    if (d <= 5.0).any():
        return float(e[d == d.min(), 2].mean())
    return None


def entropy(counts, log):
    total = sum(counts)
    return -sum(c / total * log(c / total) for c in counts)


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def reference(calls, subscribers, cells, estates, labels, window, study, threshold,
              province="Shanghai", *, population="labelled"):
    """Every feature of every featurised user, computed independently of the SQL.

    ``labels`` lists the users of ``user_labels`` as (user, integration, departure); the study
    'descriptive' labels with the integration label, else the departure label. ``population``:
    'labelled' (users with the study's label), 'subscribers' (every user of ``labels``),
    'all_active' (every party of the window). A call's duration may be None (a missed call): it
    counts as a call and a contact, not in the duration statistics. ``province`` is the study
    city's (who is local)."""
    attrs = {u: dict(age=a, sex=s, prov=p) for u, a, s, p in subscribers}
    cell_at = {c: (lat, lon) for c, lat, lon in cells}
    cell_price = {c: brute_price(lat, lon, estates) for c, lat, lon in cells}
    in_window = [c for c in calls if window.start <= c[2].date() <= window.end]
    g, dg = nx.Graph(), nx.DiGraph()
    n_calls = Counter()
    for a, b, *_ in in_window:
        g.add_edge(a, b)
        dg.add_edge(a, b)
        n_calls[a, b] += 1
    clustering = nx.clustering(g)
    label = {u: (i if study == "integration" else d if study == "departure" else
                 i if i is not None else d) for u, i, d in labels}
    if population == "all_active":
        users = list(g)
        label = {u: label.get(u) for u in users}
    elif population == "subscribers":
        users = [u for u in label if u in g]
    else:
        users = [u for u in label if label[u] is not None and u in g]
    locations = defaultdict(list)  # party -> [(start, cell)] of its own side
    for a, b, start, _, ca, cb in in_window:
        if ca is not None:
            locations[a].append((start, ca))
        if cb is not None:
            locations[b].append((start, cb))

    def centre(locs):
        if not locs:
            return None, None
        pts = np.array([cell_at[c] for _, c in locs])
        return float(pts[:, 0].mean()), float(pts[:, 1].mean())

    def point_price(lat, lon):
        return None if lat is None else brute_price(lat, lon, estates)

    def avg_price(locs):
        return mean([cell_price[c] for _, c in locs if cell_price[c] is not None])

    def home(locs):
        return [(t, c) for t, c in locs if t.hour >= 20 or t.hour < 7]

    def work(locs):
        return [(t, c) for t, c in locs if 9 <= t.hour < 16]

    def known(v, key):
        return [attrs[u][key] for u in g[v] if u in attrs and attrs[u][key] is not None]

    out = {}
    for v in users:
        me = attrs.get(v, dict(age=None, sex=None, prov=None))
        f = {"degree": g.degree(v), "in_degree": dg.in_degree(v), "out_degree": dg.out_degree(v)}
        ins = sum(n_calls[u, v] for u in dg.predecessors(v))
        outs = sum(n_calls[v, u] for u in dg.successors(v))
        f["weighted_degree"] = ins + outs
        f["neighbor_degree"] = mean([g.degree(u) for u in g[v]])
        f["clustering"] = clustering[v]
        ages, sexes, provs = known(v, "age"), known(v, "sex"), known(v, "prov")
        f["similar_age"] = (mean([abs(a - me["age"]) <= threshold for a in ages])
                            if me["age"] is not None else None)
        f["same_sex"] = mean([s == me["sex"] for s in sexes]) if me["sex"] is not None else None
        f["local"] = mean([p == province for p in provs])
        f["townsman"] = (None if me["prov"] is None or not provs else 0.0
                         if me["prov"] == province else mean([p == me["prov"] for p in provs]))
        f["in_calls"], f["out_calls"], f["out_minus_in"] = ins, outs, outs - ins
        mine = [(b if a == v else a, dur) for a, b, _, dur, *_ in in_window if v in (a, b)]
        durations = [d for _, d in mine if d is not None]
        local = [d for u, d in mine
                 if d is not None and attrs.get(u, {}).get("prov") == province]
        f["call_duration"] = mean(durations)
        f["duration_variance"] = float(np.var(durations, ddof=1)) if len(durations) > 1 else None
        f["local_call_duration"] = mean(local)
        f["local_duration_variance"] = float(np.var(local, ddof=1)) if len(local) > 1 else None
        f["province_diversity"] = (entropy(Counter(provs).values(), math.log2)
                                   if provs else None)
        succ = set(dg.successors(v))
        f["reciprocal_call"] = (len(succ & set(dg.predecessors(v))) / len(succ)
                                if succ else None)
        k = len(succ)
        f["communication_diversity"] = (
            entropy([n_calls[v, u] for u in succ], math.log) / math.log(k) if k >= 2 else None)
        locs = sorted(locations[v])  # by (start_ts, cell_id)
        lat, lon = centre(locs)
        f["center_lat"], f["center_lon"] = lat, lon
        if locs:
            pts = np.array([cell_at[c] for _, c in locs])
            r = haversine(pts[:, 0], pts[:, 1], lat, lon)
            steps = haversine(pts[1:, 0], pts[1:, 1], pts[:-1, 0], pts[:-1, 1])
            f["avg_radius"], f["max_radius"] = float(r.mean()), float(r.max())
            f["moving_distance"] = float(steps.sum())
            f["avg_moving_distance"] = float(steps.sum()) / len(locs)
        else:
            for key in ("avg_radius", "max_radius", "moving_distance", "avg_moving_distance"):
                f[key] = None
        f["home_lat"], f["home_lon"] = centre(home(locs))
        f["work_lat"], f["work_lon"] = centre(work(locs))
        f["home_work_distance"] = (
            float(haversine(f["home_lat"], f["home_lon"], f["work_lat"], f["work_lon"]))
            if f["home_lat"] is not None and f["work_lat"] is not None else None)
        f["avg_price"] = avg_price(locs)
        f["center_price"] = point_price(lat, lon)
        f["home_avg_price"] = avg_price(home(locs))
        f["home_center_price"] = point_price(f["home_lat"], f["home_lon"])
        f["work_avg_price"] = avg_price(work(locs))
        f["work_center_price"] = point_price(f["work_lat"], f["work_lon"])
        contacts = [u for u in g[v] if locations[u]]
        f["neighbor_avg_price"] = mean([p for u in contacts
                                        if (p := avg_price(locations[u])) is not None])
        f["neighbor_center_price"] = mean([p for u in contacts
                                           if (p := point_price(*centre(locations[u])))
                                           is not None])
        out[v] = f
    return out, label


def same(a, b) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("window", "study", "threshold"),
                         [(W2, "integration", 10), (A_WEEK, "departure", 5)])
def test_random_city_against_reference(seed, window, study, threshold):
    calls, subscribers, cells, estates, labels, special = random_city(seed)
    con = load(calls, subscribers, cells, estates, labels, [window])
    build_features(con, CFG, window)
    got = rows(con, "features")
    want, label = reference(calls, subscribers, cells, estates, labels, window, study, threshold)
    assert set(got) == set(want) and len(want) > 20
    zero, one, two, incoming, no_loc, no_attr = special
    assert zero not in got
    assert got[one]["degree"] == 1 and got[two]["degree"] == 2
    assert got[incoming]["out_degree"] == 0 and got[incoming]["reciprocal_call"] is None
    assert got[no_loc]["center_lat"] is None and got[no_attr]["similar_age"] is None
    mismatches = [
        (v, name, got[v][name], want[v][name])
        for v in want for name in FEATURES if not same(got[v][name], want[v][name])
    ]
    assert not mismatches, mismatches[:10]
    assert all(got[v]["label"] == label[v] and got[v]["study"] == study for v in got)
    # the data exercise the cases the definitions single out
    values = {name: [want[v][name] for v in want] for name in FEATURES}
    assert any(x is None for x in values["similar_age"])
    assert any(x is not None and 0 < x < 1 for x in values["clustering"])
    assert any(x is None for x in values["center_price"])
    assert any(x is not None for x in values["home_work_distance"])


@pytest.mark.parametrize("seed", [4, 5])
def test_clustering_alone_against_networkx(seed):
    """The clustering step on its own: a graph with many triangles, hubs, degree ties,
    reciprocated and one-way edges, against networkx on the undirected view."""
    rng = np.random.default_rng(seed)
    graph = nx.powerlaw_cluster_graph(80, 3, 0.6, seed=seed)
    graph.add_edges_from((0, v) for v in range(1, 80, 2))  # a hub
    graph.add_edges_from([(200, 201), (201, 202), (202, 200)])  # a lone triangle
    graph.add_edge(300, 301)  # a lone edge
    calls = []
    for a, b in graph.edges:
        a, b = (a + 1, b + 1) if rng.random() < 0.5 else (b + 1, a + 1)  # user ids from 1
        calls.append((a, b, datetime(2016, 9, 12, 10), 60.0, None, None))
        if rng.random() < 0.3:  # reciprocated
            calls.append((b, a, datetime(2016, 9, 13, 11), 30.0, None, None))
    parties = sorted({p for c in calls for p in c[:2]})
    labels = [(p, "new_migrant" if rng.random() < 0.7 else None, None) for p in parties]
    subscribers = [(p, 30, "F", "Anhui") for p in parties[:5]]
    con = load(calls, subscribers, HAND_CELLS, HAND_ESTATES, labels, [W2])
    assert run_family(con, CFG, W2, "clustering") == "feat_clustering"
    got = dict(con.execute("SELECT user_id, clustering FROM feat_clustering").fetchall())
    want = nx.clustering(nx.relabel_nodes(graph, lambda v: v + 1))
    labelled = {p for p, label, _ in labels if label is not None}
    assert set(got) == labelled
    assert all(same(got[v], want[v]) for v in got), [(v, got[v], want[v]) for v in got
                                                     if not same(got[v], want[v])][:10]
    assert any(0 < want[v] < 1 for v in got) and got.get(201, 1.0) == 1.0
    assert got.get(301, 0.0) == 0.0
    # ego_network reports the same values
    ego_table = run_family(con, CFG, W2, "ego_network")
    ego = dict(con.execute(f"SELECT user_id, clustering FROM {ego_table}").fetchall())
    assert ego == got


def test_cell_prices_against_brute_force():
    _, _, cells, estates, *_ = random_city(7)
    got = cell_prices(pd.DataFrame(cells, columns=["cell_id", "lat", "lon"]),
                      pd.DataFrame(estates, columns=["estate_id", "lat", "lon", "price_per_sqm"]))
    assert list(got["cell_id"]) == [c for c, *_ in cells]
    want = [brute_price(lat, lon, estates) for _, lat, lon in cells]
    assert all(same(None if math.isnan(p) else p, w)
               for p, w in zip(got["price"], want, strict=True))
    assert any(w is None for w in want) and sum(w is not None for w in want) > 5
    no_estates = cell_prices(pd.DataFrame(cells, columns=["cell_id", "lat", "lon"]),
                             pd.DataFrame(columns=["lat", "lon", "price_per_sqm"]))
    assert no_estates["price"].isna().all()


def test_registry_matches_family_tables(hand):
    """Each family's SQL writes exactly its registry columns, of the registry's types; the
    stored tables and the view `features` have the key columns, then every feature in order."""
    assert FAMILIES == ("ego_network", "call_behavior", "geography", "housing_price")
    for family in FAMILIES:
        table = run_family(hand, CFG, FIRST_7, family)
        assert table == f"feat_{family}"
        relation = hand.table(table)
        assert relation.columns == ["user_id", *(n for n, f in FEATURES.items()
                                                 if f.family == family)]
        integer = {"INTEGER", "BIGINT", "HUGEINT"}  # stored as the registry's BIGINT
        assert ["BIGINT" if str(t) in integer else str(t) for t in relation.types[1:]] == [
            f.dtype for f in FEATURES.values() if f.family == family]
    build_features(hand, CFG, FIRST_7)
    for table in (*FEATURE_TABLES.values(), "features"):
        assert hand.table(table).columns == ["window_id", "study", "user_id", "label",
                                             *FEATURES], table
    groups = defaultdict(list)
    for name, f in FEATURES.items():
        groups[f.integration_group].append(name)
    assert groups["D"] == ["similar_age", "same_sex", "local", "townsman"]
    assert groups[None] == [n for n, f in FEATURES.items() if f.family == "housing_price"]
    assert [n for n, f in FEATURES.items() if f.excluded_with_locals] == ["townsman"]
    assert {f.departure_group for f in FEATURES.values()} == {
        "ego_network", "call_behavior", "geography", "housing_price"}


def test_sql_stays_in_the_duckdb_spark_subset():
    paths = [p for p in (SQL_DIR / "features").iterdir() if p.name.endswith(".sql")]
    assert paths
    for path in paths:
        text = path.read_text().upper()
        for token in ("QUALIFY", "::", "LIST_", "STRUCT_", "ARG_M", "_BY(", "MACRO", "UNNEST"):
            assert token not in text or (path.name, token) == ("macros.sql", "MACRO"), (
                path.name, token)
    # macros.sql holds scalar macros only: one expression each, which a Spark port inlines
    macros = duckdb.extract_statements((SQL_DIR / "features" / "macros.sql").read_text())
    assert len(macros) == 4
    for stmt in macros:
        assert re.search(r"^CREATE OR REPLACE TEMP MACRO \w+\([\w, ]*\) AS\s", stmt.query, re.M)
        assert " TABLE " not in stmt.query.upper()
    con = duckdb.connect()
    run_sql(con, "features/macros.sql")
    assert float(con.execute("SELECT earth_radius_km()").fetchone()[0]) == EARTH_RADIUS_KM
    # Paris -> London, 343.5 km by the haversine formula (numpy, independently)
    lat1, lon1, lat2, lon2 = np.radians([48.8566, 2.3522, 51.5074, -0.1278])
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    expected = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    got = con.execute("SELECT haversine_km(48.8566, 2.3522, 51.5074, -0.1278)").fetchone()[0]
    assert got == pytest.approx(expected, rel=1e-12) and 343 < got < 344
    # an edge oriented from its lower to its higher end in (degree, id) order
    for (a, da, b, db), ends in {(5, 1, 3, 2): (5, 3), (5, 2, 3, 2): (3, 5),
                                 (3, 2, 5, 2): (3, 5), (3, 4, 5, 2): (5, 3)}.items():
        assert con.execute("SELECT lower_end(?, ?, ?, ?), higher_end(?, ?, ?, ?)",
                           [a, da, b, db] * 2).fetchone() == ends


@pytest.mark.parametrize(("window", "study", "threshold"),
                         [(W2, "integration", 10), (A_WEEK, "departure", 5)])
def test_features_do_not_depend_on_row_order(window, study, threshold):
    """The same rows stored in another order (parallel ingestion and multi-threaded aggregation
    both reorder them) give bit-identical features. Floating-point sums of fractional durations,
    coordinates and prices depend on their order, so this holds only because they are exact.
    Durations here have microseconds and some last 22 hours; values still match the reference."""
    calls, subscribers, cells, estates, labels, _ = random_city(7)
    rng = np.random.default_rng(7)
    calls = [(*c[:3], (80_000.0 if i % 25 == 0 else c[3]) + round(float(rng.random()), 6), *c[4:])
             for i, c in enumerate(calls)]
    tables = []
    for order in (list, lambda rows: rows[::-1]):
        con = load(order(calls), order(subscribers), order(cells), order(estates),
                   order(labels), [window])
        build_features(con, CFG, window)
        tables.append(con.execute("SELECT * FROM features ORDER BY user_id").df())
    first, second = tables
    assert len(first) > 20 and list(first["user_id"]) == list(second["user_id"])
    differing = [c for c in first.columns if not first[c].equals(second[c])]
    assert not differing, differing
    got = rows(con, "features")
    want, _ = reference(calls, subscribers, cells, estates, labels, window, study, threshold)
    mismatches = [(v, name, got[v][name], want[v][name])
                  for v in want for name in FEATURES if not same(got[v][name], want[v][name])]
    assert not mismatches, mismatches[:10]
    assert max(want[v]["duration_variance"] or 0 for v in want) > 1e8


# ------------------------------------------------------ real data shapes: missed calls, no places
def with_missed_calls(calls: list[tuple], seed: int) -> tuple[list[tuple], int]:
    """A fifth of the calls lose their duration (missed calls kept as contacts), and a fresh
    user 500 makes and gets only missed calls in weeks A and W2."""
    rng = np.random.default_rng(seed)
    out = [(*c[:3], None if rng.random() < 0.2 else c[3], *c[4:]) for c in calls]
    missed_only = 500
    for day, peer in ((10, 1), (11, 2), (11, 3)):
        out.append((missed_only, peer, datetime(2016, 9, day, 21), None, "c01", None))
        out.append((peer, missed_only, datetime(2016, 9, day, 10), None, None, "c02"))
    return out, missed_only


@pytest.mark.parametrize(("window", "study", "threshold"),
                         [(W2, "integration", 10), (A_WEEK, "departure", 5)])
def test_missed_calls_count_as_contacts_not_durations(window, study, threshold):
    calls, subscribers, cells, estates, labels, _ = random_city(8)
    calls, missed_only = with_missed_calls(calls, 8)
    subscribers.append((missed_only, 30, "F", "Anhui"))
    labels.append((missed_only, "new_migrant", "leaving_migrant"))
    con = load(calls, subscribers, cells, estates, labels, [window])
    n_missed = con.execute(
        "SELECT count(*) FROM calls WHERE duration_s IS NULL AND end_ts IS NULL "
        "AND call_date BETWEEN ? AND ?", [window.start, window.end]).fetchone()[0]
    assert n_missed > 20
    build_features(con, CFG, window)
    got = rows(con, "features")
    want, _ = reference(calls, subscribers, cells, estates, labels, window, study, threshold)
    assert set(got) == set(want) and len(want) > 20
    mismatches = [(v, name, got[v][name], want[v][name])
                  for v in want for name in FEATURES if not same(got[v][name], want[v][name])]
    assert not mismatches, mismatches[:10]
    # the user with only missed calls: 6 calls, 3 contacts, a location, no duration statistic
    m = got[missed_only]
    assert (m["in_calls"], m["out_calls"], m["degree"]) == (3, 3, 3)
    assert m["call_duration"] is None and m["duration_variance"] is None
    assert m["center_lat"] is not None
    # durations are means over the known ones: some user has calls of both kinds
    mixed = [v for v in want if want[v]["call_duration"] is not None and any(
        c[3] is None and v in c[:2] and window.start <= c[2].date() <= window.end for c in calls)]
    assert mixed


@pytest.mark.parametrize("missing", ["cells and estates", "estates"])
def test_no_cells_or_no_estates_gives_null_geography_and_prices(missing):
    calls, subscribers, cells, estates, labels, _ = random_city(9)
    if missing == "cells and estates":  # no location: the contract quarantines unknown cells
        calls = [(*c[:4], None, None) for c in calls]
        cells = []
    estates = []
    con = load(calls, subscribers, cells, estates, labels, [A_WEEK])
    prices = con.execute("SELECT count(*), count(price) FROM cell_prices").fetchone()
    assert prices == (len(cells), 0)
    build_features(con, CFG, A_WEEK)
    got = rows(con, "features")
    want, _ = reference(calls, subscribers, cells, estates, labels, A_WEEK, "departure", 5)
    assert set(got) == set(want) and len(want) > 20
    mismatches = [(v, name, got[v][name], want[v][name])
                  for v in want for name in FEATURES if not same(got[v][name], want[v][name])]
    assert not mismatches, mismatches[:10]
    for name, f in FEATURES.items():
        values = [got[v][name] for v in got]
        if f.family == "housing_price" or (f.family == "geography" and not cells):
            assert all(x is None for x in values), name
        else:
            assert any(x is not None for x in values), name


def test_each_window_family_writes_its_own_table():
    """A window's rows go to its family's table only, delete-then-insert: a re-run leaves the
    same rows; the view `features` shows every window."""
    calls, subscribers, cells, estates, labels, _ = random_city(7)
    con = load(calls, subscribers, cells, estates, labels, [W2, A_WEEK])
    for window in (W2, A_WEEK, A_WEEK):
        assert build_features(con, CFG, window) == features_table(window)
    counts = {t: con.execute(f"SELECT window_id, count(*) FROM {t} GROUP BY 1")  # noqa: S608
              .fetchall() for t in FEATURE_TABLES.values()}
    assert [w for t in counts.values() for w, _ in t] == [W2.window_id, A_WEEK.window_id]
    assert dict(counts[features_table(A_WEEK)])[A_WEEK.window_id] == con.execute(
        "SELECT count(*) FROM features WHERE window_id = ?", [A_WEEK.window_id]).fetchone()[0]
    assert all(n > 20 for t in counts.values() for _, n in t)


def test_a_window_drops_each_temp_table_once_no_later_step_reads_it(monkeypatch):
    """build_features drops a TEMP table after the last step whose SQL names it, so the graph's
    scratch tables (arcs, pairs, oriented edges, contacts) and the last pass's new sums are not
    held while the later families run (they were spill: docs/scale.md, "Spill"); the features
    are those of the reference (test above). Seen from inside the housing-price step, the last."""
    import migrant_assets.features as fm

    alive: dict[str, set[str]] = {}
    real = fm._run_step

    def spy(con, cfg, window, step, previous):
        alive[step] = {n for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
        real(con, cfg, window, step, previous)

    monkeypatch.setattr(fm, "_run_step", spy)
    calls, subscribers, cells, estates, labels, _ = random_city(1)
    con = load(calls, subscribers, cells, estates, labels, [W2])
    build_features(con, CFG, W2)
    assert list(alive) == ["triangles", "clustering", "contacts", "ego_network",
                           "call_behavior", "geography", "housing_price"]  # each step once
    assert {"feat_pairs", "feat_degree", "feat_arcs"} <= alive["triangles"]
    assert "feat_contacts" not in alive["triangles"]  # made after the triangles
    assert not {"feat_oriented", "feat_new_places", "feat_new_moves",
                "feat_new_moments"} & alive["clustering"]
    assert not {"feat_pairs", "feat_arcs", "feat_oriented"} & alive["housing_price"]
    assert {"feat_contacts", "feat_centers", "feat_users", *KEPT_TEMP_TABLES,
            "feat_ego_network", "feat_call_behavior", "feat_geography"} <= alive["housing_price"]
    # what a later text names is kept; the rest but the kept sums is dropped
    con.execute("CREATE TEMP TABLE feat_a (x INT); CREATE TEMP TABLE feat_ab (x INT)")
    dropped = drop_unread(con, ["SELECT * FROM feat_a"])
    assert "feat_ab" in dropped and "feat_a" not in dropped
    assert not set(KEPT_TEMP_TABLES) & set(dropped)


def test_a_new_family_is_its_sql_file_and_registry_entries(monkeypatch):
    """Adding a family takes its SQL file (writing feat_<family>) and its FEATURES entries: the
    run, the tables' DDL, the assembling statement and the view follow from the registry."""
    import migrant_assets.db as db
    import migrant_assets.features as fm

    sql = {"features/reach.sql": "CREATE OR REPLACE TEMP TABLE feat_reach AS "
                                 "SELECT user_id, 2 * out_degree AS twice_out FROM feat_directed"}
    real = db.sql_text
    monkeypatch.setattr(db, "sql_text", lambda name: sql.get(name) or real(name))
    registry = {**FEATURES, "twice_out": fm.Feature(
        "reach", "2 out_degree", ("window_graph.src", "window_graph.dst"), dtype="BIGINT")}
    monkeypatch.setattr(fm, "FEATURES", registry)
    monkeypatch.setattr(fm, "FAMILIES", tuple(dict.fromkeys(f.family for f in registry.values())))
    calls, subscribers, cells, estates, labels, _ = random_city(7)
    con = load(calls, subscribers, cells, estates, labels, [A_WEEK])
    build_features(con, CFG, A_WEEK)
    df = con.execute("SELECT * FROM features").df()
    assert list(df.columns)[-2:] == ["neighbor_center_price", "twice_out"] and len(df) > 20
    assert (df["twice_out"] == 2 * df["out_degree"]).all()
    with pytest.raises(ValueError, match="identifier"):
        fm.Feature("Robert'); DROP TABLE calls; --", "", ())
