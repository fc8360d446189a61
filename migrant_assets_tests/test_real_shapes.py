"""Real data end to end (issue 10): three foreign-shaped extracts, each run through
`migrant-assets demo --config` in its own process, as a user would.

(a) one CSV with epoch seconds, a duration column, an event-type column with SMS and missed
calls, no cell columns, numbers as floats in the calls file and as text with a country prefix in
the subscribers file; (b) a Parquet glob of arbitrary parts with timezone-aware UTC timestamps, a
study city in UTC+8, subscribers' numbers stored as DOUBLE, towers in UTM zone 51N and housing
prices in Baidu's BD-09; (c) one CSV per subscriber, named
by its number (bandicoot's layout), over another month and city (Berlin, March 2021, Monday
weeks, quiet days, ISO timestamps with offsets, numbers with the national trunk prefix) with one
record per served party (the caller's "out" and the callee's "in", each with its own cell), and
no leaving migrant at all, so the departure classifiers cannot be trained. The file names are
numbers, so test_no_raw_identifier_anywhere also checks that no file name is kept or shown.

Each checks the row accounting against the rows written, the labels against the planted
groups, and every feature of the weekly windows against an independent computation
(``test_features.reference``: networkx, numpy, plain Python) on the same logical rows.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from extracts import SHANGHAI, Extract, build_extract, epoch_seconds, utc
from pyproj import Transformer
from test_features import reference, same

from migrant_assets.config import StudyConfig
from migrant_assets.crs import gcj02_to_bd09, wgs84_to_gcj02
from migrant_assets.features import FEATURES
from migrant_assets.privacy import pseudonym
from migrant_assets_tests import background

KEY = "k" * 16 + "-real-shapes-test-key-0123456789"
SHANGHAI_BBOX = (30.65, 31.90, 120.85, 122.00)
BERLIN_BBOX = (52.33, 52.68, 13.08, 13.76)


def _start_demo(study: Path, home: Path) -> subprocess.Popen:
    env = background.clean_env(home)
    env["MIGRANT_ASSETS_KEY"] = KEY
    return background.popen([sys.executable, "-m", "migrant_assets.cli", "demo", "--config",
                             str(study)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _study(root: Path, mapping: dict, extra: dict) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "mapping.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    study = {"source": {"kind": "files", "mapping": "data/mapping.yaml"},
             "workdir": str(root / "work"), "city": dict(SHANGHAI), **extra}
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False, default_flow_style=None))
    return path


# ------------------------------------------------------------------------------- the shapes
def shape_a(root: Path) -> tuple[Path, Extract, dict]:
    """CSV, epoch seconds, durations, event types, no cells; floats and prefixed text numbers."""
    ext = build_extract(11, date(2016, 9, 1), date(2016, 9, 30), "Shanghai", date(2016, 9, 10),
                        date(2016, 9, 18), [], SHANGHAI_BBOX, with_cells=False,
                        number_base=13_800_000_000)
    lines = ["ts;dur;a_num;b_num;type"]

    def number(n: str, i: int) -> str:  # floats, as a spreadsheet export writes them
        return f"{float(n):.10e}" if i % 2 else f"{float(n)!r}"

    for i, c in enumerate(ext.calls):
        kind = "MISSED" if c.event == "missed" else "VOICE"
        lines.append(f"{epoch_seconds(c.start, 'Asia/Shanghai')};{c.duration or 0};"
                     f"{number(c.caller, i)};{number(c.callee, i + 1)};{kind}")
        if i % 10 == 0:  # an SMS beside every tenth call: not a call
            lines.append(f"{epoch_seconds(c.start, 'Asia/Shanghai') + 5};0;{number(c.caller, i)};"
                         f"{number(c.callee, i)};SMS")
    bad = [
        f"{epoch_seconds(datetime(2016, 9, 6, 10), 'Asia/Shanghai')};30;N/A;13800000100.0;VOICE",
        "soon;30;13800000100.0;13800000200.0;VOICE",
        f"{epoch_seconds(datetime(2016, 10, 2, 10), 'Asia/Shanghai')};30;"
        f"13800000100.0;13800000200.0;VOICE",
        "1473130000;30",
    ]
    lines += bad
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "calls.csv").write_text("\n".join(lines) + "\n")
    subs = ["msisdn,cust_id,age,gender,hometown,is_local"]
    for s in ext.subscribers:
        subs.append(f"+86 {s['number'][:3]} {s['number'][3:7]} {s['number'][7:]},"
                    f"{s['owner']},{s['age']},{s['sex']},{s['province']},Y")
    (data / "subscribers.csv").write_text("\n".join(subs) + "\n")
    mapping = {
        "null_tokens": ["", "N/A"],
        "numbers": {"country_code": "86", "national_digits": 11},
        "calls": {
            "path": "calls.csv", "csv": {"delim": ";"},
            "columns": {"start_ts": "ts", "duration": "dur", "caller": "a_num",
                        "callee": "b_num", "event_type": "type"},
            "timestamps": {"unit": "s"},
            "event_types": {"call": ["VOICE"], "missed": ["MISSED"]},
            "missed_calls": "contact",
        },
        "subscribers": {
            "path": "subscribers.csv",
            "columns": {"number": "msisdn", "owner_id": "cust_id", "sex": "gender",
                        "birth_province": "hometown", "is_local_number": "is_local"},
        },
    }
    n_sms = len(range(0, len(ext.calls), 10))
    expected = {"read": len(ext.calls) + n_sms + len(bad),
                "quarantined": {"missing_id": 1, "bad_timestamp": 1, "malformed_line": 1},
                "excluded": {"not_a_call": n_sms, "outside_calendar": 1}}
    return _study(root, mapping, {}), ext, expected


def shape_b(root: Path) -> tuple[Path, Extract, dict]:
    """A Parquet glob of arbitrary parts, UTC-aware timestamps, a city in UTC+8."""
    ext = build_extract(12, date(2016, 9, 1), date(2016, 9, 30), "Shanghai", date(2016, 9, 10),
                        date(2016, 9, 18), [], SHANGHAI_BBOX, with_cells=True,
                        number_base=13_900_000_000)
    rows = {"msisdn_a": [], "msisdn_b": [], "t_begin": [], "t_end": [], "ci_a": [], "ci_b": []}
    for c in ext.calls:
        rows["msisdn_a"].append(int(c.caller))
        rows["msisdn_b"].append(int(c.callee))
        rows["t_begin"].append(utc(c.start, "Asia/Shanghai"))
        rows["t_end"].append(utc(c.start + timedelta(seconds=c.duration or 0), "Asia/Shanghai"))
        rows["ci_a"].append(c.caller_cell)
        rows["ci_b"].append(c.callee_cell)
    table = pa.table({
        "msisdn_a": pa.array(rows["msisdn_a"], pa.int64()),
        "msisdn_b": pa.array(rows["msisdn_b"], pa.int64()),
        "t_begin": pa.array(rows["t_begin"], pa.timestamp("us", tz="UTC")),
        "t_end": pa.array(rows["t_end"], pa.timestamp("us", tz="UTC")),
        "ci_a": pa.array(rows["ci_a"], pa.string()),
        "ci_b": pa.array(rows["ci_b"], pa.string()),
    })
    cdr = root / "data" / "cdr"
    cdr.mkdir(parents=True, exist_ok=True)
    order = sorted(range(table.num_rows), key=lambda i: (i * 7919) % table.num_rows)
    parts = [order[i::3] for i in range(3)]  # arbitrary parts, not days
    for i, part in enumerate(parts):
        pq.write_table(table.take(part), cdr / f"part-{i}.parquet")
    subs = pa.table({
        "number": pa.array([float(s["number"]) for s in ext.subscribers], pa.float64()),
        "owner": pa.array([f"OWN{s['owner']}" for s in ext.subscribers]),
        "age": pa.array([float(s["age"]) for s in ext.subscribers], pa.float64()),
        "sex": pa.array([s["sex"] for s in ext.subscribers]),
        "province": pa.array([s["province"] for s in ext.subscribers]),
        "local": pa.array([True] * len(ext.subscribers)),
    })
    pq.write_table(subs, root / "data" / "subscribers.parquet")
    # towers in the network's own UTM zone 51N, prices scraped with Baidu's BD-09 coordinates:
    # the features must equal the reference's, computed from the WGS-84 points themselves
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
    x, y = utm.transform([c[2] for c in ext.cells], [c[1] for c in ext.cells])
    pq.write_table(pa.table({"cell": [c[0] for c in ext.cells], "y": y, "x": x}),
                   root / "data" / "cells.parquet")
    lat_bd, lon_bd = gcj02_to_bd09(*wgs84_to_gcj02(np.array([e[1] for e in ext.estates]),
                                                   np.array([e[2] for e in ext.estates])))
    est = ["id,lat_bd09,lng_bd09,price"] + [
        f"{e[0]},{float(la)!r},{float(lo)!r},{e[3]!r}"
        for e, la, lo in zip(ext.estates, lat_bd, lon_bd, strict=True)]
    (root / "data" / "estates.csv").write_text("\n".join(est) + "\n")
    mapping = {
        "calls": {"path": "cdr/*.parquet",
                  "columns": {"caller": "msisdn_a", "callee": "msisdn_b", "start_ts": "t_begin",
                              "end_ts": "t_end", "caller_cell": "ci_a", "callee_cell": "ci_b"}},
        "subscribers": {"path": "subscribers.parquet",
                        "columns": {"owner_id": "owner", "birth_province": "province",
                                    "is_local_number": "local"}},
        "cells": {"path": "cells.parquet", "crs": "EPSG:32651",
                  "columns": {"cell_id": "cell", "lat": "y", "lon": "x"}},
        "estates": {"path": "estates.csv", "crs": "bd09",
                    "columns": {"estate_id": "id", "lat": "lat_bd09", "lon": "lng_bd09",
                                "price_per_sqm": "price"}},
    }
    expected = {"read": len(ext.calls), "quarantined": {}, "excluded": {}}
    return _study(root, mapping, {}), ext, expected


def shape_c(root: Path) -> tuple[Path, Extract, dict]:
    """One CSV per subscriber over March 2021 in Berlin, named by its number, one record per
    served party (out, in): Monday weeks, quiet days, ISO offsets, no leavers."""
    quiet = [date(2021, 3, 14), date(2021, 3, 21)]
    ext = build_extract(13, date(2021, 3, 1), date(2021, 3, 31), "Berlin", date(2021, 3, 8),
                        None, quiet, BERLIN_BBOX, with_cells=True, number_base=15_100_000_000)
    ext.estates = []  # this operator has no housing prices
    zone = ZoneInfo("Europe/Berlin")
    for c in ext.calls:  # a local time that does not exist (the spring DST gap) moves forward
        c.start = utc(c.start, zone.key).astimezone(zone).replace(tzinfo=None)

    def iso(t: datetime, i: int) -> str:  # 'Z' and '+01:00' / '+02:00' forms alternate
        instant = utc(t, zone.key)
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ") if i % 2 else \
            instant.astimezone(zone).isoformat()

    # one record per served party: the caller's (out) and the callee's (in), each with its own
    # cell, in one file per subscriber named by its number, as bandicoot lays users out
    # (another operator's number has no file), in no particular order
    subscribed = {sub["number"] for sub in ext.subscribers}
    records: dict[str, list[str]] = {}
    for i, c in enumerate(ext.calls):
        end = utc(c.start, zone.key) + timedelta(seconds=c.duration or 0)  # an instant
        end_text = end.strftime("%Y-%m-%dT%H:%M:%SZ") if (i + 1) % 2 else \
            end.astimezone(zone).isoformat()
        times = f"{iso(c.start, i)},{end_text}"
        if c.caller in subscribed:
            records.setdefault(c.caller, []).append(f"0049{c.callee},out,{times},"
                                                    f"{c.caller_cell or ''}")
        if c.callee in subscribed:
            records.setdefault(c.callee, []).append(f"+49{c.caller},In,{times},"
                                                    f"{c.callee_cell or ''}")
    data = root / "data"
    (data / "users").mkdir(parents=True, exist_ok=True)
    for number, lines in records.items():  # the national form, with the trunk prefix
        order = sorted(range(len(lines)), key=lambda i: (i * 7919) % len(lines))
        (data / "users" / f"0{number}.csv").write_text("\n".join(
            ["correspondent_id,direction,begin,finish,antenna_id"]
            + [lines[i] for i in order]) + "\n")
    subs = ["nr;owner;age;sex;born;local"] + [  # the national form, with the trunk prefix
        f"0{s['number']};{s['owner']};{s['age']};{s['sex']};{s['province']};1"
        for s in ext.subscribers]
    (data / "subs.csv").write_text("\n".join(subs) + "\n")
    (data / "sites.csv").write_text("\n".join(
        ["site;latitude;longitude"] + [f"{c[0]};{c[1]!r};{c[2]!r}" for c in ext.cells]) + "\n")
    mapping = {
        "numbers": {"country_code": "49", "trunk_prefix": "0"},
        "calls": {"path": "users/*.csv", "party_from_file_name": True,
                  "columns": {"other_party": "correspondent_id", "start_ts": "begin",
                              "end_ts": "finish", "cell": "antenna_id"},
                  "directions": {"outgoing": ["out"], "incoming": ["in"]}},
        "subscribers": {"path": "subs.csv", "csv": {"delim": ";"},
                        "columns": {"number": "nr", "owner_id": "owner",
                                    "birth_province": "born", "is_local_number": "local"}},
        "cells": {"path": "sites.csv", "csv": {"delim": ";"},
                  "columns": {"cell_id": "site", "lat": "latitude", "lon": "longitude"}},
    }
    extra = {
        "calendar": {
            "month_start": "2021-03-01", "month_end": "2021-03-31",
            "integration_weeks": ["2021-03-01", "2021-03-08", "2021-03-15", "2021-03-22"],
            "departure_weeks": ["2021-03-08", "2021-03-15", "2021-03-22"],
            "first_k_start": "2021-03-08",
        },
        "city": {"province": "Berlin", "timezone": "Europe/Berlin",
                 "min_lat": BERLIN_BBOX[0], "max_lat": BERLIN_BBOX[1],
                 "min_lon": BERLIN_BBOX[2], "max_lon": BERLIN_BBOX[3],
                 "center_lat": 52.52, "center_lon": 13.405},
    }
    both = sum(c.caller in subscribed and c.callee in subscribed for c in ext.calls)
    assert len(records) > 20
    expected = {"read": sum(map(len, records.values())), "quarantined": {}, "excluded": {},
                "other_party_record": both}
    assert 0 < both < len(ext.calls)
    return _study(root, mapping, extra), ext, expected


# ------------------------------------------------------------------------------- the checks
def _owner_key(owner: str, shape: str) -> int:
    """The user id of an owner: its pseudonym as the shape's file writes the owner."""
    return pseudonym(KEY, "user", f"OWN{owner}" if shape == "b" else owner)


