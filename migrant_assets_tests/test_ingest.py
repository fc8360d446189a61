"""Ingestion (SPEC §1): quarantine reasons, accounting, pseudonymisation, idempotence, mapping.

The input is a user-format CSV data set with other column names, written here row by row, so
every expected count below is read off the rows, not computed by the code under test.
"""

import hashlib
import hmac
import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from migrant_assets.config import SYNTHETIC_KEY, FilesSource, StudyConfig
from migrant_assets.contract import DataContract, contract_for
from migrant_assets.db import connect
from migrant_assets.errors import ConfigError, MappingError
from migrant_assets.ingest import (
    QUARANTINE_REASONS,
    ingest_calls,
    ingest_places,
    ingest_subscribers,
    land_calls,
)
from migrant_assets.privacy import pseudonym, register_pseudonym_macro
from migrant_assets_tests.extracts import SHANGHAI

KEY = "test-key-of-at-least-thirty-two-bytes"
DAY = date(2016, 9, 5)

SUBSCRIBERS = [
    # msisdn, owner, age, gender, province, local, kind
    ("13800000001", "OWNER-A", "30", "M", "Shanghai", "true", "regular"),
    ("13800000002", "OWNER-A", "30", "M", "Shanghai", "true", "regular"),  # A's 2nd number
    ("13800000003", "OWNER-B", "25", "F", "Anhui", "true", "regular"),
    ("13800000004", "OWNER-C", "41", "F", "Henan", "false", "delivery"),
    ("", "OWNER-D", "20", "F", "Anhui", "true", "regular"),  # missing_id
    ("13800000005", "OWNER-E", "old", "M", "Anhui", "maybe", "regular"),  # bad_attribute
    ("13800000003", "OWNER-F", "33", "M", "Jiangsu", "true", "regular"),  # duplicate_number
    ("1.38E+10", "OWNER-G", "33", "M", "Jiangsu", "true", "regular"),  # rounded_id
    ("13800000006", "340104********1234", "33", "M", "Anhui", "true", "regular"),  # masked_id
]
SUBSCRIBER_REASONS = {
    "missing_id": 1, "rounded_id": 1, "masked_id": 1, "bad_attribute": 1,
    "duplicate_number": 1, "malformed_line": 1}

CELLS = [
    ("T1", "31.20", "121.40"),
    ("T2", "31.30", "121.50"),
    ("", "31.30", "121.50"),  # missing_id
    ("T3", "north", "121.50"),  # bad_coordinates
    ("T4", "10.0", "10.0"),  # outside_bbox
    ("T1", "31.21", "121.41"),  # duplicate_id
    ("4.6E+08", "31.21", "121.41"),  # rounded_id (a spreadsheet's 460011234)
    ("Grand Total", "31.25", "121.45"),  # summary_row
]
CELL_REASONS = {
    "missing_id": 1, "bad_coordinates": 1, "outside_bbox": 1, "duplicate_id": 1,
    "rounded_id": 1, "summary_row": 1, "malformed_line": 1}

ESTATES = [
    ("E1", "31.20", "121.40", "52000"),
    ("E2", "31.25", "121.45", "0"),  # bad_price
    ("E3", "31.25", "121.45", "cheap"),  # bad_price
    ("E1", "31.20", "121.40", "52000"),  # duplicate_id
    ("", "31.20", "121.40", "52000"),  # missing_id
    ("E4", "", "121.40", "52000"),  # bad_coordinates
    ("E5", "35.0", "121.40", "52000"),  # outside_bbox
    ("1.2E+07", "31.20", "121.40", "52000"),  # rounded_id
    (" 总计 ", "31.22", "121.44", "53000"),  # summary_row (a pivot table's grand total)
]
ESTATE_REASONS = {
    "bad_price": 2, "duplicate_id": 1, "missing_id": 1, "bad_coordinates": 1, "outside_bbox": 1,
    "rounded_id": 1, "summary_row": 1, "malformed_line": 1}

OTHER = "19900000009"  # another operator's subscriber
T = "2016-09-05 "
CALLS = [
    # a_party, b_party, begin, finish, a_cell, b_cell
    ("13800000001", "13800000003", T + "10:00:00", T + "10:01:00", "T1", "T2"),  # ok
    ("13800000003", OTHER, T + "11:00:00", T + "11:05:00", "T2", ""),  # ok, other operator
    ("13800000002", "13800000003", T + "12:00:00", T + "12:00:30", "T1", "T2"),  # ok, A's 2nd
    ("13800000004", "13800000001", T + "23:59:00", "2016-09-06 00:10:00", "T2", "T1"),  # ok
    ("13800000001", "13800000003", T + "10:00:00", T + "10:01:00", "T1", "T2"),  # duplicate_call
    ("", OTHER, T + "13:00:00", T + "13:01:00", "T1", ""),  # missing_id
    ("13800000001", "138****5678", T + "13:30:00", T + "13:31:00", "T1", ""),  # masked_number
    ("1.38E+10", OTHER, T + "13:40:00", T + "13:41:00", "T1", ""),  # rounded_id
    ("13800000001", OTHER, "yesterday", T + "13:01:00", "T1", ""),  # bad_timestamp
    ("13800000001", OTHER, T + "14:00:00", "", "T1", ""),  # bad_timestamp
    ("13800000001", OTHER, T + "15:00:00", T + "14:00:00", "T1", ""),  # end_before_start
    ("13800000001", OTHER, T + "15:00:00", "2016-09-07 15:00:01", "T1", ""),  # over 24 h
    ("13800000001", OTHER, "2016-10-04 15:00:00", "2016-10-04 15:01:00", "T1", ""),  # outside
    ("13800000001", OTHER, "2016-09-04 15:00:00", "2016-09-04 15:01:00", "T1", ""),  # ok, 09-04
    ("13800000003", OTHER, T + "18:00:00", T + "18:00:00", "T2", ""),  # missed_call (0 s)
    ("13800000001", "13800000001", T + "16:00:00", T + "16:01:00", "T1", "T1"),  # self_call
    ("13800000001", "13800000002", T + "16:00:00", T + "16:01:00", "T1", "T2"),  # self (owner)
    ("13800000001", OTHER, T + "17:00:00", T + "17:01:00", "T9", ""),  # unknown_cell
    # T4, quarantined by the cells file (outside_bbox): a known cell without a place, the call
    # kept without it
    ("13800000001", OTHER, T + "17:30:00", T + "17:31:00", "T4", ""),  # ok, no caller cell
]
#: Reasons of the landing step (each row judged on its own) and of the daily ingestion of 09-05
#: (rows judged against subscribers and cells).
LANDING_REASONS = {
    "missing_id": 1,
    "masked_number": 1,
    "rounded_id": 1,
    "bad_timestamp": 2,
    "end_before_start": 1,
    "duration_over_24h": 1,
    "missed_call": 1,
    "malformed_line": 1,  # the short line appended to the file below
}
LANDING_EXCLUDED = {"outside_calendar": 1}
CALL_REASONS = {"duplicate_call": 1, "self_call": 2, "unknown_cell": 1}
OTHER_DAY = date(2016, 9, 4)
RAW_IDENTIFIERS = sorted(
    {r[0] for r in SUBSCRIBERS if r[0]} | {r[1] for r in SUBSCRIBERS} | {OTHER}
)


