"""Incremental first-k-days windows (SPEC §2, §4-§5; issue 13): window k built from the stored
window k - 1 plus day k gives the same graph, sums and features, bit for bit, as window k
rebuilt from its raw calls; a window whose predecessor is missing or stale is summed from its
days; the main job's plan runs every window in one run, in order."""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg
import duckdb
import networkx as nx
import pandas as pd
import pytest

from migrant_assets import features as fm
from migrant_assets import graphs as gm
from migrant_assets.db import quote
from migrant_assets.errors import InputError
from migrant_assets.graphs import (
    EVERY_EDGE,
    build_daily_contacts,
    build_window_graph,
    graph_table,
    neighbourhood_once,
    previous_window,
    window_graph_consistency,
)
from migrant_assets_tests.test_features import (
    CFG,
    FEATURES,
    load,
    random_city,
    reference,
    same,
    with_missed_calls,
)

CAL = CFG.calendar
FIRST_K = CAL.windows("first_k_days")
SUMS = ("features_first_k_days_places", "features_first_k_days_moves",
        "features_first_k_days_moments", "features_first_k_days_positions",
        "features_first_k_days_triangles")


def city(seed: int, missed: bool):
    calls, subscribers, cells, estates, labels, _ = random_city(seed)
    # calls on every day of the windows, at the same second in two cells, and across midnight
    users = [s[0] for s in subscribers]
    for i, day in enumerate(range(5, 19)):
        a, b = users[i % 20], users[20 + i % 20]
        calls.append((a, b, datetime(2016, 9, day, 23, 59, 59), 30.5, "c01", "c02"))
        calls.append((b, a, datetime(2016, 9, day, 23, 59, 59), 12.25, "c03", "c01"))
        calls.append((a, b, datetime(2016, 9, day + 1, 0, 0, 0), 7.0, "c04", None))
    # a triangle all of whose edges are new on day 8 of the windows (parties with no other call)
    trio = (20_001, 20_002, 20_003)
    for i, (a, b) in enumerate(((trio[0], trio[1]), (trio[1], trio[2]), (trio[2], trio[0]))):
        calls.append((a, b, datetime(2016, 9, 12, 10, i), 60.0, "c05", "c06"))
    if missed:
        calls, _ = with_missed_calls(calls, seed)
    return calls, subscribers, cells, estates, labels


def built(city_rows, incremental: bool, spy: list | None = None, cfg=None):
    """Every first-k-days window of the city, in order, one way; the connection and the stored
    sums as each window left them (only the window stored last is kept: save_sums.sql). With
    ``cfg``, the graphs as the assets build them (below k_max, the migrants' neighbourhood)."""
    con = load(*city_rows, [])
    for day in CAL.days:
        build_daily_contacts(con, day)
    stored = {}
    for w in FIRST_K:
        stats = build_window_graph(con, w, previous_window(CAL, w) if incremental else None, cfg)
        if spy is not None:
            spy.append(("graph", w.window_id, stats["built_from"]))
        fm.build_features(con, CFG, w, incremental=incremental)
        stored[w.window_id] = {name: table(con, name) for name in SUMS}
    return con, stored


def table(con, name: str) -> pd.DataFrame:
    return con.execute(f"SELECT * FROM {quote(name)} ORDER BY ALL").df()  # noqa: S608


@pytest.fixture
def spy_sums(monkeypatch):
    """Record which stored window each call of sum_window added to."""
    calls = []
    real = fm.sum_window

    def spy(con, cfg, window, *, incremental=True):
        previous = real(con, cfg, window, incremental=incremental)
        calls.append(("sums", window.window_id, previous and previous.window_id))
        return previous

    monkeypatch.setattr(fm, "sum_window", spy)
    return calls