def _ids(ext: Extract, shape: str) -> dict[str, int]:
    """Canonical number -> the id the pipeline must give it (owner's or the number's)."""
    out = {s["number"]: _owner_key(s["owner"], shape) for s in ext.subscribers}
    for c in ext.calls:
        for n in (c.caller, c.callee):
            out.setdefault(n, pseudonym(KEY, "number", n))
    return out


def _check(shape: str, root: Path, ext: Extract, expected: dict,
           proc: subprocess.CompletedProcess) -> duckdb.DuckDBPyConnection:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Rows per table" in proc.stdout and "Traceback" not in proc.stderr
    cfg = StudyConfig.load(root / "work" / "study.yaml")
    assert (cfg.workdir / "report.html").exists()
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    # accounting: every row written is read once, and landed, quarantined or excluded
    read, landed, quarantined, not_call, outside = con.execute(
        "SELECT sum(rows_read), sum(rows_landed), sum(rows_quarantined), sum(rows_not_a_call), "
        "sum(rows_outside_calendar) FROM landed_files").fetchone()
    assert read == expected["read"] == landed + quarantined + not_call + outside
    got_q = dict(con.execute("SELECT reason, count(*) FROM quarantine "
                             "WHERE source = 'landed_calls' GROUP BY 1").fetchall())
    assert got_q == expected["quarantined"]
    assert {k: v for k, v in (("not_a_call", not_call), ("outside_calendar", outside)) if v} \
        == expected["excluded"]
    per_day = con.execute(
        "SELECT l.call_date, l.n, coalesce(c.n, 0), coalesce(q.n, 0), a.rows_excluded FROM "
        "(SELECT call_date, count(*) AS n FROM landed_calls GROUP BY 1) AS l "
        "LEFT JOIN (SELECT call_date, count(*) AS n FROM calls GROUP BY 1) AS c USING (call_date)"
        " LEFT JOIN (SELECT CAST(partition_key AS DATE) AS call_date, count(*) AS n "
        "FROM quarantine WHERE source = 'calls' GROUP BY 1) AS q USING (call_date) "
        "JOIN (SELECT CAST(partition_key AS DATE) AS call_date, rows_excluded "
        "FROM accounting_calls) AS a USING (call_date)").fetchall()
    assert per_day and all(n == accepted + q + x for _, n, accepted, q, x in per_day)
    assert sum(n for _, n, _, _, _ in per_day) == landed
    assert sum(x for *_, x in per_day) == expected.get("other_party_record", 0)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == len(ext.calls)
    # labels: exactly the planted groups
    labels = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT user_id, integration_label, departure_label FROM user_labels").fetchall()}
    owners = {s["owner"] for s in ext.subscribers}
    want = {_owner_key(o, shape): (ext.integration.get(o), ext.departure.get(o))
            for o in owners}
    assert labels == want
    # features: every feature of every weekly window against the independent computation
    ids = _ids(ext, shape)
    first = {}
    for s in ext.subscribers:  # an owner's attributes: from the first row in file order
        first.setdefault(s["owner"], s)
    subscribers = [(_owner_key(o, shape), s["age"], s["sex"], s["province"])
                   for o, s in first.items()]
    calls = [(ids[c.caller], ids[c.callee], c.start, c.duration, c.caller_cell, c.callee_cell)
             for c in ext.calls]
    label_rows = [(u, i, d) for u, (i, d) in want.items()]
    compared = 0
    for window in [*cfg.calendar.windows("integration_week"),
                   *cfg.calendar.windows("departure_week")]:
        study = "integration" if window.family == "integration_week" else "departure"
        threshold = 10 if study == "integration" else 5
        expect, _ = reference(calls, subscribers, ext.cells, ext.estates, label_rows, window,
                              study, threshold, cfg.city.province)
        df = con.execute("SELECT * FROM features WHERE window_id = ?", [window.window_id]).df()
        df = df.astype(object).where(pd.notna(df), None)
        got = {r["user_id"]: r for r in df.to_dict("records")}
        assert set(got) == set(expect) and expect, window.window_id
        bad = [(v, f, got[v][f], expect[v][f]) for v in expect for f in FEATURES
               if not same(got[v][f], expect[v][f])]
        assert not bad, (window.window_id, bad[:5])
        compared += len(expect)
    assert compared > 100
    return con