def _csv(path: Path, header: str, rows: list[tuple], extra: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n" + extra)


@pytest.fixture()
def user_data(tmp_path: Path) -> Path:
    """A user's CSV files with their own column names, and the mapping file that maps them."""
    src = tmp_path / "operator"
    # each file ends with a line of too few fields: malformed_line
    _csv(src / "subs.csv", "msisdn,owner,age,gender,province,local,kind", SUBSCRIBERS,
         extra="13800000009,OWNER-Z\n")
    _csv(src / "towers.csv", "tower,latitude,longitude", CELLS, extra="T8\n")
    _csv(src / "prices.csv", "xiaoqu,lat,lon,price", ESTATES, extra="E9,31.2\n")
    _csv(
        src / "cdr" / "20160905.csv",
        "a_party,b_party,begin,finish,a_cell,b_cell",
        CALLS,
        extra="13800000001,19900000009\n",  # a line with two fields: malformed_line
    )
    mapping = {
        "calls": {
            "path": "cdr/{date:%Y%m%d}.csv",
            "missed_calls": "quarantine",
            "columns": {
                "caller": "a_party",
                "callee": "b_party",
                "start_ts": "begin",
                "end_ts": "finish",
                "caller_cell": "a_cell",
                "callee_cell": "b_cell",
            },
        },
        "subscribers": {
            "path": "subs.csv",
            "columns": {
                "number": "msisdn",
                "owner_id": "owner",
                "sex": "gender",
                "birth_province": "province",
                "is_local_number": "local",
                "user_type": "kind",
            },
        },
        "cells": {"path": "towers.csv", "columns": {"cell_id": "tower", "lat": "latitude",
                                                    "lon": "longitude"}},
        "estates": {"path": "prices.csv", "columns": {"estate_id": "xiaoqu",
                                                      "price_per_sqm": "price"}},
    }
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    study = {
        "source": {"kind": "files", "mapping": str(src / "mapping.yaml")},
        "workdir": str(tmp_path / "work"), "city": dict(SHANGHAI),
        "thresholds": {"quarantine_warn_share": 0.9, "quarantine_error_share": 0.95},
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    return tmp_path / "study.yaml"


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)


def _ingest_all(cfg: StudyConfig, con: duckdb.DuckDBPyConnection) -> dict:
    contract = contract_for(cfg)
    return {
        "cells": ingest_places(con, cfg, contract, "cells"),
        "estates": ingest_places(con, cfg, contract, "estates"),
        "subscribers": ingest_subscribers(con, cfg, contract),
        "landed_calls": land_calls(con, cfg, contract),
        "calls": ingest_calls(con, cfg, DAY),
        "calls_other_day": ingest_calls(con, cfg, OTHER_DAY),
    }


def _quarantine_counts(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, int]:
    rows = con.execute(
        "SELECT reason, count(*) FROM quarantine WHERE source = ? GROUP BY 1", [source]
    ).fetchall()
    return dict(rows)


def test_pseudonym_macro_is_hmac_sha256() -> None:
    con = duckdb.connect()
    register_pseudonym_macro(con, KEY)
    for value in ["13800000001", "OWNER-A", "", "x" * 100]:
        expected = int(hmac.new(KEY.encode(), f"number:{value}".encode(),
                                hashlib.sha256).hexdigest()[:15], 16)
        got = con.execute("SELECT pseudonym('number', ?)", [value]).fetchone()[0]
        assert got == expected == pseudonym(KEY, "number", value)
    long_key = "k" * 100  # keys longer than a block are hashed first (RFC 2104)
    register_pseudonym_macro(con, long_key)
    expected = int(hmac.new(long_key.encode(), b"user:1", hashlib.sha256).hexdigest()[:15], 16)
    assert con.execute("SELECT pseudonym('user', '1')").fetchone()[0] == expected


def test_every_reason_is_triggered_and_counted(user_data: Path, env: None) -> None:
    cfg = StudyConfig.load(user_data)
    con = connect(":memory:")
    stats = _ingest_all(cfg, con)
    expected = {
        "subscribers": SUBSCRIBER_REASONS,
        "cells": CELL_REASONS,
        "estates": ESTATE_REASONS,
        "landed_calls": LANDING_REASONS,
        "calls": CALL_REASONS,
    }
    for source, reasons in expected.items():
        assert stats[source].quarantined_by_reason == reasons, source
        assert _quarantine_counts(con, source) == reasons, source
        # bad_direction needs a per-party export, bad_duration a duration column,
        # repeated_header joined files, summary_row a calls file's trailer: test_bad_input.py
        # exercises them
        assert set(reasons) == set(QUARANTINE_REASONS[source]) - {
            "bad_direction", "bad_duration", "repeated_header",
            *(["summary_row"] if source == "landed_calls" else [])}, \
            "a reason is not exercised"
    # accounting: read = accepted + quarantined (+ excluded), against the file's own lines
    landing = stats["landed_calls"]
    assert landing.read == len(CALLS) + 1
    assert landing.excluded_by_reason == LANDING_EXCLUDED
    assert landing.accepted == 10 == stats["calls"].read + stats["calls_other_day"].read
    assert stats["calls"].accepted == 5 and stats["calls_other_day"].accepted == 1
    assert stats["calls"].note.endswith("(1 calls)")  # at T4, outside the study area
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 6
    assert con.execute("SELECT rows_read, rows_landed, rows_quarantined, rows_outside_calendar "
                       "FROM landed_files").fetchall() == [(len(CALLS) + 1, 10, 9, 1)]
    assert stats["subscribers"].read == len(SUBSCRIBERS) + 1
    assert stats["subscribers"].accepted == 4  # numbers: 4 valid rows of 3 owners
    assert stats["cells"].read == len(CELLS) + 1 and stats["cells"].accepted == 2
    assert stats["estates"].read == len(ESTATES) + 1 and stats["estates"].accepted == 1
    for s in stats.values():
        assert s.accepted + s.quarantined + s.excluded == s.read


def test_owners_are_merged_and_pseudonymised(user_data: Path, env: None) -> None:
    cfg = StudyConfig.load(user_data)
    con = connect(":memory:")
    _ingest_all(cfg, con)
    users = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT user_id, age, sex, birth_province, has_local_number, is_service, n_numbers "
            "FROM subscribers"
        ).fetchall()
    }
    a, b, c = (pseudonym(KEY, "user", o) for o in ("OWNER-A", "OWNER-B", "OWNER-C"))
    assert users == {
        a: (30, "M", "Shanghai", True, False, 2),
        b: (25, "F", "Anhui", True, False, 1),
        c: (41, "F", "Henan", False, True, 1),
    }
    calls = set(con.execute("SELECT caller, callee, duration_s FROM calls").fetchall())
    other = pseudonym(KEY, "number", OTHER)
    assert calls == {(a, b, 60.0), (b, other, 300.0), (a, b, 30.0), (c, a, 660.0),
                     (a, other, 60.0)}