@pytest.mark.parametrize(("seed", "missed"), [(21, False), (22, True), (23, False)])
def test_incremental_windows_equal_windows_rebuilt_from_calls(seed, missed, spy_sums):
    rows_ = city(seed, missed)
    con, stored = built(rows_, incremental=True, spy=spy_sums)
    scratch, stored_scratch = built(rows_, incremental=False)
    # every window after the first was built from the one before it
    for kind in ("graph", "sums"):
        sources = [src for k, _, src in spy_sums if k == kind][:len(FIRST_K)]
        assert sources == [None] + [w.window_id for w in FIRST_K[:-1]], kind
    pairs = [(name, table(con, name), table(scratch, name))
             for name in ("first_k_days_graph", "features_first_k_days")]
    pairs += [(f"{name} of {w}", stored[w][name], stored_scratch[w][name])
              for w in stored for name in SUMS]
    for name, a, b in pairs:
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0, name
        differing = [c for c in a.columns if not a[c].equals(b[c])]  # same values, same nulls
        assert not differing, (name, differing)
    # each window's sums replace the previous window's: the last window's only are kept
    for name in (*SUMS, "features_first_k_days_sums"):
        kept = con.execute(f"SELECT DISTINCT window_id FROM {quote(name)}").fetchall()  # noqa: S608
        assert kept == [(FIRST_K[-1].window_id,)], name
    n_rows = dict(con.execute("SELECT window_id, count(*) FROM features GROUP BY 1").fetchall())
    assert list(n_rows) and all(n > 20 for n in n_rows.values()) and len(n_rows) == len(FIRST_K)
    # the columns the sums feed are not all null, and match the independent reference
    last = FIRST_K[-1]
    got = {r["user_id"]: r for r in con.execute(
        "SELECT * FROM features WHERE window_id = ?", [last.window_id]).df()
        .astype(object).where(lambda d: pd.notna(d), None).to_dict("records")}
    want, _ = reference(*rows_, last, "departure", 5)
    assert set(got) == set(want)
    mismatches = [(v, n, got[v][n], want[v][n]) for v in want for n in FEATURES
                  if not same(got[v][n], want[v][n])]
    assert not mismatches, mismatches[:10]
    for w in FIRST_K:
        assert window_graph_consistency(con, w)["ok"], w.label
    assert_stored_triangles_match_networkx(con, stored)


def undirected(con, window) -> nx.Graph:
    g = nx.Graph()
    g.add_edges_from(con.execute("SELECT src, dst FROM first_k_days_graph WHERE window_id = ? "
                                 "AND src <> dst", [window.window_id]).fetchall())
    return g


