"""Bad and unusual input (issues 10 and 11): each kind, its outcome, and the row accounting.

Every case starts from one small valid extract (CSV files with the user's own column names) and
changes one thing: a row of a table, a mapping key or a config value. Its outcome is one of: a
quarantine row with its reason, a row excluded by the mapping's rules, a documented
normalisation (the stored value), or a clear error. The table of kinds is in
docs/data_contract.md ("Bad input: kinds and outcomes").
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from pydantic import ValidationError

from migrant_assets.config import StudyConfig
from migrant_assets.contract import (
    DataContract,
    Numbers,
    contract_for,
    failed_file,
    party_files,
    redact,
    value_key,
)
from migrant_assets.db import connect, run_sql
from migrant_assets.errors import ConfigError, InputError, MappingError
from migrant_assets.ingest import (
    NUMBERS_AGREE_FIX,
    IngestStats,
    check_first,
    ingest_calls,
    ingest_places,
    ingest_subscribers,
    land_calls,
    row_accounting,
)
from migrant_assets.privacy import pseudonym
from migrant_assets_tests.extracts import SHANGHAI

KEY = "bad-input-test-key-with-32-bytes-at-least"
DAY = "2016-09-05"
A, B, C = "13800000001", "13800000002", "13800000003"  # owners O1, O2; O1 also owns C
SUBS = [(A, "O1", "30", "M", "Shanghai", "true", "regular"),
        (B, "O2", "25", "F", "Anhui", "true", "regular"),
        (C, "O1", "30", "M", "Shanghai", "true", "regular")]
CELLS = [("T1", "31.20", "121.40"), ("T2", "31.30", "121.50")]
ESTATES = [("E1", "31.20", "121.40", "52000")]
CALL = (A, B, f"{DAY} 10:00:00", f"{DAY} 10:01:00", "T1", "T2")
SUBS_HEADER = "msisdn,owner,age,gender,province,local,kind"
CALLS_HEADER = "a_party,b_party,begin,finish,a_cell,b_cell"


@dataclass
class Case:
    """One kind of bad input: what to change and what must come out."""

    name: str
    calls: list[tuple] | None = None  # extra call rows after the valid one
    calls_text: str | None = None  # extra raw lines of the calls file
    subs: list[tuple] | None = None
    cells: list[tuple] | None = None
    estates: list[tuple] | None = None
    mapping: dict = field(default_factory=dict)  # deep-merged into the calls mapping
    study: dict = field(default_factory=dict)
    quarantined: tuple[str, str] | None = None  # (source, reason) of the one bad row
    excluded: str | None = None
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None
    error: tuple[type, str] | None = None  # (exception type, message pattern)


def _uid(owner: str) -> int:
    return pseudonym(KEY, "user", owner)


def _calls(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT caller, callee, start_ts, end_ts, duration_s, caller_cell "
                       "FROM calls ORDER BY start_ts, caller").fetchall()


def _sub(con: duckdb.DuckDBPyConnection, owner: str, column: str):
    assert column in ("age", "sex", "birth_province", "has_local_number", "is_service")
    return con.execute(f"SELECT {column} FROM subscribers WHERE user_id = ?",
                       [_uid(owner)]).fetchone()[0]


def _unreadable(con: duckdb.DuckDBPyConnection, owner: str, column: str, shown: str) -> None:
    """Owner ``owner``'s ``column`` (age or sex) was unreadable: the subscriber is stored with
    it unknown, their other attributes read, and the value is counted once, as ``shown``."""
    assert _sub(con, owner, column) is None
    assert _sub(con, owner, "birth_province") == "Anhui"
    assert con.execute("SELECT attribute, value, numbers FROM unreadable_attributes_subscribers"
                       ).fetchall() == [(column, shown, 1)]


def _linked(con: duckdb.DuckDBPyConnection) -> None:
    """The extra call (at 11:00) links its caller to owner O1 and callee to O2."""
    rows = con.execute("SELECT caller, callee FROM calls WHERE hour(start_ts) = 11").fetchall()
    assert rows == [(_uid("O1"), _uid("O2"))]


def _is(got, expected) -> None:
    assert got == expected, (got, expected)


def _start_is(expected: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def check(con: duckdb.DuckDBPyConnection) -> None:
        got = con.execute("SELECT CAST(max(start_ts) AS VARCHAR) FROM calls").fetchone()[0]
        assert got == expected

    return check


T = f"{DAY} "
CASES = [
    # ---- calls: identifiers
    Case("empty caller", calls=[("", B, T + "11:00:00", T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "missing_id")),
    Case("caller 'NULL'", calls=[("NULL", B, T + "11:00:00", T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "missing_id")),
    Case("callee 'N/A'", calls=[(A, "N/A", T + "11:00:00", T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "missing_id")),
    Case("caller '\\N'", calls=[("\\N", B, T + "11:00:00", T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "missing_id")),
    Case("configured null token '-1'", calls=[("-1", B, T + "11:00:00", T + "11:01:00", "", "")],
         mapping={"null_tokens": ["", "-1"]}, quarantined=("landed_calls", "missing_id")),
    # a token that begins as a spreadsheet's wrapping does ('-) is one as written
    Case("configured null token beginning with an apostrophe", calls=[
        (A, "'-", T + "11:00:00", T + "11:01:00", "", "")],
         mapping={"null_tokens": ["", "'-"]}, quarantined=("landed_calls", "missing_id")),
    Case("number with separators", calls=[("138-0000 0001", "(138)00000002", T + "11:00:00",
                                            T + "11:01:00", "T1", "T2")], check=_linked),
    Case("number with thousands commas, a tab, no-break and full-width spaces",
         calls=[('"13,800,000,001"', "138\t0000\u00a00002", T + "11:00:00", T + "11:01:00",
                 "T1", "T2"),
                ("138\u30000000\u20090001", "\uff11\uff13\uff18\uff10\uff10\uff10\uff10"
                 "\uff10\uff10\uff10\uff12", T + "12:00:00", T + "12:01:00", "T1", "T2")],
         check=lambda con: _is(con.execute(
             "SELECT DISTINCT caller, callee FROM calls WHERE hour(start_ts) IN (11, 12)"
         ).fetchall(), [(_uid("O1"), _uid("O2"))])),
    Case("number as float text", calls=[("13800000001.0", "1.3800000002e10", T + "11:00:00",
                                          T + "11:01:00", "T1", "T2")], check=_linked),
    Case("spreadsheet text markers: '138… and =\"138…\"",
         calls=[("'13800000001", '"=""13800000002"""', T + "11:00:00", T + "11:01:00", "T1",
                 "T2")], check=_linked),
    Case("an empty formula =\"\" as the caller", calls=[('"="""""', B, T + "11:00:00",
                                                          T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "missing_id")),
    Case("a null token in a formula =\"NULL\"", calls=[('"=""NULL"""', B, T + "11:00:00",
                                                        T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "missing_id")),
    Case("an owner id in hex that reads as scientific notation (8e123456)",
         subs=[("13800000009", "8e123456", "30", "M", "Anhui", "true", "")],
         check=lambda con: _is(_sub(con, "8e123456", "age"), 30)),
    Case("a long hex owner id of digits and one e (73910284657231e3)",  # not rounded_id
         subs=[("13800000009", "73910284657231e3", "30", "M", "Anhui", "true", "")],
         check=lambda con: _is(_sub(con, "73910284657231e3", "age"), 30)),
    Case("cell id rounded by a spreadsheet", cells=[("1.2345E+9", "31.2", "121.4")],
         quarantined=("cells", "rounded_id")),
    Case("number rounded by a spreadsheet", calls=[("1.38E+10", B, T + "11:00:00",
                                                    T + "11:01:00", "T1", "T2")],
         quarantined=("landed_calls", "rounded_id")),
    Case("subscriber's number rounded by a spreadsheet",
         subs=[("1.38E+10", "O9", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "rounded_id")),
    Case("owner id rounded by a spreadsheet",
         subs=[("13800000009", "4.5E+17", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "rounded_id")),
    # an ID card with its middle hidden: two people with the same mask would be one user
    Case("owner id masked 340104********1234",
         subs=[("13800000009", "340104********1234", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "masked_id")),
    Case("subscriber's number masked 138****0009",
         subs=[("138****0009", "O9", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "masked_id")),
    Case("an owner id ending in an ID card's check digit X",  # not masked
         subs=[("13800000009", "34010419900101123X", "30", "M", "Anhui", "true", "")],
         check=lambda con: _is(_sub(con, "34010419900101123X", "age"), 30)),
    Case("number with +86 prefix", calls=[("+8613800000001", "008613800000002", T + "11:00:00",
                                           T + "11:01:00", "T1", "T2")],
         mapping={"numbers": {"country_code": "86", "national_digits": 11}}, check=_linked),
    Case("number with bare 86 prefix", calls=[("8613800000001", B, T + "11:00:00",
                                               T + "11:01:00", "T1", "T2")],
         mapping={"numbers": {"country_code": "86", "national_digits": 11}}, check=_linked),
    Case("number with a trunk prefix", calls=[("013800000001", "+86 138 0000 0002", T + "11:00:00",
                                                T + "11:01:00", "T1", "T2")],
         mapping={"numbers": {"country_code": "86", "trunk_prefix": "0"}}, check=_linked),
    Case("trunk prefix with national digits", calls=[("0138-0000-0001", B, T + "11:00:00",
                                                      T + "11:01:00", "T1", "T2")],
         mapping={"numbers": {"trunk_prefix": "0", "national_digits": 11}}, check=_linked),
    # a landline dialled without its area code (a local call) and with it: one number
    Case("a local landline with and without its area code",
         calls=[(A, "5555 1234", T + "11:00:00", T + "11:01:00", "T1", ""),
                (A, "021-5555-1234", T + "12:00:00", T + "12:01:00", "T1", "")],
         mapping={"numbers": {"country_code": "86", "national_digits": [10, 11],
                              "trunk_prefix": "0", "area_code": "21", "local_digits": 8}},
         check=lambda con: _is(con.execute(
             "SELECT count(DISTINCT callee), count(*) FROM calls WHERE hour(start_ts) IN (11, 12)"
         ).fetchone(), (1, 2))),
    Case("trunk prefix not digits", mapping={"numbers": {"trunk_prefix": "+0"}},
         error=(MappingError, "numbers.trunk_prefix must be digits")),
    Case("number padded with spaces", calls=[(f"  {A} ", f" {B}", T + "11:00:00",
                                              T + "11:01:00", "T1", "T2")], check=_linked),
    Case("masked callee 138****0002", calls=[(A, "138****0002", T + "11:00:00", T + "11:01:00",
                                              "T1", "")], quarantined=("landed_calls",
                                                                       "masked_number")),
    Case("masked caller 1380000XXXX", calls=[("1380000XXXX", B, T + "11:00:00", T + "11:01:00",
                                               "", "T2")], quarantined=("landed_calls",
                                                                        "masked_number")),
    Case("caller 'Anonymous'", calls=[("Anonymous", B, T + "11:00:00", T + "11:01:00", "", "T2")],
         quarantined=("landed_calls", "masked_number")),
    Case("caller 'Número privado' (Spanish)", calls=[("Número privado", B, T + "11:00:00",
                                                      T + "11:01:00", "", "T2")],
         quarantined=("landed_calls", "masked_number")),
    Case("caller 'MASQUÉ' (French)", calls=[("MASQUÉ", B, T + "11:00:00", T + "11:01:00", "",
                                             "T2")], quarantined=("landed_calls", "masked_number")),
    # stand-ins for a withheld caller (a Chinese switch's words, dashes, asterisks, zeros): each
    # would be one node that called everyone
    *(Case(f"caller {word!r} stands for no one", calls=[(word, B, T + "11:00:00",
                                                          T + "11:01:00", "", "T2")],
           quarantined=("landed_calls", "masked_number"))
      for word in ("隐藏号码", "未知号码", "匿名", "隐藏", "保密", "Unknown Caller", "-", "--",
                   "*" * 11, "X" * 11, "-1", "(-1)", "-99999", "00000000000",
                   "+86 00000000000", "anonymous@anonymous.invalid")),
    # a spreadsheet's error value is no value whatever null_tokens says
    Case("caller #N/A with null tokens of its own", calls=[("#N/A", B, T + "11:00:00",
                                                             T + "11:01:00", "", "T2")],
         mapping={"null_tokens": ["", "-1"]}, quarantined=("landed_calls", "missing_id")),
    Case("owner id #VALUE!", subs=[("13800000009", "#VALUE!", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "missing_id")),
    Case("owner id '-'", subs=[("13800000009", "-", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "masked_id")),
    # not masked: a dataset's first id, plain or zero-padded (ten zeros or more stand for none)
    *(Case(f"a dataset's first id {first} is an id",
           calls=[(first, B, T + "11:00:00", T + "11:01:00", "", "T2")],
           check=lambda con: _is(con.execute(
               "SELECT count(*) FROM calls WHERE hour(start_ts) = 11").fetchone()[0], 1))
      for first in ("0", "00000000")),
    *(Case(f"caller {error} (a spreadsheet's error in another language)",
           calls=[(error, B, T + "11:00:00", T + "11:01:00", "", "T2")],
           quarantined=("landed_calls", "missing_id"))
      for error in ("#NV", "#¡VALOR!", "Err:502", "#n/a", "#N/B", "#Н/Д", "#SAKNAS!",
                    "#NOMBRE!")),
    Case("a call's cell #N/A is no cell",
         calls=[(A, B, T + "11:00:00", T + "11:01:00", "#N/A", "T2")],
         check=lambda con: _is(con.execute(
             "SELECT caller_cell IS NULL, callee_cell FROM calls WHERE hour(start_ts) = 11"
         ).fetchall(), [(True, "T2")])),
    # a signed 64-bit hash (Spark's hash(), Java's hashCode) is an id, not a stand-in
    Case("a caller pseudonymised as a negative hash",
         calls=[("-4096721385", B, T + "11:00:00", T + "11:01:00", "", "T2"),
                ("-4096721385", A, T + "12:00:00", T + "12:01:00", "", "T1")],
         check=lambda con: _is(con.execute(
             "SELECT count(DISTINCT caller), count(*) FROM calls WHERE hour(start_ts) IN (11, 12)"
         ).fetchone(), (1, 2))),
    # ids that start with #, which no spreadsheet error is: read as ids
    Case("an owner id and a cell id starting with #",
         subs=[("13800000009", "#C1001", "30", "M", "Anhui", "true", "")],
         cells=[("#3G-A12", "31.25", "121.45")],
         check=lambda con: (_is(_sub(con, "#C1001", "age"), 30), _is(con.execute(
             "SELECT count(*) FROM cells WHERE cell_id = '#3G-A12'").fetchone()[0], 1))),
    Case("numbers in Bengali and Thai digits",
         calls=[("\u09e7\u09e9\u09ee\u09e6\u09e6\u09e6\u09e6\u09e6\u09e6\u09e6\u09e7",
                 "\u0e51\u0e53\u0e58\u0e50\u0e50\u0e50\u0e50\u0e50\u0e50\u0e50\u0e52",
                 T + "11:00:00", T + "11:01:00", "T1", "T2")], check=_linked),
    Case("numbers in Arabic-Indic and Devanagari digits",
         calls=[("\u0661\u0663\u0668\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0661",
                 "\u0967\u0969\u096e\u0966\u0966\u0966\u0966\u0966\u0966\u0966\u0968",
                 T + "11:00:00", T + "11:01:00", "T1", "T2")], check=_linked),
    # typed with a Chinese input method or a word processor: full-width parentheses and
    # hyphens, an en dash, a minus sign
    Case("number with full-width and typographic separators",
         calls=[("\uff08138\uff0900000001", "138\uff0d0000\u20130002", T + "11:00:00",
                 T + "11:01:00", "T1", "T2"),
                ("138\u22120000\u20140001", "138\uff0e0000\u20100002", T + "12:00:00",
                 T + "12:01:00", "T1", "T2")],
         check=lambda con: _is(con.execute(
             "SELECT DISTINCT caller, callee FROM calls WHERE hour(start_ts) IN (11, 12)"
         ).fetchall(), [(_uid("O1"), _uid("O2"))])),
    # 18-digit ID cards as owners, saved by a spreadsheet: 15 digits kept, then zeros
    # ... two people of one place born on one day then share an id
    Case("owner ids of 18 digits rounded by a spreadsheet",
         subs=[("13800000009", "310115199003121000", "30", "M", "Anhui", "true", ""),
               ("13800000007", "310115199003121000", "30", "F", "Anhui", "true", ""),
               ("13800000008", "340104198507082000", "30", "F", "Anhui", "true", "")],
         error=(MappingError, r"subscribers.owner_id: 2 of 2 identifiers of 16 digits or more "
                              r"end in the zeros a spreadsheet writes .* and 1 of them")),
    *(Case(f"owner ids of 18 digits rounded, in groups of three ({sep!r})",
           subs=[("13800000009", f'"310{sep}115{sep}199{sep}003{sep}121{sep}000"', "30", "M",
                  "Anhui", "true", ""),
                 ("13800000007", f'"310{sep}115{sep}199{sep}003{sep}121{sep}000"', "30", "F",
                  "Anhui", "true", ""),
                 ("13800000008", f'"340{sep}104{sep}198{sep}507{sep}082{sep}000"', "30", "F",
                  "Anhui", "true", "")],
           error=(MappingError, r"subscribers.owner_id: 2 of 2 identifiers"))
      for sep in (",", " ", ".", "'", "\u00a0", "\u2019", "\u2009")),
    # one owner's two numbers under a key ending in 0 (an account and its line): they agree
    Case("owner ids of 16 digits ending in 0, one owner's two numbers",
         subs=[(f"1380000000{i}", f"31011519900312{i}0", "30", "M", "Anhui", "true", "")
               for i in range(4, 10)] + [("13900000009", "3101151990031290", "30", "M",
                                          "Anhui", "true", "")],
         check=lambda con: _is(con.execute(
             "SELECT max(n_numbers) FROM subscribers").fetchone()[0], 2)),
    # rounded, but no two numbers share one: nobody is merged
    Case("owner ids of 18 digits ending in 000, each held by one number",
         subs=[("13800000009", "310115199003121000", "30", "M", "Anhui", "true", ""),
               ("13800000008", "340104198507082000", "30", "F", "Anhui", "true", "")],
         check=lambda con: _is(_sub(con, "310115199003121000", "age"), 30)),
    # an account number with a 00 line suffix: most end in one zero more than rounding gives
    Case("owner ids of 16 digits ending in a suffix of zeros of their own",
         subs=[("1380000000" + str(i), f"62{i}849046647280{0 if i % 2 else 1}00"[:14] + "00",
                "30", "M", "Anhui", "true", "") for i in range(4, 10)],
         check=lambda con: _is(con.execute(
             "SELECT count(*) FROM subscribers").fetchone()[0], 8)),
    Case("an owner id of 18 digits ending in 000 beside others",  # chance: one in a thousand
         subs=[("13800000009", "310115199003121000", "30", "M", "Anhui", "true", ""),
               ("13800000008", "340104198507082417", "30", "F", "Anhui", "true", ""),
               ("13800000007", "340104198507082435", "30", "F", "Anhui", "true", "")],
         check=lambda con: _is(_sub(con, "310115199003121000", "age"), 30)),
    Case("a hashed callee with 'xX' is an identifier", calls=[
        (A, "ab9xXk3f0c", T + "11:00:00", T + "11:01:00", "T1", "")]),
    Case("quoted number", calls_text=f'"{A}","{B}",{T}11:00:00,{T}11:01:00,T1,T2',
         check=_linked),
    Case("second number of one owner", calls=[(C, B, T + "11:00:00", T + "11:01:00", "T1",
                                               "T2")], check=_linked),
    Case("self call", calls=[(A, A, T + "11:00:00", T + "11:01:00", "T1", "T1")],
         quarantined=("calls", "self_call")),
    Case("self call through two numbers of one owner",
         calls=[(A, C, T + "11:00:00", T + "11:01:00", "T1", "T1")],
         quarantined=("calls", "self_call")),
    # ---- calls: times
    Case("unparsable start", calls=[(A, B, "yesterday", T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "bad_timestamp")),
    Case("missing end", calls=[(A, B, T + "11:00:00", "", "T1", "")],
         quarantined=("landed_calls", "bad_timestamp")),
    # a line's fields shifted: an owner id where the start is, shown by its length only; a
    # time's words stay (probe 28, H2)
    Case("an owner id where the start is",
         calls=[(C, B, "OWNER-CANARY", T + "11:01:00", "T1", "")],
         quarantined=("landed_calls", "bad_timestamp"),
         check=lambda con: _is(con.execute(
             "SELECT json_extract_string(record, '$.start_ts') FROM quarantine").fetchall(),
             [("<redacted: 12 characters>",)])),
    Case("a start with its words", calls=[(C, B, "5 Sept 2016 11:00 pm", T + "11:01:00", "T1",
                                           "")],
         mapping={"calls": {"timestamps": {"format": "%Y-%m-%d %H:%M:%S"}}},
         quarantined=("landed_calls", "bad_timestamp"),
         check=lambda con: _is(con.execute(
             "SELECT json_extract_string(record, '$.start_ts') FROM quarantine").fetchall(),
             [("5 Sept 2016 11:00 pm",)])),
    Case("impossible date", calls=[(A, B, "2016-09-31 11:00:00", "2016-09-31 11:01:00", "T1",
                                    "")], quarantined=("landed_calls", "bad_timestamp")),
    Case("hour 25", calls=[(A, B, T + "25:00:00", T + "25:01:00", "T1", "")],
         quarantined=("landed_calls", "bad_timestamp")),
    Case("end before start", calls=[(A, B, T + "11:00:00", T + "10:00:00", "T1", "")],
         quarantined=("landed_calls", "end_before_start")),
    Case("longer than 24 h", calls=[(A, B, T + "11:00:00", "2016-09-06 11:00:01", "T1", "")],
         quarantined=("landed_calls", "duration_over_24h")),
    Case("dated outside the calendar", calls=[(A, B, "2016-10-05 11:00:00",
                                               "2016-10-05 11:01:00", "T1", "")],
         excluded="outside_calendar"),
    Case("dated the year before", calls=[(A, B, "2015-09-05 11:00:00", "2015-09-05 11:01:00",
                                          "T1", "")], excluded="outside_calendar"),
    Case("ISO with Z", calls=[(A, B, "2016-09-05T03:00:00Z", "2016-09-05T03:01:00Z", "T1", "")],
         check=_start_is("2016-09-05 11:00:00")),
    Case("ISO with -05:00", calls=[(A, B, "2016-09-04T22:00:00-05:00",
                                    "2016-09-04T22:01:00-05:00", "T1", "")],
         check=_start_is("2016-09-05 11:00:00")),
    Case("ISO with T and fraction", calls=[(A, B, "2016-09-05T11:00:00.250",
                                            "2016-09-05T11:01:00.250", "T1", "")],
         check=_start_is("2016-09-05 11:00:00.25")),
    Case("naive times in UTC", calls=[(A, B, T + "03:00:00", T + "03:01:00", "T1", "")],
         mapping={"calls": {"timestamps": {"timezone": "UTC"}}},
         check=lambda con: _assert({str(r[2]) for r in _calls(con)} == {
             "2016-09-05 11:00:00", "2016-09-05 18:00:00"})),  # the valid call's 10:00 too
    # ---- calls: missed, cells, duplicates, lines
    Case("zero-duration call kept as a contact",
         calls=[(A, B, T + "11:00:00", T + "11:00:00", "T1", "T2")],
         check=lambda con: _linked(con) or _assert(
             con.execute("SELECT end_ts, duration_s FROM calls WHERE hour(start_ts) = 11")
             .fetchall() == [(None, None)])),
    Case("zero-duration call quarantined", calls=[(A, B, T + "11:00:00", T + "11:00:00", "T1",
                                                   "T2")],
         mapping={"calls": {"missed_calls": "quarantine"}},
         quarantined=("landed_calls", "missed_call")),
    Case("unknown cell", calls=[(A, B, T + "11:00:00", T + "11:01:00", "T9", "")],
         quarantined=("calls", "unknown_cell")),
    Case("non-ASCII cell", calls=[(A, B, T + "11:00:00", T + "11:01:00", "Tö", "")],
         quarantined=("calls", "unknown_cell")),
    Case("cell padded with spaces", calls=[(A, B, T + "11:00:00", T + "11:01:00", " T1 ", "")],
         check=lambda con: _assert(con.execute(
             "SELECT caller_cell FROM calls WHERE hour(start_ts) = 11").fetchall() == [("T1",)])),
    Case("misaligned row: a number in the cell column",
         calls=[(A, B, T + "11:00:00", T + "11:01:00", "19912345678", "")],
         quarantined=("calls", "unknown_cell"),
         check=lambda con: _assert("19912345678" not in "".join(
             r[0] for r in con.execute("SELECT record FROM quarantine").fetchall()))),
    Case("duplicate call", calls=[CALL], quarantined=("calls", "duplicate_call"),
         check=lambda con: _is(con.execute(  # an exact copy: nothing differs
             "SELECT (SELECT list(json_extract(record, '$.differs_from_kept')) FROM quarantine "
             "WHERE reason = 'duplicate_call'), (SELECT sum(duplicates_differing) "
             "FROM accounting_calls)").fetchall(), [([None], 0)])),
    Case("a redial in the same minute, stamped to the minute",  # ends apart: two calls
         calls=[(A, B, CALL[2], f"{DAY} 10:00:20", "T1", "T2")],
         check=lambda con: _assert(len(_calls(con)) == 2)),
    # one start: one call, the record that ends last (a copy cut at the end of an earlier file
    # of overlapping deliveries ends earlier: probe 32 M1), the other named as differing
    Case("a corrected record delivered again, stamped to the second",
         calls=[(A, B, f"{DAY} 11:00:07", f"{DAY} 11:01:00", "T1", "T2"),
                (A, B, f"{DAY} 11:00:07", f"{DAY} 11:01:02", "T1", "T2")],
         quarantined=("calls", "duplicate_call"),
         check=lambda con: _is(con.execute(
             "SELECT (SELECT list(duration_s) FROM calls WHERE hour(start_ts) = 11), "
             "(SELECT list(json_extract(record, '$.differs_from_kept')::BOOLEAN) "
             "FROM quarantine WHERE reason = 'duplicate_call'), "
             "(SELECT sum(duplicates_differing) FROM accounting_calls)").fetchall(),
             [([55.0], [True], 1)])),
    Case("too few fields", calls_text=f"{A},{B}", quarantined=("landed_calls", "malformed_line")),
    # files joined with their header lines: the header again, in another case and spacing,
    # is repeated_header (it was bad_timestamp, or not_a_call under an event_types rule)
    Case("a repeated header line", calls_text=" A_PARTY , B_party,Begin,finish,a_cell,b_cell",
         quarantined=("landed_calls", "repeated_header")),
    # a spreadsheet's trailer line, its word and count taken for numbers (probe 32 L3: it was
    # bad_timestamp, which sent the user to the time format)
    Case("a trailer line with the file's total", calls_text=" Summe ,1410,,,,",
         quarantined=("landed_calls", "summary_row")),
    Case("a total line", calls_text="合计,,,,,", quarantined=("landed_calls", "summary_row")),
    Case("too many fields", calls_text=f"{A},{B},{T}11:00:00,{T}11:01:00,T1,T2,extra,more",
         quarantined=("landed_calls", "malformed_line")),
    # refused before parsing: DuckDB writes a reject row per extra field (quadratic; ~10 s for
    # this line, hours for a few hundred thousand fields) and never stops on a huge line
    Case("a line of 20,000 fields", calls_text=",".join([A] * 20_000),
         error=(MappingError, "line 3 of the file has 20,000 fields")),
    Case("a line of 20 MB", calls_text="x" * 20 * 2**20,
         error=(MappingError, "longer than 2 MB")),
    # past DuckDB's own max_line_size its parser says only "CSV Error on Line: 1"
    Case("a line of 3 MB", calls_text="x" * 3 * 2**20,
         error=(MappingError, "longer than 2 MB")),
    Case("a line of 3 MB, a larger max_line_size", calls_text=f"{A},{B}," + "x" * 3 * 2**20,
         mapping={"calls": {"csv": {"max_line_size": 8 * 2**20}}},
         quarantined=("landed_calls", "malformed_line")),
    # ---- subscribers
    Case("subscriber without number", subs=[("", "O9", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "missing_id")),
    Case("subscriber without owner", subs=[("13800000009", "", "30", "M", "Anhui", "true", "")],
         quarantined=("subscribers", "missing_id")),
    Case("age 'N/D' (Spanish: no disponible) is unknown",
         subs=[("13800000009", "O9", "N/D", "M", "Anhui", "true", "")],
         check=lambda con: _assert(_sub(con, "O9", "age") is None)),
    # an unreadable age or sex is unknown; the subscriber is kept, the value counted
    Case("age 'old'", subs=[("13800000009", "O9", "old", "M", "Anhui", "true", "")],
         check=lambda con: _unreadable(con, "O9", "age", "old")),
    Case("age 35.5 is not rounded", subs=[("13800000009", "O9", "35.5", "M", "Anhui", "true",
                                           "")],
         check=lambda con: _unreadable(con, "O9", "age", "35.5")),
    Case("age 35.0 is 35", subs=[("13800000009", "O9", "35.0", "M", "Anhui", "true", "")],
         check=lambda con: _assert(_sub(con, "O9", "age") == 35)),
    Case("age 150", subs=[("13800000009", "O9", "150", "M", "Anhui", "true", "")],
         check=lambda con: _unreadable(con, "O9", "age", "150")),
    Case("age -1", subs=[("13800000009", "O9", "-1", "M", "Anhui", "true", "")],
         check=lambda con: _unreadable(con, "O9", "age", "-1")),
    Case("sex 'X'", subs=[("13800000009", "O9", "30", "X", "Anhui", "true", "")],
         check=lambda con: _unreadable(con, "O9", "sex", "X")),
    Case("sex '女性'", subs=[("13800000009", "O9", "30", "女性", "Anhui", "true", "")],
         check=lambda con: _assert(_sub(con, "O9", "sex") == "F")),
    Case("sex 'female'", subs=[("13800000009", "O9", "30", "female", "Anhui", "true", "")],
         check=lambda con: _assert(_sub(con, "O9", "sex") == "F")),
    Case("local flag 'maybe'", subs=[("13800000009", "O9", "30", "M", "Anhui", "maybe", "")],
         quarantined=("subscribers", "bad_attribute")),
    Case("local flag 'Y'", subs=[("13800000009", "O9", "30", "M", "Anhui", "Y", "")],
         check=lambda con: _assert(_sub(con, "O9", "has_local_number") is True)),
    # a Brazilian or Turkish export's words (Não, HAYIR with its dotless I), and sexes
    Case("local flag 'Não'", subs=[("13800000009", "O9", "30", "Feminino", "Anhui", "Não", "")],
         check=lambda con: _assert((_sub(con, "O9", "has_local_number"), _sub(con, "O9", "sex"))
                                   == (False, "F"))),
    Case("local flag 'Evet'", subs=[("13800000009", "O9", "30", "ERKEK", "Anhui", "Evet", ""),
                                    ("13800000008", "O8", "30", "Kadın", "Anhui", "Hayır", "")],
         check=lambda con: _assert([(_sub(con, o, "has_local_number"), _sub(con, o, "sex"))
                                    for o in ("O9", "O8")] == [(True, "M"), (False, "F")])),
    Case("province 'NULL'", subs=[("13800000009", "O9", "30", "M", "NULL", "true", "")],
         check=lambda con: _assert(_sub(con, "O9", "birth_province") is None)),
    Case("user type in capitals", subs=[("13800000009", "O9", "30", "M", "Anhui", "true",
                                         "DELIVERY")],
         check=lambda con: _assert(_sub(con, "O9", "is_service") is True)),
    Case("duplicate number keeps the first row", subs=[(B, "O8", "40", "M", "Henan", "true", "")],
         quarantined=("subscribers", "duplicate_number"),
         check=lambda con: _assert(_sub(con, "O2", "age") == 25)),
    # ---- cells and estates
    Case("cell latitude 'north'", cells=[("T3", "north", "121.5")],
         quarantined=("cells", "bad_coordinates")),
    Case("cell latitude NaN", cells=[("T3", "NaN", "121.5")],
         quarantined=("cells", "bad_coordinates")),
    Case("cell latitude inf", cells=[("T3", "inf", "121.5")],
         quarantined=("cells", "bad_coordinates")),
    Case("cell outside the box", cells=[("T3", "10.0", "10.0")],
         quarantined=("cells", "outside_bbox")),
    Case("duplicate cell", cells=[("T1", "31.21", "121.41")],
         quarantined=("cells", "duplicate_id")),
    Case("cell without id", cells=[("", "31.21", "121.41")], quarantined=("cells", "missing_id")),
    Case("price 0", estates=[("E2", "31.2", "121.4", "0")], quarantined=("estates", "bad_price")),
    Case("price -5", estates=[("E2", "31.2", "121.4", "-5")],
         quarantined=("estates", "bad_price")),
    Case("price inf", estates=[("E2", "31.2", "121.4", "inf")],
         quarantined=("estates", "bad_price")),
    Case("price 1e300", estates=[("E2", "31.2", "121.4", "1e300")],
         quarantined=("estates", "bad_price")),
    Case("price NaN", estates=[("E2", "31.2", "121.4", "NaN")],
         quarantined=("estates", "bad_price")),
    Case("price 'cheap'", estates=[("E2", "31.2", "121.4", "cheap")],
         quarantined=("estates", "bad_price")),
    Case("price in 万 yuan", estates=[("E2", "31.2", "121.4", "6.5")],
         quarantined=("estates", "bad_price")),
    Case("price of 100 per m²", estates=[("E2", "31.2", "121.4", "100")]),  # the minimum
    Case("a rent per month, written with its unit", estates=[("E2", "31.2", "121.4", "6300元/月")],
         quarantined=("estates", "bad_price")),
    Case("a total price in 万", estates=[("E2", "31.2", "121.4", "85万")],
         quarantined=("estates", "bad_price")),
    Case("a minimum price above the maximum",
         study={"thresholds": {"min_price_per_sqm": 5000, "max_price_per_sqm": 4000}},
         error=(ValidationError, r"max_price_per_sqm \(4000.0\) must be above")),
    Case("price '65,860'", estates=[("E2", "31.2", "121.4", '"65,860"')],
         quarantined=("estates", "bad_price")),
    Case("price '65,860' with thousands", estates=[("E2", "31.2", "121.4", '"65,860"')],
         mapping={"estates": {"csv": {"thousands": ","}}},
         check=lambda con: _assert(con.execute(
             "SELECT price_per_sqm FROM estates ORDER BY 1").fetchall() == [(52000.0,),
                                                                            (65860.0,)])),
    # ---- the mapping and the config
    Case("mapping column with an injection",
         mapping={"calls": {"columns": {"caller": 'x"; DROP TABLE cells; --'}}},
         error=(MappingError, "is not in the file")),
    Case("csv option key with an injection",
         mapping={"calls": {"csv": {"delim = ',') ; DROP TABLE cells; --": ","}}},
         error=(MappingError, "is not allowed")),
    Case("csv option of the wrong type", mapping={"calls": {"csv": {"header": "yes"}}},
         error=(MappingError, "is not allowed or has the wrong type")),
    Case("unknown contract column", mapping={"calls": {"columns": {"caller_number": "a"}}},
         error=(MappingError, "unknown contract columns")),
    Case("end and duration both mapped",
         mapping={"calls": {"columns": {"duration": "finish"}}},
         error=(MappingError, "both end_ts and duration")),
    Case("event type without a rule", mapping={"calls": {"columns": {"event_type": "a_cell"}}},
         error=(MappingError, "no event_types rule")),
    Case("direction without a rule", mapping={"calls": {"columns": {"direction": "a_cell"}}},
         error=(MappingError, "maps direction but gives no directions rule")),
    Case("parties without a rule", mapping={"calls": {"columns": {"party": "a_party"}}},
         error=(MappingError, "a per-party export.* no directions rule")),
    Case("a direction in both lists",
         mapping={"calls": {"columns": {"direction": "a_cell"},
                            "directions": {"outgoing": ["T1", "X"], "incoming": [" x "]}}},
         error=(MappingError, r"directions lists \['x'\] as both outgoing and incoming")),
    Case("lat and lon from one column",
         mapping={"cells": {"columns": {"lat": "latitude", "lon": "latitude"}}},
         error=(MappingError, "maps lat and lon to the same column 'latitude'")),
    Case("lat from the column named lon", mapping={"cells": {"columns": {
        "lat": "longitude", "lon": "longitude"}}}, error=(MappingError, "maps lat and lon to")),
    Case("callee from the caller's column in other case",
         mapping={"calls": {"columns": {"callee": "A_PARTY"}}},
         error=(MappingError, "maps caller and callee to the same column")),
    Case("caller and callee from one column",
         mapping={"calls": {"columns": {"callee": "a_party"}}},
         error=(MappingError, "maps caller and callee to the same column 'a_party'")),
    # a user x cell table (a session log) mapped as calls, its cell column as the callee
    Case("a callee from the cells' column",
         mapping={"calls": {"columns": {"callee": "b_cell"}}},
         error=(MappingError, "maps callee and callee_cell to the same column 'b_cell'.*"
                              "no other party, so it is not a call log")),
    Case("parties beside caller and callee",
         mapping={"calls": {"columns": {"party": "a_party", "direction": "a_cell"},
                            "directions": {"outgoing": ["T1"], "incoming": ["T2"]}}},
         error=(MappingError, "both caller/callee and party/other_party")),
    Case("event types with no list", mapping={"calls": {"columns": {"event_type": "a_cell"},
                                                        "event_types": {"missed": []}}},
         error=(MappingError, "event_types lists no call and no missed value")),
    Case("an event type both a call and missed",
         mapping={"calls": {"columns": {"event_type": "a_cell"},
                            "event_types": {"call": ["T1"], "missed": ["t1 "]}}},
         error=(MappingError, r"event_types lists \['t1'\] as both call and missed")),
    Case("party from file names without a rule",
         mapping={"calls": {"party_from_file_name": True}},
         error=(MappingError, "reads the party from the file names but gives no directions")),
    Case("party from file names beside caller and callee",
         mapping={"calls": {"party_from_file_name": True, "columns": {"direction": "a_cell"},
                            "directions": {"outgoing": ["T1"], "incoming": ["T2"]}}},
         error=(MappingError, r"reads the party from the file names and also maps \['callee', "
                              r"'caller'\]")),
    Case("party from file names with two groups",
         mapping={"calls": {"party_from_file_name": r"(\d+)_(\d+)\.csv"}},
         error=(MappingError, "must have exactly one group")),
    Case("party from the subscribers' file names",
         mapping={"subscribers": {"party_from_file_name": True}},
         error=(MappingError, "subscribers sets party_from_file_name")),
    # a delimiter DuckDB's reader refuses, refused when the mapping loads, not after the
    # other tables are read (an em dash is 3 bytes in UTF-8)
    Case("a delimiter of 6 bytes", mapping={"cells": {"csv": {"delim": "——"}}},
         error=(MappingError, r"cells.csv delim '——' is 6 bytes: the reader takes a delimiter "
                              r"of 1 to 4 bytes")),
    # hourly files named by a {date} field: expanded once a day, hour 00 alone would be read
    # (probe 30 H1)
    Case("an hour in a {date} path", mapping={"calls": {"path": "cdr_{date:%Y%m%d%H}.csv"}},
         error=(MappingError, r"calls.path names its files by the time of day \(%H in its "
                              r"\{date\} field\).*only the files of hour 00 would be read")),
    Case("no calls file", mapping={"calls": {"path": "nothing/*.csv"}},
         error=(MappingError, "no calls file matches")),
    Case("an empty cells file", mapping={"cells": {"path": "empty.csv"}},
         error=(MappingError, r"every cells file the mapping's path matches is empty \(0 bytes")),
    Case("unknown time zone", mapping={"calls": {"timestamps": {"timezone": "Mars/Olympus"}}},
         error=(MappingError, "unknown time zone")),
    Case("unknown time zone of the city", study={"city": {"timezone": "Asia/Shangai"}},
         error=(ValidationError, "unknown time zone 'Asia/Shangai'")),
    # POSIX's sign: Etc/GMT+8 is UTC-8, 16 hours from the UTC+8 a user writing it means
    Case("an Etc/GMT zone of the calls",
         mapping={"calls": {"timestamps": {"timezone": "Etc/GMT+8"}}},
         error=(MappingError, r"time zone 'Etc/GMT\+8' is UTC-08:00 \(the Etc/GMT zones count"
                              r".*write 'UTC-08:00' for that offset all year")),
    Case("an Etc/GMT zone of the city", study={"city": {"timezone": "Etc/GMT-8"}},
         error=(ValidationError, r"'Etc/GMT-8' is UTC\+08:00")),
    # a switch's clock at one offset all year, written as an offset: 10:00 at UTC-3 is 21:00
    # in Shanghai; -03:00 and UTC−3 (a minus sign) alike
    Case("a fixed offset of the calls' clock",
         mapping={"calls": {"timestamps": {"timezone": "UTC-03:00"}}},
         check=_start_is("2016-09-05 21:00:00")),
    Case("a fixed offset written as -3",
         mapping={"calls": {"timestamps": {"timezone": " UTC\u22123"}}},
         check=_start_is("2016-09-05 21:00:00")),
    Case("a fixed offset of half an hour",
         mapping={"calls": {"timestamps": {"timezone": "+05:30"}}},
         error=(MappingError, r"'\+05:30': a fixed offset is of whole hours")),
    Case("the machine's zone 'localtime'",  # Python reads it, DuckDB does not know it
         mapping={"calls": {"timestamps": {"timezone": "localtime"}}},
         error=(MappingError, r"unknown time zone 'localtime'")),
    Case("a right/ zone of the calls",
         mapping={"calls": {"timestamps": {"timezone": "right/Asia/Shanghai"}}},
         error=(MappingError, r"'right/Asia/Shanghai' is a copy of the database's zone")),
    # %Z reads CST as America's Central time: a Chinese server's CST moved by 13 hours
    Case("a format reading a zone's abbreviation",
         mapping={"calls": {"timestamps": {"format": "%Y-%m-%d %H:%M:%S %Z"}}},
         error=(MappingError, r"reads a zone's name with %Z.*CST is read as America's")),
    Case("memory limit with an injection",
         study={"duckdb": {"memory_limit": "1GB'; DROP TABLE cells; --"}},
         error=(ValidationError, "memory_limit")),
    # config values that contradict each other are refused when the config loads
    Case("a bounding box the wrong way round", study={"city": {"min_lat": 31.9, "max_lat": 30.6}},
         error=(ValidationError, r"city.min_lat \(31.9\) must be below city.max_lat")),
    Case("a longitude out of range", study={"city": {"max_lon": 422.0}},
         error=(ValidationError, "city.min_lon .* within ±180 degrees")),
    Case("an error share below the warn share",
         study={"thresholds": {"quarantine_warn_share": 0.3, "quarantine_error_share": 0.1}},
         error=(ValidationError, "quarantine_error_share .0.1. is below quarantine_warn_share")),
    Case("a share above 1", study={"thresholds": {"quarantine_error_share": 20}},
         error=(ValidationError, "quarantine_error_share")),
    Case("a negative price limit", study={"thresholds": {"max_price_per_sqm": -1}},
         error=(ValidationError, "max_price_per_sqm")),
    Case("the month's end before its start", study={"calendar": {"month_end": "2016-08-30"}},
         error=(ValidationError, r"calendar.month_end \(2016-08-30\) is before month_start")),
]


def _assert(ok: bool) -> None:
    assert ok


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for k, v in update.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _write(path: Path, header: str, rows: list[tuple], extra: str | None = None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [header, *(",".join(r) for r in rows)] + ([extra] if extra else [])
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def _setup(tmp: Path, case: Case) -> tuple[Path, dict]:
    src = tmp / "operator"
    counts = {
        "calls": _write(src / "cdr.csv", CALLS_HEADER, [CALL, *(case.calls or [])],
                        case.calls_text),
        "subscribers": _write(src / "subs.csv", SUBS_HEADER, [*SUBS, *(case.subs or [])]),
        "cells": _write(src / "towers.csv", "tower,latitude,longitude",
                        [*CELLS, *(case.cells or [])]),
        "estates": _write(src / "prices.csv", "xiaoqu,lat,lon,price",
                          [*ESTATES, *(case.estates or [])]),
    }
    (src / "empty.csv").touch()  # what a failed export leaves
    mapping = {
        "calls": {"path": "cdr.csv", "columns": {
            "caller": "a_party", "callee": "b_party", "start_ts": "begin", "end_ts": "finish",
            "caller_cell": "a_cell", "callee_cell": "b_cell"}},
        "subscribers": {"path": "subs.csv", "columns": {
            "number": "msisdn", "owner_id": "owner", "sex": "gender",
            "birth_province": "province", "is_local_number": "local", "user_type": "kind"}},
        "cells": {"path": "towers.csv",
                  "columns": {"cell_id": "tower", "lat": "latitude", "lon": "longitude"}},
        "estates": {"path": "prices.csv", "columns": {"estate_id": "xiaoqu",
                                                      "price_per_sqm": "price"}},
    }
    (src / "mapping.yaml").write_text(yaml.safe_dump(_merge(mapping, case.mapping)))
    study = _merge({"source": {"kind": "files", "mapping": str(src / "mapping.yaml")},
                    "workdir": str(tmp / "work"), "city": dict(SHANGHAI)}, case.study)
    (tmp / "study.yaml").write_text(yaml.safe_dump(study))
    return tmp / "study.yaml", counts


def _ingest(study: Path) -> tuple[duckdb.DuckDBPyConnection, dict]:
    cfg = StudyConfig.load(study)
    contract = contract_for(cfg)
    con = connect(":memory:")
    stats = {t: ingest_places(con, cfg, contract, t) for t in ("cells", "estates")}
    stats["subscribers"] = ingest_subscribers(con, cfg, contract)
    stats["landed_calls"] = land_calls(con, cfg, contract)
    stats["calls"] = ingest_calls(con, cfg, StudyConfig.load(study).calendar.days[4])
    return con, stats


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)
    study, counts = _setup(tmp_path, case)
    if case.error is not None:
        kind, pattern = case.error
        with pytest.raises(kind, match=pattern) as info:
            _ingest(study)
        assert "13800000001" not in str(info.value)  # no raw identifier in the message
        return
    con, stats = _ingest(study)
    quarantine = dict(((s, r), n) for s, r, n in con.execute(
        "SELECT source, reason, count(*) FROM quarantine GROUP BY ALL").fetchall())
    assert quarantine == ({case.quarantined: 1} if case.quarantined else {})
    assert stats["landed_calls"].excluded_by_reason == ({case.excluded: 1} if case.excluded
                                                        else {})
    # accounting, against the lines written
    for table in ("cells", "estates", "subscribers", "landed_calls"):
        s = stats[table]
        assert s.read == counts["calls" if table == "landed_calls" else table], table
        assert s.accepted + s.quarantined + s.excluded == s.read, table
    day = stats["calls"]
    assert day.read == stats["landed_calls"].accepted - con.execute(
        "SELECT count(*) FROM landed_calls WHERE call_date <> DATE '2016-09-05'").fetchone()[0]
    assert day.accepted + day.quarantined + day.excluded == day.read
    # the valid call always gets through, and no raw identifier is stored anywhere
    assert (_uid("O1"), _uid("O2")) in {(r[0], r[1]) for r in _calls(con)}
    dump = json.dumps([con.execute(f'SELECT * FROM "{t}"').fetchall()
                       for (t,) in con.execute("SHOW TABLES").fetchall()], default=str)
    for raw in (A, B, C, "O1", "O2", "19912345678"):
        assert raw not in dump
    if case.check is not None:
        case.check(con)


@pytest.mark.parametrize(("fmt", "begin", "finish", "start"), [
    ("%d/%m/%Y'%H:%M", "05/09/2016'11:00", "05/09/2016'11:01", "2016-09-05 11:00:00"),  # quote
    ("%d.%m.%Y %H:%M:%S", "05.09.2016 11:00:00", "05.09.2016 11:01:00", "2016-09-05 11:00:00"),
    ("%Y-%m-%dT%H:%M:%S%z", "2016-09-05T03:00:00+0000", "2016-09-05T03:01:00+0000",
     "2016-09-05 11:00:00"),  # an offset, converted to the city's time
    ("%d/%m/%Y %H:%M", "09-05-2016 11:00", "09-05-2016 11:01", None),  # not the format
    # DuckDB's form of a TIMESTAMP as text (a Parquet part's, read beside text parts): read
    ("%d/%m/%Y %H:%M", "2016-09-05 11:00:00", "2016-09-05 11:01:00", "2016-09-05 11:00:00"),
    # without a format, a zone after the time of day is honoured, any other word (which
    # DuckDB's TIMESTAMP cast drops: 11 PM read as 11:00) quarantines the row
    (None, "2016-09-05 11:00:00", "2016-09-05 11:01:00", "2016-09-05 11:00:00"),  # city time
    (None, "2016-09-05 03:00:00 UTC", "2016-09-05 03:01:00 UTC", "2016-09-05 11:00:00"),
    (None, "2016-09-05 03:00:00.000000 UTC", "2016-09-05 03:01:00.000000 UTC",  # BigQuery's
     "2016-09-05 11:00:00"),
    (None, "2016-09-05 05:00:00 Europe/Berlin", "2016-09-05 05:01:00 Europe/Berlin",  # +2
     "2016-09-05 11:00:00"),
    (None, "2016-09-05 11:00:00 AM", "2016-09-05 11:01:00 AM", None),  # 12-hour: a format
    (None, "2016-09-05 11:00:00 CST", "2016-09-05 11:01:00 CST", None),  # China's or America's
    # ... read by a format that writes it as text, in the city's zone (UTC+8): not America's
    ("%a %b %d %H:%M:%S CST %Y", "Mon Sep 05 11:00:00 CST 2016", "Mon Sep 05 11:01:00 CST 2016",
     "2016-09-05 11:00:00"),
    (None, "2016-09-05 11:00:00 foo", "2016-09-05 11:01:00 foo", None),
    # Java's zone without a name: the offset after GMT or UTC (read as Shanghai time: 8 h off)
    (None, "2016-09-05 03:00:00 GMT+00:00", "2016-09-05 03:01:00 GMT+00:00",
     "2016-09-05 11:00:00"),
    (None, "2016-09-05 03:00:00 UTC+0", "2016-09-05 03:01:00 UTC+0", "2016-09-05 11:00:00"),
    (None, "2016-09-05 11:00:00 GMT+08:00", "2016-09-05 11:01:00 GMT+08:00",
     "2016-09-05 11:00:00"),
    # a date column written at midnight joined to a time column: read as midnight before
    (None, "2016-09-05 00:00:00 11:00:00", "2016-09-05 00:00:00 11:01:00", None),
    ("%Y-%m-%d 00:00:00 %H:%M:%S", "2016-09-05 00:00:00 11:00:00", "2016-09-05 00:00:00 11:01:00",
     "2016-09-05 11:00:00"),
    # a date without its time (the time column left out of the mapping): not midnight
    (None, "2016-09-05", "2016-09-05 11:01:00", None),
    (None, "2016/09/05", "2016/09/05 11:01:00", None),
    (None, "2016-09-05 00:00:00", "2016-09-05 00:01:00", "2016-09-05 00:00:00"),  # midnight
    # a corrupt year at the edge of DuckDB's range, or infinity: a bad timestamp, where the
    # time zone's conversion of it failed the whole landing
    (None, "294247-01-10 04:00:54", "2016-09-05 11:01:00", None),
    (None, "-290308-12-22 00:00:00", "2016-09-05 11:01:00", None),
    (None, "2016-09-05 11:00:00", "294247-01-10 04:00:54", None),
    (None, "infinity", "2016-09-05 11:01:00", None),
    (None, "1899-12-31 23:59:59", "1900-01-01 00:00:59", None),
])
def test_text_timestamp_formats(fmt: str | None, begin: str, finish: str, start: str | None,
                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("format", mapping={"calls": {"timestamps": {
        "format": fmt}}} if fmt else {}))
    (tmp_path / "operator" / "cdr.csv").write_text(
        f"{CALLS_HEADER}\n{A},{B},{begin},{finish},T1,T2\n")
    con, stats = _ingest(study)
    if start is None:
        assert stats["landed_calls"].quarantined_by_reason == {"bad_timestamp": 1}
        assert stats["landed_calls"].accepted == 0
    else:
        assert [(str(r[2]), r[4]) for r in _calls(con)] == [(start, 60.0)]


def test_a_format_without_a_time_of_day_and_times_another_part_held_as_timestamps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timestamps format that reads no time of day would start every call at midnight: an
    error naming the date and time columns. With a format of both, a part that holds the times
    as TIMESTAMPs (read beside the text parts as DuckDB's text) is read too."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("format"))
    src = tmp_path / "operator"
    _remap(src, "calls", timestamps={"format": "%d/%m/%Y"})
    with pytest.raises(MappingError, match=r"calls.timestamps.format \('%d/%m/%Y'\) reads no "
                       r"time of day") as info:
        _ingest(study)
    assert "[call_date, call_time]" in info.value.fix
    row = {"a_party": [A], "b_party": [B], "a_cell": ["T1"], "b_cell": ["T2"]}
    pq.write_table(pa.table({**row, "begin": ["05/09/2016 10:00:00"],
                             "finish": ["05/09/2016 10:01:00"]}), src / "cdr_1.parquet")
    pq.write_table(pa.table({**row, "begin": [datetime(2016, 9, 5, 11)],
                             "finish": [datetime(2016, 9, 5, 11, 1)]}), src / "cdr_2.parquet")
    _remap(src, "calls", path="cdr_*.parquet", timestamps={"format": "%d/%m/%Y %H:%M:%S"})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 2
    assert [(str(r[2]), r[4]) for r in _calls(con)] == [("2016-09-05 10:00:00", 60.0),
                                                        ("2016-09-05 11:00:00", 60.0)]


def test_a_parquet_date_as_the_start_names_the_time_column(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Parquet DATE mapped as start_ts would start every call at midnight, in the night's
    hours where home is found: an error naming the date and time columns."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("date"))
    src = tmp_path / "operator"
    pq.write_table(pa.table({"a_party": [A], "b_party": [B], "begin": [date(2016, 9, 5)],
                             "finish": [f"{DAY} 10:01:00"], "a_cell": ["T1"], "b_cell": ["T2"]}),
                   src / "cdr.parquet")
    _remap(src, "calls", path="cdr.parquet")
    with pytest.raises(MappingError, match=r"calls.start_ts holds dates without a time of "
                       r"day") as info:
        _ingest(study)
    assert "start_ts: [call_date, call_time]" in info.value.fix


@pytest.mark.parametrize("kind", [pa.int64(), pa.float64()])
def test_parquet_date_time_digits_stored_as_numbers(kind, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Start and end written as the digits of a date and time in a Parquet number column
    (20160905100000) are read with timestamps.format, as the same digits in a CSV; without a
    format or a unit, the error names both (probe 30 M1)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("digits"))
    src = tmp_path / "operator"
    pq.write_table(pa.table({"a_party": [A, A], "b_party": [B, B],
                             "begin": pa.array([20160905100000, 20160905111500], kind),
                             "finish": pa.array([20160905100100, 20160905111630], kind),
                             "a_cell": ["T1", "T1"], "b_cell": ["T2", "T2"]}),
                   src / "cdr.parquet")
    _remap(src, "calls", path="cdr.parquet")
    with pytest.raises(MappingError, match=r"calls.start_ts holds numbers, not timestamps") \
            as info:
        _ingest(study)
    assert "calls.timestamps.format instead (e.g. '%Y%m%d%H%M%S')" in info.value.fix
    _remap(src, "calls", timestamps={"format": "%Y%m%d%H%M%S"})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 2
    assert con.execute("SELECT CAST(start_ts AS VARCHAR), duration_s FROM calls ORDER BY 1"
                       ).fetchall() == [(f"{DAY} 10:00:00", 60.0), (f"{DAY} 11:15:00", 90.0)]


@pytest.mark.parametrize("stored", ["parquet int32", "parquet double", "csv"])
def test_a_time_of_day_stored_as_a_number_keeps_its_leading_zeros(
        stored: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe 34 A: a date and a time of day in two integer columns (20160905, 11055 for
    01:10:55: the number lost its leading zero) read with '%Y%m%d %H%M%S': strptime read 11055 as
    11:05:05 and 5 as nothing, silently. A part of fewer digits than its piece of the format
    is padded with the zeros a number loses."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("time as a number"))
    src = tmp_path / "operator"
    times = [11055, 5, 143000, 94500]  # 01:10:55, 00:00:05, 14:30:00, 09:45:00
    table = {"a_party": [A] * 4, "b_party": [B] * 4, "d": [20160905] * 4, "t": times,
             "secs": [60] * 4, "a_cell": ["T1"] * 4, "b_cell": ["T2"] * 4}
    if stored == "csv":
        (src / "cdr.csv").write_text("\n".join([",".join(table), *(
            ",".join(str(v[i]) for v in table.values()) for i in range(4))]) + "\n")
    else:
        kind = pa.int32() if stored == "parquet int32" else pa.float64()
        pq.write_table(pa.table({**table, "d": pa.array(table["d"], kind),
                                 "t": pa.array(times, kind)}), src / "cdr.parquet")
    _remap(src, "calls", path="cdr.csv" if stored == "csv" else "cdr.parquet",
           timestamps={"format": "%Y%m%d %H%M%S"},
           columns={"caller": "a_party", "callee": "b_party", "start_ts": ["d", "t"],
                    "duration": "secs", "caller_cell": "a_cell", "callee_cell": "b_cell"})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 4
    assert [str(r[2]) for r in _calls(con)] == [
        f"{DAY} 00:00:05", f"{DAY} 01:10:55", f"{DAY} 09:45:00", f"{DAY} 14:30:00"]


@pytest.mark.parametrize(("columns", "fmt", "rows"), [
    # a date with spaces in its piece of the format (review 99 M3)
    (["d", "t"], "%d %b %Y %H%M%S", [("05 Sep 2016", "11055")]),
    # a 12-hour clock as a number beside its half of the day (review 99 M2)
    (["d", "t", "h"], "%Y%m%d %I%M%S %p", [("20160905", "11055", "PM")])])
def test_a_time_of_day_as_a_number_beside_other_pieces_keeps_its_zeros(
        columns: list, fmt: str, rows: list, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The piece of the format each part reads is found from the right, so a date written with
    spaces, or a time beside its AM/PM column, still pads the time's lost zeros."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("time pieces"))
    src = tmp_path / "operator"
    (src / "cdr.csv").write_text(f"a_party,b_party,{','.join(columns)},secs,a_cell,b_cell\n"
                                 + "".join(f"{A},{B},{','.join(r)},60,T1,T2\n" for r in rows))
    _remap(src, "calls", timestamps={"format": fmt},
           columns={"caller": "a_party", "callee": "b_party", "start_ts": columns,
                    "duration": "secs", "caller_cell": "a_cell", "callee_cell": "b_cell"})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 1
    hour = "13" if "%p" in fmt else "01"
    assert [str(r[2]) for r in _calls(con)] == [f"{DAY} {hour}:10:55"]


@pytest.mark.parametrize(("text", "fmt"), [
    ("5/9/2016 2:30:00 p.\u00a0m.", "%d/%m/%Y %I:%M:%S %p"),  # Spanish locale data's space
    ("2016/9/5 下午 2:30:00", "%Y/%m/%d %p %I:%M:%S"),
    ("2016/9/5 午後 2:30:00", "%Y/%m/%d %p %I:%M:%S"),
    ("2016/9/5 오후 2:30:00", "%Y/%m/%d %p %I:%M:%S"),
    ("5/9/2016 2:30:00 p. m.", "%d/%m/%Y %I:%M:%S %p"),
    ("5/9/2016 2:30:00 PM", "%d/%m/%Y %I:%M:%S %p")])
def test_a_twelve_hour_clock_reads_its_halves_in_other_languages(
        text: str, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe 34 F: a Chinese spreadsheet's '2016/9/5 下午 2:30:00' could not be read by any
    mapping (DuckDB's %p reads AM and PM only); and a format with %I but no %p, the half of the
    day written into it as text, read every afternoon 12 hours early (F2): refused."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("twelve hours"))
    src = tmp_path / "operator"
    morning = text.replace("下午", "上午").replace("午後", "午前").replace("오후", "오전") \
        .replace("p. m.", "a. m.").replace("p.\u00a0m.", "a.\u00a0m.").replace("PM", "AM")
    (src / "cdr.csv").write_text("a_party,b_party,begin,secs,a_cell,b_cell\n" + "".join(
        f"{A},{B},{t},60,T1,T2\n" for t in (text, morning)), encoding="utf-8")
    columns = {"caller": "a_party", "callee": "b_party", "start_ts": "begin",
               "duration": "secs", "caller_cell": "a_cell", "callee_cell": "b_cell"}
    _remap(src, "calls", columns=columns, timestamps={"format": fmt})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 2
    assert [str(r[2]) for r in _calls(con)] == [f"{DAY} 02:30:00", f"{DAY} 14:30:00"]
    word = text.split(" ")[1] if text.startswith("2016") else "PM"  # written into the format
    _remap(src, "calls", timestamps={"format": fmt.replace("%p", word)})
    with pytest.raises(MappingError, match=r"reads the hour on a 12-hour clock \(%I\) without "
                       r"AM or PM \(%p\)"):
        _ingest(study)


def test_a_failed_read_names_the_file_the_reader_names_first() -> None:
    files = [Path("/d/a1.csv"), Path("/d/a10.csv"), Path("/d/a6.csv")]
    names = {str(f): f"[file {i}]" for i, f in enumerate(files, 1)}
    message = ('Failed to read file "/d/a10.csv": column "x" was read from the original file '
               '"/d/a1.csv"')  # /d/a1.csv also begins /d/a10.csv
    assert failed_file(message, files, names) == "[file 2]"
    assert failed_file("no file named", files, names) == "[file 1]"


def test_injected_names_leave_every_table_in_place(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A column whose name holds quotes and SQL is read as a column, nothing else."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    name = 'a"party\'); DROP TABLE cells; --'
    case = Case("quoted column")
    study, _ = _setup(tmp_path, case)
    src = tmp_path / "operator"
    text = (src / "cdr.csv").read_text().replace("a_party", '"' + name.replace('"', '""') + '"')
    (src / "cdr.csv").write_text(text)
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    mapping["calls"]["columns"]["caller"] = name
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    con, stats = _ingest(study)
    assert stats["calls"].accepted == 1
    assert con.execute("SELECT count(*) FROM cells").fetchone()[0] == 2


def test_paths_with_quotes_spaces_and_non_ascii(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    odd = tmp_path / "d'ata dir é"
    study, _ = _setup(odd, Case("odd path"))
    con, stats = _ingest(study)
    assert stats["calls"].accepted == 1
    db = connect(odd / "work" / "x'y.duckdb")
    assert db.execute("SELECT current_setting('temp_directory')").fetchone()[0].startswith(
        str(odd))


def test_square_brackets_in_a_path_or_its_folder(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Square brackets in the mapping's folder (``export [2016-09]``), in a file named exactly
    (``subs [v2].csv``) or in a folder under a wildcard (``cdr [09]/*.csv``) are the characters
    themselves, not a glob's set of characters."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path / "export [2016-09]", Case("brackets"))
    src = tmp_path / "export [2016-09]" / "operator"
    (src / "subs.csv").rename(src / "subs [v2].csv")
    (src / "cdr [09]").mkdir()
    (src / "cdr.csv").rename(src / "cdr [09]" / "cdr_0905.csv")
    _remap(src, "subscribers", path="subs [v2].csv")
    _remap(src, "calls", path="cdr [09]/*.csv")
    con, stats = _ingest(study)
    assert stats["subscribers"].accepted == 3 and stats["calls"].accepted == 1
    _remap(src, "calls", path="cdr [09]/*.txt")
    with pytest.raises(MappingError, match="no calls file matches"):
        _ingest(study)


def test_parquet_numbers_stored_as_double_link_to_text_numbers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("parquet"))
    src = tmp_path / "operator"
    pq.write_table(pa.table({
        "a_party": pa.array([float(A)]), "b_party": pa.array([float(B)]),
        "begin": pa.array([pa.scalar(1473044400_000000, pa.timestamp("us", tz="UTC")).as_py()],
                          pa.timestamp("us", tz="UTC")),
        "finish": pa.array([pa.scalar(1473044460_000000, pa.timestamp("us", tz="UTC")).as_py()],
                           pa.timestamp("us", tz="UTC")),
        "a_cell": ["T1"], "b_cell": ["T2"]}), src / "cdr.parquet")
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    mapping["calls"]["path"] = "cdr.parquet"
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    con, stats = _ingest(study)
    # 1473044400 is 2016-09-05 03:00 UTC = 11:00 in Shanghai
    assert _calls(con) == [(_uid("O1"), _uid("O2"), pd_ts("2016-09-05 11:00:00"),
                            pd_ts("2016-09-05 11:01:00"), 60.0, "T1")]


@pytest.mark.parametrize("machine_zone", ["UTC", "Asia/Shanghai"])
def test_parquet_instants_in_nanoseconds(machine_zone: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """pandas writes datetime64[ns, UTC] as Parquet instants in nanoseconds (DuckDB's
    TIMESTAMPTZ_NS): read as local times they were 8 hours early on a machine in UTC; beside a
    file of microsecond instants (Spark's) they were refused as mixed. Both are instants, on
    every machine."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.setenv("TZ", machine_zone)
    study, _ = _setup(tmp_path, Case("pandas ns"))
    src = tmp_path / "operator"
    (src / "cdr").mkdir()
    for unit, hour in (("ns", 3), ("us", 4)):
        pq.write_table(pa.table({
            "a_party": [A], "b_party": [B],
            "begin": pa.array([datetime(2016, 9, 5, hour, 0)], pa.timestamp(unit, tz="UTC")),
            "finish": pa.array([datetime(2016, 9, 5, hour, 1)], pa.timestamp(unit, tz="UTC")),
            "a_cell": ["T1"], "b_cell": ["T2"]}), src / "cdr" / f"{unit}.parquet")
    _remap(src, "calls", path="cdr")
    con, _ = _ingest(study)
    assert con.execute("SELECT start_ts, duration_s FROM calls ORDER BY 1").fetchall() == [
        (datetime(2016, 9, 5, 11, 0), 60.0), (datetime(2016, 9, 5, 12, 0), 60.0)]


def test_an_id_stored_as_bytes_is_not_shown(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """An owner id stored as raw bytes (a UUID in a Parquet BINARY column) stops the read with
    DuckDB's message quoting the bytes in double quotes: the error shows their length only,
    and says to export the ids as hex text."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("binary id"))
    src = tmp_path / "operator"
    owner = bytes.fromhex("aec88fc26840481fbcc429b64c8f9111")
    columns = dict(zip(SUBS_HEADER.split(","), zip(*SUBS, strict=True), strict=True))
    pq.write_table(pa.table({**columns, "owner": pa.array([owner, b"O2", b"O1"], pa.binary())}),
                   src / "subs.parquet")
    _remap(src, "subscribers", path="subs.parquet")
    with pytest.raises(MappingError, match="not valid UTF8") as info:
        _ingest(study)
    text = f"{info.value}"
    assert "\\xAE" not in text and "h@H" not in text and '"<' in text
    assert "hex(column)" in info.value.fix


def test_a_parquet_nan_is_no_identifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    """pandas writes a missing value in a column of numbers as NaN: a callee NaN is a missing
    number (`missing_id`), a cell NaN no cell (the other party is not a subscriber), never the
    identifier 'nan' shared by every such row (a callee of every caller; unknown_cell for
    every call with a non-subscriber)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("parquet nan"))
    src = tmp_path / "operator"
    at = [pa.scalar(t * 1_000_000, pa.timestamp("us", tz="UTC")).as_py()
          for t in (1473044400, 1473044460, 1473048000, 1473048060)]
    pq.write_table(pa.table({
        "a_party": pa.array([float(A), float(A)]), "b_party": pa.array([float(B), np.nan]),
        "begin": pa.array([at[0], at[2]], pa.timestamp("us", tz="UTC")),
        "finish": pa.array([at[1], at[3]], pa.timestamp("us", tz="UTC")),
        "a_cell": ["T1", "T1"], "b_cell": pa.array([np.nan, np.inf])}), src / "cdr.parquet")
    _remap(src, "calls", path="cdr.parquet")
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 1
    assert con.execute("SELECT source, reason, count(*) FROM quarantine GROUP BY ALL"
                       ).fetchall() == [("landed_calls", "missing_id", 1)]
    assert con.execute("SELECT caller, callee, callee_cell FROM calls").fetchall() == [
        (_uid("O1"), _uid("O2"), None)]


def test_int96_times_need_their_zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spark's default Parquet timestamps (INT96) hold UTC instants without saying so, and were
    read as Shanghai times (8 h early, every check passing): without timestamps.timezone they
    are an error naming Spark and Impala; with ``timezone: UTC`` the instant is read."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("int96"))
    src = tmp_path / "operator"
    utc = [pa.array([datetime(2016, 9, 5, 3, 0)], pa.timestamp("us")),
           pa.array([datetime(2016, 9, 5, 3, 1)], pa.timestamp("us"))]
    pq.write_table(pa.table({"a_party": [A], "b_party": [B], "begin": utc[0], "finish": utc[1],
                             "a_cell": ["T1"], "b_cell": ["T2"]}), src / "cdr.parquet",
                   use_deprecated_int96_timestamps=True)
    assert pq.ParquetFile(src / "cdr.parquet").schema.column(2).physical_type == "INT96"
    _remap(src, "calls", path="cdr.parquet")
    with pytest.raises(MappingError, match="column 'begin' holds Parquet INT96 timestamps"):
        _ingest(study)
    _remap(src, "calls", timestamps={"timezone": "UTC"})
    con, _ = _ingest(study)
    assert _calls(con) == [(_uid("O1"), _uid("O2"), pd_ts("2016-09-05 11:00:00"),
                            pd_ts("2016-09-05 11:01:00"), 60.0, "T1")]


def test_owner_ids_as_integers_then_as_text_are_one_text_column(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two deliveries of subscribers, owner ids as integers in the first and as hex strings in
    the second: read as text in both (never cast to the first file's integers, which failed
    quoting the id). DuckDB's own error quotes a value it could not convert: a message shows
    its length only, and the files' names (dates in them) as they are."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("two deliveries"))
    src = tmp_path / "operator"
    columns = dict(zip(SUBS_HEADER.split(","), zip(*SUBS, strict=True), strict=True))
    pq.write_table(pa.table({**columns, "owner": pa.array([1001, 1002, 1001], pa.int64())}),
                   src / "subs_20160901.parquet")
    pq.write_table(pa.table({**columns, "msisdn": ["13800000004"] * 3,
                             "owner": ["9643ae6487eb6d14"] * 3}),
                   src / "subs_20160915.parquet")
    _remap(src, "subscribers", path="subs_2016*.parquet")
    con, stats = _ingest(study)
    assert stats["subscribers"].accepted == 4  # 13800000004 listed three times: kept once
    assert {_uid("1001"), _uid("1002"), _uid("9643ae6487eb6d14")} == {
        u for (u,) in con.execute("SELECT user_id FROM subscribers").fetchall()}
    # exact 18-digit owner ids beside a part pandas wrote as floats (a missing owner): refused,
    # since read together as floats the ids would be rounded
    pq.write_table(pa.table({**columns, "owner": pa.array([1e17, None, 3e17], pa.float64())}),
                   src / "subs_20160915.parquet")
    pq.write_table(pa.table({**columns, "owner": pa.array([10**17 + 1, 10**17 + 2, 10**17 + 3],
                                                          pa.int64())}),
                   src / "subs_20160901.parquet")
    with pytest.raises(MappingError, match=r"column 'owner' holds identifiers as integers "
                       r"\(BIGINT\) in some files and as floats in others"):
        _ingest(study)
    error = ("Conversion Error: Could not convert string '9643ae6487eb6d14' to INT64 in "
             "/data/subs_20160915.parquet")
    assert redact(error, names={"/data/subs_20160915.parquet": "subs_20160915.parquet"}) == (
        "Conversion Error: Could not convert string '<16 characters>' to INT64 in "
        "subs_20160915.parquet")


def test_a_number_token_in_a_float_file_beside_text_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An owner -1 (the mapping's null token) written -1.0 by pandas in one Parquet part and
    read as text beside a text part is still the token: its numbers have no owner
    (missing_id), never one user of both."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("token", mapping={
        "subscribers": {"null_tokens": {"owner_id": ["-1"]}}}))
    src = tmp_path / "operator"
    columns = dict(zip(SUBS_HEADER.split(","), zip(*SUBS, strict=True), strict=True))
    pq.write_table(pa.table({**columns, "owner": pa.array([-1.0, -1.0, 7.0])}),
                   src / "subs_20160901.parquet")
    pq.write_table(pa.table({**columns, "msisdn": ["13800000004", "13800000005", C],
                             "owner": ["O4", "O5", "O6"]}), src / "subs_20160915.parquet")
    _remap(src, "subscribers", path="subs_2016*.parquet")
    con, stats = _ingest(study)
    assert stats["subscribers"].quarantined_by_reason.get("missing_id") == 2
    assert con.execute("SELECT max(n_numbers) FROM subscribers").fetchone()[0] == 1


def test_numeric_times_need_a_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("epoch"))
    src = tmp_path / "operator"
    pq.write_table(pa.table({"a_party": [A], "b_party": [B], "begin": [1473044400],
                             "finish": [1473044460], "a_cell": ["T1"], "b_cell": ["T2"]}),
                   src / "cdr.parquet")
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    mapping["calls"]["path"] = "cdr.parquet"
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    with pytest.raises(MappingError, match="holds numbers"):
        _ingest(study)
    for unit, scale in (("s", 1), ("ms", 10**3), ("us", 10**6), ("ns", 10**9)):
        mapping["calls"]["timestamps"] = {"unit": unit}  # Spark and pandas write us and ns
        (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
        pq.write_table(pa.table({"a_party": [A], "b_party": [B], "begin": [1473044400 * scale],
                                 "finish": [1473044460 * scale], "a_cell": ["T1"],
                                 "b_cell": ["T2"]}), src / "cdr.parquet")
        con, _ = _ingest(study)
        assert [r[2:5] for r in _calls(con)] == [
            (pd_ts("2016-09-05 11:00:00"), pd_ts("2016-09-05 11:01:00"), 60.0)], unit
        con.close()


def test_a_locked_duckdb_file_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "busy.duckdb"
    holder = connect(path)
    proc = subprocess.run(
        [sys.executable, "-c", f"from migrant_assets.db import connect; connect({str(path)!r})"],
        capture_output=True, text=True, timeout=120)
    holder.close()
    assert proc.returncode != 0
    assert "the DuckDB file is in use by another process" in proc.stderr
    assert isinstance(InputError("x"), Exception)

    # held by a sibling process (a step of the same run, under an instance without the pool
    # limit of the shipped dagster.yaml): the error says so and names the file to copy
    code = f"from migrant_assets.db import connect; c = connect({str(path)!r}); "
    sibling = subprocess.Popen([sys.executable, "-c", code + "print('held', flush=True); "
                                "input()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        assert sibling.stdout.readline().strip() == "held"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
    finally:
        sibling.communicate("\n", timeout=60)
    assert proc.returncode != 0
    assert f"in use by a step of this same run (PID {sibling.pid})" in proc.stderr
    assert "dagster.yaml into $DAGSTER_HOME" in proc.stderr


def pd_ts(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def _land_in_berlin(tmp: Path, lines: list[str]
                    ) -> tuple[duckdb.DuckDBPyConnection, IngestStats]:
    """``lines`` of calls landed in a Berlin study of October 2016 (its clocks go back from
    03:00 to 02:00 on the 30th), with 10-30 ingested: the connection and the landing's
    stats."""
    calendar = {"month_start": "2016-10-01", "month_end": "2016-10-31",
                "integration_weeks": ["2016-10-01", "2016-10-08", "2016-10-15", "2016-10-22"],
                "departure_weeks": ["2016-10-03", "2016-10-10", "2016-10-17"],
                "first_k_start": "2016-10-03"}
    study, _ = _setup(tmp, Case("berlin", study={
        "city": {"timezone": "Europe/Berlin"}, "calendar": calendar}))
    (tmp / "operator" / "cdr.csv").write_text("\n".join([CALLS_HEADER, *lines]) + "\n")
    cfg = StudyConfig.load(study)
    con = connect(":memory:")
    contract = contract_for(cfg)
    ingest_places(con, cfg, contract, "cells")
    ingest_subscribers(con, cfg, contract)
    landing = land_calls(con, cfg, contract)
    ingest_calls(con, cfg, date(2016, 10, 30))
    return con, landing


def test_a_call_across_a_daylight_saving_change_keeps_its_length(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Berlin, 2016-10-30: clocks go back from 03:00 to 02:00. A call from 02:59 CEST (00:59Z)
    to 02:01 CET (01:01Z) lasts 120 s, though its local end is before its local start."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    con, landing = _land_in_berlin(tmp_path, [
        f"{A},{B},2016-10-30T00:59:00Z,2016-10-30T01:01:00Z,T1,T2",
        f"{B},{A},2016-10-29T22:00:00Z,2016-10-29T22:05:00Z,T2,T1"])
    assert landing.accepted == 2 and landing.quarantined == 0
    rows = {(str(r[2]), str(r[3]), r[4]) for r in _calls(con)}
    assert rows == {("2016-10-30 02:59:00", "2016-10-30 02:01:00", 120.0),
                    ("2016-10-30 00:00:00", "2016-10-30 00:05:00", 300.0)}


def test_wall_clock_times_in_the_repeated_hour_give_the_shortest_duration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Berlin, 2016-10-30, start and end written as wall-clock times without an offset: 02:00
    to 03:00 happens twice, and the zone's conversion reads its later instant. Of the instants
    a start and an end name, the pair giving the shortest duration that is not negative: 01:50
    to 02:10 lasts 20 minutes (not 80), the first 02:41 to the second 02:19 38 (not -22,
    end_before_start), 02:30 to 02:35 and 02:59 to 03:01 as written; a day without a change as
    written. Worked out here by hand."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    spans = [("01:50", "02:10"), ("02:41", "02:19"), ("02:30", "02:35"), ("02:59", "03:01")]
    lines = [f"{A},{B},2016-10-30 {a}:00,2016-10-30 {b}:00,T1,T2" for a, b in spans]
    lines.append(f"{B},{A},2016-10-29 02:41:00,2016-10-29 02:19:00,T2,T1")  # no change: broken
    con, landing = _land_in_berlin(tmp_path, lines)
    assert (landing.accepted, landing.quarantined_by_reason) == (4, {"end_before_start": 1})
    rows = sorted((str(r[2])[11:16], str(r[3])[11:16], r[4]) for r in _calls(con))
    assert rows == [("01:50", "02:10", 1200.0), ("02:30", "02:35", 300.0),
                    ("02:41", "02:19", 2280.0), ("02:59", "03:01", 120.0)]


def _ingestion_checks(study: Path, *only: str) -> dict:
    """The ingestion assets of ``study`` and the day DAY of calls, with their checks, run by
    Dagster: the check evaluations by (asset, check name). ``only``: the names of the side
    files' assets to run alone (``subscribers``, ``cells``, ``estates``: each reads its own
    file), without the calls (a Dagster run of every ingestion asset and check costs ~3 s, of
    one side file ~1 s)."""
    import dagster as dg

    from migrant_assets.defs import ingest as ingest_defs
    from migrant_assets.defs.resources import StudyResource

    resources = {"study": StudyResource(config_path=str(study))}
    instance = dg.DagsterInstance.ephemeral()
    checks = dg.load_asset_checks_from_modules([ingest_defs])
    reference = [ingest_defs.subscribers, ingest_defs.cells, ingest_defs.estates,
                 ingest_defs.landed_calls]
    if only:
        assert set(only) <= {"subscribers", "cells", "estates"}, only
        reference = [a for a in reference if a.key.to_user_string() in only]
    keys = {a.key for a in reference}
    # held open, so that each step's connection shares its database: a new one costs 25 ms,
    # a quarter of these runs' time (37 connections)
    keeper = connect(StudyConfig.load(study).duckdb_path)
    try:
        first = dg.materialize([*reference, *(c for c in checks if {k.asset_key for k in
                                                                    c.check_keys} <= keys)],
                               resources=resources, instance=instance)
        day = None if only else dg.materialize(
            [ingest_defs.calls, *(c for c in checks if {k.asset_key for k in c.check_keys} <= {
                ingest_defs.calls.key})],
            resources=resources, instance=instance, partition_key=DAY)
    finally:
        keeper.close()
    return {(e.asset_key.to_user_string(), e.check_name): e
            for r in (first, day) if r is not None for e in r.get_asset_check_evaluations()}


def test_hashed_ids_in_capitals_and_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    """Numbers hashed by the operator (hexadecimal MD5) in capitals in the calls and not in the
    subscribers (SQL Server's HASHBYTES against Python's hexdigest), and a UUID owner id written
    both ways: one number, one owner."""
    import hashlib

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("hex case"))
    src = tmp_path / "operator"
    md5 = {n: hashlib.md5(n.encode()).hexdigest() for n in (A, B, C)}
    owner = "aec88fc2-6840-481f-bcc4-29b64c8f9111"
    _write(src / "subs.csv", SUBS_HEADER, [
        (md5[A], owner, "30", "M", "Shanghai", "true", "regular"),
        (md5[B], "O2", "25", "F", "Anhui", "true", "regular"),
        (md5[C], owner.upper(), "30", "M", "Shanghai", "true", "regular")])
    _write(src / "cdr.csv", CALLS_HEADER, [(md5[A].upper(), md5[B].upper(), *CALL[2:])])
    con, stats = _ingest(study)
    assert stats["subscribers"].accepted == 3
    assert con.execute("SELECT count(*), sum(n_numbers) FROM subscribers").fetchone() == (2, 3)
    assert con.execute("SELECT caller, callee FROM calls").fetchall() == [
        (_uid(owner), _uid("O2"))]


def test_an_id_card_owner_id_with_its_x_in_either_case(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A Chinese ID card number as the owner id, its check character X written x on one row:
    one owner (probe 30 M2)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("id card"))
    card = "31010419800101123X"
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER, [
        (A, card.lower(), "30", "M", "Shanghai", "true", "regular"), SUBS[1],
        (C, card, "30", "M", "Shanghai", "true", "regular")])
    con, _ = _ingest(study)
    assert con.execute("SELECT count(*), sum(n_numbers) FROM subscribers").fetchone() == (2, 3)
    assert con.execute("SELECT caller, callee FROM calls").fetchall() == [(_uid(card),
                                                                          _uid("O2"))]


def test_an_owners_numbers_that_disagree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """Two numbers of one owner whose rows give other ages, sexes and birth provinces: the
    user keeps the first row's (file order), and the owner_attributes check warns, naming what
    disagrees (a birth province decides who is local)."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("owner rows"))
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER,
           [SUBS[0], SUBS[1], (C, "O1", "30", "F", "Anhui", "true", "regular")])
    checks = _ingestion_checks(study, "subscribers")
    check = checks[("subscribers", "owner_attributes")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["owners_with_different_values"].value == {
        "age": 0, "birth_province": 1, "sex": 1}
    assert check.metadata["check_first"].value.startswith(
        "1 owner(s) whose numbers give different birth provinces, 1 owner(s) whose numbers "
        "give different sexes: the user keeps the value of the owner's first row")
    assert checks[("subscribers", "has_users")].passed


def test_a_number_listed_again_with_other_values_is_counted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A number listed twice with another birth province (two snapshots appended): the first
    row is kept, the other is duplicate_number marked differs_from_kept, and the subscribers'
    duplicates_agree check warns counting such rows (never naming a number); a copy of the
    kept row is a duplicate that agrees."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("number twice"))
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER,
           [*SUBS, (B, "O2", "25", "F", "Shanghai", "true", "regular"), SUBS[0]])
    con, _ = _ingest(study)
    got = con.execute("SELECT row_number, json_extract(record, '$.differs_from_kept') "
                      "FROM quarantine WHERE reason = 'duplicate_number' ORDER BY 1").fetchall()
    assert got == [(5, "true"), (6, "false")]
    check = _ingestion_checks(study, "subscribers")[("subscribers", "duplicates_agree")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert {k: check.metadata[k].value for k in ("numbers", "duplicate_rows",
                                                 "differing_rows", "unmarked_rows")} == {
        "numbers": 3, "duplicate_rows": 2, "differing_rows": 1, "unmarked_rows": 0}
    assert check.metadata["check_first"].value.startswith(
        "1 row lists a number again with another owner, birth province")
    assert B not in str(check.metadata)
    # an age both rows give unreadably (150, 200: unknown as stored) does not differ
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER,
           [(A, "O1", "150", "M", "Shanghai", "true", "regular"), *SUBS[1:], SUBS[0][:2]
            + ("200",) + SUBS[0][3:]])
    assert _ingestion_checks(study, "subscribers")[("subscribers", "duplicates_agree")].passed


@pytest.mark.parametrize("shape", ["header only", "every local flag 本地/外地"])
def test_no_subscriber_fails_their_checks_with_what_to_check(
        shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscribers file with a header and no row, or whose every row is quarantined, makes
    every party external: the checks that would otherwise pass on nothing fail with ERROR, and
    say what to check first."""
    import dagster as dg

    from migrant_assets.ingest import EMPTY_SUBSCRIBERS_FIX, NO_SUBSCRIBER_FIX

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case(shape))
    subs = tmp_path / "operator" / "subs.csv"
    subs.write_text(SUBS_HEADER + "\n" if shape == "header only" else
                    subs.read_text().replace(",true,", ",本地,"))
    checks = _ingestion_checks(study)
    for name in (("subscribers", "has_users"), ("calls", "linked_to_subscribers")):
        assert not checks[name].passed and \
            checks[name].severity == dg.AssetCheckSeverity.ERROR, name
    assert checks[("calls", "row_accounting")].passed
    first = {name: checks[name].metadata["check_first"].value
             for name in (("subscribers", "has_users"), ("calls", "linked_to_subscribers"))}
    assert first[("calls", "linked_to_subscribers")] == NO_SUBSCRIBER_FIX
    has_users = first[("subscribers", "has_users")]
    assert has_users == EMPTY_SUBSCRIBERS_FIX if shape == "header only" else \
        has_users.startswith("bad_attribute: ") and "本地" in has_users


def test_durations_in_minutes_are_named_and_read_with_their_unit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Durations written in minutes (2.5) and read as seconds pass every other check: the
    `durations` check warns when a day's 20 or more timed calls last under 10 s at the median,
    naming duration_unit: min, which reads them as minutes (median 2.5 min = 150 s)."""
    import dagster as dg

    from migrant_assets.ingest import DURATIONS_FIX

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("minutes"))
    src = tmp_path / "operator"
    minutes = [0.5 + 0.25 * i for i in range(21)]  # 0.5 .. 5.5, median 3.0
    _write(src / "cdr.csv", "a_party,b_party,begin,minutes,a_cell,b_cell",
           [(A, B, f"{DAY} {10 + i // 60:02d}:{i % 60:02d}:00", str(m), "T1", "T2")
            for i, m in enumerate(minutes)])
    _remap(src, "calls", columns={"caller": "a_party", "callee": "b_party", "start_ts": "begin",
                                  "duration": "minutes", "caller_cell": "a_cell",
                                  "callee_cell": "b_cell"})
    check = _ingestion_checks(study)[("calls", "durations")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["median_duration_s"].value == 3.0
    assert check.metadata["check_first"].value == \
        f"the day's timed calls last 3.0 s at the median: {DURATIONS_FIX}"
    _remap(src, "calls", duration_unit="min")
    check = _ingestion_checks(study)[("calls", "durations")]
    assert check.passed and check.metadata["median_duration_s"].value == 180.0
    assert check.metadata["timed_calls"].value == 21


def test_calls_that_start_at_midnight_are_named(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A Parquet TIMESTAMP start that holds dates (a date column through pandas) is read as
    midnight: the start_times check warns from 20 calls when a tenth start at 00:00:00."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("midnight"))
    src = tmp_path / "operator"
    for at_midnight, expected in ((3, (False, 3)), (1, (True, 1))):
        begins = [datetime(2016, 9, 5) if i < at_midnight else datetime(2016, 9, 5, 9, i)
                  for i in range(21)]
        pq.write_table(pa.table({"a_party": [A] * 21, "b_party": [B] * 21, "a_cell": ["T1"] * 21,
                                 "b_cell": ["T2"] * 21, "begin": begins,
                                 "finish": [b + timedelta(seconds=60 + i)
                                            for i, b in enumerate(begins)]}),
                       src / "cdr.parquet")
        _remap(src, "calls", path="cdr.parquet")
        check = _ingestion_checks(study)[("calls", "start_times")]
        assert (check.passed, check.metadata["calls_at_midnight"].value) == expected
        assert check.metadata["judged"].value == 21
        if not expected[0]:
            assert check.severity == dg.AssetCheckSeverity.WARN
            assert "[call_date, call_time]" in check.metadata["check_first"].value


def test_an_export_of_the_callers_cell_only_is_named(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A switch that logs the caller's cell only (every callee cell empty, the callee a
    subscriber): located_sides warns from 100 such calls, naming the side (probe 26, L4: the
    geography quietly rested on the calls made); with the callee's cell it passes."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("caller cells only"))
    src = tmp_path / "operator"
    begins = [datetime(2016, 9, 5, 9) + timedelta(minutes=3 * i) for i in range(120)]
    for callee_cell, passed in ((None, False), ("T2", True)):
        pq.write_table(pa.table({
            "a_party": [A] * 120, "b_party": [B] * 120, "a_cell": ["T1"] * 120,
            "b_cell": pa.array([callee_cell] * 120, pa.string()), "begin": begins,
            "finish": [b + timedelta(seconds=60) for b in begins]}), src / "cdr.parquet")
        _remap(src, "calls", path="cdr.parquet")
        check = _ingestion_checks(study)[("calls", "located_sides")]
        md = {k: v.value for k, v in check.metadata.items()}
        assert check.passed == passed and md["judged"] == 240
        assert (md["calls_to_a_subscriber"], md["calls_to_a_subscriber_without_cell"]) == (
            120, 0 if passed else 120)
        assert md["calls_from_a_subscriber_without_cell"] == 0
        if not passed:
            assert check.severity == dg.AssetCheckSeverity.WARN
            assert md["check_first"].startswith("120 of the day's 120 calls to a subscriber "
                                                "have no callee cell: the cell columns")


def test_numbers_written_with_a_trunk_prefix_in_calls_only_name_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls written in the national form (0138…) and subscribers without the trunk prefix link
    no call: linked_to_subscribers fails and says to look at the numbers rule."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("trunk"))
    calls = tmp_path / "operator" / "cdr.csv"
    calls.write_text(calls.read_text().replace(f"{A},{B},", f"0{A},0{B},"))
    check = _ingestion_checks(study)[("calls", "linked_to_subscribers")]
    assert not check.passed
    assert "trunk_prefix" in check.metadata["check_first"].value


def _one_call_ending_in(src: Path, column: str, value: str, drop_end_ts: bool = True,
                        callee_cell: str = "T2") -> None:
    """The calls file as one call from A to B at 10:00 of DAY with its end (or duration) in
    ``column``; ``drop_end_ts``: the mapping no longer maps end_ts."""
    (src / "cdr.csv").write_text(f"a_party,b_party,begin,{column},a_cell,b_cell\n"
                                 f"{A},{B},{DAY} 10:00:00,{value},T1,{callee_cell}\n")
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    if drop_end_ts:
        del mapping["calls"]["columns"]["end_ts"]
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))


def _remap(src: Path, table: str, **update) -> None:
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    mapping.setdefault(table, {}).update(update)
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True))


def test_subscribers_without_a_birth_province_are_refused_for_the_studies_labels(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscribers file with no birth province (and none mapped) is refused when the study
    labels its users (population: labelled), naming the column and the populations that need
    none: it ran to the end with nothing labelled and exit 0 (probe 26, M3). With population
    all_active it is read, every birth province unknown. A file without is_local_number is
    refused naming the constant too."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("no birth province"))
    src = tmp_path / "operator"
    _remap(src, "subscribers", columns={"number": "msisdn", "owner_id": "owner", "age": "age",
                                        "sex": "gender", "is_local_number": "local",
                                        "user_type": "kind"})
    _write(src / "subs.csv", "msisdn,owner,age,gender,local,kind",
           [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in SUBS])
    with pytest.raises(MappingError) as info:
        _ingest(study)
    text = str(info.value)
    assert "subscribers: the file has no column 'birth_province'" in text
    assert "set population: subscribers (or all_active)" in text
    config = yaml.safe_load(study.read_text())
    study.write_text(yaml.safe_dump({**config, "population": "all_active"}))
    con, stats = _ingest(study)
    assert stats["subscribers"].accepted == len(SUBS)
    assert con.execute("SELECT count(birth_province) FROM subscribers").fetchone()[0] == 0
    _remap(src, "subscribers", columns={"number": "msisdn"})
    with pytest.raises(MappingError, match="constants: {is_local_number: 'true'}"):
        _ingest(study)


def test_header_lines_of_joined_hourly_files(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Hourly files joined with ``cat``, each with its header line, the date and the time in
    two columns and an event type: every repeated header is ``repeated_header`` (it was
    ``not_a_call`` under the event types, or ``bad_timestamp``), named with its fix, and every
    call lands."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("joined hourly files"))
    src = tmp_path / "operator"
    header = "a_party,b_party,Call Date,Call Time,secs,kind"
    hours = [[(A, B, DAY, f"{h:02d}:00:00", "60", "VOICE"), (B, A, DAY, f"{h:02d}:30:00", "5",
                                                            "SMS")] for h in (9, 10, 11)]
    (src / "cdr.csv").write_text("\n".join(
        line for rows in hours for line in [header, *(",".join(r) for r in rows)]) + "\n")
    _remap(src, "calls", columns={"caller": "a_party", "callee": "b_party",
                                  "start_ts": ["call date", "CALL TIME"], "duration": "secs",
                                  "event_type": "kind"},
           event_types={"call": ["voice"]})
    con, stats = _ingest(study)
    landing = stats["landed_calls"]
    assert landing.read == 8 and landing.accepted == 3
    assert landing.quarantined_by_reason == {"repeated_header": 2}  # the first is the header
    assert landing.excluded_by_reason == {"not_a_call": 3}
    assert check_first(landing.quarantined_by_reason).startswith("repeated_header: files joined")
    assert con.execute("SELECT DISTINCT json_extract_string(record, '$.start_ts') "
                       "FROM quarantine").fetchall() == [("Call Date Call Time",)]


@pytest.mark.parametrize(("mapped", "second", "lengths", "differ"), [
    ({}, "05", ["60", "60", "61"], 0),  # agree, to a second
    ({}, "05", ["60", "120", "60"], 1),  # one record of three: the check warns from 1%
    ({"duration": "duration"}, "05", ["30", "45", "60"], 2),  # the duration read
    ({}, "00", ["60", "90", "150"], 1),  # stamped to the minute: 30 s apart agree
])
def test_an_end_and_a_duration_that_disagree_are_named(
        mapped: dict, second: str, lengths: list[str], differ: int, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file with start_ts, end_ts and duration columns (named as in the contract: the end is
    read from end_ts; or duration mapped: from it): calls whose other column gives another
    length are counted in landed_files, and durations_agree warns naming both columns. Ends
    stamped to the minute disagree by a minute at most."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("end and duration"))
    src = tmp_path / "operator"
    _write(src / "cdr.csv", "caller,callee,start_ts,end_ts,duration",
           [(A, B, f"{DAY} 1{i}:00:{second}", f"{DAY} 1{i}:01:{second}", n)
            for i, n in enumerate(lengths)])
    _remap(src, "calls", columns=mapped)
    check = _ingestion_checks(study)[("landed_calls", "durations_agree")]
    md = {k: v.value for k, v in check.metadata.items()}
    assert (md["rows_landed"], md["rows_times_disagree"]) == (3, differ)
    assert check.passed == (differ == 0)
    if differ:
        assert check.severity == dg.AssetCheckSeverity.WARN
        assert md["check_first"].startswith(f"{differ} of 3 landed calls")
    con = duckdb.connect(str(StudyConfig.load(study).duckdb_path), read_only=True)
    read = "duration" if mapped else "end_ts"
    expected = [float(n) for n in lengths] if read == "duration" else [60.0] * 3
    assert [d for (d,) in con.execute("SELECT duration_s FROM landed_calls ORDER BY start_ts"
                                      ).fetchall()] == expected
    con.close()


@pytest.mark.parametrize("layout", ["one file", "the first of two", "the second of two"])
def test_a_quote_left_open_under_a_quoted_header_is_named(
        layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quoted header (as most exporters write it) and a quote left open on line 3: DuckDB's
    sniffer reads the file as unquoted, so the names keep their quotes; the error said to set
    header: false, or that a column was added in later files. It names the line and the
    quote now."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("open quote"))
    src = tmp_path / "operator"
    header = ",".join(f'"{c}"' for c in CALLS_HEADER.split(","))
    good = ",".join(f'"{v}"' for v in CALL)
    bad = good.replace(f'"{B}"', f'"{B}', 1)
    files = {"one file": {"d1.csv": [good, bad, good]},
             "the first of two": {"d1.csv": [good, bad], "d2.csv": [good]},
             "the second of two": {"d1.csv": [good], "d2.csv": [good, bad]}}[layout]
    for name, lines in files.items():
        (src / "cdr" / name).parent.mkdir(exist_ok=True)
        (src / "cdr" / name).write_text("\n".join([header, *lines]) + "\n")
    _remap(src, "calls", path="cdr/*.csv")
    with pytest.raises(MappingError, match=r"line 3 of the file has a quote left open") as info:
        _ingest(study)
    assert A not in str(info.value) and B not in str(info.value)


def test_an_end_time_on_the_starts_date_rolls_over_midnight(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A date column and the start's and the end's times of day: a call across midnight ends
    the next day (it was end_before_start, the only way through a duration the file does not
    have); an end far before its start (23 h later read so) stays end_before_start."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("time of day ends"))
    src = tmp_path / "operator"
    _write(src / "cdr.csv", "a_party,b_party,day,begin,finish",
           [(A, B, DAY, "10:00:00", "10:01:05"), (A, B, DAY, "23:59:50", "00:00:20"),
            (A, B, DAY, "10:00:00", "09:00:00")])
    _remap(src, "calls", columns={"caller": "a_party", "callee": "b_party",
                                  "start_ts": ["day", "begin"], "end_ts": ["DAY", "finish"]})
    con, stats = _ingest(study)
    assert stats["landed_calls"].quarantined_by_reason == {"end_before_start": 1}
    assert con.execute("SELECT CAST(end_ts AS VARCHAR), duration_s FROM landed_calls "
                       "ORDER BY start_ts").fetchall() == [
        (f"{DAY} 10:01:05", 65.0), ("2016-09-06 00:00:20", 30.0)]


def test_a_fixed_offset_is_stored_as_written_and_read_again() -> None:
    """A fixed offset is stored as ``UTC-03:00`` (never ``Etc/GMT+3``, which a config read
    again would refuse, and a report would show with POSIX's sign), read again the same, and
    is the zone of that offset; a zone's name loses the spaces around it when it loads."""
    from migrant_assets.config import zone_info

    cfg = StudyConfig.model_validate({"city": {"timezone": " gmt−3 "}})
    assert cfg.city.timezone == "UTC-03:00"
    again = StudyConfig.model_validate(yaml.safe_load(yaml.safe_dump(cfg.model_dump(
        mode="json"))))
    assert again.city.timezone == "UTC-03:00"
    for month in (1, 7):  # one offset all year
        assert datetime(2016, month, 1, tzinfo=zone_info("UTC-03:00")).utcoffset(
            ).total_seconds() == -3 * 3600
    assert StudyConfig.model_validate({"city": {"timezone": "Asia/Shanghai "}}
                                      ).city.timezone == "Asia/Shanghai"
    con = duckdb.connect()
    assert con.execute("SELECT CAST(timezone('UTC-03:00', TIMESTAMP '2016-10-20 10:00') "
                       "AS VARCHAR)").fetchone()[0].startswith("2016-10-20 13:00:00")


def test_csv_in_a_legacy_encoding_is_read_through_a_utf8_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Chinese operator's GB18030 export (header, owner ids and provinces in Chinese) is
    decoded as the mapping says; a gzipped GBK file with a line GBK cannot decode quarantines
    that line (named in the user's file), and reads the rest."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("gb18030"))
    src = tmp_path / "operator"
    text = (src / "subs.csv").read_text().replace("msisdn", "号码").replace("O2", "王伟")
    (src / "subs.csv").write_bytes(text.replace("Anhui", "安徽").encode("gb18030"))
    _remap(src, "subscribers", csv={"encoding": "gb18030"},
           columns={**yaml.safe_load((src / "mapping.yaml").read_text())["subscribers"]["columns"],
                    "number": "号码"})
    con, stats = _ingest(study)
    assert stats["subscribers"].accepted == 3
    assert _sub(con, "王伟", "birth_province") == "安徽"  # the pseudonym of the decoded owner id
    assert not list((tmp_path / "work").glob("**/transcoded-*"))  # the copies are removed
    # without the encoding the header cannot be read: the fix names the encoding, not a header
    _remap(src, "subscribers", csv={})
    with pytest.raises(MappingError, match="first line is not UTF-8.*encoding: gb18030"):
        _ingest(study)

    study, _ = _setup(tmp_path / "gbk", Case("gbk"))
    src = tmp_path / "gbk" / "operator"
    data = (src / "subs.csv").read_text().replace("Anhui", "安徽").encode("gbk")
    (src / "subs.csv.gz").write_bytes(gzip.compress(data + b"13800000009,O9,30,M,\xff\xfe,true,\n"))
    (src / "subs.csv").unlink()
    _remap(src, "subscribers", path="subs.csv.gz", csv={"encoding": "gbk"})
    con, stats = _ingest(study)
    assert stats["subscribers"].accepted == 3
    assert con.execute("SELECT reason, file, row_number FROM quarantine").fetchall() == [
        ("malformed_line", str(src / "subs.csv.gz"), 5)]
    assert _sub(con, "O2", "birth_province") == "安徽"


def test_an_unknown_encoding_is_a_clear_error(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("klingon"))
    _remap(tmp_path / "operator", "subscribers", csv={"encoding": "klingon"})
    with pytest.raises(MappingError, match="encoding 'klingon' is not a known encoding"):
        _ingest(study)


def test_a_decimal_comma_is_read_as_the_decimal_point(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A European export (';' between fields, ',' before decimals): with the mapping's
    ``decimal_separator`` the coordinates and prices are numbers; without it they are
    quarantined as bad coordinates, never guessed. A '.' beside the decimal comma is a
    thousands separator the mapping does not name: ``100.000`` is a bad price, not 100."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    for option in (True, False):
        study, _ = _setup(tmp_path / str(option), Case("decimal comma"))
        src = tmp_path / str(option) / "operator"
        for name in ("towers.csv", "prices.csv"):
            lines = (src / name).read_text().splitlines()
            rows = [";".join(v.replace(".", ",") for v in line.split(",")) for line in lines[1:]]
            (src / name).write_text("\n".join([lines[0].replace(",", ";"), *rows]) + "\n")
        with (src / "prices.csv").open("a") as f:  # 100,000 yuan with '.' between thousands
            f.write("X9;31,25;121,45;100.000\n")
        if option:
            _remap(src, "cells", csv={"delim": ";", "decimal_separator": ","})
            _remap(src, "estates", csv={"delim": ";", "decimal_separator": ","})
        con, stats = _ingest(study)
        if option:
            assert con.execute("SELECT lat, lon FROM cells ORDER BY lat").fetchall() == [
                (31.20, 121.40), (31.30, 121.50)]
            assert con.execute("SELECT price_per_sqm FROM estates").fetchall() == [(52000.0,)]
            assert con.execute("SELECT reason, row_number FROM quarantine "
                               "WHERE source = 'estates'").fetchall() == [("bad_price", 3)]
        else:
            assert stats["cells"].accepted == 0 and stats["cells"].quarantined == 2


@pytest.mark.parametrize(("durations", "csv", "read"), [
    (["65", "1.234", "2.500"], {}, None),  # whole seconds beside '.' between thousands
    (["65", "1.234", "2.500"], {"thousands": ".", "decimal_separator": ","}, [65, 1234, 2500]),
    (["65", "1.234", "2.500"], {"thousands": "."}, [65, 1234, 2500]),
    (["65", "1.234", "2.500"], {"decimal_separator": "."}, [65, 1.234, 2.5]),
    (["65", "1.234", "12.5"], {}, [65, 1.234, 12.5]),  # another fraction: decimal points
    (["65.000", "1.234", "0.250"], {}, [65, 1.234, 0.25]),
])
def test_durations_with_a_dot_between_thousands_are_named(
        durations: list, csv: dict, read: list | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A European export writes 1,234 s as 1.234: beside whole seconds and no other
    fraction, the durations are an error whose fix names both csv options, never read 1,000
    times too short."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("dotted thousands"))
    src = tmp_path / "operator"
    rows = [f"{A};{B};{DAY} 1{i}:00:00;{d};T1;T2" for i, d in enumerate(durations)]
    (src / "cdr.csv").write_text("a_party;b_party;begin;secs;a_cell;b_cell\n"
                                 + "\n".join(rows) + "\n")
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    mapping["calls"]["columns"] = {**mapping["calls"]["columns"], "duration": "secs"}
    del mapping["calls"]["columns"]["end_ts"]
    mapping["calls"]["csv"] = {"delim": ";", **csv}
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    if read is None:
        with pytest.raises(MappingError, match=r"2 duration\(s\) are written like 1.234 .* "
                           r"beside 1 of whole seconds") as info:
            _ingest(study)
        assert "csv: {thousands: '.'}" in info.value.fix and info.value.where.endswith("cdr.csv")
        return
    con, _ = _ingest(study)
    assert [r[4] for r in _calls(con)] == pytest.approx(read)


def test_durations_as_seconds_or_clock_time(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A duration column holds seconds (``90``, ``90.5``) or a clock duration ``H:MM:SS[.f]``
    (``0:01:30``, ``01:02:03.5``, as many switches print it); ``1:30`` could be minutes or hours,
    so it is quarantined, never guessed."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("durations"))
    src = tmp_path / "operator"
    rows = [(A, B, f"{DAY} {hour}:00:00", secs, "T1", "T2") for hour, secs in (
        (10, "90"), (11, "90.5"), (12, "0:01:30"), (13, "01:02:03.5"), (14, "1:30"),
        (15, "13912345678:00:00"),  # hours past DuckDB's INTERVAL: not a failed landing
        (16, "-0:36:54"))]  # negative: an end before the start, as -2214 (probe 30 L3)
    _write(src / "cdr.csv", "a_party,b_party,begin,secs,a_cell,b_cell", rows)
    columns = yaml.safe_load((src / "mapping.yaml").read_text())["calls"]["columns"]
    del columns["end_ts"]
    _remap(src, "calls", columns={**columns, "duration": "secs"})
    con, _ = _ingest(study)
    got = con.execute("SELECT hour(start_ts), duration_s FROM calls ORDER BY 1").fetchall()
    assert got == [(10, 90.0), (11, 90.5), (12, 90.0), (13, 3723.5)]
    assert con.execute("SELECT reason, row_number FROM quarantine ORDER BY 2").fetchall() == [
        ("bad_duration", 6), ("bad_duration", 7), ("end_before_start", 8)]


@pytest.mark.parametrize("layout", ["folder", "folder/", "nested **", "int96", "csv"])
def test_a_spark_or_hive_export_folder(layout: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A Spark or Hive export: Parquet parts under ``day=…`` (or year/month/day) folders beside
    ``_SUCCESS`` and ``.crc`` files, the calls path a folder or a ``**`` pattern, timestamps
    possibly as legacy INT96 (local times, as Hive writes them). Markers and checksums are not
    read; the call is."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case(layout))
    src = tmp_path / "operator"
    names = CALLS_HEADER.split(",")
    table = pa.table({n: [v] for n, v in zip(names, CALL, strict=True)}).set_column(
        2, "begin", pa.array([datetime.fromisoformat(CALL[2])])).set_column(
        3, "finish", pa.array([datetime.fromisoformat(CALL[3])]))
    part = src / "calls" / ("year=2016/month=09/day=05" if layout == "nested **"
                            else "day=2016-09-05")
    part.mkdir(parents=True)
    if layout == "csv":  # df.write.partitionBy('day').csv(...): a typed column in the path
        _write(part / "part-00000-c000.csv", CALLS_HEADER, [CALL])
    else:
        pq.write_table(table, part / "part-00000-c000.snappy.parquet",
                       use_deprecated_int96_timestamps=layout == "int96")
    (src / "calls" / "_SUCCESS").write_text("")
    (part / ".part-00000-c000.snappy.parquet.crc").write_bytes(b"\x00crc")
    # a failed job's attempt, under a folder a wildcard would match: not part of the export
    attempt = src / "calls" / "_temporary" / "0" / "day=2016-09-05"
    attempt.mkdir(parents=True)
    pq.write_table(table, attempt / "part-00000-c001.snappy.parquet",
                   use_deprecated_int96_timestamps=layout == "int96")
    (src / "cdr.csv").unlink()
    path = {"folder": "calls", "folder/": "calls/", "nested **": "calls/**/*.parquet",
            "int96": "calls/*/*.parquet", "csv": "calls/**/*.csv"}[layout]
    _remap(src, "calls", path=path)
    if layout == "int96":  # Hive's INT96 local times: the mapping says whose
        _remap(src, "calls", timestamps={"timezone": "Asia/Shanghai"})
    con, stats = _ingest(study)
    assert stats["landed_calls"].read == 1 and stats["landed_calls"].accepted == 1
    assert (_uid("O1"), _uid("O2")) in {(r[0], r[1]) for r in _calls(con)}
    con.close()
    # a Delta Lake table keeps the files later commits removed: refused, never read as files
    (src / "calls" / "_delta_log").mkdir()
    (src / "calls" / "_delta_log" / "00000000000000000000.json").write_text("{}\n")
    with pytest.raises(MappingError, match="Delta Lake table"):
        _ingest(study)


def test_a_column_renamed_or_added_between_deliveries(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Parquet deliveries whose columns changed: DuckDB reads every file as the first file's
    columns, so a cell column renamed later (a_cell, then caller_cell) would be empty in the
    later files and an event_type column added later ignored. Both are errors naming a file
    without the column; a column named event_type without an event_types rule is one too."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("schema change"))
    src = tmp_path / "operator"
    (src / "cdr.csv").unlink()
    (src / "calls").mkdir()
    names = CALLS_HEADER.split(",")

    def part(day: str, **extra) -> None:
        row = dict(zip(names, (A, B, f"2016-09-0{day} 10:00:00", f"2016-09-0{day} 10:01:00",
                               "T1", "T2"), strict=True))
        pq.write_table(pa.table({k: [v] for k, v in {**row, **extra}.items()}),
                       src / "calls" / f"cdr_2016090{day}.parquet")

    part("5")
    part("6", event_type="VOICE")
    _remap(src, "calls", path="calls/*.parquet")
    with pytest.raises(MappingError, match=r"column 'event_type' is in 1 of the 2 files \(e.g. "
                       r".*cdr_20160906.parquet\) and not in the others \(e.g. .*cdr_20160905"):
        _ingest(study)
    part("5", event_type="VOICE")
    with pytest.raises(MappingError, match="a column named event_type .* no event_types rule"):
        _ingest(study)
    _remap(src, "calls", event_types={"call": ["VOICE"]})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 2
    con.close()
    # a column's types differ between files: combined into one that holds every value, never
    # cast to the first file's (a day without a cell, which pandas writes with no type or as
    # DOUBLE; a time as text beside a TIMESTAMP; an INTEGER then a DOUBLE duration)

    def typed(day: int, finish: object, a_cell: object, secs: object) -> None:
        pq.write_table(pa.table({
            "a_party": [A], "b_party": [B], "finish": [finish], "a_cell": a_cell,
            "b_cell": ["T2"], "event_type": ["VOICE"], "secs": secs,
            "begin": pa.array([datetime(2016, 9, day, 10)], pa.timestamp("us"))}),
            src / "calls" / f"cdr_2016090{day}.parquet")

    for cell, secs, finish in (
            (pa.array([None], pa.null()), pa.array([60], pa.int64()), datetime(2016, 9, 6, 10, 1)),
            (pa.array([None], pa.float64()), pa.array([60.4]), "2016-09-06T02:01:00Z")):
        typed(5, "2016-09-05 10:01:00", ["T1"], pa.array([60], pa.int32()))
        typed(6, finish, cell, secs)
        con, stats = _ingest(study)
        assert stats["landed_calls"].accepted == 2
        assert con.execute("SELECT strftime(start_ts, '%d %H:%M'), strftime(end_ts, '%d %H:%M'), "
                           "caller_cell FROM landed_calls ORDER BY start_ts").fetchall() == [
            ("05 10:00", "05 10:01", "T1"), ("06 10:00", "06 10:01", None)]
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    del mapping["calls"]["columns"]["end_ts"]
    mapping["calls"]["columns"]["duration"] = "secs"
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    con, _ = _ingest(study)
    assert con.execute("SELECT list(duration_s ORDER BY start_ts) FROM landed_calls"
                       ).fetchone()[0] == [60.0, 60.4]
    # a DATE in one file beside TIMESTAMPs: the dates would start at midnight
    pq.write_table(pa.table({"a_party": [A], "b_party": [B], "secs": [60], "a_cell": ["T1"],
                             "b_cell": ["T2"], "event_type": ["VOICE"],
                             "begin": [date(2016, 9, 6)]}), src / "calls" / "cdr_20160906.parquet")
    with pytest.raises(MappingError, match=r"column 'begin' holds dates without a time of day "
                       r"in some files \(e.g. .*cdr_20160906.parquet\) and times in others"):
        _ingest(study)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("cdr.csv", "gzip", "gzip-compressed, though its name does not say so"),
    ("000000_0", "parquet", "a Parquet file, though its name"),
    ("cdr.csv.bz2", "bz2", "the file is bzip2-compressed; the contract reads CSV and Parquet"),
    ("cells.geojson", "text", "the file is a GeoJSON file"),
    ("cdr.csv", "utf16", "the file is UTF-16 text (Excel's 'Unicode text'"),
])
def test_a_file_that_is_not_what_its_name_says(name: str, content: str, message: str,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A gzip file named .csv, a Hive part without an extension holding Parquet, a bzip2 or
    GeoJSON file, UTF-16 text read as UTF-8: an error that says what the file is, not the CSV
    reader's sniffing error; UTF-16 text is read with the encoding the error names."""
    import bz2

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case(name))
    src = tmp_path / "operator"
    text = (src / "cdr.csv").read_bytes()
    (src / "cdr.csv").unlink()
    if content == "parquet":
        pq.write_table(pa.table({"a_party": [A]}), src / name)
    else:
        (src / name).write_bytes({"gzip": gzip.compress, "bz2": bz2.compress,
                                  "utf16": lambda b: b.decode().encode("utf-16"),
                                  "text": lambda b: b}[content](text))
    _remap(src, "calls", path=name)
    with pytest.raises(MappingError, match=re.escape(message)):
        _ingest(study)
    if content == "utf16":
        _remap(src, "calls", csv={"encoding": "utf-16"})
        assert _ingest(study)[1]["landed_calls"].read == text.decode().strip().count("\n")


@pytest.mark.parametrize(("path", "kept", "hidden"), [
    ("calls/caller=15512345678/part-0.parquet", [], ["15512345678"]),
    ("calls/caller=20161231/part-0.parquet", [], ["20161231"]),  # Denmark: 8 digits, a date
    ("calls/msisdn=1234567/part-0.parquet", [], ["1234567"]),
    ("users/91234567.csv", [], ["91234567"]),  # Singapore
    ("calls/dt=20160905/part-0.parquet", ["20160905"], []),
    ("cdr_20160905.csv", ["20160905"], []),
    ("CDR_20160905083000.txt", ["20160905083000"], []),
    ("calls/event_date=20160905/caller=13800000001/p.parquet", ["20160905"], ["13800000001"]),
    # a number written with separators, in a per-customer export's file name
    ("客户 138-0000-0001 通话.csv", ["客户 ", " 通话.csv"], ["138-0000-0001", "0001"]),
    ("139_0000_0009.csv", [], ["139_0000_0009", "0009"]),
    ("(021) 5555 1234.csv", [], ["5555", "1234"]),
    # a date with its separators is a date, and never joins a number's digits
    ("calls 2016-09-05 3.csv", ["2016-09-05 3"], []),
    ("cdr_2016_09_05 10.30.csv", ["2016_09_05 10.30"], []),
    ("export v1.2.3 part 12.csv", ["v1.2.3 part 12"], []),
    # typed with a Chinese input method or a word processor, or spaced out
    ("客户 138－0000－0001 通话.csv", ["客户 ", " 通话.csv"], ["0001"]),
    ("１３９０００００００３.csv", [], ["０００３"]),
    ("139\u30000000\u30000005.csv", [], ["0005"]),
    ("139 - 0000 - 0006.csv", [], ["0006"]),
    ("139—0000—0002.csv", [], ["0002"]),
    # a day file's date beside a part number or another date is kept; a number beside it not
    ("cdr_20160905_001.csv", ["cdr_20160905_001.csv"], []),
    ("cdr_20160905-20160911.csv", ["cdr_20160905-20160911.csv"], []),
    ("13800000001_20160905.csv", ["_20160905.csv"], ["13800000001"]),
    ("138-0000-0001_20160905.csv", ["_20160905.csv"], ["0001"]),
    ("139 1234 5678 20160905.csv", ["20160905.csv"], ["5678"]),
    ("calls_05-09-2016.csv", ["calls_05-09-2016.csv"], []),  # a day first, with separators
    ("calls_09.05.2016.csv", ["calls_09.05.2016.csv"], []),
    # other scripts' digits, and a comma, middle dot or full-width slash between groups
    ("عميل ٠١٠٠١٢٣٤٥٦٧.csv", ["عميل "], ["٤٥٦٧"]),
    ("ग्राहक १३८००००००१.csv", [], ["००१"]),
    ("138,0000,0001.csv", [], ["0001"]),
    ("138·0000·0001.csv", [], ["0001"]),
    ("138／0000／0001.csv", [], ["0001"]),
    # any other character that is no letter, digit or slash joins groups too
    *[(f"139{sep}1234{sep}5678.csv", [], ["5678"])
      for sep in ("#", "+", "~", "*", "____", "%20", "：", " | ")],
])
def test_a_number_in_a_path_is_hidden_and_a_date_kept(path: str, kept: list, hidden: list,
                                                      tmp_path: Path) -> None:
    """Each run of 7 or more digits in a file's path is shown as a keyed hash (a number of
    Denmark or Singapore has 8 digits), but a date or time; the value of a Hive key is a date
    only when the key names a time (``caller=20161231`` is a Danish number)."""
    from migrant_assets.contract import _path_label

    shown = _path_label(tmp_path / path, tmp_path, KEY)
    assert all(k in shown for k in kept) and not [h for h in hidden if h in shown]
    assert shown.count("[number ") == (1 if hidden else 0)
    assert shown == _path_label(tmp_path / path, tmp_path, KEY)  # the same in every run


def test_a_number_with_separators_in_a_path_has_the_label_of_its_digits(tmp_path: Path) -> None:
    """138-0000-0001 in one file's name and 13800000001 in another's are one number, one label;
    read together, the two files are still two files, each labelled apart."""
    from migrant_assets.contract import _path_label, file_labels

    dashed = _path_label(tmp_path / "138-0000-0001.csv", tmp_path, KEY)
    plain = _path_label(tmp_path / "13800000001.csv", tmp_path, KEY)
    assert dashed == plain == str(
        tmp_path / f"[number {pseudonym(KEY, 'number', A) & 0xFFFFFFFF:08x}].csv")
    files = [tmp_path / "138-0000-0001.csv", tmp_path / "13800000001.csv"]
    labels = file_labels(DataContract.synthetic(tmp_path), "calls", files, key=KEY)
    assert sorted(labels.values()) == [f"{plain} [file 1 of 2 so named]",
                                       f"{plain} [file 2 of 2 so named]"]


def test_a_table_partitioned_by_number_never_shows_it(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A Hive table partitioned by caller (``calls/caller=13800000001/part-0.parquet``): the
    folder names a subscriber, so each file's label replaces the number by a keyed hash, the
    same in every run; the privacy checks pass and a part cut short is an error without it."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("partitioned by caller"))
    src = tmp_path / "operator"
    (src / "cdr.csv").unlink()
    names = CALLS_HEADER.split(",")
    for caller, callee in ((A, B), (B, A)):
        part = src / "calls" / f"a_party={caller}"
        part.mkdir(parents=True)
        row = dict(zip(names[1:], (callee, f"{DAY} 10:00:00", f"{DAY} 10:01:00", "T1", "T2"),
                       strict=True))
        pq.write_table(pa.table({k: [v] for k, v in row.items()}), part / "part-0.parquet")
    _remap(src, "calls", path="calls/*/*.parquet")
    checks = _ingestion_checks(study)
    assert checks[("landed_calls", "no_raw_identifiers")].passed
    con = duckdb.connect(str(StudyConfig.load(study).duckdb_path), read_only=True)
    labels = [r[0] for r in con.execute("SELECT file FROM landed_files ORDER BY 1").fetchall()]
    con.close()
    hashed = [f"[number {pseudonym(KEY, 'number', n) & 0xFFFFFFFF:08x}]" for n in (A, B)]
    assert sorted(labels) == sorted(str(src / "calls" / f"a_party={h}" / "part-0.parquet")
                                    for h in hashed)
    (src / "calls" / f"a_party={B}" / "part-0.parquet").write_bytes(b"PAR1 cut short")
    with pytest.raises(MappingError) as info:
        _ingest(study)
    assert B not in str(info.value) and "cannot be read" in str(info.value)


def test_nested_columns_are_refused_and_binary_strings_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A struct mapped whole (caller: {msisdn, cell}) is refused, not hashed as text; strings
    stored as BINARY without the UTF8 mark (Impala, Hive) are read as text: a province 上海."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("nested and binary"))
    src = tmp_path / "operator"
    (src / "cdr.csv").unlink()
    pq.write_table(pa.table({
        "a_party": pa.array([{"msisdn": A, "cell": "T1"}]), "b_party": [B],
        "begin": [f"{DAY} 10:00:00"], "finish": [f"{DAY} 10:01:00"]}), src / "cdr.parquet")
    _remap(src, "calls", path="cdr.parquet", columns={
        "caller": "a_party", "callee": "b_party", "start_ts": "begin", "end_ts": "finish"})
    with pytest.raises(MappingError, match="column 'a_party' .* is nested"):
        _ingest(study)
    pq.write_table(pa.table({
        "a_party": [A], "b_party": [B], "begin": [f"{DAY} 10:00:00"],
        "finish": [f"{DAY} 10:01:00"]}), src / "cdr.parquet")
    columns = dict(zip(SUBS_HEADER.split(","), zip(*SUBS, strict=True), strict=True))
    province = pa.array([v.encode() for v in ("上海", "Anhui", "上海")], pa.binary())
    pq.write_table(pa.table({**columns, "province": province}), src / "subs.parquet")
    _remap(src, "subscribers", path="subs.parquet")
    con, _ = _ingest(study)
    assert _sub(con, "O1", "birth_province") == "上海"


def test_empty_and_mixed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty file (0 bytes) among the calls files holds no row and is not read (DuckDB
    would otherwise take the next file's header for data); Parquet and CSV files under one
    pattern are a clear error."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("empty"))
    src = tmp_path / "operator"
    (src / "calls").mkdir()
    (src / "cdr.csv").rename(src / "calls" / "b.csv")
    (src / "calls" / "a.csv").write_text("")  # sorted first
    _remap(src, "calls", path="calls/*")
    con, stats = _ingest(study)
    assert stats["landed_calls"].read == 1 and stats["landed_calls"].accepted == 1
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    pq.write_table(pa.table({"x": [1]}), src / "calls" / "c.parquet")
    with pytest.raises(MappingError, match="the files mix Parquet and other files"):
        _ingest(study)


@pytest.mark.parametrize(("first", "suffix"), [(True, ""), (False, ""), (False, ".gz"),
                                             (True, ".zst")])
def test_a_day_file_of_its_header_alone(first: bool, suffix: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A day without calls exported as its header line alone, first or after a day with calls,
    plain or compressed as the others are, holds no row: DuckDB cannot tell a header in a file
    of one line (it would take it for data and name its columns column0, ...). Alone, it is
    told by the mapped columns it names."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("header alone"))
    src = tmp_path / "operator"
    (src / "cdr").mkdir()
    day, empty = (src / "cdr" / f"{n}.csv{suffix}" for n in (("b", "a") if first else ("a", "b")))
    for path, text in ((day, (src / "cdr.csv").read_text()), (empty, CALLS_HEADER + "\r\n")):
        if suffix == ".zst":  # DuckDB writes zstd (Python 3.11 has no zstd module)
            lines = duckdb.from_arrow(pa.table({"line": text.splitlines()}))
            lines.write_csv(str(path), sep="\x1f", header=False, compression="zstd")
        else:
            path.write_bytes(gzip.compress(text.encode()) if suffix else text.encode())
    (src / "cdr.csv").unlink()
    _remap(src, "calls", path=f"cdr/*.csv{suffix}")
    con, stats = _ingest(study)
    assert (stats["landed_calls"].read, stats["landed_calls"].accepted) == (1, 1)
    assert sorted(con.execute("SELECT rows_read FROM landed_files").fetchall()) == [(0,), (1,)]
    day.unlink()
    con, stats = _ingest(study)
    assert stats["landed_calls"].read == 0
    assert con.execute("SELECT rows_read FROM landed_files").fetchall() == [(0,)]


def test_prices_written_as_listing_sites_show_them(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A scraped price per m² as the listing site shows it, with its currency and unit, is
    read (they were all bad_price, and the only way through was editing the file): 万 is
    10,000; a unit that is no price per m² (元/月, a rent) stays unread."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    written = ["47839元/㎡", "¥52000", "38548 元", "6.8万元/平米", "￥ 52000.5 元/m²",
               "61000 yuan/sqm"]
    estates = [(f"E{i + 2}", "31.2", "121.4", w) for i, w in enumerate(written)]
    study, _ = _setup(tmp_path, Case("prices with units", estates=estates))
    con, stats = _ingest(study)
    assert stats["estates"].quarantined_by_reason == {}
    got = dict(con.execute("SELECT estate_id, price_per_sqm FROM estates").fetchall())
    assert [got[f"E{i + 2}"] for i in range(len(written))] == [
        47839.0, 52000.0, 38548.0, 68000.0, 52000.5, 61000.0]
    # a Brazilian export: ';', decimal commas, thousands dots, the study's currency's marks
    # before or after the number (city.currency: reais); another currency's mark, or a rent,
    # stays unread, never read as reais
    src = tmp_path / "operator"
    (src / "prices.csv").write_text(
        "xiaoqu;lat;lon;price\n" + "\n".join(
            f"B{i};31,2;121,4;{w}" for i, w in enumerate(
                ["R$ 65.860,00/m²", "8.500 reais/m2", "4.200 BRL/sq m", "€ 4.200/m2",
                 "$ 3.100,5/m²", "1.850 R$/mês", "¥52000"])) + "\n", encoding="utf-8")
    _remap(src, "estates", csv={"delim": ";", "decimal_separator": ",", "thousands": "."})
    config = yaml.safe_load(study.read_text())
    study.write_text(yaml.safe_dump({**config, "city": {**config["city"],
                                                         "currency": "reais"}}))
    con, stats = _ingest(study)
    assert stats["estates"].quarantined_by_reason == {"bad_price": 4}
    assert sorted(con.execute("SELECT estate_id, price_per_sqm FROM estates").fetchall()) == [
        ("B0", 65860.0), ("B1", 8500.0), ("B2", 4200.0)]


def test_a_month_of_hourly_compressed_files_lands_under_a_small_memory_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hourly ``.csv.gz`` exports: reading every file's header at once (``union_by_name``)
    held a buffer of about 30 MiB per compressed file, and 40 files ran out of a 512 MB
    memory limit, reported as a file of a wrong format; the headers are read a few files at a
    time. A file cut short names itself and says to deliver it again."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("hourly gz"))
    src = tmp_path / "operator"
    (src / "cdr").mkdir()
    for hour in range(40):
        start = datetime(2016, 9, 5, 10) + timedelta(minutes=hour)
        end = start + timedelta(seconds=60)
        row = f"{A},{B},{start:%Y-%m-%d %H:%M:%S},{end:%Y-%m-%d %H:%M:%S},T1,T2"
        (src / "cdr" / f"{hour:03d}.csv.gz").write_bytes(
            gzip.compress(f"{CALLS_HEADER}\n{row}\n".encode()))
    (src / "cdr.csv").unlink()
    _remap(src, "calls", path="cdr/*.csv.gz")
    cfg = StudyConfig.load(study)
    contract = contract_for(cfg)
    con = connect(":memory:", cfg.duckdb.model_copy(update={"memory_limit": "512MB"}))
    stats = ingest_subscribers(con, cfg, contract), land_calls(con, cfg, contract)
    assert (stats[1].read, stats[1].accepted) == (40, 40)
    cut = src / "cdr" / "020.csv.gz"
    cut.write_bytes(cut.read_bytes()[:20])
    with pytest.raises(MappingError, match=r"the file cannot be read \(IOException.*GZIP") as info:
        land_calls(con, cfg, contract)
    assert info.value.where == str(cut)
    assert info.value.fix.startswith("the file is cut short")
    # cut after its header: found by the read of the rows, which says the same
    rows = "".join(f"{A},{B},{DAY} 10:{m:02d}:00,{DAY} 10:{m:02d}:30,T1,T2\n" for m in range(60))
    whole = gzip.compress(f"{CALLS_HEADER}\n{rows * 400}".encode())
    cut.write_bytes(whole[:len(whole) * 9 // 10])
    with pytest.raises(MappingError, match=r"GZIP") as info:
        land_calls(con, cfg, contract)
    assert info.value.where == str(cut)
    assert info.value.fix.startswith("the file is cut short")


def test_day_files_of_utc_days_give_the_citys_first_and_last_hours(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One file per UTC day under a {date} path (a Spark job's export), the city 8 hours east:
    the first 8 hours of the city's 09-01 are in the file of 08-31, its last day's in the
    file of 09-30; the files of the day before and after the calendar are read, their rows
    outside the calendar counted and left out (they were not read at all, with no word)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("utc day files"))
    src = tmp_path / "operator"
    (src / "cdr").mkdir()
    utc = {"20160831": ["2016-08-31 15:00:00", "2016-08-31 17:30:00"],  # 08-31 23:00, 09-01
           "20160905": ["2016-09-05 02:00:00"],
           "20160930": ["2016-09-30 15:59:00", "2016-09-30 16:00:00"],  # 09-30 23:59, 10-01
           "20161001": ["2016-10-01 01:00:00"]}  # the city's 10-01 09:00
    for day, starts in utc.items():
        _write(src / "cdr" / f"{day}.csv", CALLS_HEADER,
               [(A, B, t, t[:-2] + "30", "T1", "T2") for t in starts])
    _remap(src, "calls", path="cdr/{date:%Y%m%d}.csv", timestamps={"timezone": "UTC"})
    con, stats = _ingest(study)
    local = con.execute("SELECT call_date, count(*) FROM landed_calls GROUP BY 1 ORDER BY 1"
                        ).fetchall()
    assert local == [(date(2016, 9, 1), 1), (date(2016, 9, 5), 1), (date(2016, 9, 30), 1)]
    assert stats["landed_calls"].excluded_by_reason == {"outside_calendar": 3}
    assert stats["landed_calls"].read == 6


def test_a_backup_or_a_note_beside_the_calls_files(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder of calls files holding a stale backup (its rows would be kept over the day's
    as the first of two duplicate calls) or a README.txt (its lines read as calls) is an error
    naming that file, as is a folder of party files holding one, without naming it."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("stray"))
    src = tmp_path / "operator"
    (src / "cdr").mkdir()
    (src / "cdr.csv").rename(src / "cdr" / "cdr_0905.csv")
    _remap(src, "calls", path="cdr")
    for stray, message in (("cdr_0905.csv.bak", "not data by its name"),
                           ("README.txt", r"files of several kinds \(1 \.csv, 1 \.txt\)")):
        (src / "cdr" / stray).write_text("a_party,b_party\n1,2\n")
        with pytest.raises(MappingError, match=message) as info:
            _ingest(study)
        assert info.value.where == str(src / "cdr" / stray)
        (src / "cdr" / stray).unlink()
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 1

    (src / "cdr" / "cdr_0905.csv").rename(src / "cdr" / f"{A}.csv")
    (src / "cdr" / f"{B}.csv.bak").write_text("x\n")
    base = DataContract.synthetic(src)
    contract = base.model_copy(update={"calls": base.calls.model_copy(
        update={"path": "cdr", "party_from_file_name": True})})
    with pytest.raises(MappingError, match="not data by its name") as info:
        contract.files("calls")
    assert B not in str(info.value) and info.value.where == str(src / "cdr")

    # named by a number without party_from_file_name (a glob), or in a folder named by one
    (src / "cdr" / f"{B}.csv.bak").unlink()
    for stray in (f"{B}.csv.bak", "138-0000-0002.md", f"{B}/notes.md"):
        (src / "cdr" / stray).parent.mkdir(exist_ok=True)
        (src / "cdr" / stray).write_text("x\n")
        _remap(src, "calls", path="cdr/*")
        with pytest.raises(MappingError, match="not data by its name") as info:
            _ingest(study)
        assert B not in str(info.value) and "0002" not in str(info.value), stray
        assert "[number]" in info.value.where
        (src / "cdr" / stray).unlink()


def test_a_mapping_saved_in_another_encoding(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The mapping and the study config are UTF-8 whatever the locale, with or without a byte
    order mark, or UTF-16 with one (Notepad's "Unicode"); any other encoding is an error
    naming the file, not a UnicodeDecodeError."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("encodings"))
    src = tmp_path / "operator"
    text = (src / "mapping.yaml").read_text(encoding="utf-8").replace("a_party", "主叫")
    (src / "cdr.csv").write_text((src / "cdr.csv").read_text().replace("a_party", "主叫"),
                                 encoding="utf-8")
    config = study.read_text(encoding="utf-8")
    for encoding in ("utf-16", "utf-8-sig"):
        (src / "mapping.yaml").write_bytes(text.encode(encoding))
        study.write_bytes(config.encode(encoding))
        con, stats = _ingest(study)
        assert stats["landed_calls"].accepted == 1
    (src / "mapping.yaml").write_bytes(text.encode("gb18030"))
    with pytest.raises(MappingError, match="the mapping file is not UTF-8 text") as info:
        _ingest(study)
    assert info.value.where == str(src / "mapping.yaml") and "save it as UTF-8" in info.value.fix


def test_a_header_name_mapped_with_its_spaces(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A header written ' a_party , B_PARTY' is read trimmed: mapping the names as the file
    writes them (spaces and case) finds the columns."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("header spaces"))
    src = tmp_path / "operator"
    lines = (src / "cdr.csv").read_text().splitlines()
    header = lines[0].replace("a_party", " a_party ").replace("b_party", " B_PARTY")
    (src / "cdr.csv").write_text("\n".join([header, *lines[1:]]) + "\n")
    columns = yaml.safe_load((src / "mapping.yaml").read_text())["calls"]["columns"]
    _remap(src, "calls", columns={**columns, "caller": " a_party ", "callee": " B_PARTY"})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 1
    assert (_uid("O1"), _uid("O2")) in {(r[0], r[1]) for r in _calls(con)}

    # Unicode forms and invisible characters: a decomposed é (a macOS tool's), a zero-width
    # space, full-width letters (a Chinese input method's) in the header; the mapping as typed
    header = "\N{ZERO WIDTH SPACE}ａ_party,b_party,de\u0301but,finish,a_cell,b_cell"
    (src / "cdr.csv").write_text("\n".join([header, *lines[1:]]) + "\n")
    _remap(src, "calls", columns={**columns, "caller": "a_party", "callee": "b_party",
                                  "start_ts": "d\u00e9but"})
    con, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 1
    assert (_uid("O1"), _uid("O2")) in {(r[0], r[1]) for r in _calls(con)}
    # a name the mapping misses is listed as the file has it, accented capital first
    _remap(src, "calls", columns={**columns, "start_ts": "Début"})
    (src / "cdr.csv").write_text("\n".join([header.replace("de\u0301but", "Émis"),
                                            *lines[1:]]) + "\n")
    with pytest.raises(MappingError, match="it has .*'Émis'"):
        _ingest(study)


def test_a_first_line_naming_the_delimiter_and_mixed_line_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel's 'sep=;' first line and lines ending in CRLF and LF alike: the error says what
    the file holds and how to read it (the fix it gives for the first reads the file)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("sep line"))
    src = tmp_path / "operator"
    lines = [line.replace(",", ";") for line in (src / "cdr.csv").read_text().splitlines()]
    (src / "cdr.csv").write_text("\n".join(["sep=;", *lines]) + "\n")
    with pytest.raises(MappingError) as info:
        _ingest(study)
    assert "Excel's 'sep=;'" in info.value.fix and "csv: {skip: 1, delim: ';'}" in info.value.fix
    _remap(src, "calls", csv={"skip": 1, "delim": ";"})
    _, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 1

    rows = [",".join(CALL).replace(":00:00", f":00:{s:02d}") for s in range(5)]
    (src / "cdr.csv").write_bytes(("\n".join([CALLS_HEADER, *rows[:2]]) + "\n"
                                   + "\r\n".join(rows[2:]) + "\r\n").encode())
    _remap(src, "calls", csv={})
    with pytest.raises(MappingError, match="the file cannot be read") as info:
        _ingest(study)  # DuckDB's sniffer gives up on the mix
    assert "CRLF and in LF alike" in info.value.fix
    # the mix past the first 64 KB of a file, and in the second file of two (probe 28, M2):
    # the same fix, not a generic one
    row = ",".join(CALL)
    (src / "cdr.csv").write_bytes((CALLS_HEADER + "\r\n" + (row + "\r\n") * 2000
                                   + (row + "\n") * 3).encode())
    with pytest.raises(MappingError, match="the file cannot be read") as info:
        _ingest(study)
    assert "CRLF and in LF alike" in info.value.fix
    (src / "calls").mkdir()
    (src / "calls" / "a.csv").write_bytes((CALLS_HEADER + "\r\n" + (row + "\r\n") * 3).encode())
    (src / "calls" / "b.csv").write_bytes((CALLS_HEADER + "\r\n" + (row + "\r\n") * 3
                                           + (row + "\n") * 3).encode())
    _remap(src, "calls", path="calls/*.csv")
    with pytest.raises(MappingError, match="the file cannot be read") as info:
        _ingest(study)
    assert "CRLF and in LF alike" in info.value.fix and info.value.where.endswith("b.csv")


def test_columns_made_of_several_file_columns(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell known by LAC + CI (in the calls and in the cells file) and a time split into a
    date and a clock column: each contract column is the file columns joined by a space, NULL
    when one of them is missing (the row is then judged as for any missing value), but a call's
    cell only when all are: a LAC without its CI is a cell no tower has (`unknown_cell`), not a
    call that silently lost its place."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("composite"))
    src = tmp_path / "operator"
    _write(src / "cdr.csv", "a_party,b_party,day,begin,finish,a_lac,a_ci,b_lac,b_ci", [
        (A, B, DAY, "10:00:00", f"{DAY} 10:01:00", "4301", "17", "4301", "18"),
        (A, B, DAY, "11:00:00", f"{DAY} 11:01:00", "4302", "17", "", ""),
        (A, B, DAY, "12:00:00", f"{DAY} 12:01:00", "4302", "", "", ""),
        (A, B, DAY, "13:00:00", f"{DAY} 13:01:00", "4301", "17", "", "18"),
        # a shifted row: a number with separators in the cell, quarantined at landing
        (A, B, DAY, "at ten", f"{DAY} 14:01:00", "+86 199", "1234 5678", "", "")])
    _write(src / "towers.csv", "lac,ci,latitude,longitude", [
        ("4301", "17", "31.20", "121.40"), ("4301", "18", "31.30", "121.50"),
        ("4302", "17", "31.25", "121.45")])
    columns = yaml.safe_load((src / "mapping.yaml").read_text())["calls"]["columns"]
    _remap(src, "calls", columns={**columns, "start_ts": ["day", "begin"],
                                  "caller_cell": ["a_lac", "a_ci"],
                                  "callee_cell": ["b_lac", "b_ci"]})
    _remap(src, "cells", columns={"cell_id": ["lac", "ci"], "lat": "latitude",
                                  "lon": "longitude"})
    con, stats = _ingest(study)
    assert stats["cells"].accepted == 3 and stats["landed_calls"].accepted == 4
    quarantined = con.execute("SELECT source, reason, count(*) FROM quarantine "
                              "GROUP BY ALL").fetchall()
    assert sorted(quarantined) == [("calls", "unknown_cell", 2),
                                   ("landed_calls", "bad_timestamp", 1)]
    [record] = con.execute("SELECT record FROM quarantine WHERE reason = 'bad_timestamp'"
                           ).fetchone()
    assert json.loads(record)["caller_cell"] == "<redacted: 17 characters>"
    got = con.execute("SELECT CAST(start_ts AS VARCHAR), c.lat, d.lat FROM calls "
                      "JOIN cells c ON c.cell_id = caller_cell "
                      "LEFT JOIN cells d ON d.cell_id = callee_cell ORDER BY 1").fetchall()
    assert got == [(f"{DAY} 10:00:00", 31.20, 31.30), (f"{DAY} 11:00:00", 31.25, None)]
    _remap(src, "cells", columns={"cell_id": ["lac", "cell"], "lat": "latitude",
                                  "lon": "longitude"})
    with pytest.raises(MappingError, match="column 'cell' .contract column 'cell_id'. is not in"):
        _ingest(study)


def test_a_study_of_files_names_its_city(tmp_path: Path) -> None:
    """A ``files`` source without the city's time zone or province is refused when the config
    loads (the defaults are the synthetic city's: a city elsewhere read in Shanghai's time
    shifted every call by hours, with every check passing); a centre not given is the middle
    of the box given, not Shanghai's."""
    study = tmp_path / "study.yaml"
    source = {"kind": "files", "mapping": str(tmp_path / "mapping.yaml")}
    for city, missing in (({}, "city.timezone and city.province"),
                          ({"timezone": "America/Mexico_City"}, "city.province"),
                          ({"province": "Ciudad de México"}, "city.timezone")):
        study.write_text(yaml.safe_dump({"source": source, **({"city": city} if city else {})}))
        with pytest.raises(ValidationError, match=f"must set {missing} "):
            StudyConfig.load(study)
    box = {"min_lat": 18.9, "max_lat": 19.7, "min_lon": -99.4, "max_lon": -98.8}
    study.write_text(yaml.safe_dump({"source": source, "city": {
        "province": "Ciudad de México", "timezone": "America/Mexico_City", **box}}))
    city = StudyConfig.load(study).city
    assert (city.center_lat, city.center_lon) == pytest.approx((19.3, -99.1))
    assert StudyConfig.model_validate({}).city.center_lat == 31.2304  # the synthetic city


def test_attribute_codes_are_recoded_as_the_mapping_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's own codes (sex 1/2, province codes, 是/否, 男/女, age bands) become the
    contract's values through ``recode``; 男/女 and 是/否 are read without it; a code the
    mapping does not list is judged as it is (an unreadable sex: unknown, the subscriber
    kept); identifiers cannot be recoded."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("codes"))
    src = tmp_path / "operator"
    _write(src / "subs.csv", SUBS_HEADER, [
        (A, "O1", "25-34", "1", "34", "是", "regular"),
        (B, "O2", "25", "女", "31", "否", "regular"),
        (C, "O1", "30", "1", "34", "是", "regular"), ("13800000009", "O9", "40", "3", "34", "1",
                                                      "regular")])
    _remap(src, "subscribers", recode={"sex": {"1": "M", "2": "F"},
                                       "birth_province": {"34": "Anhui", "31": "Shanghai"},
                                       "age": {"25-34": 30}})  # a number, unquoted
    con, stats = _ingest(study)
    assert [_sub(con, o, c) for o in ("O1", "O2") for c in ("sex", "birth_province",
                                                            "has_local_number", "age")] == [
        "M", "Anhui", True, 30, "F", "Shanghai", False, 25]
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert _sub(con, "O9", "sex") is None and _sub(con, "O9", "age") == 40
    assert con.execute("SELECT * FROM unreadable_attributes_subscribers").fetchall() == [
        ("sex", "3", 1)]  # sex '3' is no code of the mapping
    _remap(src, "subscribers", recode={"number": {"1": "2"}})
    with pytest.raises(MappingError, match=r"recode names \['number'\], which cannot"):
        _ingest(study)


def test_codes_written_as_numbers_are_recoded(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Codes a Parquet file stores as DOUBLE (sex 1.0 / 2.0, local flag 1.0 / 0.0, province
    31.0) are read as the whole numbers a recode writes (1, 2); a recode's key written unquoted
    with a leading zero (``01: M``) is the code as written, not YAML 1.1's integer 1 (nor
    ``010``'s 8)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("numeric codes"))
    src = tmp_path / "operator"
    pq.write_table(pa.table({
        "msisdn": [A, B, C], "owner": ["O1", "O2", "O1"], "age": [30.0, 25.0, 30.0],
        "gender": [1.0, 2.0, 1.0], "province": [34.0, 31.0, 34.0], "local": [1.0, 0.0, 1.0],
        "kind": ["regular"] * 3}), src / "subs.parquet")
    _remap(src, "subscribers", path="subs.parquet",
           recode={"sex": {1: "M", 2: "F"}, "birth_province": {34: "Anhui", 31: "Shanghai"}})
    con, _ = _ingest(study)
    assert [_sub(con, o, c) for o in ("O1", "O2") for c in ("sex", "birth_province",
                                                            "has_local_number", "age")] == [
        "M", "Anhui", True, 30, "F", "Shanghai", False, 25]
    _write(src / "subs.csv", SUBS_HEADER, [(A, "O1", "30", "01", "Anhui", "true", "regular"),
                                           (B, "O2", "25", "010", "Anhui", "true", "regular")])
    _remap(src, "subscribers", path="subs.csv", recode={"sex": {"01": "M", "010": "F"}})
    text = (src / "mapping.yaml").read_text()
    (src / "mapping.yaml").write_text(text.replace("'01'", "01").replace("'010'", "010"))
    assert "01: M" in (src / "mapping.yaml").read_text()
    con, _ = _ingest(study)
    assert [_sub(con, o, "sex") for o in ("O1", "O2")] == ["M", "F"]


def test_identifiers_a_float_cannot_hold_are_rounded(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A DOUBLE holds whole numbers exactly up to 2^53, a FLOAT up to 2^24: 18-digit owner ids
    as pandas stores them beside nulls (two owners 1 apart are one DOUBLE) and numbers stored as
    FLOAT are rounded ids (quarantined), never merged into one user; smaller ones are read."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("float ids"))
    src = tmp_path / "operator"
    big = 310_101_198_603_120_011  # an 18-digit owner id; +1 is the same DOUBLE
    assert float(big) == float(big + 1)
    pq.write_table(pa.table({
        "msisdn": pa.array([float(A), float(B), float(C)], pa.float64()),
        "owner": pa.array([float(big), float(big + 1), 1234.0], pa.float64()),
        "age": [30, 25, 30], "gender": ["M", "F", "M"], "province": ["Anhui"] * 3,
        "local": ["true"] * 3, "kind": ["regular"] * 3}), src / "subs.parquet")
    _remap(src, "subscribers", path="subs.parquet")
    con, stats = _ingest(study)
    assert stats["subscribers"].quarantined_by_reason == {"rounded_id": 2}
    assert con.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 1
    pq.write_table(pa.table({
        "msisdn": pa.array([float(A), float(B), float(C)], pa.float32()),
        "owner": ["O1", "O2", "O1"], "age": [30, 25, 30], "gender": ["M", "F", "M"],
        "province": ["Anhui"] * 3, "local": ["true"] * 3, "kind": ["regular"] * 3}),
        src / "subs.parquet")
    con, stats = _ingest(study)
    assert stats["subscribers"].quarantined_by_reason == {"rounded_id": 3}


def test_the_documented_chinese_export_mapping_reads_its_shape(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/your_own_data.md shape (d), its mapping as printed: a GB18030 export in a Spark
    folder, LAC + CI cells with decimal commas, date and clock columns, H:MM:SS durations,
    男/女, 是/否 and province codes."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    doc = (Path(__file__).parents[1] / "docs" / "your_own_data.md").read_text()
    block = doc.split("### Shape (d)")[1].split("```yaml\n")[1].split("```")[0]
    src = tmp_path / "operator"
    (src / "cdr" / "day=2016-09-05").mkdir(parents=True)
    (src / "mapping.yaml").write_text(block)
    (src / "cdr" / "_SUCCESS").write_text("")
    gb = "gb18030"
    (src / "cdr" / "day=2016-09-05" / "part-0.csv").write_bytes(
        "主叫号码,被叫号码,通话日期,开始时间,通话时长,主叫LAC,主叫CI,被叫LAC,被叫CI\n"
        f"{A},{B},{DAY},10:00:00,0:01:30,4301,17,4301,18\n".encode(gb))
    (src / "subscribers.csv").write_bytes(
        "号码,客户编号,年龄,性别,籍贯,本地号码\n"
        f"{A},O1,30,男,34,是\n{B},O2,25,女,41,否\n".encode(gb))
    (src / "cells.csv").write_bytes(
        "LAC;CI;纬度;经度\n4301;17;31,20;121,40\n4301;18;31,30;121,50\n".encode(gb))
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"source": {"kind": "files",
                                                "mapping": str(src / "mapping.yaml")},
                                     "workdir": str(tmp_path / "work"), "city": dict(SHANGHAI)},
                                    allow_unicode=True))
    cfg = StudyConfig.load(study)
    contract = contract_for(cfg)
    con = connect(":memory:")
    assert ingest_places(con, cfg, contract, "cells").accepted == 2
    assert ingest_subscribers(con, cfg, contract).accepted == 2
    assert land_calls(con, cfg, contract).accepted == 1
    ingest_calls(con, cfg, date.fromisoformat(DAY))
    got = con.execute("SELECT CAST(start_ts AS VARCHAR), duration_s, c.lat, d.lon FROM calls "
                      "JOIN cells c ON c.cell_id = caller_cell "
                      "JOIN cells d ON d.cell_id = callee_cell").fetchall()
    assert got == [(f"{DAY} 10:00:00", 90.0, 31.20, 121.50)]
    assert [_sub(con, o, c) for o in ("O1", "O2") for c in ("sex", "birth_province",
                                                            "has_local_number")] == [
        "M", "Anhui", True, "F", "Henan", False]
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


def test_calls_of_another_month_than_the_calendar_are_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call dated outside the study calendar (the config left at its default month): an
    error naming both the calendar and the files' dates, and nothing replaced; one call inside
    is enough to land (the rest are excluded and counted), and so are more quarantined rows than
    rows outside."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("march 2021"))
    march = [(A, B, f"2021-03-0{d} 10:00:00", f"2021-03-0{d} 10:01:00", "T1", "T2")
             for d in (1, 8)]
    _write(tmp_path / "operator" / "cdr.csv", CALLS_HEADER, march)
    with pytest.raises(ConfigError, match=r"none of the 2 calls .* \(2016-09-01 \.\. 2016-09-30\)"
                                          r": they run from 2021-03-01 to 2021-03-08"):
        _ingest(study)
    _write(tmp_path / "operator" / "cdr.csv", CALLS_HEADER, [CALL, *march])
    _, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 1
    assert stats["landed_calls"].excluded_by_reason == {"outside_calendar": 2}
    # every call of the month unreadable (here its end) beside two dated outside: the
    # quarantine says why, not the calendar
    bad = [(A, B, f"{DAY} 1{h}:00:00", "03:53", "T1", "T2") for h in range(3)]
    _write(tmp_path / "operator" / "cdr.csv", CALLS_HEADER, [*bad, *march])
    _, stats = _ingest(study)
    assert (stats["landed_calls"].accepted, stats["landed_calls"].quarantined_by_reason) == (
        0, {"bad_timestamp": 3})


@pytest.mark.parametrize(("column", "value"), [
    ("duration", "65"),  # a column named as in the contract needs no entry in the mapping
    ("end_ts", f"{DAY} 10:01:05"),
    ("length", "65"),  # neither: an error naming both
])
def test_end_or_duration_named_as_in_the_contract(column: str, value: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A calls file with ``duration`` (or ``end_ts``) under its contract name and no mapping
    entry for either: the call's end is read from it, never left null (which would make every
    call a missed one); with neither, the error names both."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("named as in the contract"))
    _one_call_ending_in(tmp_path / "operator", column, value)
    if column == "length":
        with pytest.raises(MappingError, match="no column 'end_ts' or 'duration'.*'length'"):
            _ingest(study)
        return
    con, _ = _ingest(study)
    assert [(str(r[2]), r[4]) for r in _calls(con)] == [(f"{DAY} 10:00:00", 65.0)]


@pytest.mark.parametrize(("subs", "province", "problem", "variants"), [
    ([], "Shanghai", None, {}),
    ([("13800000009", "O9", "30", "M", "SHANGHAI", "true", ""),
      ("13800000008", "O8", "30", "M", " anhui ", "true", "")], "Shanghai",
     "the study province is spelled ['SHANGHAI', 'Shanghai'] by 2 subscribers",
     {("SHANGHAI", "Shanghai"): (2, True), ("Anhui", "anhui"): (2, False)}),
    ([("13800000008", "O8", "30", "M", "ANHUI", "true", "")], "Shanghai",
     "1 provinces are spelled several ways", {("ANHUI", "Anhui"): (2, False)}),
    ([], "上海", "the study province is spelled ['Shanghai'] by 1 subscribers",
     {("Shanghai",): (1, True)}),  # the config in Chinese, the file in pinyin
    ([], "Beijing", "no subscriber is born in 'Beijing' (city.province) as spelled", {}),
    # another script or a suffix: two systems' exports merged
    ([("13800000009", "O9", "30", "M", "上海市", "true", ""),
      ("13800000008", "O8", "30", "M", "Shanghai Shi", "true", ""),
      ("13800000007", "O7", "30", "M", "安徽省", "true", "")], "Shanghai",
     "the study province is spelled ['Shanghai', 'Shanghai Shi', '上海市'] by 3 subscribers",
     {("Shanghai", "Shanghai Shi", "上海市"): (3, True), ("Anhui", "安徽省"): (2, False)}),
    ([("13800000009", "O9", "30", "M", "Shanxi", "true", ""),
      ("13800000008", "O8", "30", "M", "陕西", "true", "")], "Shanghai",
     None, {}),  # 山西 Shanxi and 陕西 Shaanxi are two provinces
    # a study abroad: a system that writes names without accents or hyphens, in capitals
    ([("13800000009", "O9", "30", "M", "ILE DE FRANCE", "true", ""),
      ("13800000008", "O8", "30", "M", "Île-de-France", "true", "")], "Île-de-France",
     "the study province is spelled ['ILE DE FRANCE', 'Île-de-France'] by 2 subscribers",
     {("ILE DE FRANCE", "Île-de-France"): (2, True)}),
    # a county's code of GB/T 2260 (Pudong, from an ID card) is its province's; a code of
    # another province's county is that province
    ([("13800000009", "O9", "30", "M", "310115", "true", ""),
      ("13800000008", "O8", "30", "M", "340104", "true", "")], "Shanghai",
     "the study province is spelled ['310115', 'Shanghai'] by 2 subscribers",
     {("310115", "Shanghai"): (2, True), ("340104", "Anhui"): (2, False)}),
    # an ID card's address (the province, then a place below it) and the one-character
    # abbreviations (沪, 皖) are their provinces'; a city (宁波市) is no province of its own
    ([("13800000009", "O9", "30", "M", "上海市浦东新区", "true", ""),
      ("13800000008", "O8", "30", "M", "沪", "true", ""),
      ("13800000007", "O7", "30", "M", "安徽省合肥市", "true", ""),
      ("13800000006", "O6", "30", "M", "皖", "true", ""),
      ("13800000005", "O5", "30", "M", "宁波市", "true", "")], "Shanghai",
     "the study province is spelled ['Shanghai', '上海市浦东新区', '沪'] by 3 subscribers",
     {("Shanghai", "上海市浦东新区", "沪"): (3, True),
      ("Anhui", "安徽省合肥市", "皖"): (3, False)}),
    # the official English names of the autonomous regions, with their people
    ([("13800000009", "O9", "30", "M", "Guangxi Zhuang Autonomous Region", "true", ""),
      ("13800000008", "O8", "30", "M", "广西壮族自治区", "true", ""),
      ("13800000007", "O7", "30", "M", "Xinjiang Uygur Autonomous Region", "true", ""),
      ("13800000006", "O6", "30", "M", "XINJIANG", "true", "")], "Shanghai",
     "2 provinces are spelled several ways",
     {("Guangxi Zhuang Autonomous Region", "广西壮族自治区"): (2, False),
      ("XINJIANG", "Xinjiang Uygur Autonomous Region"): (2, False)}),
    # Turkish: the dotless ı folds to i (strip_accents keeps it), so a capital or ASCII
    # spelling of the study province is named as the study province's, changing who is local
    ([("13800000009", "O9", "30", "M", "DİYARBAKIR", "true", ""),
      ("13800000008", "O8", "30", "M", "Diyarbakır", "true", ""),
      ("13800000007", "O7", "30", "M", "Sanliurfa", "true", ""),
      ("13800000006", "O6", "30", "M", "Şanlıurfa", "true", "")], "Diyarbakır",
     "the study province is spelled ['Diyarbakır', 'DİYARBAKIR'] by 2 subscribers",
     {("Diyarbakır", "DİYARBAKIR"): (2, True), ("Sanliurfa", "Şanlıurfa"): (2, False)}),
    # a suffix makes one province only of China's: Mexico City is not the State of Mexico
    ([("13800000009", "O9", "30", "M", "Mexico", "true", ""),
      ("13800000008", "O8", "30", "M", "Mexico City", "true", "")], "Mexico City", None, {}),
])
def test_province_spellings(subs: list, province: str, problem: str | None, variants: dict,
                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Birth provinces equal up to case, accents, spaces, a suffix or the script are different
    provinces to the pipeline: the subscribers' check names them, with whether that changes who
    is local."""
    from migrant_assets.ingest import province_spellings

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("spellings", subs=subs,
                                     study={"city": {"province": province}}))
    con, _ = _ingest(study)
    out = province_spellings(con, StudyConfig.load(study))
    assert out["users_with_province"] == 2 + len(subs)  # O1 (A and C) and O2, then the new
    assert {tuple(v["spellings"]): (v["users"], v["is_study_province"])
            for v in out["variants"]} == variants
    assert (out["problem"] is None) if problem is None else out["problem"].startswith(problem)
    assert out["locals_affected"] == (problem is not None and "several ways" not in problem)


def test_an_owner_id_standing_for_no_owner_is_counted_by_owner_numbers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Numbers exported with owner UNKNOWN (no registered owner) are one user: owner_numbers
    counts the owners above thresholds.max_numbers_per_owner; UNKNOWN as a null token
    quarantines them. An owner -1, a negative number, is no owner's id: masked_id."""
    from migrant_assets.ingest import owner_numbers

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    subs = [(f"1390000{i:04d}", "UNKNOWN", "30", "M", "Anhui", "false", "") for i in range(4)]
    study, _ = _setup(tmp_path, Case("no owner", subs=subs,
                                     study={"thresholds": {"max_numbers_per_owner": 3}}))
    con, _ = _ingest(study)
    cfg = StudyConfig.load(study)
    assert owner_numbers(con, cfg) == {"users": 3, "owners_over": 1, "their_numbers": 4,
                                       "most_numbers": 4}  # O1 (A and C), O2 and UNKNOWN
    src = tmp_path / "operator"
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    mapping["null_tokens"] = ["", "UNKNOWN"]
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    con, stats = _ingest(study)
    assert owner_numbers(con, cfg) == {"users": 2, "owners_over": 0, "their_numbers": 0,
                                       "most_numbers": 2}
    assert stats["subscribers"].quarantined_by_reason == {"missing_id": 4}
    subs_file = src / "subs.csv"
    subs_file.write_text(subs_file.read_text().replace(",UNKNOWN,", ",-1,"))
    con, stats = _ingest(study)
    assert stats["subscribers"].quarantined_by_reason == {"masked_id": 4}


@pytest.mark.parametrize("key", [KEY, *(f"another-key-{i}-with-32-bytes-at-the-very-least"
                                          for i in range(5))])
def test_an_owners_conflicting_attributes_come_from_the_first_row(
        key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An owner whose numbers disagree (A says 30, M; C says 40, F) takes each attribute from
    the first row in file order that has one, whatever the pseudonymisation key: a key changed
    between two runs changes no age."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", key)
    study, _ = _setup(tmp_path, Case("conflicting attributes"))
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER, [
        (A, "O1", "", "", "Shanghai", "true", "regular"), SUBS[1],
        (C, "O1", "40", "F", "Anhui", "true", "regular"),
        ("13800000009", "O1", "50", "M", "Jiangsu", "true", "regular")])
    con, _ = _ingest(study)
    uid = pseudonym(key, "user", "O1")
    assert con.execute("SELECT age, sex, birth_province, n_numbers FROM subscribers "
                       "WHERE user_id = ?", [uid]).fetchone() == (40, "F", "Shanghai", 3)


def test_user_types_neither_regular_nor_service_are_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user_type the config does not know (VIP; a number, from a column mapped by mistake) is
    counted as regular: the user_types check warns naming it (a number only by its length),
    and passes once the mapping recodes it."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("user types", subs=[
        ("13800000009", "O9", "30", "M", "Anhui", "true", "VIP"),
        ("13800000008", "O8", "30", "M", "Anhui", "true", "vip"),
        ("13800000007", "O7", "30", "M", "Anhui", "true", "13912345678"),
        ("13800000006", "O6", "30", "M", "Anhui", "true", "Delivery")]))
    check = _ingestion_checks(study, "subscribers")[("subscribers", "user_types")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    md = {k: v.value for k, v in check.metadata.items()}
    assert (md["numbers"], md["unknown_numbers"], md["judged"]) == (7, 3, 7)
    assert md["unknown_types"] == [{"user_type": "vip", "numbers": 2},
                                   {"user_type": "<redacted: 11 characters>", "numbers": 1}]
    assert "13912345678" not in str(md)
    _remap(tmp_path / "operator", "subscribers",
           recode={"user_type": {"VIP": "regular", "vip": "regular", "13912345678": "regular"}})
    check = _ingestion_checks(study, "subscribers")[("subscribers", "user_types")]
    assert check.passed and check.metadata["judged"].value == 7


def test_unreadable_ages_and_sexes_keep_their_subscribers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sex U (an export's code for unknown) or an age 34.5 does not remove its subscriber:
    the user is stored with that attribute unknown, keeps their calls and label, and the
    readable_attributes check warns naming the values (counted by hand); when most sexes are
    a code the mapping does not recode (1/2), it fails; recoding U to null makes it pass."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    rows = [(f"1380000{i:04d}", f"O{i}", "30", "F", "Anhui", "true", "regular")
            for i in range(10, 30)]
    rows[0] = (*rows[0][:3], "U", *rows[0][4:])
    rows[1] = (*rows[1][:3], "U", *rows[1][4:])
    rows[2] = (*rows[2][:2], "34.5", *rows[2][3:])
    study, _ = _setup(tmp_path, Case("unknown codes", subs=rows))
    checks = _ingestion_checks(study, "subscribers")
    check = checks[("subscribers", "readable_attributes")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    md = {k: v.value for k, v in check.metadata.items()}
    # the valid case's subscribers (A, B, C under owners O1, O2) and the 20 written here
    users = 20 + len({"O1", "O2"})
    assert (md["numbers"], md["unreadable_ages"], md["unreadable_sexes"]) == (users + 1, 1, 2)
    assert md["values"] == [{"attribute": "sex", "value": "U", "numbers": 2},
                            {"attribute": "age", "value": "34.5", "numbers": 1}]
    assert "sex 'U' (2)" in md["check_first"] and "{sex: {U: null}}" in md["check_first"]
    assert not checks[("subscribers", "quarantine_share")].metadata.get("check_first")
    con = duckdb.connect(str(StudyConfig.load(study).duckdb_path), read_only=True)
    assert con.execute("SELECT count(*), count(sex), count(age) FROM subscribers").fetchone() == (
        users, users - 2, users - 1)
    con.close()

    _remap(tmp_path / "operator", "subscribers", recode={"sex": {"U": None}})
    check = _ingestion_checks(study, "subscribers")[("subscribers", "readable_attributes")]
    assert [v["attribute"] for v in check.metadata["values"].value] == ["age"]

    coded = [(*r[:3], "1" if i % 2 else "2", *r[4:]) for i, r in enumerate(rows)]
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER, [*SUBS, *coded])
    check = _ingestion_checks(study, "subscribers")[("subscribers", "readable_attributes")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR

    _remap(tmp_path / "operator", "subscribers", recode={"sex": {"1": "M", "2": "F"},
                                                         "age": {"34.5": "34"}})
    check = _ingestion_checks(study, "subscribers")[("subscribers", "readable_attributes")]
    assert check.passed and check.metadata["judged"].value == users + 1


#: Owner ids no attribute could be: letters and digits, an e-mail.
OTHERS = ("CUST-00123", "jane.doe@example.com", "u_48213")


def test_numbers_in_other_columns_are_never_shown(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A number written with separators in a time, age, sex or province column (a column mapped
    by mistake) is shown in no quarantine record nor count of unreadable values, a province
    holding one is a bad attribute (never stored), so is a province, user type, age or sex
    holding the row's own owner id or another row's (of letters and digits), and a header
    line repeated inside a file (``cat`` of daily files whose columns are named as the
    contract's) is no raw identifier: the privacy checks pass."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    written = ["+86 139 1234 5678", "(139) 1234-5678", "139-1234-5678", "13,912,345,678",
               "139 1234 5678"]
    study, _ = _setup(tmp_path, Case("numbers elsewhere", calls=[
        (A, B, written[0], T + "11:01:00", "T1", "T2"),
        (A, B, T + "12:00:00", written[1], "T1", "T2"),
        ("caller", "callee", "start_ts", "end_ts", "caller_cell", "callee_cell")],
        subs=[("13800000007", "O7", "30", "M", written[2], "true", "regular"),
              ("13800000006", "O6", f'"{written[3]}"', "M", "Anhui", "true", "regular"),
              ("13800000005", "O5", "30", written[4], "Anhui", "true", "regular"),
              # a short owner id in the province, user type, age or sex column of its own row
              ("13800000004", "K00049", "30", "M", "K00049", "true", "regular"),
              ("13800000003", "K00050", "30", "M", "Anhui", "true", "k00050"),
              ("13800000012", "K00051", "K00051", "M", "Anhui", "true", "regular"),
              ("13800000011", "K00052", "30", "k00052", "Anhui", "true", "regular"),
              *[(f"1380000002{i}", owner, "31", "F", "Anhui", "true", "regular")
                for i, owner in enumerate(OTHERS)],
              # another row's owner id (letters and digits, an e-mail) in the province, user
              # type, age or sex column: an account holder's field mapped, a shifted export
              ("13800000031", "K00053", "30", "M", OTHERS[0], "true", "regular"),
              ("13800000032", "K00054", "30", "M", "Anhui", "true", OTHERS[1]),
              ("13800000033", "K00055", OTHERS[2], "M", "Anhui", "true", "regular"),
              ("13800000034", "K00056", "30", OTHERS[0], "Anhui", "true", "regular"),
              # an owner id as short as a user type (4G) is no identifier of another row's
              ("13800000035", "4G", "30", "M", "Anhui", "true", "regular"),
              ("13800000036", "K00057", "30", "M", "Anhui", "true", "4G")]))
    checks = _ingestion_checks(study)
    assert checks[("subscribers", "no_raw_identifiers")].passed
    assert checks[("landed_calls", "no_raw_identifiers")].passed
    con = duckdb.connect(str(StudyConfig.load(study).duckdb_path), read_only=True)
    got = con.execute("SELECT source, reason, record FROM quarantine ORDER BY ALL").fetchall()
    assert [r[:2] for r in got] == [("landed_calls", "bad_timestamp")] * 3 + [
        ("subscribers", "bad_attribute")] * 9
    shown = [re.sub(r'"(number|owner_id)":[0-9]+', "", r[2]) for r in got]  # pseudonyms
    assert not [s for s in shown for w in written if w in s or "1234" in s]
    stored = " ".join(con.table(table).df().to_csv() for table in (
        "subscribers", "quarantine", "user_types_subscribers", "unreadable_attributes_subscribers",
    )).lower()
    assert "anhui" in stored and not [o for o in OTHERS if o.lower() in stored]
    assert con.execute("SELECT count(*) FROM user_types_subscribers WHERE user_type = '4g'"
                       ).fetchone()[0] == 1
    # the age and the sex holding a number are unreadable: unknown, counted by their length
    assert con.execute("SELECT attribute, value, numbers FROM unreadable_attributes_subscribers "
                       "ORDER BY ALL").fetchall() == [
        ("age", "<redacted: 14 characters>", 1), ("sex", "<redacted: 13 characters>", 1)]
    assert not [r for r in got if "k000" in r[2].lower()]
    check = checks[("subscribers", "readable_attributes")]
    assert "k000" not in str({k: v.value for k, v in check.metadata.items()}).lower()
    assert con.execute("SELECT count(*) FROM subscribers WHERE birth_province LIKE '%1234%'"
                       ).fetchone()[0] == 0


@pytest.mark.parametrize(("value", "unnamed", "word"), [
    ("NO ESPECIFICADO", True, True), ("Inconnu", True, True), ("Non renseigné", True, True),
    ("N/D", True, True), ("Unbekannt", True, True), ("未知", True, True),
    ("BİLİNMİYOR", True, True), ("Belirtilmemiş", True, True), ("Diyarbakır", False, False),
    ("340000", True, False), ("-", True, False),
    ("Αττική", False, False), ("Москва", False, False), ("Île-de-France", False, False),
])
def test_words_for_unknown_and_names_in_any_script(value: str, unnamed: bool,
                                                   word: bool) -> None:
    """birth_provinces.sql: a word for unknown in the languages of the studies' likely cities
    names no province; a name in any script (Greek, Cyrillic) does, text without a letter
    (a code) does not."""
    con = connect(":memory:")
    con.execute("CREATE TABLE subscribers AS SELECT ? AS birth_province, true AS "
                "has_local_number", [value])
    out = run_sql(con, "ingest/birth_provinces.sql", {"province": "X"}).fetchone()
    assert out[:3] == (1, int(unnamed), int(word))


def test_provinces_that_name_none_and_an_inverted_local_flag(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A birth province written as a word for unknown (未知) or as a code (340000) counts as
    born elsewhere: the unnamed_provinces check fails naming them (ERROR for words, a warning
    for a code of another province; the city's province as its code 310000 fails
    province_spellings), and passes once they are recoded (to null: not studied). A local
    flag read the other way (an is_migrant column mapped to is_local_number) leaves the users
    born in the city without a local number: the local_numbers check fails; the recode that
    inverts it passes."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("provinces", subs=[
        ("13800000009", "O9", "30", "M", "未知", "true", "regular"),
        ("13800000008", "O8", "30", "M", "340000", "true", "regular"),
        ("13800000007", "O7", "30", "M", "Shanghai", "true", "regular")]))
    checks = _ingestion_checks(study, "subscribers")
    check = checks[("subscribers", "unnamed_provinces")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    md = {k: v.value for k, v in check.metadata.items()}
    assert (md["users_with_province"], md["unnamed_users"]) == (5, 2)
    assert md["unnamed"] == [{"value": "340000", "users": 1}, {"value": "未知", "users": 1}]
    assert checks[("subscribers", "local_numbers")].passed
    src = tmp_path / "operator"
    _remap(src, "subscribers", recode={"birth_province": {"未知": None}})
    # a code of another province: born elsewhere indeed
    checks = _ingestion_checks(study, "subscribers")
    assert checks[("subscribers", "unnamed_provinces")].severity == dg.AssetCheckSeverity.WARN
    # Anhui and 340000: one province spelled two ways, which splits it only (a warning)
    assert checks[("subscribers", "province_spellings")].severity == dg.AssetCheckSeverity.WARN
    _remap(src, "subscribers", recode={"birth_province": {"未知": None, "340000": "Anhui",
                                                          "Shanghai": "310000"}})
    checks = _ingestion_checks(study, "subscribers")  # the city's province as its code: locals lost
    spellings = checks[("subscribers", "province_spellings")]
    assert not spellings.passed and spellings.severity == dg.AssetCheckSeverity.ERROR
    _remap(src, "subscribers", recode={"birth_province": {"未知": None, "340000": "Anhui"}})
    assert _ingestion_checks(study, "subscribers")[("subscribers", "unnamed_provinces")].passed
    # the flag of a column meaning "migrant": the users born in Shanghai hold no local number
    _write(src / "subs.csv", SUBS_HEADER, [
        (A, "O1", "30", "M", "Shanghai", "false", "regular"),
        (B, "O2", "25", "F", "Anhui", "true", "regular"),
        ("13800000007", "O7", "30", "M", "Shanghai", "false", "regular")])
    check = _ingestion_checks(study, "subscribers")[("subscribers", "local_numbers")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert (check.metadata["born_in_province"].value,
            check.metadata["born_with_local_number"].value) == (2, 0)
    assert "recode: {is_local_number:" in check.metadata["check_first"].value
    _remap(src, "subscribers", recode={"is_local_number": {"true": "false", "false": "true"}})
    assert _ingestion_checks(study, "subscribers")[("subscribers", "local_numbers")].passed


def test_prices_off_the_usual_scale_are_named(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Prices per m² in another unit pass the row rules but not the price_scale check: a few
    under a tenth of the median (165.860 with '.' between thousands, read 165.86), or every
    price a flat's total in 万 yuan (a median of 490)."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("price scale", estates=[
        ("X2", "31.25", "121.45", "61000"), ("X3", "31.25", "121.45", "165.860")]))
    check = _ingestion_checks(study, "estates")[("estates", "price_scale")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert (check.metadata["estates"].value, check.metadata["median_price"].value,
            check.metadata["far_below_median"].value) == (3, 52000.0, 1)
    src = tmp_path / "operator"
    _write(src / "prices.csv", "xiaoqu,lat,lon,price",
           [(f"X{i}", "31.25", "121.45", str(p)) for i, p in enumerate((380, 490, 620))])
    check = _ingestion_checks(study, "estates")[("estates", "price_scale")]
    assert not check.passed and "median price per m² is 490, under 1,000" in \
        check.metadata["check_first"].value
    _write(src / "prices.csv", "xiaoqu,lat,lon,price",
           [(f"X{i}", "31.25", "121.45", str(p)) for i, p in enumerate((38000, 49000, 62000))])
    assert _ingestion_checks(study, "estates")[("estates", "price_scale")].passed


def test_a_rent_mapped_as_the_price_per_sqm_is_named(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A Shanghai flat's monthly rent (6,300 yuan) lies within the usual range of a price per
    m², so only the name of the column mapped to it can tell: the price_scale check warns
    naming it, and passes once a sale price per m² is mapped."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("rent"))
    src = tmp_path / "operator"
    _write(src / "prices.csv", "xiaoqu,lat,lon,rent_cny_month,price_per_m2",
           [(f"X{i}", "31.25", "121.45", str(r), str(p))
            for i, (r, p) in enumerate(((5200, 48000), (6300, 52000), (7400, 61000)))])
    _remap(src, "estates", columns={"estate_id": "xiaoqu", "lat": "lat", "lon": "lon",
                                    "price_per_sqm": "rent_cny_month"})
    check = _ingestion_checks(study, "estates")[("estates", "price_scale")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["median_price"].value == 6300.0
    assert "named 'rent_cny_month', which reads as a rent" in check.metadata["check_first"].value
    _remap(src, "estates", columns={"estate_id": "xiaoqu", "lat": "lat", "lon": "lon",
                                    "price_per_sqm": "price_per_m2"})
    assert _ingestion_checks(study, "estates")[("estates", "price_scale")].passed


@pytest.mark.parametrize(("column", "doubtful"), [
    ("rent_cny_month", True), ("monthly_rent", True), ("total_price_wan", True), ("租金", True),
    ("总价", True), ("单价(万/平)", True), ("price_wan_per_m2", True), ("RentPerMonth", True),
    ("price_per_m2", False), ("unit_price", False), ("均价", False), ("price_per_sqm", False),
    ("current_price", False), ("parent_estate_price", False), ("成交月份均价", False)])
def test_price_column_names_that_say_another_quantity(column: str, doubtful: bool) -> None:
    from migrant_assets.ingest import price_column_doubt

    assert (price_column_doubt([column]) is not None) is doubtful


def test_places_listed_twice_with_other_values_are_named(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An estate listed again with another price (a file of listings) or a cell with other
    coordinates (an antenna that moved) keeps its first row, and the duplicates_agree check
    warns naming it; a row listed again as it was is a copy, which it does not name. A
    geocoder's 8 decimals are shown in the quarantine record (they are no identifier)."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("listings", estates=[
        ("X1", "31.25", "121.45", "50783"), ("X1", "31.25", "121.45", "53007"),
        ("X1", "31.25", "121.45", "55200"), ("X2", "31.26", "121.46", "61000"),
        ("X2", "31.26", "121.46", "61000"), ("X3", "39.90566208", "116.40566208", "61000")]))
    checks = _ingestion_checks(study, "cells", "estates")
    check = checks[("estates", "duplicates_agree")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    md = {k: v.value for k, v in check.metadata.items()}
    assert (md["duplicate_rows"], md["differing_rows"], md["examples"]) == (3, 2, ["X1"])
    assert "a file of listings" in md["check_first"]
    assert checks[("cells", "duplicates_agree")].passed
    con = duckdb.connect(str(StudyConfig.load(study).duckdb_path), read_only=True)
    assert con.execute("SELECT price_per_sqm FROM estates WHERE estate_id = 'X1'"
                       ).fetchall() == [(50783.0,)]  # the first row in file order
    records = [json.loads(r) for (r,) in con.execute(
        "SELECT record FROM quarantine_estates ORDER BY row_number").fetchall()]
    assert [r.get("differs_from_kept") for r in records] == [True, True, False, None]
    assert (records[-1]["lat"], records[-1]["lon"]) == ("39.90566208", "116.40566208")
    con.close()


@pytest.mark.parametrize(("written", "shown"), [
    ("39.90566208", "39.90566208"), (" -46,6333 ", "-46,6333"), ("0", "0"),
    ("121.47370000000001", "121.473700000…"),  # a float as pandas writes it
    ("13912345678", "<redacted: 11 characters>"),  # a number in a column mapped by mistake
    ("1391.25", "1391.25"),  # four integer digits: shown as any text without a number is
    ("1391.2345678", "<redacted: 12 characters>"),
    ("13912.345678901", "<redacted: 15 characters>"),
])
def test_what_a_quarantine_record_shows_of_a_coordinate(written: str, shown: str) -> None:
    """A coordinate in a quarantine record (``safe_coordinate``): degrees as written, to 9
    decimals; a run of 7 digits or more only by its length."""
    con = duckdb.connect()
    run_sql(con, "ingest/canonical.sql")
    assert con.execute("SELECT safe_coordinate(?)", [written]).fetchone()[0] == shown


def test_coordinates_rounded_to_a_kilometre_are_named(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Towers kilometres apart whose coordinates a spreadsheet rounded (to whole degrees here)
    are one point: the coordinate_precision check warns from 5 places when half of them lie on
    a grid of 0.01 degree; a geocoder's decimals pass."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    towers = [(f"R{i}", "31", "121") for i in range(6)]
    study, _ = _setup(tmp_path, Case("rounded", cells=towers))
    check = _ingestion_checks(study, "cells")[("cells", "coordinate_precision")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert (check.metadata["rounded_places"].value, check.metadata["judged"].value) == (8, 8)
    assert "8 of 8 cells have coordinates rounded" in check.metadata["check_first"].value
    study, _ = _setup(tmp_path / "exact", Case("exact", cells=[
        (f"R{i}", f"31.2{i}3417", f"121.4{i}8823") for i in range(6)]))
    check = _ingestion_checks(study, "cells")[("cells", "coordinate_precision")]
    assert check.passed and check.metadata["rounded_places"].value == 2  # T1 and T2


def test_a_recode_that_makes_two_sexes_one_is_named(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A Spanish export's sex H (hombre) / M (mujer), recoded H: M only, makes every user male
    and passes every other check: the sexes check warns from 100 users with a sex, naming the
    recode; the recode of both codes passes."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    subs = [(f"139{i:08d}", f"P{i}", "30", "HM"[i % 2], "Anhui", "false", "regular")
            for i in range(120)]
    study, _ = _setup(tmp_path, Case("sexes", subs=subs,
                                     mapping={"subscribers": {"recode": {"sex": {"H": "M"}}}}))
    check = _ingestion_checks(study, "subscribers")[("subscribers", "sexes")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    # the 120 and O1 (M), O2 (F) of the base rows: 122 users with a sex, 121 of them male
    assert (check.metadata["users_with_sex"].value, check.metadata["male_users"].value) == (
        122, 121)
    assert "recode: {sex: {H: M, M: F}}" in check.metadata["check_first"].value
    _remap(tmp_path / "operator", "subscribers", recode={"sex": {"H": "M", "M": "F"}})
    check = _ingestion_checks(study, "subscribers")[("subscribers", "sexes")]
    assert check.passed and check.metadata["male_users"].value == 60


def test_age_0_is_named_and_recoded_to_unknown(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Age 0 (an export's code for an unknown age) is read as 0: the ages check warns with the
    count; ``recode: {age: {'0': null}}`` makes it unknown in the age column only (a local
    flag 0 stays false)."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("age 0", subs=[
        ("13800000009", "O9", "0", "M", "Anhui", "0", "regular"),
        ("13800000008", "O8", "0", "F", "Anhui", "true", "regular")]))
    check = _ingestion_checks(study, "subscribers")[("subscribers", "ages")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert (check.metadata["users_aged_0"].value, check.metadata["judged"].value) == (2, 4)
    assert "recode: {age: {'0': null}}" in check.metadata["check_first"].value
    _remap(tmp_path / "operator", "subscribers", recode={"age": {"0": None}})
    check = _ingestion_checks(study, "subscribers")[("subscribers", "ages")]
    assert check.passed and check.metadata["judged"].value == 2  # O1 and O2
    con, stats = _ingest(study)
    assert [_sub(con, o, "age") for o in ("O1", "O8", "O9")] == [30, None, None]
    assert (_sub(con, "O9", "has_local_number"), stats["subscribers"].quarantined) == (False, 0)


def test_a_birth_date_standing_for_unknown_is_named_and_recoded_to_unknown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CRM's birth date for an unknown one (19000101: age 116 in 2016) is read as written:
    the ages check warns with the count and the recode that makes it unknown."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("birth 1900", mapping={
        "subscribers": {"columns": {"birth_year": "age"}}}, subs=[
        ("13800000009", "O9", "19000101", "M", "Anhui", "0", "regular"),
        ("13800000008", "O8", "19860312", "F", "Anhui", "true", "regular")]))
    src = tmp_path / "operator"
    (src / "subs.csv").write_text((src / "subs.csv").read_text().replace(
        ",30,", ",19860101,").replace(",25,", ",19910101,"))
    check = _ingestion_checks(study, "subscribers")[("subscribers", "ages")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert (check.metadata["users_older_than_105"].value, check.metadata["judged"].value) == (
        1, 4)
    assert "recode: {birth_year: {'19000101': null}}" in check.metadata["check_first"].value
    _remap(src, "subscribers", recode={"birth_year": {"19000101": None}})
    check = _ingestion_checks(study, "subscribers")[("subscribers", "ages")]
    assert check.passed and check.metadata["judged"].value == 3
    con, _ = _ingest(study)
    assert [_sub(con, o, "age") for o in ("O1", "O8", "O9")] == [30, 30, None]


def test_sequential_owner_ids_beside_cell_ids_and_counts_are_no_leak(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Owner ids 100001, 100002 (a CRM's sequence) equal a part of an LTE cell id
    (460-11-10001-100001), a token of a file name, a count and a province's code (340000): the
    blocking privacy search stopped the pipeline on them. Those are explained by the cells file,
    the file labels, the counts and the province codes; the same owner id inside other text,
    and a phone number stored as an integer, are still found."""
    from migrant_assets.ingest import identifier_scan

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("sequential owners"))
    src = tmp_path / "operator"
    _write(src / "subs_100002.csv", SUBS_HEADER,  # the bad age stores the file's name
           [(A, "100001", *SUBS[0][2:]), (B, "100002", *SUBS[1][2:]), (C, "100001", *SUBS[2][2:]),
            ("13800000009", "100003", "old", "M", "Anhui", "true", "regular"),
            ("13800000008", "100004", "30", "M", "Anhui", "true", "regular"),
            # an owner id equal to a province's 6-digit code (GB/T 2260), written as a code
            ("13800000007", "340000", "30", "M", "Anhui", "true", "regular"),
            ("13800000006", "100005", "30", "M", "340000", "true", "regular")])
    _write(src / "towers.csv", "tower,latitude,longitude",  # the second is quarantined
           [("460-11-10001-100001", "31.20", "121.40"), ("T2", "31.30", "121.50"),
            ("460-11-10001-100004", "39.90", "116.40")])
    _remap(src, "subscribers", path="subs_100002.csv")
    cfg = StudyConfig.load(study)
    contract = contract_for(cfg)
    con = connect(":memory:")
    con.execute("CREATE TABLE counts (n BIGINT)")
    con.execute("INSERT INTO counts VALUES (100002)")  # a count or a row number
    assert ingest_places(con, cfg, contract, "cells").quarantined_by_reason == {
        "outside_bbox": 1}
    ingest_subscribers(con, cfg, contract)
    assert identifier_scan(con, "subscribers")[1] == {}
    con.execute("CREATE TABLE planted (note VARCHAR, n BIGINT)")
    con.execute("INSERT INTO planted VALUES (?, ?), (?, ?), (?, ?)",
                ["owner 100003 again", int(A), "rang +86 138 0000 0002", 1,
                 "rang (138) 0000-0002 twice", 2])  # B written with separators
    ingest_subscribers(con, cfg, contract)
    assert identifier_scan(con, "subscribers")[1] == {"planted.note": 3, "planted.n": 1}


#: National calls beside the first (A to B): the usual length of the calls' numbers is 11.
NATIONAL_CALLS = [(C, "13900000004", f"{DAY} 12:00:00", f"{DAY} 12:01:00", "T1", "T2"),
                  ("13900000005", "13900000006", f"{DAY} 13:00:00", f"{DAY} 13:01:00", "T1", "T2")]


@pytest.mark.parametrize(("shape", "written", "caller_b", "rule", "found"), [
    ("one way", {}, B, None, 0),
    ("a foreign number", {}, "+442079460000", None, 0),  # B's call is then from abroad
    ("subscribers with +86", {B: "+86" + B}, B, {"country_code": "86", "national_digits": 11},
     1),
    ("calls with 0086", {}, "0086" + B, {"country_code": "86", "national_digits": 11}, 1),
    ("calls with a bare 86", {}, "86" + B, {"country_code": "86", "national_digits": 11}, 1),
    ("calls with a trunk 0", {}, "0" + B, {"national_digits": 11, "trunk_prefix": "0"}, 1),
    # a dialled prefix before the number (Mexico's 044 for a local mobile)
    ("calls with a dialled 044", {}, "044" + B, {"national_digits": 11, "trunk_prefix": "044"},
     1),
    # China's IP long-distance prefixes dialled before a mobile number
    ("calls with an IP prefix 17951", {}, "17951" + B,
     {"national_digits": 11, "trunk_prefix": "17951"}, 1),
    # the country code in parentheses; VoLTE's telephone URIs
    ("calls with (+86)", {}, "(+86)" + B, {"country_code": "86", "national_digits": 11}, 1),
    ("calls as a tel: URI", {}, "tel:+86" + B, {"country_code": "86", "national_digits": 11},
     1),
    ("calls as a sip: URI", {}, f"sip:+86{B}@ims.mnc000.mcc460.3gppnetwork.org;user=phone",
     {"country_code": "86", "national_digits": 11}, 1),
    # the calls' usual numbers have the trunk 0 (a French export, 06… beside +33 6…): B and C
    ("calls mostly with a trunk 0", {}, "0" + B, {"national_digits": 11, "trunk_prefix": "0"},
     2),
    # most subscribers with a bare 86, B without: A and C, in the calls without it, are lost
    ("subscribers mostly with a bare 86", {A: "86" + A, C: "86" + C, "13800000009":
                                           "8613800000009"}, B,
     {"country_code": "86", "national_digits": 11}, 2),
])
def test_numbers_written_two_ways_name_the_numbers_rule(
        shape: str, written: dict, caller_b: str, rule: dict | None, found: int,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscriber's number written with a country code (or a trunk 0) in one file and
    without it in the other loses that subscriber's calls, and every other check passes: the
    number_forms check fails naming the numbers rule, and the rule it names links the calls."""
    import dagster as dg

    from migrant_assets.ingest import number_forms

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    call = (caller_b, A, f"{DAY} 11:00:00", f"{DAY} 11:01:00", "T1", "T2")
    subs = [(written.get(r[0], r[0]), *r[1:])
            for r in [*SUBS, ("13800000009", "O9", "40", "F", "Anhui", "true", "regular")]]
    national = [("0" + r[0], "0" + r[1], *r[2:]) for r in NATIONAL_CALLS] \
        if shape == "calls mostly with a trunk 0" else NATIONAL_CALLS
    study, _ = _setup(tmp_path, Case(shape, calls=[call, *national]))
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER, subs)
    con, _ = _ingest(study)
    out = number_forms(con)
    assert (out["subscriber_numbers"], out["written_two_ways"]) == (4, found)
    b_linked = con.execute("SELECT caller FROM calls WHERE hour(start_ts) = 11").fetchall() == [
        (_uid("O2"),)]
    assert b_linked == (written.get(B, B) == caller_b)
    if rule is None:
        assert out["check_first"] is None
        return
    text = ", ".join(f"{k}: {v!r}" for k, v in rule.items())
    assert f"numbers: {{{text}}}" in out["check_first"]
    if shape == "calls mostly with a trunk 0":  # the rule named keeps the mapping's own
        assert "numbers: {country_code: '86', national_digits: 11, trunk_prefix: '0'}" in \
            number_forms(con, Numbers(country_code="86"))["check_first"]
    if shape == "subscribers with +86":  # beside the mapping's landlines of 10: both lengths
        assert "numbers: {country_code: '86', national_digits: [10, 11]}" in number_forms(
            con, Numbers(country_code="86", national_digits=10))["check_first"]
    if shape == "calls with a dialled 044":  # beside the mapping's 045: both, in one rule
        assert "numbers: {national_digits: 11, trunk_prefix: ['045', '044']}" in number_forms(
            con, Numbers(national_digits=11, trunk_prefix="045"))["check_first"]
    if shape == "calls with a trunk 0":  # the check is this function's, run by Dagster once
        check = _ingestion_checks(study)[("landed_calls", "number_forms")]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
        assert check.metadata["check_first"].value == out["check_first"]
    _remap(tmp_path / "operator", "numbers", **rule)
    con, _ = _ingest(study)
    assert number_forms(con)["written_two_ways"] == 0
    assert con.execute("SELECT caller, callee FROM calls WHERE hour(start_ts) IN (10, 11) "
                       "ORDER BY start_ts").fetchall() == [(_uid("O1"), _uid("O2")),
                                                           (_uid("O2"), _uid("O1"))]


@pytest.mark.parametrize(("unit", "column", "value", "seconds"), [
    ("ms", "duration", "65250", 65.25),
    ("ms", "duration", "0:01:05", 65.0),  # a clock duration is read as such
    ("s", "duration", "65", 65.0),
    # a spreadsheet's time of 0:01:05 saved as a number: a fraction of a day
    ("d", "duration", repr(65 / 86400), 65.0),
    # durations with their units (a Chinese billing export's 3分25秒); the unit rule is for
    # bare numbers
    ("s", "duration", "3分25秒", 205.0), ("min", "duration", "1小时2分3秒", 3723.0),
    ("s", "duration", "2 min 5 sec", 125.0), ("s", "duration", "35s", 35.0),
    ("ms", "finish", f"{DAY} 10:01:05", None),  # the end from end_ts: the unit is an error
])
def test_duration_unit(unit: str, column: str, value: str, seconds: float | None,
                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("unit", mapping={"calls": {"duration_unit": unit}}))
    _one_call_ending_in(tmp_path / "operator", column, value, drop_end_ts=column == "duration")
    if seconds is None:
        with pytest.raises(MappingError, match="duration_unit is 'ms', but the calls' end"):
            _ingest(study)
        return
    con, _ = _ingest(study)
    assert [r[4] for r in _calls(con)] == [seconds]


@pytest.mark.parametrize(("tokens", "outcome"), [
    # the cell 0 an export writes for "no cell" is no cell; the duration 0 is read: a missed
    # call (a contact without duration)
    ({"calls": {"null_tokens": {"caller_cell": ["0"], "callee_cell": ["0"]}}}, "kept"),
    ({}, ("calls", "unknown_cell")),  # "0" is a cell id, which no cell has
    # a token of every column also empties the duration 0: the call has no end
    ({"null_tokens": ["", "0"]}, ("landed_calls", "bad_duration")),
])
def test_a_columns_own_null_tokens(tokens: dict, outcome: object, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A table's ``null_tokens`` of one column (a cell ``0`` for "no cell") empty that column
    only, where the mapping's ``null_tokens`` hold for every column (a duration 0 too)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("column tokens", mapping=tokens))
    _one_call_ending_in(tmp_path / "operator", "duration", "0", callee_cell="0")
    con, _ = _ingest(study)
    quarantined = con.execute("SELECT source, reason FROM quarantine").fetchall()
    if outcome == "kept":
        assert quarantined == []
        assert con.execute("SELECT end_ts, duration_s, caller_cell, callee_cell FROM calls"
                           ).fetchall() == [(None, None, "T1", None)]
    else:
        assert quarantined == [outcome]


def test_a_number_in_the_duration_column_is_not_shown(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A phone number read as a duration (headerless daily files whose columns moved) is
    bad_duration, and its quarantine record shows the value's length, never the number (it
    showed the parsed 13712340000.0: no party, so no privacy search looked for it)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("number as duration"))
    _one_call_ending_in(tmp_path / "operator", "duration", "13712340000")
    con, _ = _ingest(study)
    assert con.execute("SELECT reason, json_extract_string(record, '$.duration') "
                       "FROM quarantine").fetchall() == [
        ("bad_duration", "<redacted: 13 characters>")]


def test_a_csv_column_added_in_a_later_file_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Daily CSV files whose later days add a column the reader uses (``event_type``, with SMS
    rows): DuckDB reads every file with the first file's columns, so the SMS landed as calls;
    now an error naming the column and the first file. A column the reader does not use may
    come and go."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("column added later"))
    src = tmp_path / "operator"
    _write(src / "cdr" / "day1.csv", CALLS_HEADER, [CALL])
    _write(src / "cdr" / "day2.csv", CALLS_HEADER + ",event_type",
           [(A, B, f"{DAY} 12:00:00", f"{DAY} 12:00:00", "T1", "T2", "SMS")])
    _remap(src, "calls", path="cdr/*.csv")
    with pytest.raises(MappingError, match=r"calls: column 'event_type' is in some of the 2 "
                                           r"files and not in the first \(.*day1.csv\)"):
        _ingest(study)
    # beyond the first files whose headers are read together (contract.FILES_PER_HEADER_READ)
    (src / "cdr" / "day2.csv").rename(src / "cdr" / "day9.csv")
    for day in range(2, 9):
        _write(src / "cdr" / f"day{day}.csv", CALLS_HEADER, [CALL])
    with pytest.raises(MappingError, match=r"calls: column 'event_type' is in some of the 9 "):
        _ingest(study)
    for day in range(2, 9):
        (src / "cdr" / f"day{day}.csv").unlink()
    (src / "cdr" / "day9.csv").rename(src / "cdr" / "day2.csv")
    _write(src / "cdr" / "day2.csv", CALLS_HEADER + ",remark",
           [(A, B, f"{DAY} 12:00:00", f"{DAY} 12:01:00", "T1", "T2", "ok")])
    _, stats = _ingest(study)
    assert stats["landed_calls"].accepted == 2
    # a byte that is not UTF-8 in one day's file (a day exported in cp1252 among UTF-8 days)
    # is its line's quarantine row, as in a file read alone, not an error stopping every file
    day2 = (CALLS_HEADER + ",remark\n" + ",".join(CALL) + ",ok\n").encode()
    (src / "cdr" / "day2.csv").write_bytes(day2 + ",".join(CALL[:2]).encode()
                                           + f",{DAY} 11:00:00,{DAY} 11:01:00,T1,T2,".encode()
                                           + b"caf\xe9\n")
    con, stats = _ingest(study)
    assert stats["landed_calls"].read == 3
    assert all(r["balanced"] for r in row_accounting(con, "landed_calls"))


def test_a_columns_null_tokens_name_contract_columns(tmp_path: Path) -> None:
    study, _ = _setup(tmp_path, Case("unknown column", mapping={
        "calls": {"null_tokens": {"a_cell": ["0"]}}}))
    with pytest.raises(MappingError, match=r"calls.null_tokens names unknown contract columns "
                                           r"\['a_cell'\]"):
        contract_for(StudyConfig.load(study))


def test_a_null_token_that_is_a_number_holds_in_a_column_of_numbers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``null_tokens: ["", "-1", "0"]`` empty an INT64 owner -1 and a DOUBLE cell 0.0 of a
    Parquet file as they empty the texts -1 and 0 of a CSV; read as the ids '-1' and '0', the
    numbers of every owner -1 were one user, and every call with cell 0 was unknown_cell."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("number tokens", mapping={"null_tokens": ["", "-1", "0"]}))
    src = tmp_path / "operator"
    numbers = [A, B, C, "13900000004", "13900000005"]
    pq.write_table(pa.table({
        "msisdn": numbers, "owner": pa.array([1, 2, 1, -1, -1], pa.int64()),
        "age": ["30"] * 5, "gender": ["M"] * 5, "province": ["Anhui"] * 5,
        "local": ["true"] * 5, "kind": ["regular"] * 5}), src / "subs.parquet")
    _remap(src, "subscribers", path="subs.parquet")
    at = pa.array([pa.scalar(t * 1_000_000, pa.timestamp("us", tz="UTC")).as_py()
                   for t in (1473044400, 1473044460)], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"a_party": [A], "b_party": [B], "begin": at[:1], "finish": at[1:],
                             "a_cell": ["T1"], "b_cell": pa.array([0.0])}), src / "cdr.parquet")
    _remap(src, "calls", path="cdr.parquet")
    con, stats = _ingest(study)
    assert stats["subscribers"].quarantined_by_reason == {"missing_id": 2}
    assert con.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 2  # O1 and O2
    assert con.execute("SELECT caller_cell, callee_cell FROM calls").fetchall() == [("T1", None)]


X = "19912345678"  # another operator's number: no subscriber, no cell


def test_a_quarantine_record_shows_no_short_identifier(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A direction or cell of a quarantined row that is a subscriber's owner id or a number of
    any calls file, however short and in whatever form (a column mapped by mistake, a service
    number first seen in a later batch), is shown only by its length; codes that are neither,
    and a withheld caller's stand-in, are shown as read (review 96 M2, review 97)."""
    from migrant_assets import ingest as ingest_module

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.setattr(ingest_module, "LANDING_BATCH_BYTES", 1)  # one batch per file
    service = "95588"  # a number of five digits, a party of the second file only
    study, _ = _setup(tmp_path, Case("short identifiers"))
    src = tmp_path / "operator"
    at = (f"{DAY} 10:00:00", f"{DAY} 10:01:00")
    header = "msisdn,other,rtype,begin,finish,served_cell"
    _write(src / "cdr_a.csv", header, [
        (A, B, "MOC", *at, "T1"),
        # bad_direction: an owner id, a code outside the rule, a withheld caller's stand-in
        (A, B, "O2", *at, "T1"), (A, B, "MOX", *at, "T1"), (A, B, "unknown", *at, "T1"),
        (A, "unknown", "MOC", *at, "T1"),  # masked_number
        # bad_timestamp: a number (as a float), or an owner id, as the cell
        (A, B, "MOC", "noon", at[1], service + ".0"), (A, B, "MOC", "noon", at[1], "O1"),
        (A, B, "MOC", "noon", at[1], "T9")])
    _write(src / "cdr_b.csv", header,
           [(service, A, "MOC", f"{DAY} 11:00:00", f"{DAY} 11:01:00", "T2")])
    _remap(src, "calls", path="cdr_*.csv",
           columns={"party": "msisdn", "other_party": "other", "start_ts": "begin",
                    "end_ts": "finish", "direction": "rtype", "cell": "served_cell"},
           directions={"outgoing": ["MOC"], "incoming": ["MTC"]})
    con, stats = _ingest(study)
    assert stats["landed_calls"].quarantined_by_reason == {
        "bad_direction": 3, "bad_timestamp": 3, "masked_number": 1}
    shown = sorted((reason, r["direction"], r["caller_cell"]) for reason, r in (
        (reason, json.loads(t)) for reason, t in con.execute(
            "SELECT reason, record FROM quarantine WHERE source = 'landed_calls' "
            "AND reason <> 'masked_number'").fetchall()))
    assert shown == [("bad_direction", "<redacted: 2 characters>", None),
                     ("bad_direction", "MOX", None), ("bad_direction", "unknown", None),
                     ("bad_timestamp", "MOC", "<redacted: 2 characters>"),
                     ("bad_timestamp", "MOC", "<redacted: 7 characters>"),
                     ("bad_timestamp", "MOC", "T9")], shown


def test_event_types_written_in_full_width_letters(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An event type written with a Chinese input method's full-width letters (ＭＯＣ) or
    spaces is the type the mapping lists (MOC, 语音), as a header name is; an SMS is not."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("full width"))
    src = tmp_path / "operator"
    kinds = ["MOC", "ＭＯＣ", "语音\u3000", "语音（本地）", "SMS"]
    _write(src / "cdr.csv", CALLS_HEADER + ",kind",
           [(A, B, f"{DAY} 1{i}:00:00", f"{DAY} 1{i}:01:00", "T1", "T2", k)
            for i, k in enumerate(kinds)])
    _remap(src, "calls", event_types={"call": ["MOC", "语音", "语音（本地）"]},
           columns={**yaml.safe_load((src / "mapping.yaml").read_text())["calls"]["columns"],
                    "event_type": "kind"})
    con, stats = _ingest(study)
    assert (stats["landed_calls"].read, stats["landed_calls"].accepted) == (5, 4)
    assert [h for (h,) in con.execute("SELECT hour(start_ts) FROM calls ORDER BY 1").fetchall()
            ] == [10, 11, 12, 13]


def test_the_width_fold_of_sql_and_python_agree() -> None:
    """``fold_width`` (SQL, the file's values) and ``value_key`` (the mapping's) fold every
    full-width form of ASCII and the ideographic space alike."""
    con = duckdb.connect()
    run_sql(con, "ingest/canonical.sql")
    texts = ["".join(map(chr, range(0xFF01, 0xFF5F))), "　ＭＯＣ　", "语音（本地）", "Voice", "-1"]
    got = [con.execute("SELECT lower(trim(fold_width(?)))", [t]).fetchone()[0] for t in texts]
    assert got == [value_key(t) for t in texts]
    assert value_key("　ＭＯＣ　") == "moc" and value_key("语音（本地）") == "语音(本地)"


@pytest.mark.parametrize("shape", ["per party", "caller and callee with a record type",
                                   "numeric codes"])
def test_a_per_party_export_counts_each_call_once(shape: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An export with one record per party of a call (MOC of the caller, MTC of the callee, each
    with the served party's cell) gives one call per pair of records, with both cells; the
    second record is excluded (other_party_record), a repeated record of one side is a
    duplicate_call, a direction outside the rule is quarantined (bad_direction)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("per party"))
    src = tmp_path / "operator"
    records = [  # (served party, other party, direction, start, served party's cell)
        (A, B, "MOC", "10:00:00", "T1"), (B, A, "mtc", "10:00:00", "T2"),  # one call
        (A, X, "MTC", "11:00:00", "T2"),  # a call from another operator's number
        (A, B, "Moc", "12:00:00", "T1"), (A, B, "MOC", "12:00:00", "T1"),  # a repeated record
        # a caller's record naming an unknown cell: its call quarantined whole, as a one-row
        # export's; and a callee's record naming one, the caller's record with it
        (A, B, "MOC", "15:00:00", "T9"), (B, A, "MTC", "15:00:00", "T2"),
        (A, B, "MOC", "16:00:00", "T1"), (B, A, "MTC", "16:00:00", "T9"),
        # a call whose caller's record is repeated, the copy naming an unknown cell: a
        # duplicate, the call kept with both cells
        (A, B, "MOC", "17:00:00", "T1"), (A, B, "MOC", "17:00:00", "T9"),
        (B, A, "MTC", "17:00:00", "T2"),
        (B, A, "SMS-MT", "13:00:00", "T2"),  # neither direction
        (B, A, "138-0000-0002", "14:00:00", "T2"),  # a number in the direction column
    ]
    codes = {"MOC": "1", "mtc": "2", "Moc": "1", "MTC": "2"} if shape == "numeric codes" else {}
    records = [(s, o, codes.get(d, d), t, c) for s, o, d, t, c in records]
    if shape != "caller and callee with a record type":
        header = "msisdn,other,rtype,begin,finish,served_cell"
        rows = [(s, o, d, f"{DAY} {t}", f"{DAY} {t[:3]}05:00", c) for s, o, d, t, c in records]
        columns = {"party": "msisdn", "other_party": "other"}
    else:  # caller and callee as on the switch, whichever side the record is of
        header = "a_party,b_party,rtype,begin,finish,served_cell"
        rows = [(s, o, d, f"{DAY} {t}", f"{DAY} {t[:3]}05:00", c) if d.lower() == "moc" else
                (o, s, d, f"{DAY} {t}", f"{DAY} {t[:3]}05:00", c) for s, o, d, t, c in records]
        rows[-1] = (A, B, *rows[-1][2:])
        columns = {"caller": "a_party", "callee": "b_party"}
    _write(src / "cdr.csv", header, rows)
    _remap(src, "calls", columns={**columns, "start_ts": "begin", "end_ts": "finish",
                                  "direction": "rtype", "cell": "served_cell"},
           directions={"outgoing": [1], "incoming": [2]} if codes else  # unquoted in YAML
           {"outgoing": ["MOC"], "incoming": ["MTC"]})
    con, stats = _ingest(study)
    assert con.execute("SELECT caller, callee, hour(start_ts), caller_cell, callee_cell "
                       "FROM calls ORDER BY start_ts").fetchall() == [
        (_uid("O1"), _uid("O2"), 10, "T1", "T2"),
        (pseudonym(KEY, "number", X), _uid("O1"), 11, None, "T2"),
        (_uid("O1"), _uid("O2"), 12, "T1", None), (_uid("O1"), _uid("O2"), 17, "T1", "T2")]
    assert stats["landed_calls"].quarantined_by_reason == {"bad_direction": 2}
    assert (stats["calls"].quarantined_by_reason, stats["calls"].excluded_by_reason) == (
        {"duplicate_call": 2, "unknown_cell": 2}, {"other_party_record": 4})
    assert all(p["balanced"] for source in ("landed_calls", "calls")
               for p in row_accounting(con, source))
    assert row_accounting(con, "calls")[0]["rows_excluded"] == 4
    # the quarantine rows are the records naming the unknown cell (shown as its hash)
    shown = [json.loads(r) for (r,) in con.execute(
        "SELECT record FROM quarantine WHERE reason = 'unknown_cell'").fetchall()]
    assert len(shown) == 2 and all(
        str(r["caller_cell"] or r["callee_cell"]).startswith("unknown:") for r in shown), shown
    shown = sorted(json.loads(r)["direction"] for (r,) in con.execute(
        "SELECT record FROM quarantine WHERE reason = 'bad_direction'").fetchall())
    assert shown == ["<redacted: 13 characters>", "SMS-MT"]


@pytest.mark.parametrize(("within", "calls"), [
    (0, [(10, 0, "T1", "T2"), (11, 0, None, "T2"), (11, 2, "T1", None), (12, 0, "T1", None),
         (12, 1, None, "T2"), (12, 3, "T1", None), (12, 4, None, "T2"), (13, 0, "T1", None),
         (13, 1, None, "T2"), (13, 2, "T1", None), (13, 3, None, "T2")]),
    (2, [(10, 0, "T1", "T2"), (11, 2, "T1", "T2"), (12, 0, "T1", "T2"), (12, 3, "T1", "T2"),
         (13, 0, "T1", "T2"), (13, 2, "T1", "T2")]),
])
def test_the_records_of_a_call_stamped_apart(within: float, calls: list, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With directions.match_within_s, a callee's record takes the start of the caller's record
    it is nearest to, within that many seconds, when that record is nearest to it too: one call
    with the caller's start and both cells; without it, records a second apart are two calls."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("stamped apart"))
    src = tmp_path / "operator"
    records = [(A, B, "MOC", "10:00:00", "T1"), (B, A, "MTC", "10:00:00", "T2"),
               (B, A, "MTC", "11:00:00", "T2"), (A, B, "MOC", "11:00:02", "T1"),  # 2 s apart
               # two calls 3 s apart, each callee record 1 s after its caller record
               (A, B, "MOC", "12:00:00", "T1"), (B, A, "MTC", "12:00:01", "T2"),
               (A, B, "MOC", "12:00:03", "T1"), (B, A, "MTC", "12:00:04", "T2"),
               # a call and its redial 2 s later: the record at :01 is as near to both
               (A, B, "MOC", "13:00:00", "T1"), (B, A, "MTC", "13:00:01", "T2"),
               (A, B, "MOC", "13:00:02", "T1"), (B, A, "MTC", "13:00:03", "T2")]
    _write(src / "cdr.csv", "msisdn,other,rtype,begin,finish,served_cell",
           [(s, o, d, f"{DAY} {t}", f"{DAY} {t[:3]}05:00", c) for s, o, d, t, c in records])
    _remap(src, "calls", columns={"party": "msisdn", "other_party": "other", "start_ts": "begin",
                                  "end_ts": "finish", "direction": "rtype", "cell": "served_cell"},
           directions={"outgoing": ["MOC"], "incoming": ["MTC"], "match_within_s": within})
    con, stats = _ingest(study)
    assert con.execute("SELECT hour(start_ts), second(start_ts), caller_cell, callee_cell "
                       "FROM calls ORDER BY start_ts").fetchall() == calls
    assert all((r[0], r[1]) == (_uid("O1"), _uid("O2")) for r in _calls(con))
    assert stats["calls"].excluded_by_reason == (
        {"other_party_record": 12 - len(calls)} if len(calls) < 12 else {})


def test_a_pair_of_records_stamped_apart_and_delivered_twice_is_one_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller's record and the callee's a second later, both delivered twice (a call across
    midnight written in both days' files): one call; the other copies are one other-party
    record and two duplicates (the second callee copy made a call of its own)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("delivered twice"))
    src = tmp_path / "operator"
    records = [(A, B, "MOC", "10:00:00", "T1"), (B, A, "MTC", "10:00:01", "T2")] * 2
    _write(src / "cdr.csv", "msisdn,other,rtype,begin,finish,served_cell",
           [(s, o, d, f"{DAY} {t}", f"{DAY} 10:05:00", c) for s, o, d, t, c in records])
    _remap(src, "calls", columns={"party": "msisdn", "other_party": "other", "start_ts": "begin",
                                  "end_ts": "finish", "direction": "rtype", "cell": "served_cell"},
           directions={"outgoing": ["MOC"], "incoming": ["MTC"], "match_within_s": 2})
    con, stats = _ingest(study)
    assert [r[:2] + r[5:] for r in _calls(con)] == [(_uid("O1"), _uid("O2"), "T1")]
    assert con.execute("SELECT callee_cell FROM calls").fetchall() == [("T2",)]
    assert (stats["calls"].quarantined_by_reason, stats["calls"].excluded_by_reason) == (
        {"duplicate_call": 2}, {"other_party_record": 1})


def test_a_subscriber_history_keeps_its_last_row_with_keep_last(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscribers file that is a history (an older KYC row of a number first, without a
    birth province, the current row after it): the first row is kept, and duplicates_agree
    warns naming keep: last; with `subscribers: {keep: last}` the current row is, for the
    number and for its owner's attributes (probe 32 M2: 9% of the labels lost). The calls
    refuse the key."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)
    old = (B, "O2", "24", "F", "", "true", "regular")
    study, _ = _setup(tmp_path, Case("history", subs=[]))
    src = tmp_path / "operator"
    _write(src / "subs.csv", SUBS_HEADER, [SUBS[0], old, SUBS[1], SUBS[2]])

    def stored() -> list[tuple]:
        con, _ = _ingest(study)
        rows = con.execute("SELECT age, birth_province FROM subscribers ORDER BY age").fetchall()
        differs = con.execute("SELECT list(json_extract(record, '$.differs_from_kept')::BOOLEAN)"
                              " FROM quarantine WHERE reason = 'duplicate_number'").fetchone()[0]
        return rows, differs

    assert stored() == ([(24, None), (30, "Shanghai")], [True])  # the older row, first
    _remap(src, "subscribers", keep="last")
    assert stored() == ([(25, "Anhui"), (30, "Shanghai")], [True])
    assert "subscribers.keep: last" in NUMBERS_AGREE_FIX
    # the check: a history named so differs by design (counted, not warned about)
    check = _ingestion_checks(study, "subscribers")[("subscribers", "duplicates_agree")]
    assert check.passed and check.metadata["differing_rows"].value == 1
    _remap(src, "subscribers", keep="first")
    check = _ingestion_checks(study, "subscribers")[("subscribers", "duplicates_agree")]
    assert not check.passed and "subscribers.keep: last" in check.metadata["check_first"].value
    _remap(src, "calls", keep="last")
    with pytest.raises(MappingError, match="calls sets keep"):
        _ingest(study)


def test_a_cells_history_keeps_its_last_row_with_keep_last(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cells file that is a history (probe 34 D: an antenna listed at its old site first, at
    its new one after): the first row is kept and duplicates_agree warns naming keep: last;
    with `cells: {keep: last}` the last row is, the check counting the differing row without
    a warning. An estate priced twice, the same way."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)
    study, _ = _setup(tmp_path, Case("cells history"))
    src = tmp_path / "operator"
    _write(src / "towers.csv", "tower,latitude,longitude",
           [("T1", "31.22", "121.40"), CELLS[1], CELLS[0]])
    _write(src / "prices.csv", "xiaoqu,lat,lon,price", [ESTATES[0], (*ESTATES[0][:3], "61000")])

    def stored() -> tuple[list, list]:
        con, _ = _ingest(study)
        return (con.execute("SELECT cell_id, lat FROM cells ORDER BY ALL").fetchall(),
                con.execute("SELECT price_per_sqm FROM estates").fetchall())

    assert stored() == ([("T1", 31.22), ("T2", 31.30)], [(52000,)])
    checks = _ingestion_checks(study, "cells", "estates")
    for table in ("cells", "estates"):
        check = checks[(table, "duplicates_agree")]
        assert not check.passed and f"{table}: {{keep: last}}" in \
            check.metadata["check_first"].value
    _remap(src, "cells", keep="last")
    _remap(src, "estates", keep="last")
    assert stored() == ([("T1", 31.20), ("T2", 31.30)], [(61000,)])
    checks = _ingestion_checks(study, "cells", "estates")
    for table in ("cells", "estates"):
        check = checks[(table, "duplicates_agree")]
        assert check.passed and check.metadata["differing_rows"].value == 1, table


def test_a_towers_file_with_lat_and_lon_swapped_is_named_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every tower outside the box, each inside it with its two values swapped: the
    quarantine_share hint names the swap (probe 32 L2: it listed six causes); towers outside
    the box for another reason keep the general hint."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)
    study, _ = _setup(tmp_path, Case("swapped"))
    src = tmp_path / "operator"
    _write(src / "towers.csv", "tower,latitude,longitude",
           [("T1", "121.40", "31.20"), ("T2", "121.50", "31.30"), ("T3", "121.45", "31.25")])
    check = _ingestion_checks(study, "cells")[("cells", "quarantine_share")]
    assert not check.passed
    assert check.metadata["check_first"].value.startswith(
        "outside_bbox: 3 of the 3 cells outside the city's box lie inside it with lat and lon "
        "swapped"), check.metadata["check_first"].value
    _write(src / "towers.csv", "tower,latitude,longitude",
           [("T1", "10.0", "10.0"), ("T2", "121.50", "31.30"), ("T3", "0", "0")])
    check = _ingestion_checks(study, "cells")[("cells", "quarantine_share")]
    assert check.metadata["check_first"].value.startswith("outside_bbox: lat and lon swapped, ")


def test_duplicate_records_of_a_call_that_end_apart_are_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Overlapping daily files, each holding the last hour of the day before: a call still
    running at one file's cut is written there cut short, and whole in the next file. The
    whole record is the call; duplicates_agree warns naming the one that differed, and passes
    on exact copies (probe 32 M1: the cut record was kept, 6.8 h of 47 calls lost, silently)."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("overlapping files"))
    src = tmp_path / "operator"
    (src / "cdr.csv").unlink()
    cut = (A, B, f"{DAY} 10:00:13", f"{DAY} 10:00:58", "T1", "T2")  # stamped to the second
    _write(src / "cdr_a.csv", CALLS_HEADER, [cut, (B, A, f"{DAY} 09:00:21", f"{DAY} 09:02:21",
                                                   "T2", "T1")])
    _write(src / "cdr_b.csv", CALLS_HEADER, [(A, B, f"{DAY} 10:00:13", f"{DAY} 10:02:20", "T1",
                                              "T2"),
                                             (B, A, f"{DAY} 09:00:21", f"{DAY} 09:02:21", "T2",
                                              "T1")])
    _remap(src, "calls", path="cdr_*.csv")
    check = _ingestion_checks(study)[("calls", "duplicates_agree")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert (check.metadata["duplicates_differing"].value, check.metadata["judged"].value) == (
        1, 4)
    assert "the one that ends last is kept" in check.metadata["check_first"].value
    con = duckdb.connect(str(StudyConfig.load(study).duckdb_path), read_only=True)
    assert sorted(con.execute("SELECT duration_s FROM calls").fetchall()) == [(120.0,), (127.0,)]
    con.close()
    # exact copies only: nothing to name
    _write(src / "cdr_a.csv", CALLS_HEADER, [(B, A, f"{DAY} 09:00:21", f"{DAY} 09:02:21", "T2",
                                              "T1")])
    check = _ingestion_checks(study)[("calls", "duplicates_agree")]
    assert check.passed and check.metadata["duplicates_differing"].value == 0
    # a day ingested before the records were compared (the column added null): not judged,
    # never passed on the old rule's cut records (review 98 M1)
    from migrant_assets.defs.ingest import Day, _day_duplicates

    old = _day_duplicates(Day(None, None, DAY, [{"rows_read": 4, "duplicates_differing": None}]))
    assert not old.passed and old.metadata["judged"].value == 0
    assert "materialize calls again" in old.metadata["reason"].value


def test_records_stamped_apart_without_match_within_s_are_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The callee's record a second after the caller's, without directions.match_within_s:
    each call is counted twice (every other check passes); per_party_records fails naming
    match_within_s, and passes once it is set. A callee record at the caller's second, and one
    of an off-net caller, are not counted."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("stamped apart"))
    src = tmp_path / "operator"
    records = [(A, B, "MOC", "10:00:00", "T1"), (B, A, "MTC", "10:00:01", "T2"),
               (A, B, "MOC", "11:00:00", "T1"), (B, A, "MTC", "11:00:00", "T2"),
               (A, X, "MTC", "12:00:00", "T1")]
    _write(src / "cdr.csv", "msisdn,other,rtype,begin,finish,served_cell",
           [(s, o, d, f"{DAY} {t}", f"{DAY} {t[:3]}05:00", c) for s, o, d, t, c in records])
    columns = {"party": "msisdn", "other_party": "other", "start_ts": "begin",
               "end_ts": "finish", "direction": "rtype", "cell": "served_cell"}
    _remap(src, "calls", columns=columns,
           directions={"outgoing": ["MOC"], "incoming": ["MTC"]})
    check = _ingestion_checks(study)[("calls", "per_party_records")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert (check.metadata["records_stamped_apart"].value, check.metadata["judged"].value) == (
        1, 5)
    assert "match_within_s" in check.metadata["check_first"].value
    _remap(src, "calls", directions={"outgoing": ["MOC"], "incoming": ["MTC"],
                                     "match_within_s": 2})
    check = _ingestion_checks(study)[("calls", "per_party_records")]
    assert check.passed and check.metadata["records_stamped_apart"].value == 0


@pytest.mark.parametrize("layout", ["files", "folders"])
def test_one_file_per_party_named_by_its_number(layout: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """bandicoot's layout, one file per subscriber named by its number (or one folder): each
    record's party is read from the file's path (party_from_file_name's group), through a
    gzipped cp1252 copy too; the path is never kept or shown: the landing's files, the
    quarantine and the messages name each file by its label, numbered in path order."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("per-user files"))
    src = tmp_path / "operator"
    (src / "cdr.csv").unlink()
    (src / "users").mkdir()
    records = {A: [(B, "out", "10:00:00", "T1"), (X, "In", "11:00:00", "T2")],
               B: [(A, "in", "10:00:00", "T2"), (A, "OUT", "12:00:00", "T2")]}
    for number, rows in records.items():
        lines = ["correspondent_id,direction,datetime,call_duration,antenna_id",
                 *(f"{o},{d},{DAY} {t},60,{c}" for o, d, t, c in rows), "a,malformed,line"]
        path = src / "users" / (f"user_{number}.csv.gz" if layout == "files" else
                                f"{number}/calls.csv.gz")
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("cp1252")))
    _remap(src, "calls", path="users/**/*.csv.gz", party_from_file_name=(
        r"user_(\d+)\.csv" if layout == "files" else r"^users/([0-9]+)/"),
           csv={"encoding": "cp1252"}, directions={"outgoing": ["out"], "incoming": ["in"]},
           columns={"other_party": "correspondent_id", "start_ts": "datetime",
                    "duration": "call_duration", "cell": "antenna_id"})
    con, stats = _ingest(study)
    assert con.execute("SELECT caller, callee, hour(start_ts), caller_cell, callee_cell "
                       "FROM calls ORDER BY start_ts").fetchall() == [
        (_uid("O1"), _uid("O2"), 10, "T1", "T2"),
        (pseudonym(KEY, "number", X), _uid("O1"), 11, None, "T2"),
        (_uid("O2"), _uid("O1"), 12, "T2", None)]
    assert stats["calls"].excluded_by_reason == {"other_party_record": 1}
    folder = str(src)  # the label hides the folders below base_dir too
    assert con.execute("SELECT file, rows_read FROM landed_files ORDER BY file_id").fetchall() \
        == [(f"{folder}/[party file {i} of 2].csv.gz", 3) for i in (1, 2)]
    assert sorted(con.execute("SELECT file FROM quarantine WHERE reason = 'malformed_line'")
                  .fetchall()) == [(f"{folder}/[party file {i} of 2].csv.gz",) for i in (1, 2)]
    for (table,) in con.execute("SHOW TABLES").fetchall():
        text = con.execute(f'SELECT * FROM "{table}"').df().to_csv(index=False)
        assert A not in text and B not in text, table

    (src / "users" / "notes.csv.gz").write_bytes(gzip.compress(b"x\n"))  # not a party's file
    with pytest.raises(MappingError, match=r"the names of 1 of the 3 calls files give no party"
                       ) as info:
        _ingest(study)
    assert info.value.where == f"{folder}/[party file {1 if layout == 'files' else 3} of 3]" \
        ".csv.gz"  # in path order
    (src / "users" / "notes.csv.gz").unlink()
    _remap(src, "calls", format="parquet")  # DuckDB's message names the file it read
    with pytest.raises(MappingError, match="the file cannot be read") as info:
        _ingest(study)
    assert A not in str(info.value) and B not in str(info.value)
    # the footers of all are read (each file's types combined), in parallel: either may fail first
    assert info.value.where in {f"{folder}/[party file {i} of 2].csv.gz" for i in (1, 2)}


def test_party_files_named_by_words_stay_hidden(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Party names that are not numbers (a hashed id such as 'zz99xy') are hidden as well: a
    DuckDB error naming the file is relabelled before it is redacted (a redaction that cut the
    path first left the name), and one folder per party read with true (every file named
    calls.csv) is an error, not one party for all."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("word parties"))
    src = tmp_path / "operator"
    (src / "cdr.csv").unlink()
    for party in ("zz99xy", "qq42ab"):
        path = src / "export_20160901" / "users" / party / "calls.parquet"
        path.parent.mkdir(parents=True)
        path.write_text("correspondent,direction\n")  # not Parquet: DuckDB names the file
    _remap(src, "calls", path="export_20160901/users/*/calls.parquet",
           party_from_file_name=r"users/([a-z0-9]+)/",
           directions={"outgoing": ["out"], "incoming": ["in"]},
           columns={"other_party": "correspondent", "start_ts": "datetime"})
    with pytest.raises(MappingError, match="the file cannot be read") as info:
        _ingest(study)
    text = f"{info.value} {info.value.where}"
    assert "zz99xy" not in text and "qq42ab" not in text  # either may fail first: in parallel
    assert "[party file 1 of 2]" in text or "[party file 2 of 2]" in text
    _remap(src, "calls", party_from_file_name=True)
    with pytest.raises(MappingError, match="two files give the same party") as info:
        _ingest(study)
    assert "zz99xy" not in str(info.value) and "calls" not in str(info.value.where)[-20:]


@pytest.mark.parametrize(("name", "party"), [
    ("13912345678.csv", "13912345678"), ("13912345678.csv.gz", "13912345678"),
    ("13912345678.2.csv", "13912345678.2"), ("u.ab12cd.csv", "u.ab12cd"),
    ("ab12cd.parquet", "ab12cd"), ("ab12cd", "ab12cd"), ("x.TSV.ZST", "x")])
def test_a_party_file_name_loses_only_its_data_extensions(name: str, party: str,
                                                         tmp_path: Path) -> None:
    """party_from_file_name: true takes the name without the extensions of a data file."""
    (tmp_path / name).write_text("x\n")
    base = DataContract.synthetic(tmp_path)
    contract = base.model_copy(update={"calls": base.calls.model_copy(
        update={"path": name, "party_from_file_name": True})})
    assert list(party_files(contract, contract.files("calls", [])).values()) == [
        (party, str(tmp_path / f"[party file 1 of 1]{name[len(party):]}"))]


def test_a_party_files_label_keeps_its_folders_but_numbers(tmp_path: Path) -> None:
    """A party file's label keeps the folders below base_dir (an antennas.csv read beside
    records/ is told apart), but a folder named by a number."""
    for rel in ("antennas.csv", "records/13912345678.csv", "records/13912345679.csv",
                "13800000001/13912345670.csv", "users/ab12cd/calls.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    base = DataContract.synthetic(tmp_path)
    contract = base.model_copy(update={"calls": base.calls.model_copy(
        update={"path": "**/*.csv", "party_from_file_name": True})})
    labels = [label for _, label in party_files(contract, contract.files("calls")).values()]
    assert labels == [str(tmp_path / "[folder]" / "[party file 1 of 5].csv"),
                      str(tmp_path / "[party file 2 of 5].csv"),
                      str(tmp_path / "records" / "[party file 3 of 5].csv"),
                      str(tmp_path / "records" / "[party file 4 of 5].csv"),
                      str(tmp_path / "[folder]" / "[folder]" / "[party file 5 of 5].csv")]


def test_seconds_since_the_start_and_minus_one_for_a_missed_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shape of a public study's call log (the Copenhagen Networks Study's calls.csv):
    seconds since the study's start, and a duration of -1 for a missed call, read by mapping
    event_type to the duration column with event_types: {missed: [-1]} (every other value a
    call). The missed call is a contact without a duration; -5 is still end_before_start."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("relative seconds"))
    src = tmp_path / "operator"
    day4 = 4 * 86400  # 2016-09-05, the fifth day after the origin
    _write(src / "cdr.csv", "timestamp,caller,callee,duration",
           [(str(day4 + 36000), A, B, "60"), (str(day4 + 39600), A, B, "-1"),
            (str(day4 + 43200), B, A, "-5")])
    _remap(src, "calls", columns={"start_ts": "timestamp", "event_type": "duration"},
           timestamps={"unit": "s", "origin": "2016-09-01T00:00:00"},
           event_types={"missed": [-1]})
    con, stats = _ingest(study)
    assert con.execute("SELECT caller, callee, hour(start_ts), duration_s FROM calls "
                       "ORDER BY start_ts").fetchall() == [
        (_uid("O1"), _uid("O2"), 10, 60.0), (_uid("O1"), _uid("O2"), 11, None)]
    assert stats["landed_calls"].quarantined_by_reason == {"end_before_start": 1}

    # the same log in Parquet, durations as DOUBLE (-1.0 is the rule's -1)
    pq.write_table(pa.table({"timestamp": [day4 + 36000, day4 + 39600, day4 + 43200],
                             "caller": [A, A, B], "callee": [B, B, A],
                             "duration": [60.0, -1.0, -5.0]}), src / "cdr.parquet")
    _remap(src, "calls", path="cdr.parquet")
    con, stats = _ingest(study)
    assert con.execute("SELECT hour(start_ts), duration_s FROM calls ORDER BY start_ts"
                       ).fetchall() == [(10, 60.0), (11, None)]
    assert stats["landed_calls"].quarantined_by_reason == {"end_before_start": 1}

    # event_type on a column of its own: an SMS would be read as a call without a call list
    _remap(src, "calls", columns={"start_ts": "timestamp", "event_type": "caller"})
    with pytest.raises(MappingError, match="event_types lists no call value"):
        _ingest(study)


def test_a_zone_beside_a_unit_needs_a_naive_origin(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Numbers of seconds count from an instant: ``timezone`` beside ``unit`` was ignored
    without a naive ``origin`` (a "local epoch" read as Unix time: every call 8 h late, every
    check passing). It is refused, naming the origin that reads it; with that origin the
    numbers are local time; with UTC (no offset) it changes nothing and is allowed."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("local epoch"))
    src = tmp_path / "operator"
    local_ten = int(datetime(2016, 9, 5, 10, 0).replace(tzinfo=UTC).timestamp())  # 10:00 local
    _write(src / "cdr.csv", "timestamp,caller,callee,duration",
           [(str(local_ten), A, B, "60")])
    _remap(src, "calls", columns={"start_ts": "timestamp", "duration": "duration"},
           timestamps={"unit": "s", "timezone": "Asia/Shanghai"})
    with pytest.raises(MappingError, match=r"timezone 'Asia/Shanghai' beside unit 's' changes "
                       r"nothing.*set origin: '1970-01-01T00:00:00' \(no offset\)"):
        _ingest(study)
    _remap(src, "calls", timestamps={"unit": "s", "timezone": "Asia/Shanghai",
                                     "origin": "1970-01-01T00:00:00"})
    con, _ = _ingest(study)
    assert con.execute("SELECT hour(start_ts) FROM calls").fetchall() == [(10,)]
    _remap(src, "calls", timestamps={"unit": "s", "timezone": "UTC"})
    con, _ = _ingest(study)
    assert con.execute("SELECT hour(start_ts) FROM calls").fetchall() == [(18,)]


def test_a_naive_origin_counts_wall_clock_time(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Numbers from a naive origin are the local time origin + count, read in the zone: a
    spreadsheet's serial dates (``unit: d``, days since 1899-12-30, when Shanghai kept its
    local mean time, +08:05:43) and a "local epoch" written in Mexico City (-06:00 in 1970,
    -05:00 in September 2016) were shifted by the origin's own offset (5 min 43 s, one hour)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("serial dates"))
    src = tmp_path / "operator"
    serial = (datetime(2016, 9, 5, 8, 30, 15) - datetime(1899, 12, 30)) / timedelta(days=1)
    _write(src / "cdr.csv", "t,caller,callee,duration", [(repr(serial), A, B, "60")])
    _remap(src, "calls", columns={"start_ts": "t", "duration": "duration"},
           timestamps={"unit": "d", "origin": "1899-12-30T00:00:00"})
    con, _ = _ingest(study)
    assert con.execute("SELECT start_ts FROM calls").fetchall() == [
        (datetime(2016, 9, 5, 8, 30, 15),)]

    wall = (datetime(2016, 9, 5, 10, 0) - datetime(1970, 1, 1)).total_seconds()
    _write(src / "cdr.csv", "t,caller,callee,duration", [(str(int(wall)), A, B, "60")])
    _remap(src, "calls", timestamps={"unit": "s", "origin": "1970-01-01T00:00:00",
                                     "timezone": "America/Mexico_City"})
    con, _ = _ingest(study)
    # 10:00 CDT (UTC-5) is 15:00 UTC, 23:00 in Shanghai
    assert con.execute("SELECT start_ts FROM calls").fetchall() == [
        (datetime(2016, 9, 5, 23, 0),)]


def test_a_quote_left_open_takes_lines_into_one_field(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A quote opened in a field and closed lines later (free text with an unescaped quote)
    made the lines between part of one field: they were neither landed nor quarantined. The
    record is now malformed_line, naming its lines, and the line numbers after it are the
    file's (the parser counts the record as one line). Free text over two lines (no record
    in it) is read."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("open quote"))
    src = tmp_path / "operator"
    call = f"{A},{B},{T}1{{h}}:00:00,{T}1{{h}}:01:00,T1,T2"
    lines = [CALLS_HEADER, call.format(h=0),                      # lines 1, 2
             call.format(h=1)[:-5] + '"Pudong,T2',                # 3: the quote opens
             call.format(h=2), call.format(h=3),                  # 4, 5: taken into the field
             call.format(h=4)[:-5] + 'Tower B",T2',               # 6: closes it
             call.format(h=5), call.format(h=6) + ",extra",       # 7, 8: too many fields
             call.format(h=7)]                                    # 9
    (src / "cdr.csv").write_text("\n".join(lines) + "\n")
    con, stats = _ingest(study)
    assert con.execute("SELECT row_number, hour(start_ts) FROM landed_calls ORDER BY 1"
                       ).fetchall() == [(2, 10), (7, 15), (9, 17)]
    quarantined = con.execute("SELECT row_number, reason, record FROM quarantine ORDER BY 1"
                              ).fetchall()
    assert [(r[0], r[1]) for r in quarantined] == [(3, "malformed_line"), (8, "malformed_line")]
    assert "LINES 3-6" in quarantined[0][2] and A not in quarantined[0][2]
    assert stats["landed_calls"].read == 5  # records: the four lines 3-6 are one

    # a remark over two lines, quoted as it should be, in a column the mapping does not read:
    # the call is read, and the line after it keeps its number
    (src / "cdr.csv").write_text("\n".join([
        CALLS_HEADER + ",remark", call.format(h=0) + ',"call back later,\nmaybe tomorrow"',
        call.format(h=1) + ",none"]) + "\n")
    con, stats = _ingest(study)
    assert con.execute("SELECT row_number, hour(start_ts) FROM landed_calls ORDER BY 1"
                       ).fetchall() == [(2, 10), (4, 11)]
    assert stats["landed_calls"].quarantined_by_reason == {}


def test_line_numbers_in_a_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a file of 400,000 calls (DuckDB reads it in many chunks), the quarantine names each
    bad record by its line: the parallel reader inserted records out of order under the
    reader's projection, and lines were numbered as they were inserted."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("large"))
    lines = [CALLS_HEADER, *(f"{A},{B},{DAY} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d},"
                             f"{DAY} 23:59:59,T1,T2" for i in range(400_000))]
    bad = {150_000: "99:00:00", 330_000: "98:00:00"}  # line number: the time that is not one
    for line, clock in bad.items():
        lines[line - 1] = f"{A},{B},{DAY} {clock},{DAY} 23:59:59,T1,T2"
    (tmp_path / "operator" / "cdr.csv").write_text("\n".join(lines) + "\n")
    con, _ = _ingest(study)
    got = con.execute("SELECT row_number, json_extract_string(record, '$.start_ts') "
                      "FROM quarantine WHERE reason = 'bad_timestamp' ORDER BY 1").fetchall()
    assert got == [(line, f"{DAY} {clock}") for line, clock in bad.items()]


def test_a_header_that_repeats_a_name_or_names_a_column_filename(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A header naming a column the mapping reads twice (``A`` and ``a``: DuckDB renames the
    second ``a_1``) read the first one, silently: it is an error naming the fields, and the
    fix it gives (no header, columns by position) reads the file. A column of the file named
    ``filename`` (an export merged from files) is a column like any other."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("repeated names"))
    src = tmp_path / "operator"
    _write(src / "cdr.csv", "x,A_PARTY," + CALLS_HEADER, [("0", "13900000009", *CALL)])
    with pytest.raises(MappingError, match=r"the header names column 'a_party' 2 times "
                       r"\(fields 2, 3, letter case aside\).*'caller'") as info:
        _ingest(study)
    assert "header: false, skip: 1" in info.value.fix
    _remap(src, "calls", csv={"header": False, "skip": 1}, columns={
        "caller": "column2", "callee": "column3", "start_ts": "column4", "end_ts": "column5",
        "caller_cell": "column6", "callee_cell": "column7"})
    con, _ = _ingest(study)
    assert con.execute("SELECT caller FROM calls").fetchall() == [(_uid("O1"),)]

    _write(src / "cdr.csv", CALLS_HEADER + ",filename", [(*CALL, "cdr_0905.csv")])
    _remap(src, "calls", csv={}, columns={
        "caller": "a_party", "callee": "b_party", "start_ts": "begin", "end_ts": "finish",
        "caller_cell": "a_cell", "callee_cell": "b_cell"})
    con, stats = _ingest(study)
    assert con.execute("SELECT caller, callee FROM calls").fetchall() == [
        (_uid("O1"), _uid("O2"))]
    assert con.execute("SELECT file FROM landed_files").fetchall() == [(str(src / "cdr.csv"),)]


def test_a_pivot_tables_total_and_blank_rows_are_no_estates(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """An Excel pivot table of prices saved as the estates file: its grand total row (总计, at
    the mean position and price) is a summary_row, a row labelled (空白) has no id; the
    estates are the others."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("pivot rows"))
    _write(tmp_path / "operator" / "prices.csv", "xiaoqu,lat,lon,price",
           [("X1", "31.25", "121.45", "52000"), ("(空白)", "31.26", "121.46", "50000"),
            ("总计", "31.255", "121.455", "51000")])
    con, stats = _ingest(study)
    assert stats["estates"].quarantined_by_reason == {"missing_id": 1, "summary_row": 1}
    assert con.execute("SELECT estate_id FROM estates").fetchall() == [("X1",)]


def test_a_missing_column_names_a_pivot_tables_headers(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Column names an Excel pivot table writes (``平均值项:lat``, full-width punctuation) are
    names, shown as they are when a mapped column is missing, not hidden as data."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("pivot"))
    src = tmp_path / "operator"
    _write(src / "prices.csv", "行标签,平均值项:lat,平均值项:lng,平均值项：per_meter",
           [("X1", "31.25", "121.45", "52000")])
    with pytest.raises(MappingError, match=r"it has \['行标签', '平均值项:lat', '平均值项:lng', "
                       r"'平均值项：per_meter'\]"):
        _ingest(study)


@pytest.mark.parametrize("shape", ["no header", "data as header", "UTF-16", "JSON lines", "zip",
                                   "workbook"])
def test_a_file_that_is_not_csv_or_has_no_header(shape: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A file read as CSV whose first line is data names the file's "columns" without the
    numbers in them; JSON, an archive or a workbook is refused by what it is, with its fix."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case(shape))
    src = tmp_path / "operator"
    name, text, pattern = {
        "no header": ("cdr.csv", f"{A},{B},{DAY} 10:00:00,{DAY} 10:01:00,T1,T2\n",
                      r"column 'a_party' \(contract column 'caller'\) is not in the file; "
                      r"it has \['column0', 'column1'.*no header line"),
        # an owner id that looks like a name beside the number: none of the line is shown
        "data as header": ("cdr.csv", f"{A},OWNER-AB,x,y,T1,T2\n{B},{A},x,y,T1,T2\n",
                           r"is not in the file; it has \['<column 1>', '<column 2>', "
                           r"'<column 3>', '<column 4>', '<column 5>', '<column 6>'\]"
                           r".*header: false"),
        "UTF-16": ("cdr.csv", f"{A},{B},{DAY} 10:00:00,{DAY} 10:01:00,T1,T2\n",
                   "is not in the file.*looks like UTF-16: set csv: {encoding: utf-16}"),
        "JSON lines": ("cdr.jsonl", f'{{"a_party": "{A}", "b_party": "{B}"}}\n',
                       "the file is a JSON file.*Fix: convert it to Parquet or CSV"),
        "zip": ("cdr.zip", "PK", "the file is a zip archive.*Fix: unzip it"),
        "workbook": ("cdr.xlsx", "PK", "the file is a spreadsheet workbook.*save each sheet"),
    }[shape]
    (src / "cdr.csv").unlink()
    if shape == "UTF-16":  # a header and a data line, not declared, without a byte order mark
        (src / name).write_text(CALLS_HEADER + "\n" + text, encoding="utf-16-le")
    else:
        (src / name).write_text(text)
    _remap(src, "calls", path=name, **({"csv": {"header": True}} if shape == "data as header"
                                       else {}))  # a header said to be there
    with pytest.raises(MappingError, match=pattern) as info:
        _ingest(study)
    assert A not in str(info.value) and B not in str(info.value)
    assert "OWNER-AB" not in str(info.value)  # probe 28, H1


def test_an_owner_id_in_a_calls_folder_is_found_by_the_landings_search(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A calls folder named by an owner id (owner=OWNERCANARY77/): the landing's privacy search
    finds the subscribers' owner ids too, by their pseudonyms (the ids are no longer in hand),
    so the stored path is named, as the no_raw_identifiers check then fails (probe 28, M1); it
    knew only the calls' numbers."""
    import shutil

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("owner folder", subs=[
        ("13800000005", "OWNERCANARY77", "30", "M", "Anhui", "true", "regular")]))
    src = tmp_path / "operator"
    (src / "owner=OWNERCANARY77").mkdir()
    shutil.move(src / "cdr.csv", src / "owner=OWNERCANARY77" / "cdr.csv")
    _remap(src, "calls", path="owner=OWNERCANARY77/cdr.csv")
    con, _ = _ingest(study)
    assert json.loads(con.execute("SELECT hits FROM identifier_scan_landed_calls").fetchone()[0]
                      ) == {"landed_files.file": 1}
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                           "'raw_subscribers'").fetchone()[0]


def test_a_quote_left_open_under_an_unquoted_header_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscribers file whose header is unquoted, a value quoted ("Shanghai") and a quote
    left open: the reader takes the file as unquoted, so the values would keep their quotes
    (a province no province's, an owner another's). Refused, naming the columns and the line,
    never the value (probe 28, M3); it was read silently."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("open quote", subs=[
        ("13800000005", "O5", "30", "M", '"Shanghai"', "true", "regular"),
        ("13800000004", '"OWNERX4', "30", "M", "Shanghai", "true", "regular")]))
    with pytest.raises(MappingError, match=re.escape(
            "subscribers: values of ['owner_id', 'birth_province'] keep their quotes, as the "
            "reader took the file as unquoted: line 6 holds an odd number of \" characters")
            ) as info:
        _ingest(study)
    assert "OWNERX4" not in str(info.value) and info.value.where.endswith("subs.csv")
    # a quote doubled inside quotes, as RFC 4180 writes one, begins a value: read (review 96)
    _write(tmp_path / "operator" / "subs.csv", SUBS_HEADER, SUBS)
    _write(tmp_path / "operator" / "prices.csv", "xiaoqu,lat,lon,price",
           [*ESTATES, ('"""Sunshine"" Garden"', "31.21", "121.41", "50000")])
    con, stats = _ingest(study)
    assert stats["estates"].accepted == 2


def test_records_of_one_call_fill_each_others_cells(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a directions rule, a second record of a call is a duplicate_call, and the call
    kept takes each cell from the first record that has it."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("cells", calls=[(A, B, CALL[2], CALL[3], "", "T1")]))
    src = tmp_path / "operator"
    text = (src / "cdr.csv").read_text().replace(",T1,T2\n", ",T2,\n", 1)
    (src / "cdr.csv").write_text(text)
    con, stats = _ingest(study)
    assert con.execute("SELECT caller_cell, callee_cell FROM calls").fetchall() == [("T2", "T1")]
    assert stats["calls"].quarantined_by_reason == {"duplicate_call": 1}


#: Mexico's numbers rule before 2019 (docs/data_contract.md, Identifiers).
MEXICO = ["044", "045", "01", "1"]


@pytest.mark.parametrize(("text", "cc", "digits", "trunk", "number"), [
    ("+49 151 2345 6789", "49", None, "0", "15123456789"),
    ("0049 151 2345 6789", "49", None, "0", "15123456789"),
    ("015123456789", "49", None, "0", "15123456789"),
    ("015123456789", "49", None, None, "015123456789"),  # no trunk prefix: as written
    ("0015123456789", None, None, "0", "0015123456789"),  # 00…: an international prefix
    ("015123456789", None, 11, "0", "15123456789"),
    ("01512345678", None, 11, "0", "01512345678"),  # 10 digits after it: not a trunk prefix
    ("4915123456789", "49", 11, "0", "15123456789"),  # a bare country code
    ("+49 (0)151 2345 6789", "49", None, "0", "15123456789"),  # the (0) written beside +49
    ("0049 (0) 151 2345 6789", "49", None, "0", "15123456789"),
    ("0", None, None, "0", "0"),  # nothing after it: not a trunk prefix
    ("0-151-2345", None, None, "0", "1512345"),
    ("0ABC", None, None, "0", "0ABC"),  # not a number
    # Mexico before 2019: dialled 044 / 045 / 01 and the mobile 1 after +52, one rule
    ("+52 1 55 1234 5678", "52", 10, MEXICO, "5512345678"),
    ("52 1 55 1234 5678", "52", 10, MEXICO, "5512345678"),  # a bare 52 before the 1
    ("52 55 1234 5678", "52", 10, MEXICO, "5512345678"),
    ("044 55 1234 5678", "52", 10, MEXICO, "5512345678"),
    ("045 33 1234 5678", "52", 10, MEXICO, "3312345678"),
    ("01 55 1234 5678", "52", 10, MEXICO, "5512345678"),
    ("1 55 1234 5678", "52", 10, MEXICO, "5512345678"),
    ("55 1234 5678", "52", 10, MEXICO, "5512345678"),
    ("044 55 1234 567", "52", 10, MEXICO, "044551234567"),  # 9 digits after it: as written
    # Argentina: a mobile from abroad +54 9 11…, at home 011…
    ("+54 9 11 1234 5678", "54", 10, ["0", "9"], "1112345678"),
    ("011 1234 5678", "54", 10, ["0", "9"], "1112345678"),
    # China: landlines of 10 national digits beside mobiles of 11, one rule for both
    ("021 5555 1234", "86", [10, 11], "0", "2155551234"),
    ("+86 21 5555 1234", "86", [10, 11], "0", "2155551234"),
    ("86 21 5555 1234", "86", [10, 11], "0", "2155551234"),
    ("0086 139 1234 5678", "86", [10, 11], "0", "13912345678"),
    ("86 139 1234 5678", "86", [10, 11], "0", "13912345678"),
    ("139 1234 5678", "86", [10, 11], "0", "13912345678"),
    ("021 5555 1234", "86", 11, "0", "02155551234"),  # one length: the landline keeps its 0
    ("0571 8888 1234", "86", [10, 11], "0", "57188881234"),  # a 3-digit area code: 11 digits
    # another country's number: dialled with 00 from China, or written with +, is one number
    ("00852 9123 4567", "86", [10, 11], "0", "+85291234567"),
    ("+852 9123 4567", "86", [10, 11], "0", "+85291234567"),
    ("001 415 555 0100", "86", [10, 11], "0", "+14155550100"),
])
def test_canonical_phone_numbers(text: str, cc: str | None, digits: int | list[int] | None,
                                 trunk: str | list[str] | None, number: str) -> None:
    """The country prefix, else the national trunk prefix, removed as docs/data_contract.md
    ("Identifiers") says; the expected forms are written by hand."""
    con = duckdb.connect()
    run_sql(con, "ingest/canonical.sql")
    rule = Numbers(country_code=cc, national_digits=digits, trunk_prefix=trunk)
    assert con.execute("SELECT canonical_phone(?, ?, ?, ?, NULL, NULL)",
                       [text, cc, rule.national_lengths, rule.trunk_prefixes]
                       ).fetchone()[0] == number


@pytest.mark.parametrize(("text", "number"), [
    ("5555 1234", "2155551234"),  # a local landline dialled without its area code
    ("021-5555-1234", "2155551234"),
    ("+86 21 5555 1234", "2155551234"),
    ("13912345678", "13912345678"),  # a mobile: not the local length
    ("95588", "95588"),  # a service number
    ("0571 8888 1234", "57188881234"),  # another city's landline
    ("05555123", "05555123"),  # a trunk 0 before 7 digits: neither national nor local
    ("1010 1234", "10101234"),  # 8 digits starting with 1: no local landline
    ("+86 5555 1234", "55551234"),  # written with a country code: not dialled locally
])
def test_a_local_number_gets_the_area_code(text: str, number: str) -> None:
    """``numbers: {area_code: '21', local_digits: 8}`` puts 21 before a number of 8 digits
    (docs/data_contract.md, "Identifiers"), so a landline is one number however it was dialled."""
    con = duckdb.connect()
    run_sql(con, "ingest/canonical.sql")
    rule = Numbers(country_code="86", national_digits=[10, 11], trunk_prefix="0",
                   area_code="21", local_digits=8)
    assert con.execute("SELECT canonical_phone(?, ?, ?, ?, ?, ?)",
                       [text, rule.country_code, rule.national_lengths, rule.trunk_prefixes,
                        rule.area_code, rule.local_lengths]).fetchone()[0] == number


@pytest.mark.parametrize(("rule", "message"), [
    ({"area_code": "21"}, "area_code goes with local_digits, national_digits and"),
    ({"area_code": "21", "local_digits": 8, "national_digits": [10, 11]},
     "area_code goes with local_digits, national_digits and trunk_prefix"),
    ({"area_code": "021", "local_digits": 8, "national_digits": [10, 11], "trunk_prefix": "0"},
     "without its trunk prefix"),
    ({"area_code": "21", "local_digits": 7, "national_digits": [10, 11], "trunk_prefix": "0"},
     r"before a number of local_digits \(7\) is not one of national_digits"),
])
def test_an_area_code_rule_that_cannot_hold_is_refused(rule: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Numbers(**rule)


def test_ages_from_a_birth_year_or_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``birth_year`` (a year or a date) gives the whole years of age on the study month's first
    day (2016-09-01, counted by hand); an unreadable one, or an age outside 0..120, is an
    unknown age, counted by the value's form, never the date."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("birth"))
    src = tmp_path / "operator"
    births = {"O1": "1986", "O2": "1991-03-12", "O3": "19920915", "O4": "1992/09/01",
              "O5": "1986.0", "O6": "1850", "O7": "12/03/1991", "O8": "",
              "O9": "1986-09-02 00:00:00", "O10": "12 March 1986"}  # O9: a Parquet timestamp
    rows = [(f"1380000010{i}", owner, born, "M", "Shanghai", "true", "regular")
            for i, (owner, born) in enumerate(births.items())]
    _write(src / "subs.csv", "msisdn,owner,born,gender,province,local,kind", rows)
    _remap(src, "subscribers", columns={"number": "msisdn", "owner_id": "owner",
                                        "birth_year": "born", "sex": "gender",
                                        "birth_province": "province",
                                        "is_local_number": "local", "user_type": "kind"})
    con, stats = _ingest(study)
    ages = {o: _sub(con, o, "age") for o in ("O1", "O2", "O3", "O4", "O5", "O8", "O9")}
    assert ages == {"O1": 30, "O2": 25, "O3": 23, "O4": 24, "O5": 30, "O8": None, "O9": 29}
    assert [_sub(con, o, "age") for o in ("O6", "O7", "O10")] == [None] * 3  # kept, unknown
    assert stats["subscribers"].quarantined_by_reason == {}
    shown = con.execute("SELECT value, numbers FROM unreadable_attributes_subscribers "
                        "WHERE attribute = 'age' ORDER BY ALL").fetchall()
    assert shown == [("99 aaaaa 9999", 1), ("99/99/9999", 1), ("9999", 1)]
    # a file with an age column mapped: a column named birth_year beside it is not read (the
    # files below have no birth province: a constant one, as the studies' labels need one)
    _remap(src, "subscribers", constants={"birth_province": "Anhui"})
    _write(src / "subs.csv", "msisdn,owner,years,birth_year,local",
           [("13800000100", "O1", "", "86", "true"), ("13800000101", "O2", "41", "1900", "true")])
    _remap(src, "subscribers", columns={"number": "msisdn", "owner_id": "owner", "age": "years",
                                        "is_local_number": "local"})
    con, stats = _ingest(study)
    assert (_sub(con, "O1", "age"), _sub(con, "O2", "age")) == (None, 41)
    # and the other way: a birth year mapped, a column named age beside it (the age at export
    # time, years later) is not read
    _write(src / "subs.csv", "msisdn,owner,born,age,local",
           [("13800000100", "O1", "1986", "34", "true"), ("13800000101", "O2", "", "41", "true")])
    _remap(src, "subscribers", columns={"number": "msisdn", "owner_id": "owner",
                                        "birth_year": "born", "is_local_number": "local"})
    con, stats = _ingest(study)
    assert (_sub(con, "O1", "age"), _sub(con, "O2", "age")) == (30, None)
    _remap(src, "subscribers", columns={"number": "msisdn", "age": "years", "birth_year": "born",
                                        "is_local_number": "local"})
    with pytest.raises(MappingError, match="both age and birth_year"):
        _ingest(study)
    # both named as in the contract, neither mapped: an empty age would hide every birth year
    _write(src / "subs.csv", "msisdn,owner,age,birth_year,local",
           [("13800000100", "O1", "", "1986", "true"), ("13800000101", "O2", "", "", "true")])
    _remap(src, "subscribers", columns={"number": "msisdn", "owner_id": "owner",
                                        "is_local_number": "local"})
    with pytest.raises(MappingError, match="a column age and a column birth_year, and the "
                                           "mapping maps neither"):
        _ingest(study)
    _remap(src, "subscribers", columns={"number": "msisdn", "owner_id": "owner",
                                        "birth_year": "birth_year", "is_local_number": "local"})
    con, _ = _ingest(study)
    assert (_sub(con, "O1", "age"), _sub(con, "O2", "age")) == (30, None)


def test_a_birth_date_held_as_an_instant_is_its_day_in_the_city(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Parquet birth date with a time zone (pandas writes a local midnight as 16:00 UTC the
    day before) is the day in the city's time zone: O1 born 1986-09-01 is 30 on 2016-09-01,
    O2 born 1986-09-02 is 29; both were bad attributes."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("birth instants"))
    src = tmp_path / "operator"
    from zoneinfo import ZoneInfo

    born = [datetime(1986, 9, d, tzinfo=ZoneInfo("Asia/Shanghai")) for d in (1, 2, 1)]
    pq.write_table(pa.table({"msisdn": [A, B, C], "owner": ["O1", "O2", "O1"],
                             "born": pa.array(born, pa.timestamp("us", tz="Asia/Shanghai")),
                             "province": ["Anhui"] * 3, "local": ["true"] * 3}),
                   src / "subs.parquet")
    _remap(src, "subscribers", path="subs.parquet",
           columns={"number": "msisdn", "owner_id": "owner", "birth_year": "born",
                    "birth_province": "province", "is_local_number": "local"})
    con, stats = _ingest(study)
    assert (_sub(con, "O1", "age"), _sub(con, "O2", "age")) == (30, 29)
    assert stats["subscribers"].quarantined == 0


def test_a_landing_of_an_earlier_version_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file written before per-party exports (landed_calls without `side`, accounting_calls
    without `rows_excluded`): the day's ingestion says to land the calls again, and does after
    it; the other assets' row accounting works meanwhile."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("old landing"))
    con, _ = _ingest(study)
    con.execute("ALTER TABLE landed_calls DROP COLUMN side")
    con.execute("ALTER TABLE accounting_calls DROP COLUMN rows_excluded")
    cfg = StudyConfig.load(study)
    with pytest.raises(InputError, match="materialize landed_calls again"):
        ingest_calls(con, cfg, date.fromisoformat(DAY))
    # the other assets' accounting does not need the calls' new column
    assert all(p["balanced"] for s in ("subscribers", "landed_calls")
               for p in row_accounting(con, s))
    land_calls(con, cfg, contract_for(cfg))
    assert ingest_calls(con, cfg, date.fromisoformat(DAY)).accepted == 1
    assert [p["balanced"] for p in row_accounting(con, "calls")] == [True]


def test_a_day_with_every_call_quarantined_names_the_reason_to_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cells written 0001 in the calls and 1 in the cells file: every call is unknown_cell, and
    accepted_rows says what to check first, as quarantine_share does."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("padded cells"))
    src = tmp_path / "operator"
    (src / "towers.csv").write_text("tower,latitude,longitude\n1,31.20,121.40\n2,31.30,121.50\n")
    (src / "cdr.csv").write_text((src / "cdr.csv").read_text().replace(",T1,T2", ",0001,0002"))
    checks = _ingestion_checks(study)
    for name in ("accepted_rows", "quarantine_share"):
        check = checks[("calls", name)]
        assert not check.passed, name
        assert check.metadata["check_first"].value.startswith("unknown_cell: "), name


@pytest.mark.parametrize(("path", "found"), [
    ("cdr_{date:%Y%m%d%H}.csv.gz", ["%H"]), ("cdr_{date:%Y%m%d}*.csv.gz", []),
    ("{date:%Y-%m-%d}/%H.csv", []), ("a/{date:%d %r}.csv", ["%r"]), ("{date:%-I%P}", ["%-I", "%P"]),
    ("{date:%OH}", ["%OH"]), ("{date:%Y%j}.csv", []), ("{date:%Y", []),
])
def test_time_directives_of_a_date_path(path: str, found: list) -> None:
    """The time-of-day directives of a {date} path field, which would read hour 00 alone (probe
    30 H1); a day's directive (%j) is not one, and a malformed field is left to its own error."""
    from migrant_assets.contract import _time_directives

    assert _time_directives(path) == found


@pytest.mark.parametrize(("text", "strip", "fold", "cell"), [
    ("00182", True, False, "182"), ("00182", False, False, "00182"),
    ("0012 0345", True, False, "12 345"), ("000", True, False, "0"), ("182.0", True, False, "182"),
    ("A0012", True, False, "A0012"), ("0012-34", True, False, "0012-34"),
    # cell_ids.ignore_case (probe 30 L4)
    ("262-01-1a03-0bb0", False, True, "262-01-1A03-0BB0"),
    ("262-01-1a03-0bb0", False, False, "262-01-1a03-0bb0"), ("00ab", True, True, "00AB"),
])
def test_canonical_cell_ids(text: str, strip: bool, fold: bool, cell: str) -> None:
    """cell_ids.strip_leading_zeros and ignore_case, as docs/data_contract.md ("Identifiers")
    says; the expected forms are written by hand."""
    con = duckdb.connect()
    run_sql(con, "ingest/canonical.sql")
    assert con.execute("SELECT canonical_cell(?, ?, ?)", [text, strip, fold]
                       ).fetchone()[0] == cell


def test_cell_ids_padded_differently_link_with_strip_leading_zeros(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cells written 1 in the cells file (as integers, in Parquet) and 0001 in the calls: with
    cell_ids.strip_leading_zeros every call keeps its cells."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("padded", mapping={"cell_ids": {"strip_leading_zeros": True}}))
    src = tmp_path / "operator"
    pq.write_table(pa.table({"tower": pa.array([1, 2], pa.int64()),
                             "latitude": [31.2, 31.3], "longitude": [121.4, 121.5]}),
                   src / "towers.parquet")
    _remap(src, "cells", path="towers.parquet")
    (src / "cdr.csv").write_text((src / "cdr.csv").read_text().replace(",T1,T2", ",0001,0002"))
    con, stats = _ingest(study)
    assert stats["calls"].quarantined_by_reason == {}
    assert con.execute("SELECT caller_cell, callee_cell FROM calls").fetchall() == [("1", "2")]


def test_cell_ids_in_either_case_link_with_ignore_case(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cells written T1 in the cells file and t1 in the calls: with cell_ids.ignore_case every
    call keeps its cells, in capitals (probe 30 L4)."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("case", mapping={"cell_ids": {"ignore_case": True}}))
    src = tmp_path / "operator"
    (src / "cdr.csv").write_text((src / "cdr.csv").read_text().replace(",T1,T2", ",t1,t2"))
    con, stats = _ingest(study)
    assert stats["calls"].quarantined_by_reason == {}
    assert con.execute("SELECT caller_cell, callee_cell FROM calls").fetchall() == [("T1", "T2")]


def test_calls_at_a_cell_the_cells_file_quarantined_are_kept_without_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tower of the cells file without coordinates (T3) or geocoded outside the study area
    (T4) is a known cell without a place: its calls stay in the graphs with that side's cell
    unknown, counted in the day's note; a cell no row names (T9) is still unknown_cell."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("unlocated", cells=[("T3", "", ""),
                                                         ("T4", "39.90", "116.40")], calls=[
        (A, B, T + "11:00:00", T + "11:01:00", "T1", "T3"),
        (B, A, T + "12:00:00", T + "12:01:00", "T4", "T2"),
        (A, B, T + "13:00:00", T + "13:01:00", "T9", "T2")]))
    con, stats = _ingest(study)
    assert con.execute("SELECT hour(start_ts), caller_cell, callee_cell FROM calls "
                       "ORDER BY 1").fetchall() == [(10, "T1", "T2"), (11, "T1", None),
                                                    (12, None, "T2")]
    assert con.execute("SELECT source, reason FROM quarantine ORDER BY ALL").fetchall() == [
        ("calls", "unknown_cell"), ("cells", "bad_coordinates"), ("cells", "outside_bbox")]
    assert con.execute("SELECT * FROM unlocated_cells ORDER BY 1").fetchall() == [
        ("T3", "bad_coordinates"), ("T4", "outside_bbox")]
    assert stats["calls"].note.endswith("(2 calls)")


def test_without_cells_in_the_mapping_calls_keep_no_cell(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping without cells (an operator that withholds its sites) whose calls carry cell
    columns: every call is kept without its cells, and the landing says why, where every call
    was unknown_cell."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("no cells"))
    src = tmp_path / "operator"
    mapping = yaml.safe_load((src / "mapping.yaml").read_text())
    del mapping["cells"]
    (src / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    con, stats = _ingest(study)
    assert [r[5] for r in _calls(con)] == [None]
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert stats["landed_calls"].note.startswith("the mapping has no cells: the calls are kept")


def test_lac_and_ci_stored_as_doubles_link_to_their_text(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell id made of two Parquet DOUBLE columns (LAC 12.0, CI 345.0) reads 12 345, as the
    calls write it."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    study, _ = _setup(tmp_path, Case("lac ci"))
    src = tmp_path / "operator"
    pq.write_table(pa.table({"lac": [12.0, 12.0], "ci": [345.0, 346.0],
                             "latitude": [31.2, 31.3], "longitude": [121.4, 121.5]}),
                   src / "towers.parquet")
    _remap(src, "cells", path="towers.parquet",
           columns={"cell_id": ["lac", "ci"], "lat": "latitude", "lon": "longitude"})
    (src / "cdr.csv").write_text((src / "cdr.csv").read_text().replace(",T1,T2",
                                                                        ",12 345,12 346"))
    con, stats = _ingest(study)
    assert stats["calls"].quarantined_by_reason == {}
    assert con.execute("SELECT caller_cell, callee_cell FROM calls").fetchall() == [
        ("12 345", "12 346")]


def test_no_call_landed_names_the_quarantine_not_the_calendar(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call's end unreadable (durations written 03:53 as its end): nothing lands, and
    calendar_coverage says what to check first from the quarantine, not the calendar."""
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("no call landed"))
    _write(tmp_path / "operator" / "cdr.csv", CALLS_HEADER,
           [(A, B, f"{DAY} 1{h}:00:00", "03:53", "T1", "T2") for h in range(3)])
    check = _ingestion_checks(study)[("landed_calls", "calendar_coverage")]
    assert not check.passed
    assert check.metadata["check_first"].value.startswith(
        "no call landed; most rows quarantined as bad_timestamp: the start and end columns")


def test_rows_dated_far_outside_the_calendar_are_judged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Epoch milliseconds with every tenth row in seconds (two sources concatenated): those
    rows fall in January 1970, outside the calendar, where they were counted in a summary line
    only, every check passing. calendar_coverage warns once rows dated more than a week
    outside are thresholds.quarantine_warn_share of the rows read, naming their days and file;
    a row of the day before the month (an extract's edge) is not judged."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("seconds among milliseconds"))
    src = tmp_path / "operator"
    ten = int(datetime(2016, 9, 5, 10, 0, tzinfo=UTC).timestamp())
    rows = [(str((ten + 60 * i) * (1 if i % 10 == 9 else 1000)), A, B, "60") for i in range(30)]
    rows.append((str((ten - 6 * 86400) * 1000), A, B, "60"))  # 2016-08-30: the edge
    _write(src / "cdr.csv", "timestamp,caller,callee,duration", rows)
    _remap(src, "calls", columns={"start_ts": "timestamp", "duration": "duration"},
           timestamps={"unit": "ms"})
    check = _ingestion_checks(study)[("landed_calls", "calendar_coverage")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    md = {k: v.value for k, v in check.metadata.items()}
    assert (md["rows_read"], md["rows_landed"], md["rows_outside_calendar"],
            md["rows_far_outside_calendar"]) == (31, 27, 4, 3)
    assert md["days_far_outside"] == ["1970-01-18", "1970-01-18"]  # the edge's 08-30 not
    assert md["check_first"].startswith(
        "3 of 31 rows (9.7%) are dated more than 7 days outside the calendar (from "
        f"1970-01-18 to 1970-01-18; most in {src / 'cdr.csv'}), left out as outside_calendar: "
        "times misread in some rows, not files of other days (epoch seconds among milliseconds: "
        "timestamps.unit; day-first dates read month-first: timestamps.format; a corrupt "
        "year), or files of another period in the calls path; 29 days of the calendar "
        "without calls (")
    # under the share (1 of 61 rows: 1.6%): not judged a problem
    _write(src / "cdr.csv", "timestamp,caller,callee,duration",
           rows[:10] + rows[:9] * 5 + rows[23:29])
    check = _ingestion_checks(study)[("landed_calls", "calendar_coverage")]
    md = {k: v.value for k, v in check.metadata.items()}
    assert (md["rows_read"], md["rows_far_outside_calendar"]) == (61, 1)
    assert "outside the calendar" not in md.get("check_first", ""), md


def test_a_day_cut_short_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day with calls but under half the median day's (its file cut at noon) is named by
    calendar_coverage, which warns; the labels would read it as a quiet day (probe 30 M3)."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    study, _ = _setup(tmp_path, Case("a day cut short"))
    per_day = {d: 40 for d in range(1, 31)} | {7: 12, 8: 21}  # 30% and 52.5% of 40
    _write(tmp_path / "operator" / "cdr.csv", CALLS_HEADER, [
        (A, B, f"2016-09-{d:02d} {10 + i // 60:02d}:{i % 60:02d}:00",
         f"2016-09-{d:02d} {10 + i // 60:02d}:{i % 60:02d}:30", "T1", "T2")
        for d, n in per_day.items() for i in range(n)])
    check = _ingestion_checks(study)[("landed_calls", "calendar_coverage")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    md = {k: v.value for k, v in check.metadata.items()}
    assert (md["median_day_calls"], md["short_days"]) == (40.0, {"2016-09-07": 0.3})
    assert md["check_first"].startswith("1 day with fewer than 50% of the median day's calls "
                                        "(2016-09-07: 30%): a day's file cut short")


def test_a_long_call_in_partial_records_is_one_call(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A switch writing a 50-minute call as three partial records (each starting where, or a
    second after, the previous one ended): without the rule they are three calls and the
    partial_records check fails naming it; with ``calls.partial_records_within_s: 1`` they are
    one call from the first start to the last end (3,000 s by hand) with the first record's
    cells, the two others counted as excluded, never quarantined. A redial 30 s later and the
    call back the other way stay calls of their own."""
    import dagster as dg

    monkeypatch.setenv("MIGRANT_ASSETS_KEY", KEY)
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    long_call = [(A, B, T + "12:00:07", T + "12:20:07", "T1", "T2"),
                 (A, B, T + "12:20:07", T + "12:40:07", "T2", "T1"),
                 (A, B, T + "12:40:08", T + "12:50:07", "T2", "T2")]
    others = [(A, B, T + "12:50:37", T + "12:51:00", "T1", "T2"),  # a redial: a call
              (B, A, T + "12:51:00", T + "12:52:00", "T2", "T1")]  # the other way: a call
    study, _ = _setup(tmp_path, Case("partial", calls=[*long_call, *others]))
    con, stats = _ingest(study)
    assert stats["calls"].accepted == 6 and not stats["calls"].excluded_by_reason
    check = _ingestion_checks(study)[("calls", "partial_records")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["calls_continuing"].value == 2
    assert "partial_records_within_s" in check.metadata["check_first"].value

    _remap(tmp_path / "operator", "calls", partial_records_within_s=1)
    con, stats = _ingest(study)
    assert stats["calls"].accepted == 4
    assert stats["calls"].excluded_by_reason == {"partial_record": 2}
    assert not stats["calls"].quarantined_by_reason
    o1, o2 = _uid("O1"), _uid("O2")
    start = datetime(2016, 9, 5, 12, 0, 7)
    assert [c for c in _calls(con) if c[2] >= start] == [
        (o1, o2, start, datetime(2016, 9, 5, 12, 50, 7), 3000.0, "T1"),
        (o1, o2, datetime(2016, 9, 5, 12, 50, 37), datetime(2016, 9, 5, 12, 51), 23.0, "T1"),
        (o2, o1, datetime(2016, 9, 5, 12, 51), datetime(2016, 9, 5, 12, 52), 60.0, "T2")]
    assert con.execute("SELECT rows_read, rows_excluded, partial_records FROM accounting_calls"
                       ).fetchall() == [(6, 2, 2)]
    check = _ingestion_checks(study)[("calls", "partial_records")]
    assert check.passed and check.metadata["calls_continuing"].value == 0