def test_no_raw_identifier_survives(user_data: Path, env: None) -> None:
    cfg = StudyConfig.load(user_data)
    con = connect(":memory:")
    _ingest_all(cfg, con)
    # Independent of find_raw_identifiers: dump every table as text and search it.
    dump = []
    for (table,) in con.execute("SHOW TABLES").fetchall():
        df = con.execute(f'SELECT * FROM "{table}"').df()
        dump.append(df.to_csv(index=False))
    text = "\n".join(dump)
    assert "19900000009" not in text and "OWNER-A" not in text
    for ident in RAW_IDENTIFIERS:
        assert ident not in text


def test_rematerializing_a_partition_changes_nothing(user_data: Path, env: None) -> None:
    cfg = StudyConfig.load(user_data)
    con = connect(":memory:")
    _ingest_all(cfg, con)
    snapshot = {
        t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
        for t in ("calls", "quarantine", "subscribers", "number_owner", "cells", "estates")
    }
    _ingest_all(cfg, con)
    for table, rows in snapshot.items():
        assert sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr) == rows


def test_quarantine_records_hold_no_raw_line(user_data: Path, env: None) -> None:
    cfg = StudyConfig.load(user_data)
    con = connect(":memory:")
    _ingest_all(cfg, con)
    records = [json.loads(r[0]) for r in con.execute(
        "SELECT record FROM quarantine WHERE reason = 'malformed_line'").fetchall()]
    assert records == [{"error": "MISSING COLUMNS"}] * 4  # one per file, no field kept
    # every quarantined CSV row keeps its line number in its file (header = line 1)
    lines = dict(con.execute(
        "SELECT reason, min(row_number) FROM quarantine WHERE source = 'landed_calls' "
        "GROUP BY 1").fetchall())
    assert lines["missing_id"] == 7 and lines["malformed_line"] == len(CALLS) + 2
    dup = con.execute("SELECT row_number FROM quarantine WHERE reason = 'duplicate_call'")
    assert dup.fetchall() == [(6,)]


def test_mapping_errors_are_clear(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({
        "calls": {"path": "c/{date}.csv", "columns": {"caller_number": "x"}},
        "subscribers": {"path": "s.csv"}, "cells": {"path": "c.csv"},
        "estates": {"path": "e.csv"},
    }))
    with pytest.raises(MappingError, match="unknown contract columns"):
        DataContract.load(tmp_path / "m.yaml")
    contract = DataContract.synthetic(tmp_path)
    with pytest.raises(MappingError, match="no calls file matches"):
        contract.files("calls", [DAY])