def assert_stored_triangles_match_networkx(con, stored: dict) -> None:
    """The triangles stored by every window (window k's = window k - 1's plus those through
    edges new on day k, triangles_added.sql) are networkx's triangles of G_k, and the city has
    triangles that gained one, two and three new edges on their day."""
    new_edges_per_triangle: set[int] = set()
    before = nx.Graph()
    for w in FIRST_K:
        g = undirected(con, w)
        want = {v: n for v, n in nx.triangles(g).items() if n}
        rows_ = stored[w.window_id]["features_first_k_days_triangles"]
        assert set(rows_["window_id"]) == {w.window_id}, w.label
        got = dict(zip(rows_["party"], rows_["n_triangles"], strict=True))
        assert got == want, w.label
        for clique in nx.enumerate_all_cliques(g):
            if len(clique) == 3:
                pairs = [(clique[i], clique[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
                n_new = sum(not before.has_edge(*p) for p in pairs)
                if n_new and w is not FIRST_K[0]:
                    new_edges_per_triangle.add(n_new)
        before = g
    assert new_edges_per_triangle == {1, 2, 3}, new_edges_per_triangle


def test_windows_below_k_max_keep_the_edges_of_the_migrants_neighbourhood(spy_sums):
    """Below k_max (graphs.migrants_only) a window's graph keeps the edges with an end among the
    departure migrants and their contacts of the first k_max - 1 days, found here in Python from
    the calls; every feature of every window is the same as on the whole graphs, incremental or
    not; k_max keeps every edge, built from its days, its triangles counted anew; the check
    compares each graph with the calls as it was built."""
    calls, subscribers, cells, estates, labels = city(25, True)
    # a fringe nobody the migrants know: three numbers in a triangle, one of whom calls a
    # contact of a migrant (an edge the contact's degree needs)
    migrants = {u for u, _, d in labels if d in ("staying_migrant", "leaving_migrant")}
    locals_ = {u for u, _, d in labels if d == "local"}
    longest = FIRST_K[-2]
    contact = next(b for a, b, t, *_ in calls
                   if a in migrants and b in locals_ and longest.start <= t.date()
                   <= longest.end)
    fringe = (30_001, 30_002, 30_003)
    for i, (a, b) in enumerate(((fringe[0], fringe[1]), (fringe[1], fringe[2]),
                                (fringe[2], fringe[0]), (fringe[0], contact))):
        calls.append((a, b, datetime(2016, 9, 6 + i, 9, 0), 40.0, "c02", "c03"))
    rows_ = calls, subscribers, cells, estates, labels
    whole, _ = built(rows_, incremental=True)
    part, stored = built(rows_, incremental=True, spy=spy_sums, cfg=CFG)
    scratch, _ = built(rows_, incremental=False, cfg=CFG)
    assert [src for k, _, src in spy_sums if k == "graph"] == [
        None, *(w.window_id for w in FIRST_K[:-2]), None]  # k_max from its own days

    near = migrants | {p for a, b, t, *_ in calls if longest.start <= t.date() <= longest.end
                       and {a, b} & migrants for p in (a, b)}
    assert contact in near and not set(fringe) & near

    def edges(con, w):
        return set(con.execute(f"SELECT src, dst FROM {quote(graph_table(w))} "  # noqa: S608
                               "WHERE window_id = ?", [w.window_id]).fetchall())

    for w in FIRST_K:
        everyone = {(a, b) for a, b, t, *_ in calls if w.start <= t.date() <= w.end}
        assert edges(whole, w) == everyone, w.label
        want = everyone if w is FIRST_K[-1] else {e for e in everyone if set(e) & near}
        assert edges(part, w) == edges(scratch, w) == want, w.label
        if w.end >= date(2016, 9, 9):  # the fringe's edges are left out below k_max only
            assert (fringe[0], contact) in want and (w is FIRST_K[-1]) == (
                (fringe[0], fringe[1]) in want), w.label
        assert window_graph_consistency(part, w, CFG)["ok"], w.label
        if w is not FIRST_K[-1] and want != everyone:  # the check tells the two graphs apart
            assert not window_graph_consistency(part, w)["ok"], w.label
        # the stored triangles are those of the stored graph
        g = undirected(part, w)
        rows_t = stored[w.window_id]["features_first_k_days_triangles"]
        assert dict(zip(rows_t["party"], rows_t["n_triangles"], strict=True)) == {
            v: n for v, n in nx.triangles(g).items() if n}, w.label
    for a, b in ((part, whole), (part, scratch)):
        fa, fb = table(a, "features_first_k_days"), table(b, "features_first_k_days")
        assert len(fa) == len(fb) > 0
        assert not [c for c in fa.columns if not fa[c].equals(fb[c])]

    # the contact (a local) turned migrant: the fringe's caller joins the neighbourhood. k = 8
    # alone after k = 7 does not add to k = 7's sums (their triangles are those of the old
    # neighbourhood's edges), and has the rows of a city labelled so from the start
    k7, k8 = FIRST_K[4], FIRST_K[5]
    build_window_graph(part, k7, previous_window(CAL, k7), CFG)
    fm.build_features(part, CFG, k7)
    local = contact
    relabel = "UPDATE user_labels SET departure_label = 'staying_migrant' WHERE user_id = ?"
    part.execute(relabel, [local])
    build_window_graph(part, k8, k7, CFG)
    fm.build_features(part, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, None)
    fresh = load(*rows_, [])
    fresh.execute(relabel, [local])
    for day in CAL.days:
        build_daily_contacts(fresh, day)
    build_window_graph(fresh, k8, None, CFG)
    fm.build_features(fresh, CFG, k8, incremental=False)
    a, b = (c.execute("SELECT * FROM features WHERE window_id = ? ORDER BY user_id",
                      [k8.window_id]).df() for c in (part, fresh))
    assert len(a) > 20 and local in set(a["user_id"])
    assert not [c for c in a.columns if not a[c].equals(b[c])]

    # a graph built before the relabel is never featurised (the fringe's triangle would be
    # missing from the new neighbourhood's graph, and the new migrant's own edges): its
    # features stop with the fix; rebuilt, k = 7 then k = 8 equal a city labelled so from the
    # start, k = 8 added to k = 7's sums (review of 01e2832, findings 1, 2 and 4)
    with pytest.raises(InputError, match=f"window {k7.label} was built for other parties"):
        fm.build_features(part, CFG, k7)
    hoods = dict(part.execute("SELECT window_id, neighbourhood "
                              "FROM first_k_days_graph_neighbourhood").fetchall())
    assert len({hoods[k7.window_id], hoods[k8.window_id], EVERY_EDGE}) == 3
    spy_sums.clear()
    build_window_graph(part, k7, None, CFG)
    build_window_graph(part, k8, k7, CFG)
    fm.build_features(part, CFG, k7)
    fm.build_features(part, CFG, k8)
    assert spy_sums == [("sums", k7.window_id, None), ("sums", k8.window_id, k7.window_id)]
    build_window_graph(fresh, k7, None, CFG)
    fm.build_features(fresh, CFG, k7, incremental=False)
    for w in (k7, k8):
        a, b = (c.execute("SELECT * FROM features WHERE window_id = ? ORDER BY user_id",
                          [w.window_id]).df() for c in (part, fresh))
        assert len(a) > 20 and not [c for c in a.columns if not a[c].equals(b[c])], w.label


def test_a_run_of_windows_makes_the_migrants_neighbourhood_once(monkeypatch):
    """Inside graphs.neighbourhood_once (an asset's run) the neighbourhood of the windows below
    k_max is made once per source and connection, as the graphs asset, the features asset and
    the check each read it; the graphs, sums, features and checks are those of windows that make
    it each time."""
    made = []
    real = gm.run_sql

    def spy(con, name, *args, **kwargs):
        if name.startswith("graphs/") and name.endswith("neighbourhood.sql"):
            made.append((id(con), name.removeprefix("graphs/")))
        return real(con, name, *args, **kwargs)

    monkeypatch.setattr(gm, "run_sql", spy)
    rows_ = city(26, True)
    outputs = []
    for once in (False, True):
        con = load(*rows_, [])
        for day in CAL.days:
            build_daily_contacts(con, day)
        made.clear()
        checks = []
        for step in ("graphs", "features", "checks"):  # the assets' runs, one after another
            with neighbourhood_once() if once else open_scope():
                for w in FIRST_K:
                    if step == "graphs":
                        build_window_graph(con, w, previous_window(CAL, w), CFG)
                    elif step == "features":
                        fm.build_features(con, CFG, w)
                    else:
                        checks.append(window_graph_consistency(con, w, CFG))
        below = len(FIRST_K) - 1
        hoods = [n for _, n in made].count("migrants_neighbourhood.sql")
        assert hoods == 3 if once else hoods >= 3 * below  # else at least once a window a run
        assert [n for _, n in made].count("no_neighbourhood.sql") == 3  # k_max, once a run
        assert all(c["ok"] and c["judged"] for c in checks)
        outputs.append(({w.window_id: sorted(con.execute(
            f"SELECT * FROM {quote(graph_table(w))} WHERE window_id = ?",  # noqa: S608
            [w.window_id]).fetchall()) for w in FIRST_K},
            {name: table(con, name) for name in (*SUMS, "features_first_k_days")}, checks))
    (graphs_each, sums_each, checks_each), (graphs_once, sums_once, checks_once) = outputs
    assert graphs_each == graphs_once and checks_each == checks_once
    for name, frame in sums_each.items():
        assert len(frame) > 0 and frame.equals(sums_once[name]), name


def test_a_graph_of_no_migrant_or_of_an_earlier_version_is_not_every_edge(monkeypatch):
    """Below k_max a graph built while no departure migrant was labelled keeps no edge: its key
    is an (empty) neighbourhood's, not every edge's, so once the migrants are labelled its
    features stop with the fix. A file of an earlier version (no key stored, no key table): the
    graph of k_max keeps every edge and is featurised, one below k_max is refused."""
    rows_ = city(27, False)
    con = load(*rows_, [])
    for day in CAL.days:
        build_daily_contacts(con, day)
    k7, k_max = FIRST_K[4], FIRST_K[-1]
    con.execute("CREATE TABLE held AS SELECT * FROM user_labels")
    con.execute("UPDATE user_labels SET departure_label = NULL WHERE departure_label <> 'local'")
    made = []
    real = gm.run_sql
    monkeypatch.setattr(gm, "run_sql", lambda c, name, *a, **k: (
        made.append(name) if name == "graphs/migrants_neighbourhood.sql" else None,
        real(c, name, *a, **k))[1])
    with neighbourhood_once():
        stats = build_window_graph(con, k7, None, CFG)
        with neighbourhood_once():  # a block inside another shares its memory
            build_window_graph(con, FIRST_K[3], None, CFG)
        build_window_graph(con, k_max, None, CFG)
    assert stats["n_edges"] == 0 and made == ["graphs/migrants_neighbourhood.sql"]
    stored = dict(con.execute("SELECT * FROM first_k_days_graph_neighbourhood").fetchall())
    assert stored == {k7.window_id: "neighbourhood:0:-", FIRST_K[3].window_id:
                      "neighbourhood:0:-", k_max.window_id: EVERY_EDGE}
    con.execute("DELETE FROM user_labels; INSERT INTO user_labels SELECT * FROM held")
    with pytest.raises(InputError, match="built for other parties"):
        fm.build_features(con, CFG, k7)
    build_window_graph(con, k7, None, CFG)
    fm.build_features(con, CFG, k7)
    assert con.execute("SELECT count(*) FROM features WHERE window_id = ?",
                       [k7.window_id]).fetchone()[0] > 20
    con.execute("DROP TABLE first_k_days_graph_neighbourhood")  # an earlier version's file
    fm.build_features(con, CFG, k_max)
    with pytest.raises(InputError, match=f"not built by this version.*{FIRST_K[0].label}"):
        fm.build_features(con, CFG, k7)
    # another population: no window below k_max, a graph stored for a neighbourhood is refused
    # naming the window itself
    build_window_graph(con, k_max, None, CFG)
    con.execute("UPDATE first_k_days_graph_neighbourhood SET neighbourhood = 'neighbourhood:1:2'")
    other = CFG.model_copy(update={"population": "subscribers"})
    with pytest.raises(InputError, match=f"for {k_max.label} again, then its features"):
        fm.build_features(con, other, k_max)


def open_scope():
    """No scope: every window makes its neighbourhood."""
    from contextlib import nullcontext
    return nullcontext()


def test_a_window_alone_or_after_a_changed_day_is_summed_from_its_days(spy_sums):
    rows_ = city(24, False)
    con = load(*rows_, [])
    for day in CAL.days:
        build_daily_contacts(con, day)
    k7, k8 = FIRST_K[4], FIRST_K[5]
    assert (k7.label, k8.label, previous_window(CAL, k8)) == ("k=7", "k=8", k7)
    # k = 8 first, k = 7 missing: from its own days
    assert build_window_graph(con, k8, previous_window(CAL, k8))["built_from"] is None
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, None)
    # then k = 7, and k = 8 again: from k = 7
    build_window_graph(con, k7)
    fm.build_features(con, CFG, k7)
    assert build_window_graph(con, k8, k7)["built_from"] == k7.window_id
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, k7.window_id)
    # k = 8 replaced k = 7's sums with its own: k = 8 again is summed from its days
    assert con.execute("SELECT window_id FROM features_first_k_days_sums").fetchall() == [
        (k8.window_id,)]
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, None)
    # sums of k = 7 stored by a version without stored triangles (inputs without the parts):
    # not added to, k = 8 is summed from its days, with the right clustering
    fm.build_features(con, CFG, k7)
    con.execute("UPDATE features_first_k_days_sums SET inputs = ? WHERE window_id = ?",
                [fm.sums_key(con, k7)["inputs"], k7.window_id])
    con.execute("DELETE FROM features_first_k_days_triangles WHERE window_id = ?",
                [k7.window_id])
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, None)
    fm.build_features(con, CFG, k7)
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, k7.window_id)
    # an estate's price changed since k = 7: its priced positions are not reused
    fm.build_features(con, CFG, k7)
    raise_price = "UPDATE estates SET price_per_sqm = price_per_sqm + 1 WHERE estate_id = 'e1'"
    con.execute(raise_price)
    fm.write_cell_prices(con)
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, None)
    fm.build_features(con, CFG, k7)
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, k7.window_id)
    fm.build_features(con, CFG, k7)
    # a day of k = 7 re-ingested with a call less: k = 7's graph and sums are stale, not reused
    con.execute("DELETE FROM calls WHERE rowid = (SELECT min(rowid) FROM calls "
                "WHERE call_date = DATE '2016-09-06')")
    build_daily_contacts(con, date(2016, 9, 6))
    assert build_window_graph(con, k8, k7)["built_from"] is None
    fm.build_features(con, CFG, k8)
    assert spy_sums[-1] == ("sums", k8.window_id, None)
    assert window_graph_consistency(con, k8)["ok"]
    fresh = load(*rows_, [])
    fresh.execute(raise_price)
    fm.write_cell_prices(fresh)
    fresh.execute("DELETE FROM calls WHERE rowid = (SELECT min(rowid) FROM calls "
                  "WHERE call_date = DATE '2016-09-06')")
    for day in k8.days:
        build_daily_contacts(fresh, day)
    build_window_graph(fresh, k8)
    fm.build_features(fresh, CFG, k8, incremental=False)
    a, b = (c.execute("SELECT * FROM features WHERE window_id = ? ORDER BY user_id",
                      [k8.window_id]).df() for c in (con, fresh))
    assert len(a) > 20 and all(a[c].equals(b[c]) for c in a.columns)


