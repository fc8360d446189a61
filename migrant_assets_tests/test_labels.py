"""User population and labels (SPEC §3) on hand-written call logs, every rule at its boundary.

Default calendar: W1 09-03..09-09, W2 09-10..16, W3 09-17..23, W4 09-24..30; departure pre-window
09-01..09-04, A 09-05..11, B 09-12..18, C 09-19..25, ignored 09-26..30. ``max_degree`` = 3.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from migrant_assets.config import Calendar, StudyConfig, Thresholds
from migrant_assets.labels import build_user_labels

L, M = "Shanghai", "Anhui"  # local-born, migrant
AUG31 = -1  # day offset of 2016-08-31, outside the study month

# (user_id, birth_province, days with a call made, days with a call received, integration label,
#  departure label); each user calls one private partner (party 100 + user_id), so degree 1.
CASES = [
    (1, L, [3, 10, 17, 24], [], "local", "local"),
    (2, L, [3, 10, 24], [], None, None),  # silent in W3 (and in B)
    (3, M, [5, 12, 19, 24], [], "settled_migrant", "staying_migrant"),  # first call 09-05
    (4, M, [4, 12, 19, 24], [], "settled_migrant", None),  # first call 09-04: not new (departure)
    (5, M, [9, 10, 17, 24], [], "settled_migrant", "staying_migrant"),  # 09-09 is in W1
    (6, M, [10, 17, 24], [], "new_migrant", "staying_migrant"),  # first call 09-10
    (7, M, [1, 10, 17, 24], [], "new_migrant", None),  # 09-01 is before W1 but in pre-window
    (8, M, [5, 12], [], None, "leaving_migrant"),
    (9, M, [5, 18], [], None, "leaving_migrant"),  # 09-18 is the last day of B
    (10, M, [5, 12, 19], [], None, "staying_migrant"),  # one call on 09-19: active in C
    (11, M, [5, 12, 25], [], None, "staying_migrant"),  # 09-25 is the last day of C
    (12, M, [5, 12, 26], [], None, "leaving_migrant"),  # back on 09-26: still leaving (SPEC §3)
    (13, M, [], [10, 17, 24], "new_migrant", "staying_migrant"),  # only receives calls
    (14, None, [3, 10, 17, 24], [], None, None),  # unknown birth province
    (15, "  ", [3, 10, 17, 24], [], None, None),  # blank birth province = unknown
    (16, L, [1, 5, 12, 19, 24], [], "local", "local"),  # locals may call before A
    (17, L, [], [], None, None),  # never active, still a user
    (18, L, [10, 17, 24], [], None, "local"),  # a local needs W1 in the integration study
    (19, L, [5, 12], [], None, None),  # a local silent in C has no departure label
    (20, M, [AUG31, 10, 17, 24], [], "new_migrant", "staying_migrant"),  # 08-31 is not studied
]

DEGREE_3 = 40  # local calling 3 distinct parties (one of them also calls back): kept
DEGREE_4 = 41  # local calling 4 distinct parties: removed (max_degree)
SERVICE = 42  # flagged service number: removed (user_type)
NOT_LOCAL_NUMBER = 43  # owner without a local number: not a user
SERVICE_DEGREE_4 = 44  # removed for both reasons


@pytest.fixture(params=[0, 30], ids=["sept", "shifted-30-days"])
def offset(request) -> int:
    """Days the whole calendar and every call are shifted by: labels must not change."""
    return request.param


@pytest.fixture
def cfg(offset) -> StudyConfig:
    cal = Calendar()
    shift = timedelta(offset)
    calendar = Calendar(
        month_start=cal.month_start + shift,
        month_end=cal.month_end + shift,
        integration_weeks=[d + shift for d in cal.integration_weeks],
        departure_weeks=[d + shift for d in cal.departure_weeks],
    )
    return StudyConfig(calendar=calendar, thresholds=Thresholds(max_degree=3))


@pytest.fixture
def city(add_subscribers, add_calls, offset) -> None:
    def day(d: int):
        return date(2016, 9, 1) + timedelta(d - 1 + offset)

    subscribers, calls = [], []
    for uid, province, made, received, _, _ in CASES:
        subscribers.append((uid, province))
        calls += [(uid, 100 + uid, day(d)) for d in made]
        calls += [(100 + uid, uid, day(d)) for d in received]
    subscribers += [
        (DEGREE_3, L),
        (DEGREE_4, L),
        (SERVICE, L, True, True),
        (NOT_LOCAL_NUMBER, M, False),
        (SERVICE_DEGREE_4, L, True, True),
    ]
    for uid in (DEGREE_3, DEGREE_4, SERVICE, NOT_LOCAL_NUMBER, SERVICE_DEGREE_4):
        n_parties = {DEGREE_3: 3, DEGREE_4: 4, SERVICE_DEGREE_4: 4}.get(uid, 1)
        calls += [(uid, 10 * uid + i % n_parties, day(d)) for i, d in enumerate([3, 10, 17, 24])]
    calls.append((10 * DEGREE_3, DEGREE_3, day(24)))  # a call back does not add a party
    add_subscribers(subscribers)
    add_calls(calls)


def labels(con) -> dict[int, tuple]:
    rows = con.execute("SELECT user_id, integration_label, departure_label FROM user_labels")
    return {uid: (i, d) for uid, i, d in rows.fetchall()}


def test_labels_follow_spec_rules(con, cfg, city):
    build_user_labels(con, cfg)
    got = labels(con)
    expected = {uid: (i, d) for uid, _, _, _, i, d in CASES}
    expected[DEGREE_3] = ("local", "local")
    assert got == expected  # nobody else: no service-like owner, no owner without local number


def test_activity_facts(con, cfg, city, offset):
    build_user_labels(con, cfg)
    cols = (
        "is_local_born, degree, n_calls, first_active_day, last_active_day, active_pre, "
        "active_w1, active_w2, active_w3, active_w4, active_a, active_b, active_c, active_after_c"
    )

    def facts(uid):
        return con.execute(f"SELECT {cols} FROM user_labels WHERE user_id = ?", [uid]).fetchone()

    day = lambda d: date(2016, 9, d) + timedelta(offset)  # noqa: E731
    F, T = False, True
    assert facts(12) == (F, 1, 3, day(5), day(26), F, T, T, F, T, T, T, F, T)
    assert facts(13) == (F, 1, 3, day(10), day(24), F, F, T, T, T, T, T, T, F)
    assert facts(14)[0] is None
    assert facts(17) == (T, 0, 0, None, None, F, F, F, F, F, F, F, F, F)
    assert facts(20)[3] == day(10)  # the call of 08-31 is outside the month
    assert facts(DEGREE_3)[:3] == (T, 3, 5)


def test_service_like_users(con, cfg, city):
    build_user_labels(con, cfg)
    rows = con.execute("SELECT user_id, reason, degree FROM service_like_users").fetchall()
    assert sorted(rows) == [
        (DEGREE_4, "max_degree", 4),
        (SERVICE, "user_type", 1),
        (SERVICE_DEGREE_4, "max_degree", 4),
        (SERVICE_DEGREE_4, "user_type", 4),
    ]


def test_stats_are_counts(con, cfg, city):
    stats = build_user_labels(con, cfg)
    assert stats == {
        "n_owners_with_local_number": 24,
        "n_users": 21,
        "n_unknown_birth_province": 2,
        "n_service_like_removed": 3,
        "n_removed_user_type": 2,
        "n_removed_max_degree": 2,
        "removed_degree_min": 1,
        "removed_degree_max": 4,
        "n_leaving_active_after_c": 1,
        "integration_label_counts": {
            "local": 3,
            "settled_migrant": 3,
            "new_migrant": 4,
            "unlabelled": 11,
        },
        "departure_label_counts": {
            "local": 4,
            "staying_migrant": 7,
            "leaving_migrant": 3,
            "unlabelled": 7,
        },
        "max_degree": 3,
        "withheld_labels": {},  # 09-01 .. 09-26 hold calls: every silence window is covered
    }


def test_default_max_degree_keeps_everyone_but_flagged(con, city):
    stats = build_user_labels(con, StudyConfig())
    assert stats["max_degree"] == 500
    assert stats["n_removed_max_degree"] == 0
    assert stats["n_removed_user_type"] == 2


def test_rerun_gives_identical_tables(con, cfg, city, table_rows):
    first = build_user_labels(con, cfg)
    before = table_rows("user_labels"), table_rows("service_like_users")
    assert build_user_labels(con, cfg) == first
    assert (table_rows("user_labels"), table_rows("service_like_users")) == before


def test_empty_input(con, cfg):
    stats = build_user_labels(con, cfg)
    assert stats["n_users"] == 0
    assert stats["removed_degree_min"] is None
    assert stats["integration_label_counts"]["unlabelled"] == 0


def _checks(con, cfg, population="labelled"):
    """Every check of `user_labels`, judged on the stored tables (as the asset checks do)."""
    from migrant_assets.defs.labels import LABEL_CHECKS

    build_user_labels(con, cfg)
    cfg = cfg.model_copy(update={"population": population})
    return {name: judge(cfg, con) for name, (judge, _, _) in LABEL_CHECKS.items()}


def _judged(result) -> int:
    return result.metadata["judged"].value


def test_label_checks_judge_the_city(con, cfg, city):
    import dagster as dg

    got = _checks(con, cfg)
    assert got["group_counts_nonzero"].passed and _judged(got["group_counts_nonzero"]) == 21
    assert got["one_label_per_study"].passed and got["labelled_users_have_attributes"].passed
    labelled = sum(1 for *_, i, d in CASES if i or d) + 1  # and DEGREE_3
    assert _judged(got["labelled_users_have_attributes"]) == labelled
    leaving = got["leaving_share"]  # 3 leaving of 10 new migrants: outside 2%..8%
    assert not leaving.passed and leaving.severity == dg.AssetCheckSeverity.ERROR
    assert _judged(leaving) == 10
    # what to check first, said (probe 35 L2: the run printed that it failed, not why)
    assert leaving.metadata["check_first"].value.startswith(
        "30.0% of the departure study's 10 new migrants leave, outside checks.leaving_share "
        "(2.0% to 8.0%)")


def test_an_empty_group_says_what_to_check_first(con, cfg, city):
    """Without the leaving migrants (their calls of week C kept), group_counts_nonzero fails
    naming the empty group and the SPEC rules that make it."""
    build_user_labels(con, cfg)
    leavers = [uid for uid, (_, d) in labels(con).items() if d == "leaving_migrant"]
    week_c = cfg.calendar.departure_weeks[2]
    con.executemany("INSERT INTO calls SELECT call_date + 14, caller, callee, start_ts + "
                    "INTERVAL 14 DAY, NULL, NULL, NULL, NULL FROM calls WHERE caller = ? "
                    "AND call_date BETWEEN ? AND ? LIMIT 1",
                    [[uid, week_c - timedelta(14), week_c - timedelta(8)] for uid in leavers])
    got = _checks(con, cfg)["group_counts_nonzero"]
    assert not got.passed and got.metadata["empty_groups"].value == ["departure.leaving_migrant"]
    assert got.metadata["check_first"].value.startswith(
        "departure.leaving_migrant empty: the calendar (SPEC §3")


def test_leaving_share_range_is_the_study_config(con, cfg, city):
    """The range comes from checks.leaving_share: 3 of 10 passes in 25%..35%, and on real data
    a share outside the range only warns."""
    import dagster as dg

    from migrant_assets.config import Checks, FilesSource

    wide = cfg.model_copy(update={"checks": Checks(leaving_share=(0.25, 0.35))})
    got = _checks(con, wide)["leaving_share"]
    assert got.passed and got.metadata["leaving_share"].value == 0.3
    assert "check_first" not in got.metadata
    assert got.metadata["range"].value == [0.25, 0.35]
    files = cfg.model_copy(update={"source": FilesSource(mapping="m.yaml")})
    assert _checks(con, files)["leaving_share"].severity == dg.AssetCheckSeverity.WARN


def test_label_checks_are_declared_as_data():
    """Each label check is an asset check of `user_labels` that reads the stored table; one
    label per study is blocking (a user with two labels would poison every study)."""
    import dagster as dg

    from migrant_assets.defs import labels as label_defs

    specs = {spec.name: spec for c in dg.load_asset_checks_from_modules([label_defs])
             for spec in c.check_specs}
    assert set(specs) == {"group_counts_nonzero", "leaving_share", "one_label_per_study",
                          "labelled_users_have_attributes"}
    assert {n for n, s in specs.items() if s.blocking} == {"one_label_per_study"}
    assert {s.asset_key.to_user_string() for s in specs.values()} == {"user_labels"}


def test_label_checks_never_pass_on_nothing(con, cfg):
    import dagster as dg

    got = _checks(con, cfg)
    for name, result in got.items():
        assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN, name
        assert _judged(result) == 0 and result.metadata["reason"].text, name


@pytest.mark.parametrize("population", ["labelled", "subscribers"])
def test_no_birth_province_fails_the_papers_only(con, cfg, add_subscribers, add_calls,
                                                 population):
    """A city without birthplace data: no label can exist. The papers' population cannot be
    studied (ERROR); another population can, so the group check is not judged (WARN)."""
    import dagster as dg

    add_subscribers([(u, None) for u in range(1, 6)])
    add_calls([(u, 100 + u, date(2016, 9, d)) for u in range(1, 6) for d in (3, 10, 17, 24)])
    got = _checks(con, cfg, population)
    groups = got["group_counts_nonzero"]
    assert not groups.passed and "birth province" in groups.metadata["reason"].text
    if population == "labelled":
        assert groups.severity == dg.AssetCheckSeverity.ERROR and _judged(groups) == 5
    else:
        assert groups.severity == dg.AssetCheckSeverity.WARN and _judged(groups) == 0
    assert got["one_label_per_study"].passed and _judged(got["one_label_per_study"]) == 5
    assert _judged(got["labelled_users_have_attributes"]) == 0


def test_degree_is_the_month_graphs_undirected_degree(con, add_subscribers, add_calls):
    """``degree`` counts each owner's distinct other parties of the month, whichever way they
    called and how often (networkx's undirected degree without self-loops): on a random city
    with repeated, reciprocated and self calls, and calls just outside the month."""
    import networkx as nx
    import numpy as np

    rng = np.random.default_rng(7)
    owners = list(range(1, 61))  # 61..120 are other parties
    add_subscribers([(u, "Shanghai") for u in owners])
    month = [date(2016, 9, 1) + timedelta(int(d)) for d in rng.integers(0, 30, 900)]
    outside = [date(2016, 8, 31), date(2016, 10, 1)] * 20
    days = month + outside
    ends = rng.integers(1, 121, (len(days), 2))
    ends[::25, 1] = ends[::25, 0]  # self-calls
    calls = [(int(a), int(b), d) for (a, b), d in zip(ends, days, strict=True)]
    add_calls(calls)
    build_user_labels(con, StudyConfig(thresholds=Thresholds(max_degree=10**6)))

    graph = nx.Graph()
    graph.add_nodes_from(owners)
    graph.add_edges_from((a, b) for a, b, d in calls[:len(month)] if a != b)
    got = dict(con.execute("SELECT user_id, degree FROM user_labels").fetchall())
    assert got == {u: graph.degree(u) for u in owners}
    directed = [(a, b) for a, b, _ in calls[:len(month)] if a != b]
    assert {(b, a) for a, b in directed} & set(directed)  # some pair called both ways
    assert len(directed) > len(set(directed))  # some pair called more than once
    assert len(set(got.values())) > 3  # the degrees vary


def test_a_calendar_moved_to_another_month_moves_its_first_k_days() -> None:
    """SPEC §2: the first-k-days windows start on departure week A's first day. A calendar
    that moves the weeks and not first_k_start kept 2016-09-05 (outside an October month);
    one whose windows leave the month, or a default week outside it, is an error naming the
    key."""
    weeks = {"integration_weeks": ["2016-10-01", "2016-10-08", "2016-10-15", "2016-10-22"],
             "departure_weeks": ["2016-10-03", "2016-10-10", "2016-10-17"]}
    october = {"month_start": "2016-10-01", "month_end": "2016-10-31"}
    cal = Calendar.model_validate({**october, **weeks})
    assert cal.first_k_start == date(2016, 10, 3)
    assert [w.end for w in cal.windows("first_k_days")][-1] == date(2016, 10, 16)
    with pytest.raises(ValueError, match=r"calendar.first_k_start: the first-k-days windows "
                       r"\(2016-10-20 .. 2016-11-02, k up to k_max = 14\) are not inside"):
        Calendar.model_validate({**october, **weeks, "first_k_start": "2016-10-20"})
    # windows into week C would hold the silence that makes a leaving migrant (probe 31 H1)
    with pytest.raises(ValueError, match=r"calendar.k_max: the first-k-days windows reach "
                       r"2016-10-17, into departure week C \(from 2016-10-17\).*set k_max to "
                       r"at most 14"):
        Calendar.model_validate({**october, **weeks, "k_max": 15})
    assert Calendar.model_validate({**october, **weeks, "k_min": 1, "k_max": 14}).k_max == 14
    with pytest.raises(ValueError, match=r"calendar.integration_weeks \(the default\): the "
                       r"week starting 2016-09-03 is not inside the study month \(2016-10-01"):
        Calendar.model_validate(october)


@pytest.mark.parametrize(("first", "last", "withheld"), [
    (5, 30, {"departure": [1, 2, 3, 4], "integration": [3, 4]}),  # an extract from week A on
    # an extract that ends inside week C, before W4 (09-24 .. 09-30), where users must call
    (1, 20, {"departure": [21, 22, 23, 24, 25], "integration": list(range(24, 31))}),
    (1, 25, {}),  # quiet days inside the span are read as they are
])
def test_labels_are_withheld_where_the_calls_do_not_cover_a_silence_window(
        con, add_subscribers, add_calls, first, last, withheld):
    """SPEC §3's labels rest on silence (before week A, in week C, in W1): days of those
    windows outside the calls' first to last day are missing data, so the study's labels are
    withheld, with those days, instead of every settled migrant read as new and every stayer
    as leaving."""
    from migrant_assets.labels import withheld_labels, withheld_reason

    cfg = StudyConfig(thresholds=Thresholds(max_degree=3))
    add_subscribers([(1, M), (2, M), (3, L)])
    days = [d for d in range(first, last + 1) if d not in (7, 14)]  # two quiet days
    add_calls([(uid, 100 + uid, date(2016, 9, d)) for uid in (1, 3) for d in days]
              + [(2, 102, date(2016, 9, d)) for d in days if d >= 5])  # silent before week A
    build_user_labels(con, cfg)
    got = withheld_labels(con)
    assert {s: [d.day for d in w["days"]] for s, w in got.items()} == withheld
    assert all((w["first"], w["last"]) == (date(2016, 9, first), date(2016, 9, last))
               for w in got.values())
    rows = con.execute("SELECT user_id, integration_label, departure_label FROM user_labels"
                       ).fetchall()
    stored = {"integration": {u: i for u, i, _ in rows}, "departure": {u: d for u, _, d in rows}}
    for study in withheld:
        assert set(stored[study].values()) == {None}
        # the days may be delivered but not yet materialized: the fix names both
        reason = withheld_reason(study, got[study])
        assert str(got[study]["days"][0]) in reason
        assert "materialize those days of calls where the Dagster UI shows their partitions " \
            "missing, deliver the files of the days the extract lacks" in reason
        # a calendar inside the extract is advised only when the extract can hold one
        fits = last - first + 1 >= 28
        assert ("set a calendar whose windows fall inside the extract" in reason) == fits
        assert (f"the calls of this month cover {last - first + 1}): else deliver a longer "
                "extract" in reason) != fits
    if not withheld:  # the same users, every day covered: labelled
        assert stored == {"integration": {1: "settled_migrant", 2: "settled_migrant", 3: "local"},
                          "departure": {1: None, 2: "staying_migrant", 3: "local"}}

@pytest.mark.parametrize(("thin", "withheld"), [
    (range(19, 26), {"departure": [19, 20, 21, 22, 23, 24, 25]}),  # week C's files missing
    ([2], {"departure": [2]}),  # a day before week A cut short
    ([5], {"integration": [5]}),  # a day of W1 cut short
    ([14], {}),  # a day of no silence window: read as it is
    # W4 not covered at all (the extract ends 09-23, one stray record later): no one could be
    # active in it; week C's two days inside it withhold the departure study
    (range(24, 31), {"integration": list(range(24, 31)), "departure": [24, 25]}),
])
def test_days_far_below_a_usual_day_inside_the_extract_are_not_silence(
        con, add_subscribers, add_calls, thin, withheld):
    """A day inside the extract with fewer than a tenth of the median day's calls (a missing
    day file, a day cut short) is missing data once a usual day holds 20 calls or more: a
    study whose silence windows hold one has its labels withheld, where every migrant read as
    leaving. The days are those computed here by hand."""
    from migrant_assets.labels import withheld_labels

    cfg = StudyConfig(thresholds=Thresholds(max_degree=100))
    add_subscribers([(1, M), (2, M), (3, L)])
    days = range(1, 31)
    # a city's background: 30 calls a day between other parties, 2 on a thin day
    add_calls([(1000 + i, 2000 + i, date(2016, 9, d)) for d in days
               for i in range(2 if d in thin else 30)])
    add_calls([(uid, 100 + uid, date(2016, 9, d)) for uid in (1, 3) for d in days
               if d not in thin] + [(2, 102, date(2016, 9, d)) for d in days
                                    if d >= 5 and d not in thin])
    build_user_labels(con, cfg)
    assert [d.day for (d,) in con.execute("SELECT day FROM uncovered_days").fetchall()] \
        == list(thin)
    got = withheld_labels(con)
    assert {s: [d.day for d in w["days"]] for s, w in got.items()} == withheld
    rows = con.execute("SELECT user_id, integration_label, departure_label FROM user_labels"
                       ).fetchall()
    stored = {"integration": {u: i for u, i, _ in rows}, "departure": {u: d for u, _, d in rows}}
    expected = {"integration": {1: "settled_migrant", 2: "settled_migrant", 3: "local"},
                "departure": {1: None, 2: "staying_migrant", 3: "local"}}
    for study in ("integration", "departure"):
        assert stored[study] == ({u: None for u in (1, 2, 3)} if study in withheld
                                 else expected[study]), study


def test_a_calendar_without_days_before_week_a_is_refused() -> None:
    """A month that starts on departure week A's first day has no day on which a departure new
    migrant is silent: refused, naming the rule, where it labelled every settled migrant new."""
    with pytest.raises(ValueError, match=r"no day of the study month .* comes before departure "
                       r"week A \(2016-09-05\)"):
        Calendar(month_start=date(2016, 9, 5), month_end=date(2016, 10, 4),
                 integration_weeks=[date(2016, 9, 5 + 7 * i) for i in range(4)],
                 departure_weeks=[date(2016, 9, 5), date(2016, 9, 12), date(2016, 9, 19)])


def test_a_calendar_with_fewer_silent_days_before_week_a_is_named() -> None:
    """A calendar that starts on 09-03 to fit an extract (the advice when the days before week
    A are not covered) leaves 2 silent days before week A where the papers have 4: the report
    and the summary say that the departure groups are not the papers' (probe 26, M4)."""
    from migrant_assets.labels import calendar_notes

    assert calendar_notes(StudyConfig()) == []
    later = StudyConfig(calendar={"month_start": "2016-09-03", "month_end": "2016-09-30"})
    assert later.calendar.departure_weeks[0] == date(2016, 9, 5)
    assert calendar_notes(later) == [
        "the departure study's new migrants are silent on the 2 day(s) before week A "
        "(2016-09-03 .. 2016-09-04), the papers' on 4: fewer silent days let a migrant who was "
        "only away briefly count as new, so its staying and leaving migrants are not the "
        "papers' groups"]