def test_real_data_needs_a_key(user_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIGRANT_ASSETS_KEY", raising=False)
    cfg = StudyConfig.load(user_data)
    assert isinstance(cfg.source, FilesSource)
    with pytest.raises(ConfigError, match="MIGRANT_ASSETS_KEY is not set"):
        _ = cfg.pseudonym_key
    for weak in (SYNTHETIC_KEY, "k", "x" * 31):
        monkeypatch.setenv("MIGRANT_ASSETS_KEY", weak)
        with pytest.raises(ConfigError, match="MIGRANT_ASSETS_KEY is"):
            _ = cfg.pseudonym_key
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", "x" * 32)
    assert cfg.pseudonym_key == "x" * 32


def _checks_of(*assets) -> list:
    """The asset checks of ``assets`` (every check is declared in defs/ingest.py)."""
    from migrant_assets.defs import ingest as ingest_defs

    keys = {a.key for a in assets}
    return [c for c in dg.load_asset_checks_from_modules([ingest_defs])
            if {k.asset_key for k in c.check_keys} <= keys]


REFERENCE = ("subscribers", "cells", "estates", "landed_calls")


def _materialize_reference(user_data: Path, instance: dg.DagsterInstance):
    from migrant_assets.defs import ingest as ingest_defs
    from migrant_assets.defs.resources import StudyResource

    assets = [getattr(ingest_defs, name) for name in REFERENCE]
    resources = {"study": StudyResource(config_path=str(user_data))}
    return dg.materialize([*assets, *_checks_of(*assets)], resources=resources,
                          instance=instance), resources


def test_ingestion_assets_and_checks(user_data: Path, env: None) -> None:
    from migrant_assets.defs import ingest as ingest_defs

    instance = dg.DagsterInstance.ephemeral()
    first, resources = _materialize_reference(user_data, instance)
    assert first.success
    landing = {e.check_name: e for e in first.get_asset_check_evaluations()
               if e.asset_key == ingest_defs.landed_calls.key}
    assert landing["row_accounting"].passed and landing["no_raw_identifiers"].passed
    assert landing["no_raw_identifiers"].metadata["judged"].value == len(
        {r[0] for r in CALLS if r[0]} | {r[1] for r in CALLS})  # every number is 11 digits
    assert not landing["calendar_coverage"].passed  # 28 of the 30 days have no calls
    assert landing["calendar_coverage"].severity == dg.AssetCheckSeverity.WARN
    every = {(e.asset_key.to_user_string(), e.check_name) for e in
             first.get_asset_check_evaluations()}
    assert every == {(a, c) for a in REFERENCE for c in ("row_accounting", "quarantine_share")} | {
        ("subscribers", "no_raw_identifiers"), ("subscribers", "has_users"),
        ("subscribers", "province_spellings"), ("subscribers", "owner_numbers"),
        ("subscribers", "owner_attributes"), ("subscribers", "duplicates_agree"),
        ("subscribers", "user_types"), ("subscribers", "ages"), ("subscribers", "sexes"),
        ("subscribers", "readable_attributes"),
        ("subscribers", "unnamed_provinces"), ("subscribers", "local_numbers"),
        ("estates", "price_scale"), ("cells", "duplicates_agree"),
        ("estates", "duplicates_agree"), ("cells", "coordinate_precision"),
        ("estates", "coordinate_precision"),
        ("landed_calls", "no_raw_identifiers"), ("landed_calls", "calendar_coverage"),
        ("landed_calls", "number_forms"), ("landed_calls", "time_of_day"),
        ("landed_calls", "durations_agree")}
    # T1 is listed again 1.4 km away (the first row kept), E1 again as it was: only T1 is named
    checks = {(e.asset_key.to_user_string(), e.check_name): e
              for e in first.get_asset_check_evaluations()}
    moved, copied = checks[("cells", "duplicates_agree")], checks[("estates", "duplicates_agree")]
    assert not moved.passed and moved.severity == dg.AssetCheckSeverity.WARN
    assert (moved.metadata["differing_rows"].value, moved.metadata["examples"].value) == (1, ["T1"])
    assert "1 rows list a cell id again with other coordinates" in \
        moved.metadata["check_first"].value
    assert copied.passed and copied.metadata["duplicate_rows"].value == 1
    for table in REFERENCE:
        md = first.asset_materializations_for_node(table)[0].metadata
        assert md["dagster/table_name"].value == table
        assert md["dagster/column_schema"].schema.columns
    calls_checks = _checks_of(ingest_defs.calls)
    for _ in range(2):  # twice: the second run must find the same rows
        result = dg.materialize(
            [ingest_defs.calls, *calls_checks], resources=resources, instance=instance,
            partition_key=DAY.isoformat(),
        )
        assert result.success
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert set(evaluations) == {
            "row_accounting", "quarantine_share", "cells_known", "accepted_rows",
            "linked_to_subscribers", "per_party_records", "partial_records", "durations",
            "duplicates_agree",
            "start_times", "located_sides"}
        assert all(e.passed for e in evaluations.values()), evaluations
        assert {e.partition for e in evaluations.values()} == {DAY.isoformat()}
        md = result.asset_materializations_for_node("calls")[0].metadata
        assert md["rows_read"].value == 9  # the rows landed on 09-05
        assert md["rows_accepted"].value == 5
        assert md["dagster/row_count"].value == 5
        schema = {c.name: c.description for c in md["dagster/column_schema"].schema.columns}
        assert schema["call_date"] == "Day of start_ts; the partition key."
    con = duckdb.connect(str(StudyConfig.load(user_data).duckdb_path), read_only=True)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 5
    assert con.execute("SELECT count(*) FROM quarantine WHERE source = 'calls'").fetchone()[0] \
        == sum(CALL_REASONS.values())


def test_daily_checks_report_each_day_of_a_range(user_data: Path, env: None) -> None:
    """A single-run backfill over 09-04..09-05: each daily check reports one evaluation per day,
    tied to its partition (Dagster alone would record one evaluation for no partition)."""
    from migrant_assets.defs import ingest as ingest_defs

    instance = dg.DagsterInstance.ephemeral()
    _, resources = _materialize_reference(user_data, instance)
    calls = ingest_defs.calls
    defs = dg.Definitions(assets=[calls], asset_checks=_checks_of(calls), resources=resources,
                          jobs=[dg.define_asset_job("days", selection=[calls])])
    result = defs.resolve_job_def("days").execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": OTHER_DAY.isoformat(),
        "dagster/asset_partition_range_end": DAY.isoformat()})
    assert result.success
    got = {(e.check_name, e.partition): e for e in result.get_asset_check_evaluations()}
    names = {"row_accounting", "quarantine_share", "cells_known", "accepted_rows",
             "linked_to_subscribers", "per_party_records", "partial_records", "durations",
            "duplicates_agree",
            "start_times", "located_sides"}
    assert set(got) == {(n, d.isoformat()) for n in names for d in (OTHER_DAY, DAY)}
    assert all(e.passed for e in got.values())
    assert got[("row_accounting", DAY.isoformat())].metadata["judged"].value == 9
    assert got[("row_accounting", OTHER_DAY.isoformat())].metadata["judged"].value == 1
    assert got[("row_accounting", DAY.isoformat())].blocking
    # and each day's materialization its own figures (they were the range's totals: 6 rows)
    md = {m.partition: {k: v.value for k, v in m.metadata.items()}
          for m in result.asset_materializations_for_node("calls")}
    assert {day: (m["dagster/row_count"], m["rows_read"], m["rows_accepted"])
            for day, m in md.items()} == {DAY.isoformat(): (5, 9, 5),
                                          OTHER_DAY.isoformat(): (1, 1, 1)}
    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(calls.key, "cells_known"), limit=10)
    assert sorted(r.event.asset_check_evaluation.partition for r in history) == [
        OTHER_DAY.isoformat(), DAY.isoformat()]


def test_the_checks_that_read_a_days_calls_read_them_once(user_data: Path, env: None,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """cells_known and linked_to_subscribers judge one pass over each day's calls
    (``calls_day_facts``), not one each: a two-day range reads two days' facts, and a run that
    selects one of the two checks yields only that one."""
    from migrant_assets.defs import ingest as ingest_defs

    instance = dg.DagsterInstance.ephemeral()
    _, resources = _materialize_reference(user_data, instance)
    calls, checks = ingest_defs.calls, _checks_of(ingest_defs.calls)
    days = []
    real = ingest_defs.calls_day_facts
    monkeypatch.setattr(ingest_defs, "calls_day_facts",
                        lambda con, day: days.append(day) or real(con, day))
    defs = dg.Definitions(assets=[calls], asset_checks=checks, resources=resources,
                          jobs=[dg.define_asset_job("days", selection=[calls])])
    result = defs.resolve_job_def("days").execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": OTHER_DAY.isoformat(),
        "dagster/asset_partition_range_end": DAY.isoformat()})
    assert result.success
    assert sorted(days) == [OTHER_DAY, DAY]
    got = {(e.check_name, e.partition): e for e in result.get_asset_check_evaluations()}
    assert got[("cells_known", DAY.isoformat())].passed
    assert got[("linked_to_subscribers", DAY.isoformat())].metadata["calls_accepted"].value == 5
    days.clear()
    one = defs.resolve_job_def("days").get_subset(
        asset_selection=set(),
        asset_check_selection={dg.AssetCheckKey(calls.key, "linked_to_subscribers")},
    ).execute_in_process(instance=instance, partition_key=DAY.isoformat())
    assert [e.check_name for e in one.get_asset_check_evaluations()] == ["linked_to_subscribers"]
    assert days == [DAY]