def _run_shapes() -> dict:
    """The three demos, each in its own process and work directory, run side by side: a
    background job of the session (its extracts are built in its own process)."""
    started = {}
    for name, build in (("a", shape_a), ("b", shape_b), ("c", shape_c)):
        root = background.scratch(f"shape_{name}")
        study, ext, expected = build(root)
        started[name] = (root, ext, expected, _start_demo(study, root / "dagster_home"))
    out = {}
    for name, (root, ext, expected, proc) in started.items():
        stdout, stderr = proc.communicate(timeout=900)
        out[name] = (root, ext, expected,
                     subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    return out


SHAPES = background.Job("the real shapes' demos", _run_shapes, isolated=True)


@pytest.fixture(scope="module")
def runs() -> dict:
    return SHAPES.result()


@pytest.mark.background(SHAPES)
def test_shape_a_csv_epoch_durations_events_no_cells(runs: dict) -> None:
    con = _check("a", *runs["a"])
    root, ext, expected, proc = runs["a"]
    sms = expected["excluded"]["not_a_call"]
    assert f"left out by the mapping's rules: {sms:,} not calls, 1 dated outside" in proc.stdout
    missed = sum(c.event == "missed" for c in runs["a"][1].calls)
    assert missed > 0 and con.execute(
        "SELECT count(*) FROM calls WHERE duration_s IS NULL AND end_ts IS NULL").fetchone()[0] \
        == missed
    assert con.execute("SELECT count(*) FROM cells").fetchone()[0] == 0
    geo = con.execute("SELECT count(center_lat), count(avg_price) FROM features").fetchone()
    assert geo == (0, 0)
    report = (runs["a"][0] / "work" / "report.html").read_text()
    assert "no cell locations" in report


@pytest.mark.background(SHAPES)
def test_shape_b_parquet_glob_utc_timestamps(runs: dict) -> None:
    con = _check("b", *runs["b"])
    ext = runs["b"][1]
    # the towers' UTM and the estates' BD-09 came back to their WGS-84 points (1e-9 degrees
    # is 0.1 mm); _check compared the housing and geography features with them
    for table, points, query in (("cells", ext.cells, "SELECT * FROM cells"),
                                 ("estates", ext.estates, "SELECT * FROM estates")):
        got = {r[0]: r[1:] for r in con.execute(query).fetchall()}
        assert set(got) == {p[0] for p in points}, table
        assert max(abs(got[p[0]][i] - p[1 + i]) for p in points for i in (0, 1)) < 1e-9, table
    assert con.execute("SELECT count(avg_price) FROM features").fetchone()[0] > 0
    first = min(c.start for c in ext.calls)
    assert con.execute("SELECT min(start_ts) FROM calls").fetchone()[0] == first
    assert con.execute("SELECT count(center_lat) FROM features").fetchone()[0] > 0


@pytest.mark.background(SHAPES)
def test_shape_c_other_month_and_city_with_an_empty_class(runs: dict) -> None:
    root, ext, expected, proc = runs["c"]
    con = _check("c", root, ext, expected, proc)
    assert (f"{expected['other_party_record']:,} other party's records of calls counted once"
            in proc.stdout)
    quiet = con.execute("SELECT count(*) FROM calls WHERE list_contains(?, call_date)",
                        [ext.quiet_days]).fetchone()[0]
    assert quiet == 0 and "landed_calls.calendar_coverage did not pass (WARN)" in proc.stdout
    assert re.search(r"calendar_coverage did not pass \(WARN\): check first \d+ days of the "
                     r"calendar without calls \(\d{4}-\d\d-\d\d", proc.stdout)
    # the quiet days' partitions: nothing to judge, said with the reason
    # (once per run, with the count of its partitions when several)
    assert re.search(r"check calls\.accepted_rows not evaluated \(nothing to judge\)"
                     r"( in \d+ partitions)?: no calls landed on this day", proc.stdout)
    out = proc.stdout.lower()
    assert "skipped" in out and "leaving" in out
    report = (root / "work" / "report.html").read_text().lower()
    assert "skipped" in report and "leaving" in report


def _raw_identifiers(ext: Extract, shape: str) -> set[str]:
    """Every identifier the shape's files hold, in the forms they are written in."""
    out = set()
    for s in ext.subscribers:
        out |= {s["number"], s["owner"], f"OWN{s['owner']}"}
    for c in ext.calls:
        out |= {c.caller, c.callee}
    return out


def _occurs(ident: str, text: str) -> bool:
    """Whether ``ident`` occurs in ``text`` other than among the fraction digits of a decimal
    number: Dagster's event log holds floats such as ``"duration_ms": 421.3729670000248``, whose
    digits may spell a short numeric identifier by chance; a number is never written there."""
    at = text.find(ident)
    while at != -1:
        start = at
        while start > 0 and text[start - 1].isdigit():
            start -= 1
        if not (start >= 2 and text[start - 1] == "." and text[start - 2].isdigit()):
            return True
        at = text.find(ident, at + 1)
    return False


def test_occurs_ignores_the_fraction_digits_of_a_float() -> None:
    assert not _occurs("70000248", '{"duration_ms": 421.3729670000248}')
    assert _occurs("70000248", '{"number": "70000248"}')
    assert _occurs("70000248", "+8670000248,")  # a prefixed form still counts
    assert _occurs("70000248", "1.5 then 70000248")


@pytest.mark.background(SHAPES)
def test_no_raw_identifier_anywhere(runs: dict) -> None:
    """SPEC §1: no raw number or owner id in DuckDB, the work directory, the Dagster home (event
    log, run storage, compute logs) or what the runs printed."""
    for shape, (root, ext, _, proc) in runs.items():
        raw = _raw_identifiers(ext, shape)
        assert len(raw) > 50
        cfg = StudyConfig.load(root / "work" / "study.yaml")
        con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
        dump = []
        for (table,) in con.execute("SHOW TABLES").fetchall():
            dump.append(con.execute(f'SELECT * FROM "{table}"').df().to_csv(index=False))
        con.close()
        texts = {"duckdb tables": "\n".join(dump), "stdout": proc.stdout, "stderr": proc.stderr}
        for folder in (root / "work", root / "dagster_home"):
            for path in folder.rglob("*"):
                if path.is_file():
                    texts[str(path)] = path.read_bytes().decode("latin-1")
        leaks = {(where, ident) for where, text in texts.items() for ident in raw
                 if _occurs(ident, text)}
        assert not leaks, sorted(leaks)[:10]