def test_first_k_windows_read_their_previous_partition_and_run_in_one_run():
    from migrant_assets.defs import defs
    from migrant_assets.runs import main_plan

    graph = defs.resolve_asset_graph()
    keys = [w.key for w in FIRST_K]
    for name in ("first_k_days_graph", "features_first_k_days"):
        asset = dg.AssetKey(name)
        for i, key in enumerate(keys):
            parents = graph.get_parent_partition_keys_for_child(
                key, asset, asset).partitions_subset.get_partition_keys()
            assert list(parents) == keys[i - 1:i] if i else list(parents) == [], (name, key)
    steps = {k: s for s in main_plan(defs) for k in s.keys}
    for name in ("first_k_days_graph", "features_first_k_days"):
        step = steps[dg.AssetKey(name)]
        # one run over every k: the asset builds them in order, k = 3 first
        assert step.partition_runs() == [(keys[0], keys[-1])]
    order = [k for s in main_plan(defs) for k in s.keys]
    assert order.index(dg.AssetKey("first_k_days_graph")) < order.index(
        dg.AssetKey("features_first_k_days"))


def test_day_passes_cover_every_day_in_runs_within_the_budget():
    d = [date(2016, 9, i) for i in range(1, 31)]
    calls = [(d[1], 5), (d[2], 4), (d[3], 2), (d[6], 9), (d[7], 12), (d[9], 1)]
    got = fm.day_passes(calls, d[0], d[29], 9)
    # runs in order, each from the day after the last one's end, the last to the window's end
    assert got == [(d[0], d[2]), (d[3], d[5]), (d[6], d[6]), (d[7], d[8]), (d[9], d[29])]
    # the calls of each run: within the budget unless one day alone has more
    per_run = [sum(n for day, n in calls if a <= day <= b) for a, b in got]
    assert per_run == [9, 2, 9, 12, 1]
    assert fm.day_passes([], d[0], d[29], 9) == [(d[0], d[29])]
    assert fm.day_passes(calls, d[0], d[29], 10**9) == [(d[0], d[29])]