def test_a_check_runs_alone_on_the_stored_tables(user_data: Path, env: None) -> None:
    """row_accounting reads what is stored: a row deleted behind the asset's back fails it
    (ERROR, blocking) when the check runs alone, without the asset."""
    from migrant_assets.defs import ingest as ingest_defs

    instance = dg.DagsterInstance.ephemeral()
    _, resources = _materialize_reference(user_data, instance)
    calls, checks = ingest_defs.calls, _checks_of(ingest_defs.calls)
    assert dg.materialize([calls, *checks], resources=resources, instance=instance,
                          partition_key=DAY.isoformat()).success
    path = str(StudyConfig.load(user_data).duckdb_path)
    with duckdb.connect(path) as con:
        con.execute("DELETE FROM quarantine_calls WHERE reason = 'self_call'")
    # as the UI runs one check of one partition: the asset's job, subset to the check
    job = dg.Definitions(assets=[calls], asset_checks=checks, resources=resources,
                         jobs=[dg.define_asset_job("calls", selection=[calls])]
                         ).resolve_job_def("calls")
    alone = job.get_subset(
        asset_selection=set(), asset_check_selection={dg.AssetCheckKey(calls.key, name) for name
                                                      in ("row_accounting", "cells_known")},
    ).execute_in_process(instance=instance, partition_key=DAY.isoformat(), raise_on_error=False)
    assert not alone.get_asset_materialization_events()  # the asset did not run
    assert not alone.success  # a blocking check failed with ERROR: its step fails
    got = {e.check_name: e for e in alone.get_asset_check_evaluations()}
    accounting = got["row_accounting"]
    assert not accounting.passed and accounting.severity == dg.AssetCheckSeverity.ERROR
    assert accounting.blocking and accounting.partition == DAY.isoformat()
    assert accounting.metadata["unbalanced"].value == {DAY.isoformat(): {
        "rows_read": 9, "rows_accepted": 5, "rows_quarantined": 2, "rows_excluded": 0}}
    assert set(got) == {"row_accounting", "cells_known"} and got["cells_known"].passed


def _tiny_study(tmp_path: Path) -> Path:
    study = {"source": {"kind": "synthetic", "preset": "tiny", "seed": 7},
             "workdir": str(tmp_path / "work")}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    return tmp_path / "study.yaml"


def test_synthetic_city_asset_gives_the_same_files(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic city is an asset: its table lists the generated files (no content), and
    materializing it again writes the same bytes (seeded)."""
    from migrant_assets.defs import ingest as ingest_defs
    from migrant_assets.defs.resources import StudyResource

    if not hasattr(ingest_defs, "synthetic_city"):
        pytest.skip("the code location's study reads files (MIGRANT_ASSETS_CONFIG)")
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)
    study = _tiny_study(tmp_path)
    cfg = StudyConfig.load(study)
    resources = {"study": StudyResource(config_path=str(study))}
    tables = []
    for _ in range(2):
        result = dg.materialize([ingest_defs.synthetic_city], resources=resources)
        assert result.success
        with duckdb.connect(str(cfg.duckdb_path), read_only=True) as con:
            tables.append(con.execute("SELECT * FROM synthetic_city ORDER BY path").fetchall())
    first, second = tables
    assert first == second
    manifest = json.loads((cfg.synthetic_dir / "manifest.json").read_text())
    rows = {path: n for _, path, n, _, _ in first}
    assert rows == {**manifest["rows"], "manifest.json": None}
    for table, path, _, size, digest in first:
        assert (cfg.synthetic_dir / path).stat().st_size == size
        assert hashlib.sha256((cfg.synthetic_dir / path).read_bytes()).hexdigest() == digest
        assert table in ("calls", "subscribers", "cells", "estates", "ground_truth", "manifest")
    assert sum(n for t, _, n, _, _ in first if t == "calls") == manifest["calls_total"]
    md = result.asset_materializations_for_node("synthetic_city")[0].metadata
    assert md["dagster/row_count"].value == len(first)


def test_a_files_source_is_a_set_of_external_assets(user_data: Path) -> None:
    """With a mapping, the raw inputs are external assets (their layout, no path) upstream of
    the ingestion assets, and there is no synthetic city."""
    import os
    import subprocess
    import sys

    script = (
        "import json\n"
        "from migrant_assets.defs import ingest as d\n"
        "print(json.dumps({'synthetic': hasattr(d, 'synthetic_city'),\n"
        " 'specs': {s.key.to_user_string(): s.description for s in d.source_specs},\n"
        " 'deps': {a.key.to_user_string(): sorted(k.to_user_string() for k in a.dependency_keys)\n"
        "          for a in (d.subscribers, d.cells, d.estates, d.landed_calls)}}))\n")
    env = {**os.environ, "MIGRANT_ASSETS_CONFIG": str(user_data)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert not got["synthetic"]
    assert got["deps"] == {**{t: [f"source_{t}"] for t in ("subscribers", "cells", "estates")},
                           "landed_calls": ["cells", "source_calls", "subscribers"]}
    assert got["specs"]["source_calls"] == (
        "calls: one file per day of the calendar (csv), read through the mapping file")
    assert got["specs"]["source_cells"] == "cells: one file (csv), read through the mapping file"
    assert "towers" not in json.dumps(got) and "operator" not in json.dumps(got)


def test_landing_in_batches_gives_the_same_rows(user_data: Path, env: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Landing file by file (one batch per file) stores the same rows, quarantine and per-file
    accounting as landing every file in one batch; each number's pseudonym is the reference
    HMAC, whichever batch saw it first (a number of the second file written another way too)."""
    import migrant_assets.ingest as ingest_module

    cdr = user_data.parent / "operator" / "cdr"
    (cdr / "20160906.csv").write_text(
        "a_party,b_party,begin,finish,a_cell,b_cell\n"
        f"13800000003,{OTHER},2016-09-06 09:00:00,2016-09-06 09:02:00,T2,\n"
        f"138-0000-0001,{OTHER},2016-09-06 10:00:00,2016-09-06 10:01:00,T1,\n"
        "19900000777,13800000001,2016-09-06 11:00:00,2016-09-06 11:01:00,,T9\n")
    cfg = StudyConfig.load(user_data)
    stored = []
    for batch_bytes in (2**40, 1):  # every file in one batch; one batch per file
        monkeypatch.setattr(ingest_module, "LANDING_BATCH_BYTES", batch_bytes)
        con = connect(":memory:")
        contract = contract_for(cfg)
        ingest_places(con, cfg, contract, "cells")
        stats = land_calls(con, cfg, contract)
        stored.append((stats, *(
            sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("landed_calls", "quarantine_landed_calls", "landed_files"))))
        numbers = {r[0] for r in con.execute(
            "SELECT caller_number FROM landed_calls UNION SELECT callee_number FROM landed_calls"
        ).fetchall()}
        expected = {pseudonym(KEY, "number", n) for n in (
            "13800000001", "13800000002", "13800000003", "13800000004", OTHER, "19900000777")}
        assert numbers == expected
    assert stored[0] == stored[1]
    stats, landed, _, files = stored[0]
    assert stats.read == len(CALLS) + 1 + 3 and stats.accepted == 10 + 3
    assert [(f[0], Path(f[1]).name, f[2]) for f in sorted(files)] == [
        (1, "20160905.csv", len(CALLS) + 1), (2, "20160906.csv", 3)]
    assert sum(1 for r in landed if r[-2] == 2) == 3  # file_id of the second file


def test_a_batch_is_sized_by_the_bytes_its_files_hold_once_read(tmp_path: Path) -> None:
    """A landing batch counts what its files hold once read (probe 25: a gzipped month of
    244 MB, 770 MB of text, was one batch of 256 MB by its bytes on disk, and the landing peaked
    at 7.9 GB): a gzip file its inflated size, from its trailer, or at least INFLATION times
    its size; a Parquet file its uncompressed columns; a plain file its size."""
    import gzip

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    import migrant_assets.ingest as ingest_module

    text = "".join(f"1380000{i % 10_000:04d},13900000001,2016-09-05 10:00:00,60\n"
                   for i in range(50_000)).encode()
    plain, packed, zst = tmp_path / "a.csv", tmp_path / "b.csv.gz", tmp_path / "c.csv.zst"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text))
    zst.write_bytes(text[:1000])  # only its size is read
    assert len(gzip.compress(text)) * ingest_module.INFLATION < len(text)  # it inflates more
    assert ingest_module.bytes_once_read(plain) == len(text)
    assert ingest_module.bytes_once_read(packed) == len(text)  # its trailer, exactly
    assert ingest_module.bytes_once_read(zst) == 1000 * ingest_module.INFLATION
    # a trailer below the floor (several members: the last one's size only)
    joined = tmp_path / "d.csv.gz"
    joined.write_bytes(gzip.compress(text) + gzip.compress(b"x\n"))
    assert ingest_module.bytes_once_read(joined) == joined.stat().st_size * ingest_module.INFLATION
    # Parquet: its uncompressed columns (from its footer), or the floor when they compress
    # little (random doubles)
    pq.write_table(pa.table({"n": [f"1380000{i % 1000:04d},2016-09-05" for i in range(200_000)]}),
                   tmp_path / "e.parquet", compression="zstd", use_dictionary=False)
    meta = pq.read_metadata(tmp_path / "e.parquet")
    columns = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    assert columns > ingest_module.INFLATION * (tmp_path / "e.parquet").stat().st_size
    assert ingest_module.bytes_once_read(tmp_path / "e.parquet") == columns
    noise = np.random.default_rng(7).random(200_000)
    pq.write_table(pa.table({"x": noise}), tmp_path / "g.parquet", compression="zstd")
    assert ingest_module.bytes_once_read(tmp_path / "g.parquet") == (
        ingest_module.INFLATION * (tmp_path / "g.parquet").stat().st_size)
    # two gzip files of one batch on disk are two batches once read
    other = tmp_path / "f.csv.gz"
    other.write_bytes(gzip.compress(text))
    files, labels = [packed, other], {str(packed): "b", str(other): "f"}
    size = 2 * packed.stat().st_size
    assert ingest_module._batches(files, size, labels) == [[packed], [other]]
    assert ingest_module._batches(files, 2 * len(text), labels) == [[packed, other]]


def test_a_failed_landing_leaves_the_landed_calls_as_they_were(
        user_data: Path, env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches are committed into staged tables, swapped in only at the end: a landing that
    fails in its second batch leaves `landed_calls`, `quarantine_landed_calls` and
    `landed_files` as the last landing left them and no staged table behind; the next landing
    replaces them whole, with their column comments."""
    import migrant_assets.ingest as ingest_module

    cdr = user_data.parent / "operator" / "cdr"
    (cdr / "20160906.csv").write_text(
        "a_party,b_party,begin,finish,a_cell,b_cell\n"
        f"13800000003,{OTHER},2016-09-06 09:00:00,2016-09-06 09:02:00,T2,\n")
    cfg = StudyConfig.load(user_data)
    con = connect(":memory:")
    contract = contract_for(cfg)
    ingest_places(con, cfg, contract, "cells")
    monkeypatch.setattr(ingest_module, "LANDING_BATCH_BYTES", 1)  # one batch per file
    land_calls(con, cfg, contract)
    tables = ("landed_calls", "quarantine_landed_calls", "landed_files")

    def stored() -> list:
        return [sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables]

    def comments() -> list:
        return con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                           "WHERE table_name IN ? ORDER BY ALL", [list(tables)]).fetchall()

    before, described = stored(), comments()
    assert len(before[0]) == 11 and len(before[2]) == 2
    assert all(c for _, _, c in described)
    read = ingest_module.read_table

    def failing_second_batch(*args, **kwargs):
        if kwargs["files"][0].name == "20160906.csv":
            raise OSError("disk gone in the second batch")
        return read(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "read_table", failing_second_batch)
    (cdr / "20160905.csv").write_text((cdr / "20160905.csv").read_text().splitlines()[0] + "\n")
    with pytest.raises(OSError, match="second batch"):
        land_calls(con, cfg, contract)
    assert stored() == before
    assert not con.execute("SELECT table_name FROM duckdb_tables() "
                           "WHERE table_name LIKE '%staged%'").fetchall()
    monkeypatch.setattr(ingest_module, "read_table", read)
    land_calls(con, cfg, contract)  # the first file now holds a header only
    after = stored()
    assert len(after[0]) == 1 and [r[2] for r in sorted(after[2])] == [0, 1]
    assert comments() == described


def test_no_raw_identifiers_finds_a_planted_number(user_data: Path, env: None) -> None:
    """The search the landing stores finds a raw number already in a table (inside text and as
    an integer), so the blocking check fails; without it the search is clean."""
    from migrant_assets.defs.ingest import _privacy_verdict
    from migrant_assets.ingest import identifier_scan

    cfg = StudyConfig.load(user_data)
    con = connect(":memory:")
    contract = contract_for(cfg)
    ingest_places(con, cfg, contract, "cells")
    assert identifier_scan(con, "landed_calls") is None  # not landed yet: nothing stored
    land_calls(con, cfg, contract)
    searched, hits = identifier_scan(con, "landed_calls")
    assert searched == len({r[0] for r in CALLS if r[0]} | {r[1] for r in CALLS}) and hits == {}
    con.execute("CREATE TABLE planted (note VARCHAR, n BIGINT)")
    con.execute("INSERT INTO planted VALUES ('called 19900000009 twice', 13800000004), "
                "('nothing', 1)")
    land_calls(con, cfg, contract)
    assert identifier_scan(con, "landed_calls")[1] == {"planted.note": 1, "planted.n": 1}
    result = _privacy_verdict(identifier_scan(con, "landed_calls"))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR


def test_a_high_quarantine_share_says_what_to_check_first() -> None:
    """Every quarantine reason has a hint; the share check names the hint of the reason that
    took most rows once the share is over the warning threshold (a reason that takes most of a
    file is usually the mapping), and none below it."""
    from migrant_assets.defs.ingest import _share_verdict
    from migrant_assets.ingest import QUARANTINE_REASONS, REASON_FIXES

    assert {r for rs in QUARANTINE_REASONS.values() for r in rs} == set(REASON_FIXES)
    cfg = StudyConfig()
    part = {"rows_read": 1000, "rows_excluded": 0, "rows_quarantined": 900}
    high = _share_verdict(cfg, [part], {"bad_timestamp": 880, "missing_id": 20})
    assert not high.passed and high.severity == dg.AssetCheckSeverity.ERROR
    assert high.metadata["check_first"].value.startswith(
        "bad_timestamp: the start and end columns")
    low = _share_verdict(cfg, [{**part, "rows_quarantined": 5}], {"missing_id": 5})
    assert low.passed and "check_first" not in low.metadata


@pytest.mark.parametrize("identifier", [
    "ID-PERSON-4711", "jane.doe@example.com", "9b2f6c1e-4d3a-4f7b-a8e2-5c6d7e8f9a01", "u_48213",
    "IDPERSON4711", "13912345678"])
def test_the_identifier_search_finds_identifiers_with_punctuation(identifier: str) -> None:
    """privacy.find_raw_identifiers finds an owner id holding punctuation (an e-mail, a UUID,
    ``ID-PERSON-4711``) stored alone or inside other text, and not a text that only begins
    like it."""
    from migrant_assets.ingest import canonical_macros
    from migrant_assets.privacy import find_raw_identifiers

    con = connect(":memory:")
    canonical_macros(con)
    con.execute("CREATE TEMP TABLE raw_identifiers AS SELECT ? AS token, "
                "TRY_CAST(? AS BIGINT) AS as_int", [identifier, identifier])
    con.execute("CREATE TABLE stored (v VARCHAR)")
    con.execute("INSERT INTO stored VALUES (?), (?), ('nothing')",
                [identifier.upper(), '{"holder":"' + identifier + '","n":1}'])
    assert find_raw_identifiers(con) == {"stored.v": 2}
    con.execute("DELETE FROM stored WHERE v <> 'nothing'")
    con.execute("INSERT INTO stored VALUES (?)", [identifier[:-1] + " " + identifier[-1]])
    # a number written with a space is still a number (the digits of a text are searched)
    assert find_raw_identifiers(con) == ({"stored.v": 1} if identifier.isdigit() else {})


def test_digits_inside_a_stored_digest_are_no_identifier() -> None:
    """An owner id whose digits occur inside a hex digest the lineage stores (a file's
    sha256 holding ...7b0001181b1d...) is not found there: the blocking check failed a second
    run of unchanged data on the bytes of a hash. A number written with separators, or glued to
    a colon, is still found."""
    from migrant_assets.ingest import canonical_macros
    from migrant_assets.privacy import find_raw_identifiers

    con = connect(":memory:")
    canonical_macros(con)
    con.execute("CREATE TEMP TABLE raw_identifiers AS SELECT * FROM (VALUES "
                "('O0001181', NULL::BIGINT), ('13912345678', 13912345678)) AS t(token, as_int)")
    con.execute("CREATE TABLE source_files (sha256 VARCHAR, note VARCHAR)")
    con.execute("INSERT INTO source_files VALUES ("
                "'b81f546817797eac7b0001181b1dbb9c6205e3f341fe7fca03411e814eaedb2c', 'x'), "
                "('0f3e13912345678abcd', 'y')")
    assert find_raw_identifiers(con) == {}
    con.execute("INSERT INTO source_files VALUES ('z', 'tel:+86 139 1234 5678'), "
                "('z', 'owner 0001181.'), ('z', 'tel13912345678'), ('z', 'Tel139-1234-5678')")
    assert find_raw_identifiers(con) == {"source_files.note": 4}


def test_a_duckdb_error_of_the_package_sql_shows_no_value() -> None:
    """db.run_text raises DuckDB's error as its own class, naming the statement's file, with
    the value it failed on redacted and without the original chained (Dagster stores a
    failure's chain in its event log)."""
    from migrant_assets.db import run_text

    con = connect(":memory:")
    with pytest.raises(duckdb.ConversionException) as info:
        run_text(con, "SELECT CAST($d AS INTERVAL)", {"d": "13912345678:00:00"},
                 where="sql/ingest/landing.sql")
    message = str(info.value)
    assert message.startswith("sql/ingest/landing.sql: Conversion Error")
    assert "INTERVAL" in message and "1391234" not in message and "5678" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_schema_writes_only_what_changes(tmp_path: Path) -> None:
    """db.run_schema creates what is missing, with its comments, and once its tables and views
    are as the statements make them, runs no statement but its reads of the catalog; a view
    replaced by another definition, or a table dropped, is made again."""
    from migrant_assets.db import run_schema

    schema = ("-- a table\nCREATE TABLE IF NOT EXISTS t (a INTEGER, b VARCHAR);\n"
              "-- its column\nCOMMENT ON COLUMN t.a IS 'the a';\n"
              "COMMENT ON COLUMN t.b IS 'the b';\n"
              "-- a view over it\nCREATE OR REPLACE VIEW v AS SELECT a FROM t WHERE a > 0;\n")

    class Counted:
        def __init__(self, con):
            self.con, self.ran = con, []

        def execute(self, statement, *args):
            self.ran.append(getattr(statement, "query", statement).strip())
            return self.con.execute(statement, *args)

    def run(con) -> list[str]:
        counted = Counted(con)
        run_schema(counted, schema)
        return [q for q in counted.ran if not q.startswith("SELECT")]

    con = connect(tmp_path / "s.duckdb")
    assert len(run(con)) == 4
    assert run(con) == []  # everything as the statements make it: nothing written
    comments = con.execute("SELECT column_name, comment FROM duckdb_columns() "
                           "WHERE table_name = 't' ORDER BY column_index").fetchall()
    assert comments == [("a", "the a"), ("b", "the b")]
    con.execute("CREATE OR REPLACE VIEW v AS SELECT b FROM t")
    assert [q.split()[-1] for q in run(con)] == ["0;"]  # the view, and only it, made again
    assert [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() "
                                      "WHERE table_name = 'v'").fetchall()] == ["a"]
    con.execute("ALTER TABLE t ADD COLUMN c DOUBLE")
    assert run(con) == []  # the view reads its table's columns when queried
    con.execute("INSERT INTO t VALUES (1, 'x', 2.0)")
    assert con.execute("SELECT * FROM v").fetchall() == [(1,)]
    con.execute("DROP VIEW v")
    con.execute("DROP TABLE t")
    assert len(run(con)) == 4
    con.close()
    con = connect(tmp_path / "s.duckdb")  # another connection, as the next stage's
    assert run(con) == []


def test_a_short_punctuated_identifier_that_names_a_cell_is_not_searched() -> None:
    """An owner id of fewer than 10 characters that is also a cell id (T-01) is explained by
    the cells table, punctuated or not: text naming that cell is no leak."""
    from migrant_assets.ingest import canonical_macros
    from migrant_assets.privacy import find_raw_identifiers

    con = connect(":memory:")
    canonical_macros(con)
    con.execute("CREATE TEMP TABLE raw_identifiers AS SELECT unnest(['T-01', 'ID-PERSON-47']) "
                "AS token, CAST(NULL AS BIGINT) AS as_int")
    con.execute("CREATE TABLE cells (cell_id VARCHAR)")
    con.execute("INSERT INTO cells VALUES ('T-01')")
    con.execute("CREATE TABLE stored (v VARCHAR)")
    con.execute("INSERT INTO stored VALUES ('at tower T-01')")
    assert find_raw_identifiers(con) == {}
    con.execute("INSERT INTO stored VALUES ('ID-PERSON-47 at tower T-01')")
    assert find_raw_identifiers(con) == {"stored.v": 1}


#: The blocks of punctuation and symbols that canonical.sql's letters() leaves out: a stand-in
#: for no identifier is written with these (first and last code point).
_PUNCTUATION_BLOCKS = [(0x00, 0xFF), (0x2000, 0x206F), (0x20A0, 0x20FF), (0x2190, 0x2BFF),
                       (0x2E00, 0x2E7F), (0x3000, 0x303F), (0x30FB, 0x30FB), (0xFE00, 0xFE6F),
                       (0xFF00, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65), (0xFFE0, 0xFFFF),
                       (0x1F000, 0x1FAFF)]


def test_the_letter_class_holds_every_letter_and_no_punctuation() -> None:
    """canonical.sql's ``letters()`` (and ``digits()``), what the stand-ins and spreadsheet
    errors are told by instead of RE2's slow \\p{L}: every code point Python's unicodedata
    calls a letter is in ``letters()``, every letter or number in the two together, and no
    punctuation, symbol, space or control character of the punctuation blocks is in either."""
    import unicodedata

    from migrant_assets.ingest import canonical_macros

    con = connect(":memory:")
    canonical_macros(con)
    points = [cp for cp in range(1, 0x40000) if not 0xD800 <= cp <= 0xDFFF]
    got = dict((cp, (is_letter, is_either)) for cp, is_letter, is_either in con.execute(
        "SELECT cp, regexp_matches(chr(cp), '[' || letters() || ']'), "
        "regexp_matches(chr(cp), '[' || letters() || digits() || ']') "
        "FROM (SELECT CAST(unnest($points) AS INTEGER) AS cp)", {"points": points}).fetchall())
    category = {cp: unicodedata.category(chr(cp)) for cp in points}
    letters = [cp for cp in points if category[cp].startswith("L")]
    numbers = [cp for cp in points if category[cp][0] in "LN"]
    assert len(letters) > 100_000 and len(numbers) > len(letters)
    assert [hex(cp) for cp in letters if not got[cp][0]] == []
    assert [hex(cp) for cp in numbers if not got[cp][1]] == []
    others = [cp for lo, hi in _PUNCTUATION_BLOCKS for cp in range(max(lo, 1), hi + 1)
              if category[cp][0] in "PSZC"]
    assert len(others) > 3000
    assert [hex(cp) for cp in others if got[cp][1]] == []


@pytest.mark.parametrize(("text", "stand_in", "error"), [
    ("—", True, False), ("－", True, False), ("・", True, False), ("※", True, False),
    ("\ufffd", True, False), ("📵", True, False), ("王", False, False), ("١٢٣", False, False),
    ("①", False, False), ("#Н/Д", False, True), ("#ЗНАЧ!", False, True),
    ("#¡VALOR!", False, True), ("#€!", True, False), ("#１/２", False, False),
    ("#ΤΙΜΗ!", False, True), ("#値!", False, True)])
def test_stand_ins_and_spreadsheet_errors_in_any_script(text: str, stand_in: bool,
                                                         error: bool) -> None:
    """A text without a letter or digit in any script is a stand-in for no identifier
    (``masked``); a # and a word with a letter of any script ending in ! or ? or holding a /
    is a spreadsheet's error value (``spreadsheet_error``), and one without a letter is not."""
    from migrant_assets.ingest import canonical_macros

    con = connect(":memory:")
    canonical_macros(con)
    assert con.execute("SELECT masked($t), spreadsheet_error($t)",
                       {"t": text}).fetchall() == [(stand_in, error)]


#: Calls by hour of a city's day (the quietest three hours 02:00-05:00, 7.8% of an average
#: three hours').
DAY_PROFILE = [30, 15, 8, 5, 5, 8, 20, 60, 100, 120, 130, 130, 120, 120, 130, 130, 120, 110,
               110, 100, 90, 80, 60, 45]


def _calls_by_hour(con: duckdb.DuckDBPyConnection, counts: list[int]) -> None:
    con.execute("DELETE FROM landed_calls")
    con.execute("INSERT INTO landed_calls (call_date, caller_number, callee_number, start_ts, "
                "row_number) SELECT DATE '2016-09-05', 1, 2, TIMESTAMP '2016-09-05' "
                "+ to_hours(hour), 0 FROM (SELECT hour, unnest(range(n)) FROM (SELECT "
                "unnest(range(24)) AS hour, unnest(CAST(? AS BIGINT[])) AS n))", [counts])


def test_time_of_day_finds_the_night_or_names_the_zone(con: duckdb.DuckDBPyConnection) -> None:
    """Local times declared UTC move every call 8 h (the quietest hours at 10:00); times of two
    zones mixed in one column fill the night (its three hours hold 57% of an average three
    hours'); the city's own day passes, and so does a file too small to tell."""
    from migrant_assets.ingest import TIME_OF_DAY_FIX, time_of_day

    _calls_by_hour(con, DAY_PROFILE)
    out = time_of_day(con)
    assert out["calls_by_hour"] == DAY_PROFILE and out["calls"] == sum(DAY_PROFILE)
    assert (out["quietest_hours"], out["problem"]) == ("02:00-05:00", None)
    assert out["quiet_share"] == pytest.approx((8 + 5 + 5) / (sum(DAY_PROFILE) / 8), abs=1e-4)
    shifted = [DAY_PROFILE[(h - 8) % 24] for h in range(24)]
    _calls_by_hour(con, shifted)
    assert time_of_day(con)["problem"] == (
        "the calls' quietest three hours are 10:00-13:00 city time, where a city's are at "
        f"night: the times are likely read in the wrong zone; check {TIME_OF_DAY_FIX}")
    _calls_by_hour(con, [a + b for a, b in zip(DAY_PROFILE, shifted, strict=True)])
    out = time_of_day(con)
    assert out["problem"].startswith("the calls' quietest three hours (04:00-07:00 city time) "
                                     "hold 57% of an average three hours' calls")
    _calls_by_hour(con, [n // 2 for n in shifted])  # 916 calls: too few to tell
    assert time_of_day(con)["problem"] is None