@pytest.mark.parametrize("family", ["whole_period", "integration_week"])
@pytest.mark.parametrize("seed", [31, 32])
def test_a_window_summed_in_passes_equals_one_pass(family, seed):
    """A window whose days are summed in passes of at most duckdb.max_calls_per_pass calls
    (every day alone, or runs of a few days) has the same sums and features, bit for bit, as
    the window summed in one pass; the sums match the reference through the features."""
    rows_ = city(seed, True)
    window = CAL.windows(family)[-1 if family == "whole_period" else 1]
    got = {}
    for budget in (10**9, 1, 100):
        cfg = CFG.model_copy(update={"duckdb": CFG.duckdb.model_copy(
            update={"max_calls_per_pass": budget})})
        con = load(*rows_, [])
        for day in window.days:
            build_daily_contacts(con, day)
        build_window_graph(con, window)
        fm.build_features(con, cfg, window)
        got[budget] = {name: table(con, name) for name in
                       ("feat_places", "feat_moves", "feat_moments", fm.features_table(window))}
    day_calls = load(*rows_, []).execute(
        "SELECT call_date, count(*) FROM calls WHERE call_date BETWEEN ? AND ? GROUP BY 1 "
        "ORDER BY 1", [window.start, window.end]).fetchall()
    # every day alone, and runs of two or three days
    assert len(fm.day_passes(day_calls, window.start, window.end, 1)) == len(day_calls) >= 7
    assert 2 <= len(fm.day_passes(day_calls, window.start, window.end, 100)) < len(day_calls)
    for budget in (1, 100):
        for name, a in got[10**9].items():
            b = got[budget][name]
            assert list(a.columns) == list(b.columns) and len(a) == len(b) > 20, name
            differing = [c for c in a.columns if not a[c].equals(b[c])]
            assert not differing, (budget, name, differing)


@pytest.mark.parametrize(("limit", "calls"), [("600MB", 600e6 / 100), ("6GB", 6e9 / 100),
                                              ("1GiB", 2**30 / 100)])
def test_calls_per_pass_follow_the_memory_limit_unless_given(limit, calls):
    con = duckdb.connect()
    con.execute("SET memory_limit = ?", [limit])
    # DuckDB shows the limit to a tenth of its binary unit (6GB: 5.5 GiB)
    assert fm.calls_per_pass(con, CFG) == pytest.approx(calls, rel=0.02)
    given = CFG.model_copy(update={"duckdb": CFG.duckdb.model_copy(
        update={"max_calls_per_pass": 1234})})
    assert fm.calls_per_pass(con, given) == 1234
