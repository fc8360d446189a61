"""The input data contract (SPEC §1) and the one reader every input goes through.

A *mapping file* (YAML, see ``docs/data_contract.md`` and ``docs/your_own_data.md``) says where
each contract table's files are, which of their columns holds each contract column, and how to
read the values (timestamps, event types, null tokens, phone numbers)::

    base_dir: /data/operator          # optional; default: the mapping file's folder
    null_tokens: ["", "NULL", "N/A"]  # text that means "no value" (default: DEFAULT_NULL_TOKENS)
    numbers: {country_code: "86", national_digits: 11}
    calls:
      path: cdr/*.csv                 # one file, a glob, or cdr/{date:%Y%m%d}.csv
      columns: {caller: msisdn_a, callee: msisdn_b, start_ts: t_start, duration: secs,
                caller_cell: lac_ci_a, event_type: kind}
      timestamps: {unit: s}           # or {format: "%d/%m/%Y %H:%M:%S", timezone: UTC}
      event_types: {call: [voice], missed: [missed]}
      missed_calls: contact           # or quarantine
      # or one record per served party (MOC / MTC): party, other_party, direction, cell
      # with directions: {outgoing: [MOC], incoming: [MTC]}; one file per party (bandicoot):
      # party_from_file_name: true
    subscribers: {path: subscribers.parquet, constants: {is_local_number: "true"}}
    cells: {path: cells.csv, csv: {delim: ";"}}   # cells and estates may be left out
    estates: {path: estates.csv}

The reader returns every contract column already normalised (identifiers in one canonical text
form, timestamps in the study city's local time, null tokens as NULL) with the file and row of
each record, so that validation in SQL decides what is bad. CSV lines the parser cannot split
are put aside as *rejected lines* with their line number; their text is never kept (it holds
phone numbers). Nothing from a file or a mapping is pasted into SQL: column names are checked
against the file's own columns and quoted, CSV option names are allow-listed, and every value is
a bound parameter.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import glob
import gzip
import os
import re
import string
import tempfile
import unicodedata
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from migrant_assets.config import (
    DUPLICATE_KEY,
    ZONE_FIX,
    FilesSource,
    StudyConfig,
    load_yaml,
    validation_problems,
    yaml_text,
    zone_info,
    zone_setting,
)
from migrant_assets.crs import WGS84, named_datum
from migrant_assets.crs import normalise as normalise_crs
from migrant_assets.db import has_column, quote, quote_identifier, run_sql
from migrant_assets.errors import ConfigError, MappingError, redact
from migrant_assets.privacy import pseudonym

#: Contract columns of each table; the reader returns them in this order.
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": (
        "caller", "callee", "start_ts", "end_ts", "duration", "caller_cell", "callee_cell",
        "event_type", *("party", "other_party", "cell", "direction"),
    ),
    "cells": ("cell_id", "lat", "lon"),
    "subscribers": (
        "number", "owner_id", "age", "sex", "birth_province", "is_local_number", "user_type",
        "birth_year",
    ),
    "estates": ("estate_id", "lat", "lon", "price_per_sqm"),
}
#: Columns a file must provide (through ``columns`` or ``constants``); the others may be absent
#: and are then NULL. Calls also need ``end_ts`` or ``duration``; subscribers need
#: ``birth_province`` when the study labels its users (``population: labelled``).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": ("caller", "callee", "start_ts"),
    "cells": ("cell_id", "lat", "lon"),
    "subscribers": ("number", "is_local_number"),
    "estates": ("estate_id", "lat", "lon", "price_per_sqm"),
}
#: The calls of a per-party export (one record per party of a call, MOC / MTC): the served
#: ``party``, the ``other_party``, the record's ``direction`` and the served party's ``cell``,
#: read as caller, callee and their cells by the mapping's ``directions`` rule (:func:`_sided`).
PARTY_COLUMNS = ("party", "other_party", "cell")
#: Columns holding phone numbers (canonicalised as numbers) and other identifiers.
NUMBER_COLUMNS = ("caller", "callee", "number", "party", "other_party")
ID_COLUMNS = ("owner_id", "cell_id", "estate_id", "caller_cell", "callee_cell", "cell")
#: Columns holding cell ids (canonicalised by the mapping's ``cell_ids`` rule).
CELL_COLUMNS = ("cell_id", "caller_cell", "callee_cell", "cell")
#: The cells of a call (the calls table's :data:`CELL_COLUMNS`).
CALL_CELL_COLUMNS = CELL_COLUMNS[1:]
TIME_COLUMNS = ("start_ts", "end_ts")

#: Text that means "no value" unless the mapping sets ``null_tokens``.
DEFAULT_NULL_TOKENS = ("", "NULL", "null", "Null", "N/A", "n/a", "NA", "\\N", "None", "NaN", "nan",
                       "N/D", "n/d", "S/D", "s/d",  # no disponible, sin dato (es, pt)
                       "(空白)", "(blank)")  # a pivot table's label of an empty value

#: read_csv options a mapping may set (anything else is refused), with their value types.
CSV_OPTIONS: dict[str, type] = {
    "delim": str, "sep": str, "quote": str, "escape": str, "header": bool, "skip": int,
    "comment": str, "encoding": str, "decimal_separator": str, "thousands": str, "new_line": str,
    "max_line_size": int, "strict_mode": bool, "null_padding": bool,
}

_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "UHUGEINT")
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")


def _aware(dtype: str) -> bool:
    """Whether a column of DuckDB type ``dtype`` holds instants: ``TIMESTAMP WITH TIME ZONE``,
    and ``TIMESTAMPTZ_NS``, what pandas' ``datetime64[ns, UTC]`` is read as (read as a local
    time it was 8 hours early in Shanghai)."""
    return dtype.startswith(("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"))


#: What to do with a Parquet text column holding bytes that are not text.
_BINARY_TEXT_FIX = ("a column read as text holds bytes that are not UTF-8 text (an id stored "
                    "as raw bytes: a UUID or a digest in a BINARY column): export it as hex "
                    "text (hex(column) in SQL, .hex() in Python), or as UTF-8 text")


def _numeric(dtype: str) -> bool:
    """Whether a column of DuckDB type ``dtype`` holds numbers."""
    return dtype in _INTEGER_TYPES or dtype in _FLOAT_TYPES or dtype.startswith("DECIMAL")


_UNIT_MICROS = {"d": 86_400_000_000, "s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}
#: Numbers of days are rounded to the millisecond: a spreadsheet's serial date (days since
#: 1899-12-30, a double) holds 08:30:15 as 0.35434027..., a few microseconds off the second.
_UNIT_ROUND_MICROS = {"d": 1_000}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timestamps(_Model):
    """How a table's timestamps are written (SPEC §1: stored as the city's naive local time).

    ``format``: strptime format of text timestamps (with ``%z`` when they carry an offset);
    without it text is read as ISO-8601, with or without ``Z`` / ``±hh:mm``. ``unit``: the
    values are numbers of days / seconds / milliseconds / microseconds / nanoseconds since
    ``origin`` (default the Unix epoch, 1970-01-01T00:00:00Z). ``timezone``: the zone of naive
    values (text without an offset, naive Parquet timestamps, a naive ``origin``); default the
    study city's. Values with an offset and timezone-aware Parquet columns are converted to the
    city's local time.
    """

    format: str | None = None
    unit: Literal["d", "s", "ms", "us", "ns"] | None = None
    origin: str | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        """An IANA name, or a fixed offset as its zone (``config.zone_setting``)."""
        if v is None:
            return v
        try:
            return zone_setting(v)
        except ValueError as e:
            raise MappingError(str(e).removesuffix(f": {ZONE_FIX}"), None, ZONE_FIX) from None

    @field_validator("origin")
    @classmethod
    def _origin(cls, v: str | None) -> str | None:
        if v is not None:
            datetime.fromisoformat(v)
        return v

    @model_validator(mode="after")
    def _twelve_hours(self) -> Timestamps:
        """A 12-hour clock (%I) without its halves (%p) reads 2:30 in the afternoon as 02:30
        (probe 34 F2: a Chinese spreadsheet's 下午 written into the format as text): refused."""
        if self.format and "%I" in self.format and "%p" not in self.format:
            raise ValueError(
                f"format {self.format!r} reads the hour on a 12-hour clock (%I) without AM or "
                "PM (%p): an afternoon's 2:30 would be read as 02:30. Put %p where the file "
                "writes the half of the day (AM/PM; 上午/下午, 午前/午後, 오전/오후 and a.m./p.m. "
                "are read as AM/PM), or read a 24-hour clock with %H")
        return self

    @model_validator(mode="after")
    def _zone_of_numbers(self) -> Timestamps:
        """Numbers count from ``origin``, an instant: a ``timezone`` other than UTC beside
        ``unit`` changes them only with a naive origin. Without one it was ignored (a "local
        epoch" read as UTC, every call 8 h late in Shanghai, every check passing): refused."""
        aware = self.origin is None or datetime.fromisoformat(self.origin).tzinfo is not None
        if self.unit is not None and self.timezone is not None and aware:
            zone = _zone_info(self.timezone)
            if any(datetime(2016, m, 1, tzinfo=zone).utcoffset() for m in (1, 7)):
                raise ValueError(
                    f"timezone {self.timezone!r} beside unit {self.unit!r} changes nothing: "
                    "the numbers count from origin, by default 1970-01-01T00:00:00Z (Unix "
                    "time, the same instant everywhere); for numbers counted from midnight "
                    f"local time (a \"local epoch\") set origin: '1970-01-01T00:00:00' (no "
                    f"offset), read in {self.timezone}; for Unix time remove timezone")
        return self


def _code(v: Any) -> Any:
    """A code of a rule as text: ``1`` written unquoted in YAML is ``"1"``."""
    return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


#: The values of a column a rule lists (event types, directions): text, numbers read as text.
Code = Annotated[str, BeforeValidator(_code)]


class EventTypes(_Model):
    """Which values of the ``event_type`` column are calls and which are missed calls; rows of
    any other type (SMS, data sessions) are not calls: counted, not ingested. Without ``call``,
    every value not listed as ``missed`` (an empty one too) is a call: ``{missed: [-1]}`` with
    ``event_type`` and ``duration`` mapped to one column reads a duration of -1 as a missed
    call."""

    call: list[Code] | None = None
    missed: list[Code] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> EventTypes:
        if self.call is None and not self.missed:
            raise ValueError("event_types lists no call and no missed value")
        both = {v.strip().lower() for v in self.call or []} & {
            v.strip().lower() for v in self.missed}
        if both:
            raise ValueError(f"event_types lists {sorted(both)} as both call and missed")
        return self


class Directions(_Model):
    """Which values of the ``direction`` column mark a record of the caller's side (outgoing,
    MOC) and which of the callee's (incoming, MTC), compared without case; a record with any
    other value is quarantined (``bad_direction``). ``match_within_s``: how far apart the
    switches may stamp the two records of one call."""

    outgoing: list[Code] = Field(min_length=1)
    incoming: list[Code] = Field(min_length=1)
    match_within_s: float = Field(default=0.0, ge=0, le=60)

    @model_validator(mode="after")
    def _apart(self) -> Directions:
        both = {v.strip().lower() for v in self.outgoing} & {
            v.strip().lower() for v in self.incoming}
        if both:
            raise ValueError(f"directions lists {sorted(both)} as both outgoing and incoming")
        return self


def _lengths_of(v: int | list[int] | None) -> list[int]:
    """A length or a list of lengths of a numbers rule, as a list."""
    return [] if v is None else [v] if isinstance(v, int) else list(v)


class Numbers(_Model):
    """Phone-number canonical form: separators (space, ``-``, ``(``, ``)``, ``.``) removed from
    numbers written with digits only, float-encoded integers (``1.39e10``, ``139…0.0``) written
    as integers, and the country prefix (``+CC``, ``00CC``; bare ``CC`` only when the rest has
    ``national_digits`` digits) removed, then the national ``trunk_prefix`` (``0151…`` and
    ``+49 (0)151…`` are ``151…``; never ``00…``, and only before ``national_digits`` digits
    when that is set). ``trunk_prefix`` may be a list: every prefix dialled before the national
    number in the files (Mexico's ``044``, ``045`` and ``01``, and the mobile ``1`` of
    ``+52 1 55…``), the longest that fits removed; a bare country code is then also removed
    before a listed prefix and ``national_digits`` digits (``52 1 55…``). ``area_code`` with
    ``local_digits`` (with ``national_digits`` and ``trunk_prefix``): a number written with that
    many digits, starting with 2 to 9, dialled without its area code (a local landline), gets
    the area code before it (``5555 1234`` with ``21`` is ``2155551234``, as ``021 5555 1234``
    reads)."""

    country_code: str | None = None
    # the national number's length, or its lengths (China: landlines 10 digits, mobiles 11)
    national_digits: int | list[int] | None = None
    trunk_prefix: str | list[str] | None = None
    # the study city's area code without its trunk prefix (Shanghai: '21'), and the length or
    # lengths of a local number dialled without it (8)
    area_code: str | None = None
    local_digits: int | list[int] | None = None

    @field_validator("national_digits", "local_digits")
    @classmethod
    def _lengths(cls, v: int | list[int] | None,
                 info: ValidationInfo) -> int | list[int] | None:
        most = {"national_digits": 15, "local_digits": 10}[info.field_name]
        for n in _lengths_of(v):
            if not 4 <= n <= most:
                raise ValueError(f"numbers.{info.field_name} must be between 4 and {most} "
                                 "digits")
        if isinstance(v, list) and not v:
            raise ValueError(f"numbers.{info.field_name} lists no length: leave it out instead")
        return v

    @field_validator("country_code", "trunk_prefix", "area_code")
    @classmethod
    def _digits(cls, v: str | list[str] | None, info: ValidationInfo) -> str | list[str] | None:
        example = {"country_code": "86", "trunk_prefix": "0", "area_code": "21"}
        for one in ([] if v is None else [v] if isinstance(v, str) else v):
            if not one.isdigit():
                raise ValueError(f"numbers.{info.field_name} must be digits, e.g. "
                                 f"{example[info.field_name]!r}")
            if info.field_name == "area_code" and one.startswith("0"):
                raise ValueError("numbers.area_code is written without its trunk prefix, e.g. "
                                 "'21' for Shanghai's 021 (the trunk prefix is "
                                 "numbers.trunk_prefix)")
            if info.field_name == "trunk_prefix" and one.startswith("00"):
                raise ValueError("numbers.trunk_prefix cannot start with 00 (an international "
                                 "prefix), e.g. '0'")
        if isinstance(v, list) and not v:
            raise ValueError("numbers.trunk_prefix lists no prefix: leave it out instead")
        return v

    @model_validator(mode="after")
    def _listed_prefixes_need_digits(self) -> Numbers:
        if (self.area_code is None) != (self.local_digits is None) or (
                self.area_code is not None and not (self.trunk_prefix and self.national_digits)):
            raise ValueError("numbers.area_code goes with local_digits, national_digits and "
                             "trunk_prefix: the area code is put before a number of the local "
                             "length, as the trunk prefix is removed before one of the national "
                             "length, e.g. {national_digits: [10, 11], trunk_prefix: '0', "
                             "area_code: '21', local_digits: 8}")
        wrong = [n for n in self.local_lengths if self.national_lengths and self.area_code
                 and len(self.area_code) + n not in self.national_lengths]
        if wrong:
            raise ValueError(f"numbers.area_code ({self.area_code}) before a number of "
                             f"local_digits ({wrong[0]}) is not one of national_digits "
                             f"{self.national_lengths}")
        if len(self.trunk_prefixes) > 1 and not self.national_lengths:
            raise ValueError("numbers.trunk_prefix lists several prefixes: set "
                             "numbers.national_digits too (the length of the number after a "
                             "prefix), so that a prefix is removed only before a whole number")
        return self

    @property
    def national_lengths(self) -> list[int]:
        """The national numbers' lengths (empty when not set), what canonical.sql compares."""
        return sorted(set(_lengths_of(self.national_digits)))

    @property
    def local_lengths(self) -> list[int]:
        """The lengths of a local number without its area code (empty when not set)."""
        return sorted(set(_lengths_of(self.local_digits)))

    @property
    def trunk_prefixes(self) -> list[str]:
        """The trunk prefixes, the longest first (what canonical.sql tries in turn)."""
        v = self.trunk_prefix
        listed = [] if v is None else [v] if isinstance(v, str) else v
        return sorted(set(listed), key=lambda t: (-len(t), t))


class CellIds(_Model):
    """Cell-id canonical form (after :data:`ID_COLUMNS`' own): with ``strip_leading_zeros``, an
    id of digits (or of runs of digits joined by spaces: LAC + CI) loses the leading zeros of
    each run, in calls and cells alike (``00182`` is ``182``; ``0012 0345`` is ``12 345``); with
    ``ignore_case``, letters are read in capitals (hexadecimal CGIs written ``1a03`` in one file
    and ``1A03`` in another)."""

    strip_leading_zeros: bool = False
    ignore_case: bool = False


#: strftime directives (their letters) of a time of day, which a {date} path field (a date)
#: cannot vary; with or without a ``-``, ``E`` or ``O`` modifier.
_TIME_DIRECTIVES = "HIMSpPfXcTRrkls"


def _time_directives(path: str) -> list[str]:
    """The time-of-day directives of the ``{date:...}`` fields of ``path``, in order."""
    try:
        specs = [spec or "" for _, name, spec, _ in string.Formatter().parse(path)
                 if name == "date"]
    except ValueError:  # unbalanced braces: the path's own error, where it is expanded
        return []
    return [d for spec in specs for d in re.findall(r"%[-EO]?.", spec)
            if d[-1] in _TIME_DIRECTIVES]


class TableSource(_Model):
    """Where one contract table's files are and how to read them."""

    path: str
    format: Literal["csv", "parquet"] | None = None  # default: from the file extension
    # contract name -> file column, or several joined by a space (LAC + CI, date + time)
    columns: dict[str, str | list[str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)  # contract name -> value, every row
    csv: dict[str, str | bool | int] = Field(default_factory=dict)  # allow-listed read_csv options
    timestamp_format: str | None = None  # shorthand for timestamps.format
    timestamps: Timestamps = Timestamps()
    event_types: EventTypes | None = None
    directions: Directions | None = None
    missed_calls: Literal["contact", "quarantine"] = "contact"
    # calls: the unit of a numeric duration (a clock duration H:MM:SS is always read as such)
    duration_unit: Literal["s", "ms", "min", "d"] = "s"
    # calls: a long call the switch wrote as several partial records (3GPP partial CDRs): each
    # record of a pair starting within this many seconds of the previous one's end continues
    # it, and the records become one call (None: every record is a call of its own)
    partial_records_within_s: float | None = Field(default=None, ge=0, le=60)
    # contract column -> {value in the file: value meant}, applied before the values are judged;
    # a value meant null is "no value" in that column only (age 0 for an unknown age)
    recode: dict[str, dict[Code, Code | None]] = Field(default_factory=dict)
    # calls, one file per subscriber (bandicoot's layout): each record's party is the file's
    # name without its extensions (true), or the group of a regular expression's first match
    # in the file's path relative to base_dir (:func:`party_files`)
    party_from_file_name: bool | str = False
    # subscribers, cells, estates: of the rows that list one number (and the attributes of one
    # owner) or one place id, the one kept: the first in file order, or the last (a history
    # appended over time, newest last: a KYC history, a cell list whose moved antennas are
    # listed again)
    keep: Literal["first", "last"] = "first"
    # cells and estates: the system their lat/lon columns are in (migrant_assets/crs.py):
    # wgs84 (degrees, the default), gcj02, bd09, or EPSG:<code> (lat the northing, lon the easting)
    crs: str = WGS84
    # contract column -> texts that mean "no value" in that column only, beside the mapping's
    # null_tokens (a cell 0 for "no cell", where a duration 0 is a duration)
    null_tokens: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, v: str) -> str:
        return normalise_crs(v)

    @field_validator("party_from_file_name")
    @classmethod
    def _one_group(cls, v: bool | str) -> bool | str:
        if isinstance(v, str):
            try:
                groups = re.compile(v).groups
            except re.error as e:
                raise ValueError(f"party_from_file_name is not a regular expression ({e})") \
                    from None
            if groups != 1:
                raise ValueError("party_from_file_name must have exactly one group, the party "
                                 r"(e.g. 'user_(\w+)\.csv')")
        return v

    @property
    def time_rule(self) -> Timestamps:
        if self.timestamp_format and not self.timestamps.format:
            return self.timestamps.model_copy(update={"format": self.timestamp_format})
        return self.timestamps


#: Contract columns that cannot come from one file column (lat and lon of one cell; the two
#: parties, cells or ends of one call).
_DISTINCT_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "calls": (("caller", "callee"), ("party", "other_party"), ("caller_cell", "callee_cell"),
              ("start_ts", "end_ts"),
              # a party is no cell: a user x cell table (a session log) has no other party
              *((party, cell) for party in ("caller", "callee", "party", "other_party")
                for cell in ("caller_cell", "callee_cell", "cell"))),
    "cells": (("lat", "lon"),),
    "estates": (("lat", "lon"),),
}


#: A file that has no other party of a call.
_NOT_A_CALL_LOG = ("a file of one subscriber's places (user, time, cell: a session or location "
                   "log) has no other party, so it is not a call log: the communication graphs "
                   "need both parties of each call")
_NO_OTHER_PARTY = f"map each to its own column; {_NOT_A_CALL_LOG}"


def _check_named_datum(table: str, src: TableSource, where: str) -> None:
    """A coordinate column whose name says its datum (``lat_bd09``) and a ``crs`` that says
    another: Chinese map services' datums sit hundreds of metres off WGS-84 inside the city's
    box, so nothing in the values would show it."""
    for name in ("lat", "lon"):
        for column in _file_columns(src, name):
            named = named_datum(column)
            if named is not None and named != src.crs:
                fix = (f"leave out {table}.crs (WGS-84 is the default) when the column "
                       f"holds WGS-84 degrees, as its name says" if named == WGS84 else
                       f"set {table}: {{crs: {named}}} (the coordinates are turned into "
                       "WGS-84), or map the file's WGS-84 columns")
                raise MappingError(
                    f"{table}.columns maps {name} to {column!r}, a {named} coordinate by its "
                    f"name, but {table}.crs is {src.crs}", where, fix)


class DataContract(_Model):
    """A mapping file: the contract tables of SPEC §1 (cells and estates may be absent)."""

    base_dir: Path
    calls: TableSource
    subscribers: TableSource
    cells: TableSource | None = None
    estates: TableSource | None = None
    null_tokens: list[str] = Field(default_factory=lambda: list(DEFAULT_NULL_TOKENS))
    numbers: Numbers = Numbers()
    cell_ids: CellIds = CellIds()

    @classmethod
    def load(cls, path: str | Path) -> DataContract:
        path = Path(path)
        if not path.exists():
            raise MappingError("the mapping file does not exist", str(path),
                               "point source.mapping of the study config at your mapping file")
        try:
            data = load_yaml(yaml_text(path, MappingError, "the mapping file")) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = str(path) + (f", line {mark.line + 1}" if mark else "")
            problem = DUPLICATE_KEY if getattr(e, "problem", None) == DUPLICATE_KEY \
                else type(e).__name__  # a parser's problem may quote the file
            raise MappingError(
                f"the mapping file is not valid YAML ({problem})", where,
                "check its indentation and quoting, and write each key once") from None
        if not isinstance(data, dict):
            raise MappingError("the mapping file must be a YAML mapping", str(path))
        base = Path(data.pop("base_dir", path.parent))
        if not base.is_absolute():
            base = (path.parent / base).resolve()
        try:
            contract = cls.model_validate({"base_dir": base, **data})
        except ValidationError as e:
            raise MappingError(f"the mapping file is invalid ({validation_problems(e)})", str(path),
                               "see docs/data_contract.md for the keys it accepts") from None
        contract.validate_columns(path)
        return contract

    def validate_columns(self, where: str | Path) -> None:
        """Mapped names are contract columns, CSV options are allowed, rules are consistent."""
        for table in CONTRACT_COLUMNS:
            src = self.source(table)
            if src is None:
                continue
            unknown = (set(src.columns) | set(src.constants)) - set(CONTRACT_COLUMNS[table])
            if unknown:
                raise MappingError(
                    f"{table}.columns maps unknown contract columns {sorted(unknown)}", str(where),
                    f"use the contract names {list(CONTRACT_COLUMNS[table])}")
            if set(src.null_tokens) - set(CONTRACT_COLUMNS[table]):
                raise MappingError(
                    f"{table}.null_tokens names unknown contract columns "
                    f"{sorted(set(src.null_tokens) - set(CONTRACT_COLUMNS[table]))}", str(where),
                    f"use the contract names {list(CONTRACT_COLUMNS[table])}")
            not_recodable = set(src.recode) - set(RECODABLE_COLUMNS)
            if not_recodable & set(CONTRACT_COLUMNS[table]):
                raise MappingError(
                    f"{table}.recode names {sorted(not_recodable)}, which cannot be recoded",
                    str(where), f"recode only {list(RECODABLE_COLUMNS)}")
            if set(src.recode) - set(CONTRACT_COLUMNS[table]):
                raise MappingError(
                    f"{table}.recode names unknown contract columns "
                    f"{sorted(set(src.recode) - set(CONTRACT_COLUMNS[table]))}", str(where),
                    f"use the contract names {list(CONTRACT_COLUMNS[table])}")
            empty = [name for name, col in src.columns.items() if not col]
            if empty:
                raise MappingError(f"{table}.columns maps {sorted(empty)} to no column",
                                   str(where), "give a file column, or a list of them")
            both = set(src.columns) & set(src.constants)
            if both:
                raise MappingError(f"{table}: {sorted(both)} is both a column and a constant",
                                   str(where), "keep one of the two")
            for option, value in src.csv.items():
                kind = CSV_OPTIONS.get(option)
                if kind is None or type(value) is not kind:
                    raise MappingError(
                        f"{table}.csv option {option!r} is not allowed or has the wrong type",
                        str(where), f"allowed options: {sorted(CSV_OPTIONS)}")
            for key in ("delim", "sep"):  # DuckDB's reader refuses more, once the files
                size = len(str(src.csv.get(key, "")).encode())  # are read (probe 28, L2)
                if size > 4:
                    raise MappingError(
                        f"{table}.csv {key} {src.csv[key]!r} is {size} bytes: the reader "
                        "takes a delimiter of 1 to 4 bytes", str(where),
                        "give the delimiter the files use (',', ';', '\\t', '|' or another "
                        "of 4 bytes at most)")
            hourly = _time_directives(src.path)
            if hourly:  # {date} is expanded once per day: an hour's field would read 00 only
                raise MappingError(
                    f"{table}.path names its files by the time of day ({', '.join(hourly)} in "
                    "its {date} field): a {date} path is expanded once per day, so only the "
                    "files of hour 00 would be read", str(where),
                    "keep the day's directives in {date:...} and match the rest of the name "
                    "with a glob, e.g. calls_{date:%Y%m%d}*.csv.gz, or give a plain glob")
            encoding = src.csv.get("encoding")
            if encoding is not None and _python_codec(encoding) is None:
                raise MappingError(f"{table}.csv encoding {encoding!r} is not a known encoding",
                                   str(where), "use a name such as utf-8, utf-16, latin-1, "
                                   "gb18030, gbk, big5, shift_jis or cp1252")
        for table in ("subscribers", "cells", "estates"):
            src = self.source(table)
            if src is not None and src.party_from_file_name:
                raise MappingError(f"{table} sets party_from_file_name", str(where),
                                   "only calls may be one file per party")
        src = self.source("calls")
        if src is not None and src.keep != "first":
            raise MappingError("calls sets keep", str(where),
                               "only subscribers, cells and estates choose the row kept of an "
                               "id listed again (keep: last); of a call listed twice the "
                               "copy that ends last is kept")
        for table in ("subscribers", "cells", "estates"):
            src = self.source(table)
            if src is not None and src.partial_records_within_s is not None:
                raise MappingError(f"{table} sets partial_records_within_s", str(where),
                                   "only calls have partial records")
        for table in ("calls", "subscribers"):
            if self.source(table).crs != WGS84:
                raise MappingError(f"{table} sets crs", str(where),
                                   "only cells and estates have coordinates")
        for table in ("cells", "estates"):
            src = self.source(table)
            if src is not None:
                _check_named_datum(table, src, str(where))
        for table, pairs in _DISTINCT_COLUMNS.items():
            src = self.source(table)
            for a, b in pairs:
                if src is None or not ({a, b} & set(src.columns)):
                    continue
                file_a, file_b = (_file_columns(src, c) for c in (a, b))
                if file_a == file_b:
                    raise MappingError(
                        f"{table}.columns maps {a} and {b} to the same column "
                        f"{src.columns.get(a, a)!r}", str(where),
                        "map each to its own column (a file with both in one column, such as "
                        "'31.2,121.4' or 'POINT(121.4 31.2)', needs them split first)"
                        if table in ("cells", "estates") else _NO_OTHER_PARTY
                        if b.endswith("cell") else "map each to its own column")
        calls = self.calls
        if "end_ts" in calls.columns and "duration" in calls.columns:
            raise MappingError("calls maps both end_ts and duration", str(where),
                               "map one of them: a call's end or its duration in seconds")
        if "event_type" in calls.columns and calls.event_types is None:
            raise MappingError("calls maps event_type but gives no event_types rule", str(where),
                               "add event_types: {call: [...], missed: [...]} to calls")
        if calls.event_types is not None and calls.event_types.call is None \
                and _file_columns(calls, "event_type") != _file_columns(calls, "duration"):
            raise MappingError(
                "calls.event_types lists no call value, so every event type not listed as missed "
                "would be read as a call (an SMS or a data session too)", str(where),
                "list the values of calls: event_types: {call: [...], missed: [...]} (leaving "
                "call out is for a duration column that holds -1 for a missed call, mapped as "
                "both event_type and duration)")
        _validate_sides(calls, str(where))
        subs = _mapped(self.subscribers)
        if {"age", "birth_year"} <= subs:
            raise MappingError("subscribers maps both age and birth_year", str(where),
                               "map one of them: the age, or the year or date of birth")

    @classmethod
    def synthetic(cls, directory: Path) -> DataContract:
        """The synthetic city's files follow the contract as they are."""
        return cls(
            base_dir=directory,
            calls=TableSource(path="calls/*.parquet"),
            subscribers=TableSource(path="subscribers.parquet"),
            cells=TableSource(path="cells.parquet"),
            estates=TableSource(path="estates.parquet"),
        )

    def source(self, table: str) -> TableSource | None:
        if table not in CONTRACT_COLUMNS:
            raise ValueError(f"not a contract table: {table}")
        return getattr(self, table)

    def files(self, table: str, days: list[date] | None = None) -> list[Path]:
        """The files of ``table``, sorted; an error if there are none. A ``{date}`` path is
        expanded for each of ``days`` and the day before and after them (every file found for
        any): an export's day need not be the city's (one file per UTC day holds the first or
        last hours of the city's first or last day; its rows outside the calendar are counted
        and left out). ``**`` matches any depth; a folder stands for every data file under it
        (:func:`_data_files`)."""
        src = self.source(table)
        if src is None:
            return []
        pattern = src.path
        if "{date" in pattern:
            if days is None:
                raise MappingError(f"{table}.path has a {{date}} field", pattern,
                                   "only calls may be split into one file per day")
            edges = [min(days) - timedelta(days=1), max(days) + timedelta(days=1)] \
                if days else []
            patterns = [pattern.format(date=d) for d in [*days, *edges]]
        else:
            patterns = [pattern]
        found = sorted({f for pat in patterns for f in self._matches(pat)})
        if not found and any(self._glob(pat) for pat in patterns):
            raise MappingError(f"every {table} file the mapping's path matches is empty "
                               "(0 bytes)", str(self.base_dir / pattern),
                               f"export the {table} again (an export or a copy that failed "
                               "leaves an empty file)")
        if not found:
            raise MappingError(f"no {table} file matches the mapping's path",
                               str(self.base_dir / pattern),
                               f"fix {table}.path (relative to base_dir {self.base_dir})")
        # a file named by a subscriber's number is not named in a message
        named = not (table == "calls" and src.party_from_file_name)
        _refuse_stray_files(found, table, None if named else str(self.base_dir / pattern))
        return found

    def missing_days(self, days: list[date]) -> list[date]:
        """Days with no calls file when the calls path has a ``{date}`` field."""
        pattern = self.calls.path
        if "{date" not in pattern:
            return []
        return [d for d in days if not self._matches(pattern.format(date=d))]

    def calls_files_by_day(self, days: list[date]) -> tuple[dict[date, list[Path]], int]:
        """The calls files of each of ``days`` that has any (the landing sensor's view), and how
        many files the path matches that name none of them. With a ``{date}`` path, each day's
        path (:meth:`files`: a folder stands for the files under it); otherwise each file whose
        path below ``base_dir`` names exactly one of the days, as ``2016-09-05`` or ``20160905``
        in a file or folder name (``cdr_20160905.csv``, a Hive export's
        ``day=2016-09-05/part-0.parquet``)."""
        pattern = self.calls.path
        if "{date" in pattern:
            by_day = {d: found for d in days if (found := sorted(set(
                self._matches(pattern.format(date=d)))))}
            return by_day, 0
        known = {d.strftime(f): d for d in days for f in ("%Y-%m-%d", "%Y%m%d")}
        by_day: dict[date, list[Path]] = {}
        undated = 0
        for f in sorted(set(self._matches(pattern))):
            try:
                where = str(f.relative_to(self.base_dir))
            except ValueError:
                where = f.name
            named = {known[m] for m in _DAY_IN_PATH.findall(where) if m in known}
            if len(named) == 1:
                by_day.setdefault(named.pop(), []).append(f)
            else:
                undated += 1
        return by_day, undated

    def _glob(self, pattern: str) -> list[str]:
        """The paths one path pattern matches below ``base_dir``, whose name is taken as it is
        (a folder ``operator export [2016-09]``). In the pattern, ``[..]`` is a set of
        characters, or, when that matches nothing, the brackets themselves (``subscribers
        [v2].csv``, ``cdr [2016-09]/*.csv``)."""
        base = glob.escape(str(self.base_dir))
        found = glob.glob(os.path.join(base, pattern), recursive=True)
        if not found and "[" in pattern:
            found = glob.glob(os.path.join(base, pattern.replace("[", "[[]")), recursive=True)
        return found

    def _matches(self, pattern: str) -> list[Path]:
        """The data files of one path pattern relative to ``base_dir`` (:func:`_data_files`);
        a file that cannot be read (a broken link, no permission) is an error naming the
        pattern, never the file (its name may be a subscriber's number)."""
        try:
            literal = not glob.has_magic(pattern) or (self.base_dir / pattern).exists()
            root = self.base_dir / _literal_root(Path(pattern))
            files = [f for p in self._glob(pattern)
                     for f in _data_files(Path(p), literal=literal)
                     # a wildcard's folders are matched as Spark lists them: not _temporary
                     if literal or not _hidden(f.relative_to(root).parts[:-1])]
            _refuse_delta_tables(files, pattern)
            return files
        except OSError as e:
            raise MappingError(f"a file the path matches cannot be read ({e.strerror})",
                               str(self.base_dir / pattern),
                               "fix the file's permissions, or remove a broken link") from None


def _hidden(parts: tuple[str, ...]) -> bool:
    """Whether a path below a folder or a wildcard passes through a name Spark and Hadoop leave
    out (``.`` or ``_`` first: ``_temporary``, ``_delta_log``, ``.crc``)."""
    return any(part.startswith((".", "_")) for part in parts)


def _literal_root(pattern: Path) -> Path:
    """The folder of a path pattern before its first wildcard (the pattern itself without
    one)."""
    parts = pattern.parts
    for i, part in enumerate(parts):
        if glob.has_magic(part):
            return Path(*parts[:i])
    return pattern


def _refuse_delta_tables(files: list[Path], pattern: str) -> None:
    """A Delta Lake table (a folder with ``_delta_log``) keeps on disk the Parquet files later
    commits removed (a DELETE, an UPDATE, an OPTIMIZE or an overwrite): read as files, its
    removed and rewritten rows would count again, silently. Refused, naming the pattern."""
    seen: set[Path] = set()
    for f in files:
        for folder in f.parents:
            if folder in seen:
                break
            seen.add(folder)
            if (folder / "_delta_log").is_dir():
                raise MappingError(
                    "the path reads a Delta Lake table's folder (it has a _delta_log): the "
                    "folder keeps the files later commits removed, so their rows would count "
                    "again", pattern,
                    "export the table's current version as Parquet (in Spark "
                    "spark.read.format('delta').load(folder).write.parquet(out); or with the "
                    "deltalake package) and map the export")


def _data_files(path: Path, literal: bool) -> list[Path]:
    """The data files ``path`` stands for: itself, or every file under a folder (a Spark or Hive
    export: ``day=…/part-….parquet``). Matched by a folder or a wildcard, names starting with
    ``.`` or ``_`` are left out, as Spark and Hadoop do (``_SUCCESS``, ``.crc`` checksums,
    ``_temporary``); an empty file (0 bytes) holds no row and is left out too (DuckDB would
    read the next file's header as data)."""
    if path.is_dir():
        files = [f for f in path.rglob("*")
                 if f.is_file() and not _hidden(f.relative_to(path).parts)]
    elif literal or not path.name.startswith((".", "_")):
        files = [path]
    else:
        files = []
    return [f for f in files if f.stat().st_size > 0]


#: A day written in a path: 2016-09-05 or 20160905, not inside a longer run of digits.
_DAY_IN_PATH = re.compile(r"(?<![0-9])([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})(?![0-9])")

#: A file name: its stem, then the extensions of a data file (``.csv``, ``.csv.gz``, ``.parquet``),
#: so that ``13912345678.2.csv`` is party ``13912345678.2`` and ``u.ab12cd.csv`` is ``u.ab12cd``.
_NAME_AND_EXTENSIONS = re.compile(
    r"^(.+?)((?:\.(?:csv|tsv|txt|dat|parquet))?(?:\.(?:gz|gzip|zst|zstd))?)$", re.IGNORECASE)


def party_files(contract: DataContract, files: list[Path]) -> dict[str, tuple[str, str]]:
    """The calls ``files`` of a one-file-per-party export (``calls.party_from_file_name``):
    path -> (the party as the file's path writes it, the file's *label*). ``true``: the party is
    the file's name without its data extensions; a pattern: its group in the first match in the
    path relative to ``base_dir`` (``users/([^/]+)/calls.csv`` for one folder per party). The
    label stands for the path in every table, metadata and message, since the name is an
    identifier (SPEC §1): ``base_dir/[party file 17 of 104].csv``, the files numbered in path
    order. Two files of one party are an error unless the path has a ``{date}`` field."""
    rule = contract.calls.party_from_file_name
    out: dict[str, tuple[str, str]] = {}
    unmatched: list[str] = []
    shared: Counter[tuple[str, ...]] = Counter(  # files below each folder under base_dir
        f.parent.relative_to(contract.base_dir).parts[:j]
        for f in files if f.is_relative_to(contract.base_dir)
        for j in range(1, len(f.parent.relative_to(contract.base_dir).parts) + 1))
    for i, f in enumerate(files, 1):
        stem, extensions = _NAME_AND_EXTENSIONS.match(f.name).groups()
        if isinstance(rule, str):
            where = f.relative_to(contract.base_dir) if f.is_relative_to(contract.base_dir) \
                else f
            found = re.search(rule, where.as_posix())
            party = found.group(1) if found else None
        else:
            party = stem
        number = str(i).zfill(len(str(len(files))))  # 07 of 40: labels sort as the paths
        # the folders below base_dir when the name alone is the party (records/ beside an
        # antennas.csv the path also reads), but one of a single file (a party's own folder,
        # named by a hashed id) or with a number in its name
        below = f.parent.relative_to(contract.base_dir).parts \
            if rule is True and f.is_relative_to(contract.base_dir) else ()
        folders = [part if shared[below[:j + 1]] > 1 and not _numbers_in(part)
                   else "[folder]" for j, part in enumerate(below)]
        label = str(contract.base_dir.joinpath(
            *folders, f"[party file {number} of {len(files)}]{extensions}"))
        if not party:
            unmatched.append(label)
        out[str(f)] = (party or "", label)
    if unmatched:
        raise MappingError(
            f"calls: the names of {len(unmatched)} of the {len(files)} calls files give no "
            "party by party_from_file_name", unmatched[0],
            "fix party_from_file_name's pattern (its group is the party), or narrow calls.path "
            "to the files of one party each")
    if "{date" not in contract.calls.path:
        first: dict[str, str] = {}
        for party, label in out.values():
            if party in first:
                raise MappingError(
                    f"calls: two files give the same party by party_from_file_name ({first[party]}"
                    f" and {label}), so they are not one file per party", label,
                    "with one folder per subscriber, give party_from_file_name a pattern whose "
                    "group is the folder (e.g. '^users/([^/]+)/'); otherwise narrow calls.path")
            first[party] = label
    return out


#: Digits of a path: any script's decimal digits (ASCII, full-width as a Chinese input method
#: types them, Arabic-Indic, Devanagari...).
_PATH_DIGIT = "\\d"
#: What may join a number's groups in a path: ASCII and full-width dashes, dots, commas,
#: parentheses, slashes and spaces, a middle dot, a word processor's hyphens and dashes
#: (U+2010..U+2015, the minus U+2212), no-break, thin and ideographic spaces.
_PATH_SEPARATOR = ("\\-_. (),\u00b7\u00a0\u2007\u2009\u202f\u3000\uff0d\uff0e\uff08"
                   "\uff09\uff0c\uff0f\u2010-\u2015\u2212")
#: Digits in a path, alone or in groups joined by up to four separators (``138-0000-0001``,
#: ``139_0000_0009``, ``(021) 5555 1234``, ``139 - 0000 - 0006``, ``１３８－００００``; any
#: character that is no letter, digit or slash joins them too: ``139#1234#5678``,
#: ``139%201234``, ``139：1234``, ``139____1234`` — hiding too much costs little); a date
#: written with its separators (``2016-09-05``, ``2016_09_05 10.30``, ``05.09.2016``,
#: ``09-05-2016``) is matched whole as ``date``, so that its digits never join a number's.
_DIGITS_IN_PATH = re.compile(
    rf"(?P<date>(?<![{_PATH_DIGIT}])(?:(?:19|20)[0-9]{{2}}(?P<ymd>[-_.])[0-9]{{2}}(?P=ymd)"
    rf"[0-9]{{2}}|[0-3]?[0-9](?P<dmy>[-_.])[0-3]?[0-9](?P=dmy)(?:19|20)[0-9]{{2}})"
    rf"(?:[ T_][0-9]{{2}}(?:[-_.:][0-9]{{2}}){{0,2}})?(?![{_PATH_DIGIT}]))"
    rf"|(?<![{_PATH_DIGIT}])\+?[{_PATH_DIGIT}]+(?:(?:[{_PATH_SEPARATOR}]|[^\w/\\]){{1,4}}"
    rf"[{_PATH_DIGIT}]+)*"
    rf"(?![{_PATH_DIGIT}])")
_PATH_GROUPS = re.compile(rf"([^{_PATH_DIGIT}]+)")
#: A number a folder or file may be named by has 7 digits or more (a Hive table partitioned by
#: caller: ``calls/caller=15512345678/part-0.parquet``; 7 and 8 digits are whole numbers in some
#: countries: Denmark, Singapore, Hong Kong).
NUMBER_DIGITS_IN_PATH = 7
#: A Hive partition key whose value is a time (``dt=20160905``), not a number.
_TIME_KEY = re.compile(r"(date|day|dt|ds|hour|hr|month|year|time|ts|pt)[A-Za-z_]*=$",
                       re.IGNORECASE)
_HIVE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=$")


def _digits(text: str) -> str:
    """The decimal digits of ``text``, of any script, as ASCII digits."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def _reads_as_time(run: str) -> bool:
    """Whether 8, 10, 12 or 14 digits read as a date or time (``20160901``, ``2016090108``,
    ``201609010830``, ``20160901083000``) of the years 1900 to 2199."""
    # not 05092016: a day first is as likely a number (Denmark's have 8 digits) as a date
    forms = {8: ("%Y%m%d",), 10: ("%Y%m%d%H",), 12: ("%Y%m%d%H%M",),
             14: ("%Y%m%d%H%M%S",)}.get(len(run), ())
    for form in forms:
        try:
            if 1900 < datetime.strptime(run, form).year < 2200:
                return True
        except ValueError:
            pass
    return False


def _hide_numbers(where: str, hidden: Callable[[str], str]) -> str:
    """``where`` with each number in it (:data:`NUMBER_DIGITS_IN_PATH` digits or more, alone or
    in groups joined by separators) replaced by ``hidden(its digits)``, but a date or time
    (``cdr_20160905.csv``, ``2016-09-05``; as the value of a Hive key only when the key names a
    time, ``dt=20160905``, never ``caller=20160905``). A run that holds a date beside other
    groups (``cdr_20160905_001``, ``13800000001_20160905``) is judged group by group."""

    def one(run: str, before: str) -> str:
        digits = _digits(run)
        if len(digits) < NUMBER_DIGITS_IN_PATH:
            return run
        if _reads_as_time(digits) and (_HIVE_KEY.search(before) is None
                                       or _TIME_KEY.search(before) is not None):
            return run
        return hidden(digits)

    def label(m: re.Match) -> str:
        run, before = m.group(0), where[:m.start()]
        if m.group("date") is not None:
            return run
        parts = _PATH_GROUPS.split(run)  # digits, separators, digits, ...
        times = [g for g in parts[::2] if _reads_as_time(_digits(g))]
        if len(parts) > 1 and times:
            # the other groups together (138-0000-0001_20160905): a number, or a part number
            others = _digits("".join(g for g in parts[::2] if g not in times))
            if len(others) < NUMBER_DIGITS_IN_PATH:
                return "".join(one(g, before) if i % 2 == 0 else g
                               for i, g in enumerate(parts))
            return "_".join([hidden(others), *times])
        return one(run, before)

    return _DIGITS_IN_PATH.sub(label, where)


def _numbers_in(text: str) -> bool:
    """Whether ``text`` holds a number :func:`_hide_numbers` would hide."""
    return _hide_numbers(text, lambda digits: "\0") != text


def _path_label(path: Path, base_dir: Path, key: str) -> str:
    """``path`` as shown: each number below ``base_dir`` replaced by a short keyed hash of its
    digits, the same in every run and batch (``[number 3f9c2e1a]``; ``138-0000-0001`` and
    ``13800000001`` alike), dates and times kept (:func:`_hide_numbers`)."""
    where = path.relative_to(base_dir).as_posix() if path.is_relative_to(base_dir) else str(path)
    shown = _hide_numbers(
        where, lambda digits: f"[number {pseudonym(key, 'number', digits) & 0xFFFFFFFF:08x}]")
    return str(base_dir / shown) if path.is_relative_to(base_dir) else shown


def file_labels(contract: DataContract, table: str, files: list[Path],
                parties: dict[str, tuple[str, str]] | None = None,
                key: str | None = None) -> dict[str, str]:
    """How each of ``files`` is named in tables, metadata and messages: its path (with ``key``,
    a number in it replaced by :func:`_path_label`), or, in a one-file-per-party export, its
    label (``parties``, or :func:`party_files` of ``files``)."""
    if table != "calls" or not contract.calls.party_from_file_name:
        labels = {str(f): str(f) if key is None else _path_label(f, contract.base_dir, key)
                  for f in files}
        # two paths of one label (138-0000-0001.csv and 13800000001.csv) stay two files
        shared: dict[str, list[str]] = {}
        for path, label in labels.items():
            shared.setdefault(label, []).append(path)
        for label, paths in shared.items():
            for i, path in enumerate(sorted(paths) if len(paths) > 1 else []):
                labels[path] = f"{label} [file {i + 1} of {len(paths)} so named]"
        return labels
    parties = parties if parties is not None else party_files(contract, files)
    return {str(f): parties[str(f)][1] if str(f) in parties else "[a calls file]"
            for f in files}


def shown(text: str, names: dict[str, str]) -> str:
    """``text`` with each path of ``names`` replaced by how it is shown (its label, or the
    user's file for a transcoded copy), longest first (a path may begin another)."""
    for path in sorted(names, key=len, reverse=True):
        text = text.replace(path, names[path])
    return text


def failed_path(message: str, files: list[Path]) -> Path | None:
    """The file a reader's error ``message`` names first ("Failed to read file X: ... read
    from the original file Y"), else None."""
    named = [f for f in files if str(f) in message]
    # the first named; of two paths at one place (a1.csv begins a10.csv), the longer
    return min(named, key=lambda f: (message.index(str(f)), -len(str(f)))) if named else None


def failed_file(message: str, files: list[Path], names: dict[str, str]) -> str | None:
    """How the file a reader's error ``message`` names first is shown, else the first
    file's: where a read of many files failed."""
    return names.get(str(failed_path(message, files) or files[0]))


def contract_for(cfg: StudyConfig) -> DataContract:
    """The data contract of a study: its mapping file, or the layout of the synthetic city
    (generated by the `synthetic_city` asset, `ingest.generate_city`)."""
    if isinstance(cfg.source, FilesSource):
        return DataContract.load(cfg.source.mapping)
    if not (cfg.synthetic_dir / "manifest.json").exists():
        raise ConfigError("the synthetic city has not been generated", str(cfg.synthetic_dir),
                          "materialize the synthetic_city asset first (migrant-assets demo "
                          "does)")
    return DataContract.synthetic(cfg.synthetic_dir)


@dataclass(frozen=True)
class RawRead:
    """A contract table read and normalised into a temp table, plus the lines the CSV parser
    rejected (file, line number, error type: never the line's text)."""

    table: str  # the temp table: contract columns, *_text columns, then _file, _row
    rows: int
    rejected_lines: list[tuple[str, int, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: calls: the end of a call is start_ts + duration (:func:`reads_duration`), not end_ts
    has_duration: bool = False

    @property
    def read(self) -> int:
        return self.rows + len(self.rejected_lines)


def column_key(name: str) -> str:
    """How a file's column name and a mapping's are matched: letter case, the spaces around it,
    invisible format characters (a zero-width space, a byte order mark) and Unicode forms
    aside (NFKC: a macOS tool's decomposed ``durée``, a full-width ``ａ`` typed in a Chinese
    input method)."""
    kept = "".join(c for c in unicodedata.normalize("NFKC", name)
                   if unicodedata.category(c) != "Cf")
    return kept.strip().lower()


#: Full-width forms of ASCII (U+FF01..U+FF5E) and the ideographic space, as ASCII: the fold of
#: ``fold_width`` in ``sql/ingest/canonical.sql``.
_WIDTH = str.maketrans("".join(map(chr, range(0xFF01, 0xFF5F))) + "\u3000",
                       "".join(map(chr, range(0x21, 0x7F))) + " ")


def value_key(value: str) -> str:
    """How a value of the mapping's event types or directions is compared with the file's,
    which SQL folds as ``lower(trim(fold_width(x)))``: letter case, the spaces around it and
    width aside (ＭＯＣ, 语音（本地） typed with a Chinese input method)."""
    return value.translate(_WIDTH).strip(" ").lower()


def _file_columns(src: TableSource, name: str) -> list[str]:
    """The file columns contract column ``name`` is read from (its own name when not mapped),
    as the reader matches them (:func:`column_key`)."""
    mapped = src.columns.get(name, name)
    return [column_key(c) for c in ([mapped] if isinstance(mapped, str) else mapped)]


def end_rolls_over(src: TableSource) -> bool:
    """Whether a call's end is written as a time of day on its start's date: ``start_ts`` and
    ``end_ts`` each mapped to several columns, one of them the same (``[call_date, start_time]``
    and ``[call_date, end_time]``), so that an end before the start is the next day's
    (landing.sql)."""
    start, end = src.columns.get("start_ts"), src.columns.get("end_ts")
    return (isinstance(start, list) and isinstance(end, list)
            and bool(set(_file_columns(src, "start_ts")) & set(_file_columns(src, "end_ts"))))


def header_text(src: TableSource, name: str) -> str | None:
    """The text contract column ``name`` reads, as :func:`column_key` folds it, on a line that
    repeats the file's header (files joined with their header lines): its columns' names,
    joined by a space as their values are; None for a constant."""
    return None if name in src.constants else " ".join(_file_columns(src, name))


def _mapped(src: TableSource) -> set[str]:
    return set(src.columns) | set(src.constants)


def _validate_sides(calls: TableSource, where: str) -> None:
    """A per-party export (``direction`` with ``directions``; ``party`` / ``other_party``
    instead of ``caller`` / ``callee``; ``cell`` instead of the two cells) is consistent."""
    mapped = _mapped(calls)
    if "direction" in mapped and calls.directions is None:
        raise MappingError("calls maps direction but gives no directions rule", where,
                           "add directions: {outgoing: [MOC, ...], incoming: [MTC, ...]} to "
                           "calls")
    if calls.directions is None and mapped & set(PARTY_COLUMNS):
        raise MappingError(
            f"calls maps {sorted(mapped & set(PARTY_COLUMNS))} (a per-party export) but gives "
            "no directions rule", where,
            "map direction to the column that says whether the party called (MOC) or was "
            "called (MTC), and add directions: {outgoing: [...], incoming: [...]} to calls")
    if calls.party_from_file_name:
        if calls.directions is None:
            raise MappingError(
                "calls reads the party from the file names but gives no directions rule", where,
                "map direction to the column that says whether the file's party called (out, "
                "MOC) or was called (in, MTC), and add directions: {outgoing: [...], incoming: "
                "[...]} to calls")
        if mapped & {"party", "caller", "callee"}:
            raise MappingError(
                f"calls reads the party from the file names and also maps "
                f"{sorted(mapped & {'party', 'caller', 'callee'})}", where,
                "with party_from_file_name map other_party (the correspondent), not party, "
                "caller or callee")
    if mapped & {"party", "other_party"} and mapped & {"caller", "callee"}:
        raise MappingError("calls maps both caller/callee and party/other_party", where,
                           "a per-party export maps party and other_party; a per-call export "
                           "caller and callee")
    if "cell" in mapped and mapped & {"caller_cell", "callee_cell"}:
        raise MappingError("calls maps both cell and caller_cell/callee_cell", where,
                           "a per-party export maps cell (the served party's) alone")


def per_party(src: TableSource, present: dict[str, Any]) -> bool:
    """Whether calls are read per party (``party``, ``other_party``): a ``directions`` rule, and
    ``party`` or ``other_party`` mapped, or the file has a column ``party`` but none ``caller``
    (a column named as in the contract needs no entry). ``present``: the file's columns by
    lower-case name."""
    if src.directions is None:
        return False
    mapped = _mapped(src)
    if src.party_from_file_name or mapped & {"party", "other_party"}:
        return True
    return not mapped & {"caller", "callee"} and "party" in present and "caller" not in present


def _required(table: str, src: TableSource, present: dict[str, Any]) -> tuple[str, ...]:
    """The contract columns ``table``'s files must provide (:data:`REQUIRED_COLUMNS`; a
    per-party export's parties and direction instead of caller and callee)."""
    if table != "calls" or src.directions is None:
        return REQUIRED_COLUMNS[table]
    if per_party(src, present):
        return ("party", "other_party", "start_ts", "direction")
    return (*REQUIRED_COLUMNS[table], "direction")


def _sided(inner: str, src: TableSource, present: dict[str, Any], p: _Params) -> str:
    """The calls of ``inner`` (a SELECT of every contract column) with ``side``: the record's
    party ('caller' for an outgoing direction, 'callee' for an incoming one, NULL for any other
    value or without a ``directions`` rule) and ``direction_text``; a per-party record's parties
    and ``cell`` read as caller, callee and the served party's cell."""
    rule = src.directions
    if rule is None:
        return (f"SELECT * EXCLUDE (party, other_party, cell, direction), "
                f"CAST(NULL AS VARCHAR) AS side, CAST(NULL AS VARCHAR) AS direction_text "
                f"FROM ({inner}) AS r")
    outgoing = p([value_key(v) for v in rule.outgoing])
    incoming = p([value_key(v) for v in rule.incoming])
    # compared as written up to case, spaces and width (ＭＯＣ, 主叫 as written)
    folded = "lower(trim(fold_width(direction)))"
    side = (f"CASE WHEN list_contains({outgoing}, {folded}) THEN 'caller' "
            f"WHEN list_contains({incoming}, {folded}) THEN 'callee' END")
    parties = per_party(src, present)
    caller = ("CASE side WHEN 'caller' THEN party WHEN 'callee' THEN other_party END"
              if parties else "caller")
    callee = ("CASE side WHEN 'caller' THEN other_party WHEN 'callee' THEN party END"
              if parties else "callee")
    mapped = _mapped(src)
    has_cell = "cell" in mapped or ("cell" in present and not (
        mapped & {"caller_cell", "callee_cell"} or {"caller_cell", "callee_cell"} & set(present)))
    caller_cell = "CASE WHEN side = 'caller' THEN cell END" if has_cell else "caller_cell"
    callee_cell = "CASE WHEN side = 'callee' THEN cell END" if has_cell else "callee_cell"
    return (f"SELECT * EXCLUDE (caller, callee, caller_cell, callee_cell, party, other_party, "
            f"cell, direction), {caller} AS caller, {callee} AS callee, "
            f"{caller_cell} AS caller_cell, {callee_cell} AS callee_cell, side, "
            f"direction AS direction_text FROM (SELECT *, {side} AS side FROM ({inner}) AS r) "
            f"AS s")


def reads_duration(src: TableSource, present: dict[str, Any]) -> bool:
    """Whether a call's end is ``start_ts + duration`` rather than ``end_ts``: ``duration`` is
    mapped (or a constant), or neither is mapped and the file has a column named ``duration``
    but none named ``end_ts`` (a column named as in the contract needs no entry). ``present``:
    the file's columns by lower-case name."""
    if "duration" in src.columns or "duration" in src.constants:
        return True
    if "end_ts" in src.columns or "end_ts" in src.constants:
        return False
    return "duration" in present and "end_ts" not in present


def repeated_hours(zone: str, days: list[date]) -> list[tuple[datetime, int]]:
    """The changes back of ``zone``'s clocks (the end of daylight saving time) from the day
    before ``days`` to the day after: each as the instant the clocks go back (UTC) and the
    seconds repeated. A wall-clock time in ``[instant, instant + seconds)`` of the later offset
    names an earlier instant too (landing.sql takes the pair of start and end that gives the
    shortest duration not negative)."""
    return list(_repeated_hours(zone, min(days), max(days)))


@functools.cache
def _repeated_hours(zone: str, first: date, last: date) -> tuple[tuple[datetime, int], ...]:
    tz = _zone_info(zone)
    lo = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(last + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    step, out, t = timedelta(minutes=15), [], lo
    while t < hi:
        before, after = t.astimezone(tz).utcoffset(), (t + step).astimezone(tz).utcoffset()
        if after < before:  # the change is in (t, t + step]: to the second
            a, b = t, t + step
            while b - a > timedelta(seconds=1):
                m = a + (b - a) / 2
                a, b = (m, b) if m.astimezone(tz).utcoffset() == before else (a, m)
            out.append((b.replace(microsecond=0), int((before - after).total_seconds())))
        t += step
    return tuple(out)


def _zone_info(name: str) -> ZoneInfo:
    try:
        return zone_info(name)
    except ValueError as e:
        raise MappingError(str(e).removesuffix(f": {ZONE_FIX}"), None, ZONE_FIX) from None


class _Params:
    """Named parameters of one generated statement: every value is bound, never pasted."""

    def __init__(self, spreadsheet_errors: bool = True) -> None:
        self.values: dict[str, Any] = {}
        #: whether a text that is a spreadsheet's error value is read as no value here (per row:
        #: the small tables), or later, once per distinct value (the calls' numbers and cells:
        #: landing_identifiers.sql; a time, duration or event type so written is quarantined
        #: or counted as not a call anyway)
        self.spreadsheet_errors = spreadsheet_errors

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def of(self, sql: str) -> dict[str, Any]:
        """The parameters ``sql`` names (DuckDB refuses unused ones)."""
        used = set(re.findall(r"\$(p\d+)\b", sql))
        return {k: v for k, v in self.values.items() if k in used}


#: Columns whose values a mapping may translate (``recode``): attributes and event types, never
#: identifiers, times or numbers.
RECODABLE_COLUMNS = ("sex", "birth_province", "is_local_number", "user_type", "event_type",
                     "direction", "age", "birth_year")
#: Columns holding decimal numbers: a CSV's ``decimal_separator`` is read as the decimal point
#: and its ``thousands`` separator is dropped.
DECIMAL_COLUMNS = ("duration", "age", "lat", "lon", "price_per_sqm")
#: Encodings DuckDB's CSV reader decodes itself; a file in any other encoding Python knows
#: (gb18030, gbk, big5, shift_jis, cp1252, …) is read from a UTF-8 copy (:func:`utf8_copies`).
_DUCKDB_ENCODINGS = {"utf-8", "utf-16", "latin-1"}


def _python_codec(encoding: str) -> str | None:
    """The codec's canonical name (``utf-8``, ``gb18030`` …), None for an unknown encoding."""
    try:
        return codecs.lookup(encoding).name.replace("_", "-")
    except LookupError:
        return None


def _duckdb_encoding(encoding: str) -> str | None:
    """How DuckDB's reader names ``encoding``; None when it cannot decode it itself."""
    name = _python_codec(encoding)
    return {"utf-8": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}.get(name or "")


@contextlib.contextmanager
def utf8_copies(files: list[Path], encoding: str, where: Path) -> Iterator[dict[str, str]]:
    """UTF-8 copies of ``files`` decoded from ``encoding``, in a private directory under
    ``where`` that is removed on exit: yields ``{copy: original}``. A byte sequence the
    encoding cannot decode is copied as it is (invalid UTF-8), so the parser rejects that line
    (``malformed_line``, as in a UTF-8 file), never the file, and never reads it as text."""
    where.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="transcoded-", dir=where) as tmp:
        copies = {}
        for i, path in enumerate(files):
            copy = Path(tmp) / f"{i}.csv"
            opener = gzip.open if path.suffix == ".gz" else open
            try:
                with opener(path, "rb") as raw, open(copy, "wb") as out:
                    text = codecs.getreader(encoding)(raw, errors="surrogateescape")
                    while chunk := text.read(1 << 22):
                        out.write(chunk.encode("utf-8", errors="surrogateescape"))
            except (OSError, EOFError) as e:  # never the path: the caller names the file
                why = getattr(e, "strerror", None) or type(e).__name__  # no bytes of the file
                raise MappingError(f"the file cannot be decoded from {encoding} ({why})",
                                   str(path), "check that the file is complete and readable "
                                   "(a .gz file is read compressed)") from None
            copies[str(copy)] = str(path)
        yield copies


#: A CSV line with more fields than this is refused before parsing (:func:`guard_wide_lines`).
MAX_CSV_FIELDS = 4096
#: A CSV line longer than this is refused before parsing (a calls line is under 1 KB): DuckDB's
#: own limit (``max_line_size``), past which its parser gives only "CSV Error on Line: 1"; a
#: mapping's ``csv.max_line_size`` raises both.
MAX_CSV_LINE_BYTES = 2 * 2**20
#: The delimiters DuckDB's sniffer tries, counted when the mapping does not set one.
_SNIFFED_DELIMITERS = [",", ";", "\t", "|"]


def guard_wide_lines(con: duckdb.DuckDBPyConnection, files: list[Path], src: TableSource,
                     table: str, encoding: str = "utf-8") -> None:
    """Refuse a CSV file with a line of more than :data:`MAX_CSV_FIELDS` fields or
    :data:`MAX_CSV_LINE_BYTES` bytes, with its line number, before DuckDB's parser reads it: the
    parser writes one reject row per extra field, so such a line (a wrong delimiter, a binary
    file, a file glued into one line) would keep it busy for hours (docs/data_contract.md)."""
    delim = src.csv.get("delim", src.csv.get("sep"))
    given = src.csv.get("max_line_size")  # not a number: DuckDB's reader says so
    longest = max(MAX_CSV_LINE_BYTES,
                  given if isinstance(given, int) and not isinstance(given, bool) else 0)
    params = {"max_fields": MAX_CSV_FIELDS, "max_line_size": longest,
              "delimiters": [delim] if isinstance(delim, str) and delim else _SNIFFED_DELIMITERS,
              "encoding": encoding}
    con.execute("SET preserve_insertion_order = true")  # line numbers in file order
    try:
        for path in files:
            try:
                wide = run_sql(con, "ingest/csv_widest_lines.sql",  # its error never shown
                               {**params, "file": str(path)}, raw_errors=True).fetchone()
            except duckdb.Error as e:
                if "maximum line size" not in str(e).lower():
                    continue  # not a wide line: the parser reports it as it reads
                raise MappingError(
                    f"{table}: a line of the file is longer than {longest / 2**20:g} "
                    "MB, so it cannot be a record of this table", str(path),
                    "check the line endings and the file's format (a binary or compressed file "
                    "read as text, or records that are not on lines of their own)") from None
            if wide is not None:
                fields, line = wide
                raise MappingError(
                    f"{table}: line {line} of the file has {fields:,} fields (more than "
                    f"{MAX_CSV_FIELDS:,}), so it cannot be a record of this table", str(path),
                    "check the mapping's csv delimiter and the line endings, or remove that "
                    "line")
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction: the caller rolls back
            con.execute("SET preserve_insertion_order = false")


#: The reader's column of each row's file: not ``filename``, which an export merged from
#: several files may hold as a column of its own (DuckDB then refuses to read the file).
_FILE_COLUMN = "ma_source_file"


def _scan(files: list[Path], fmt: str, src: TableSource, p: _Params, table: str) -> str:
    if fmt == "parquet":
        # binary_as_string: Impala and Hive write strings as BINARY without the UTF8 mark;
        # union_by_name: a column's types in the files are combined into one that holds every
        # value (INTEGER and DOUBLE durations as DOUBLE, a TIMESTAMP beside a time as text as
        # text, read as text is; a column of no type as the others'), never each file's values
        # cast to the first file's type (a time zone or a fraction dropped, silently)
        return f"read_parquet({p([str(f) for f in files])}, filename = '{_FILE_COLUMN}', " \
               "file_row_number = true, binary_as_string = true, union_by_name = true)"
    opts = _csv_options(src, p)
    # parallel = false: a record's line number is its place in the table the read creates
    # (_number_csv_lines), and the parallel reader, under some projections, inserted a large
    # file's records out of order whatever preserve_insertion_order said (lines 300,000 and
    # 400,000 of a 600,000-line file were numbered 453,769 and 553,769)
    return (f"read_csv({p([str(f) for f in files])}, all_varchar = true, "
            f"filename = '{_FILE_COLUMN}', "
            f"store_rejects = true, rejects_table = 'rejects_{table}', "
            f"rejects_scan = 'rejects_scan_{table}', parallel = false{opts})")


def _csv_options(src: TableSource, p: _Params) -> str:
    """The mapping's read_csv options, as bound parameters after a comma each; the encoding is
    what DuckDB decodes (a transcoded copy is UTF-8). ``thousands`` and ``decimal_separator``
    are the reader's to apply (every column is read as text), so DuckDB never sees them (it
    refuses ``thousands: '.'`` beside its default decimal point)."""
    options = {k: v for k, v in src.csv.items() if k not in ("thousands", "decimal_separator")}
    if "encoding" in options:
        options["encoding"] = _duckdb_encoding(options["encoding"]) or "utf-8"
    return "".join(f", {k} = {p(v)}" for k, v in options.items())


#: DuckDB's error for a gzip file that ends early, and what to do. (DuckDB reads a zstd file
#: cut short up to the cut without an error.)
_CUT_SHORT = re.compile(r"unexpected end of gzip", re.IGNORECASE)
CUT_SHORT_FIX = ("the file is cut short (its compressed data ends early: a copy or a download "
                 "that stopped): deliver it again")


def _describe(con: duckdb.DuckDBPyConnection, scan: str, p: _Params, files: list[Path],
              table: str, names: dict[str, str]) -> dict[str, str]:
    """The file's columns (:func:`column_key` of the name -> (name, type)); ``names``: how
    each file is shown (:func:`shown`)."""
    try:
        sql = f"DESCRIBE SELECT * FROM {scan}"
        rows = con.execute(sql, p.of(sql)).fetchall()
    except duckdb.Error as e:
        fix = (CUT_SHORT_FIX if _CUT_SHORT.search(str(e)) else
               "raise duckdb.memory_limit in the study config: reading the files' columns "
               "needed more memory than it allows"
               if isinstance(e, duckdb.OutOfMemoryException) else
               "check the file's format and the mapping's csv options")
        raise MappingError(f"{table}: the file cannot be read ({type(e).__name__}: "
                           f"{redact(str(e), names=names)})", failed_file(str(e), files, names),
                           f"{text}; else {fix}" if (text := _text_fix(
                               files, failed_path(str(e), files))) else fix) from None
    return {column_key(r[0]): (r[0], r[1]) for r in rows}


def _refuse_repeated_header_names(con: duckdb.DuckDBPyConnection, files: list[Path],
                                  table: str, src: TableSource, present: dict[str, Any],
                                  names: dict[str, str]) -> None:
    """A column the table reads whose name the first file's header gives twice (an export
    joining two tables: ``MSISDN`` of one party beside ``msisdn`` of the other) is an error:
    DuckDB renames the later ones (``msisdn_1``, whatever their case), so the mapping's name
    would read the first, silently. The header is read as a line of data."""
    own = _file_column_names(present)
    if src.csv.get("header") is False or not own \
            or all(re.fullmatch(r"column[0-9]+", n) for n in own):
        return
    p = _Params()
    plain = src.model_copy(update={"csv": {k: v for k, v in src.csv.items() if k != "header"}})
    sql = (f"SELECT * FROM read_csv({p(str(files[0]))}, all_varchar = true, header = false, "
           "hive_partitioning = false"
           f"{_csv_options(plain, p)}) LIMIT 1")
    try:
        header = con.execute(sql, p.of(sql)).fetchone()
    except duckdb.Error:  # the read itself reports what is wrong with the file
        return
    if header is None or len(header) != len(own):
        return
    fields: dict[str, list[int]] = {}
    for i, value in enumerate(header, 1):
        if value is not None:
            fields.setdefault(column_key(value), []).append(i)
    for name in CONTRACT_COLUMNS[table]:
        for column in _file_columns(src, name):
            at = fields.get(column)
            if at is not None and len(at) > 1:
                raise MappingError(
                    f"{table}: the header names column {column!r} {len(at)} times "
                    f"(fields {', '.join(map(str, at))}, letter case aside), and contract column "
                    f"{name!r} is read from it: which one is meant is unknown",
                    names.get(str(files[0])),
                    "give each column of the file a name of its own (msisdn_a, msisdn_b), or "
                    "set csv: {header: false, skip: 1} and map the columns by position "
                    "(column0, column1, ...)")


#: How many CSV files one read of their headers opens at once
#: (:func:`_refuse_csv_columns_added_later`).
FILES_PER_HEADER_READ = 8


def _refuse_csv_columns_added_later(con: duckdb.DuckDBPyConnection, files: list[Path],
                                    table: str, src: TableSource, present: dict[str, Any],
                                    names: dict[str, str]) -> None:
    """A column the table reads (mapped, or named as in the contract: ``event_type``,
    ``duration``) in some CSV files and not in the first is an error: DuckDB reads every file
    with the first file's columns, so it would be ignored in all (an ``event_type`` added in
    the middle of a month lets its SMS through as calls). The columns of every file are read
    from their headers (``union_by_name``; a line the reader cannot parse, such as a byte that
    is not UTF-8, is left to the read, which quarantines it); a column missing from a later
    file is DuckDB's own error. ``union_by_name`` opens every file it is given at once, each
    compressed one with a buffer of about 30 MiB (a month of hourly ``.csv.gz`` exports ran out
    of memory), so the headers are read :data:`FILES_PER_HEADER_READ` files at a time."""
    every: dict[str, tuple[str, str]] = {}
    for at in range(0, len(files), FILES_PER_HEADER_READ):
        p = _Params()
        scan = (f"read_csv({p([str(f) for f in files[at:at + FILES_PER_HEADER_READ]])}, "
                f"all_varchar = true, union_by_name = true, ignore_errors = true"
                f"{_csv_options(src, p)})")
        every |= _describe(con, scan, p, files, table, names)
    used = {c for name in CONTRACT_COLUMNS[table] for c in _file_columns(src, name)}
    added = sorted(set(every) - set(present) & used)
    if (added or set(every) != set(present)) and _quoted_names({**every, **present}):
        for f in files[:FILES_PER_HEADER_READ]:
            if (line := _open_quote_line(f)) is not None:
                raise MappingError(
                    f"{table}: the files' headers do not agree because one is read with its "
                    f"quotes: {_open_quote_fix(line)}", names.get(str(f)),
                    "close the quote in that file, then read the files again")
    if added:
        raise MappingError(
            f"{table}: column {every[added[0]][0]!r} is in some of the {len(files):,} files and "
            f"not in the first ({names.get(str(files[0]), '<a file>')}); read together, it "
            "would be ignored in every file", names.get(str(files[0])),
            "export every file with the same columns (a column renamed or added between "
            "deliveries: rename it in the older files, or add it)")


def _refuse_misread_parquet(con: duckdb.DuckDBPyConnection, files: list[Path], table: str,
                            src: TableSource, names: dict[str, str]) -> None:
    """Parquet columns and times the reader would misread silently, read from the files'
    footers (``sql/ingest/parquet_columns.sql``, ``parquet_time_kinds.sql``), are an error
    naming a file (a column's other types in other files are combined, :func:`_scan`):

    - a column the table reads held by some files and not others (a column renamed or added
      between deliveries would be empty in some);
    - a column held as UTC instants in some files and as local times in others (the reader
      takes the first file's type and shifts the others by the city's offset);
    - a time column stored as INT96 (Spark's default, Impala's), which holds no time zone:
      Spark wrote UTC instants, Impala and Hive local times, and DuckDB reads either as local
      times; unless ``timestamps.timezone`` says whose times they are.
    """
    used = sorted({c for name in CONTRACT_COLUMNS[table] for c in _file_columns(src, name)})
    try:  # the footers of every file: a truncated file fails here, named by its label
        columns = run_sql(con, "ingest/parquet_columns.sql", {
            "files": [str(f) for f in files], "names": used}).fetchall()
        kinds = run_sql(con, "ingest/parquet_time_kinds.sql",
                        {"files": [str(f) for f in files]}).fetchall()
    except duckdb.Error as e:
        raise MappingError(f"{table}: the file cannot be read ({type(e).__name__}: "
                           f"{redact(str(e), names=names)})", failed_file(str(e), files, names),
                           "check the file: a Parquet file cut short by a failed copy, or not "
                           "Parquet") from None
    for column, holding, types, float_file, date_file in columns:
        _refuse_combined_types(table, src, column, types, float_file, date_file, names)
        if len(set(holding)) < len(files):
            lacking = next(str(f) for f in files if str(f) not in set(holding))
            raise MappingError(
                f"{table}: column {column!r} is in {len(set(holding)):,} of the {len(files):,} "
                f"files (e.g. {names.get(holding[0], '<a file>')}) and not in the others (e.g. "
                f"{names.get(lacking, '<a file>')}); read together, it would be empty or "
                "ignored in some files", names.get(lacking),
                "export every file with the same columns (a column renamed or added between "
                "deliveries: rename it in the older files, or add it)")
    mixed = [k for k in kinds if k[1] and k[2]]
    if mixed:
        column, aware, naive, aware_file, naive_file, _ = mixed[0]
        raise MappingError(
            f"{table}: column {column!r} holds times with a time zone in {aware:,} file(s) "
            f"(e.g. {names.get(aware_file, '<a file>')}) and local times without one in "
            f"{naive:,} (e.g. {names.get(naive_file, '<a file>')}); read together, one kind "
            "would be shifted by the time zone's offset", names.get(aware_file),
            "export every file's times the same way: all with a time zone, or all local "
            "times (timestamps.timezone says whose)")
    if src.time_rule.timezone is not None:
        return
    times = set()
    for name in TIME_COLUMNS:
        mapped = src.columns.get(name, name)
        times |= {c.lower() for c in ([mapped] if isinstance(mapped, str) else mapped)}
    int96 = [(k[0], k[5]) for k in kinds if k[5] and k[0] in times]
    if int96:
        column, first = int96[0]
        raise MappingError(
            f"{table}: column {column!r} holds Parquet INT96 timestamps, which carry no time "
            "zone: Spark writes UTC instants in them, Impala and Hive local times",
            names.get(first), f"say whose times they are: {table}: {{timestamps: {{timezone: "
            "UTC}} for a Spark export, or the local times' zone (e.g. Asia/Shanghai)")


def _refuse_combined_types(table: str, src: TableSource, column: str, types: list[str],
                           float_file: str | None, date_file: str | None,
                           names: dict[str, str]) -> None:
    """A Parquet column whose types in several files combine into one that changes values is
    an error naming a file: an identifier held as integers in some files and as floats in
    others (combined as DOUBLE, exact 18-digit ids would be rounded), or a time held as a DATE
    in some files and as a TIMESTAMP in others (the dates read as midnight)."""
    def reads(names_of: tuple[str, ...]) -> bool:
        return any(column in _file_columns(src, n) for n in names_of)

    whole = [t for t in types if t in _INTEGER_TYPES or re.fullmatch(r"DECIMAL\(\d+,0\)", t)]
    if float_file and whole and reads(NUMBER_COLUMNS + ID_COLUMNS):
        raise MappingError(
            f"{table}: column {column!r} holds identifiers as integers ({whole[0]}) in some "
            f"files and as floats in others (e.g. {names.get(float_file, '<a file>')}, as "
            "pandas writes a column of numbers with a missing value); read together as floats, "
            "identifiers of more than 15 digits would be rounded", names.get(float_file),
            "export the column as integers (pandas: astype('Int64')) or as text in every file")
    if date_file and len(types) > 1 and reads(TIME_COLUMNS):
        raise MappingError(
            f"{table}: column {column!r} holds dates without a time of day in some files "
            f"(e.g. {names.get(date_file, '<a file>')}) and times in others: the dates would "
            "be read as midnight", names.get(date_file),
            "export the times in every file (or map the date and the time columns: "
            "[call_date, call_time])")


#: A column name as a header writes one: not data read as a header (a file without one).
_HEADER_NAME = re.compile(  # a letter of any script first (Émetteur, 主叫), no digit
    r"[^\W\d][\w .()/%#:\-\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]{0,63}")


def _file_column_names(present: dict[str, tuple[str, str]]) -> list[str]:
    """The file's own column names (without the reader's file name and ``file_row_number``)."""
    return [v[0] for k, v in present.items() if k not in (_FILE_COLUMN, "file_row_number")]


def _header_names(present: dict[str, tuple[str, str]]) -> list[str]:
    """The file's column names for a message: a name that is not one (a control character:
    a UTF-16 file read as UTF-8) is shown as ``<column N>``, and every name is when one holds
    4 digits in a row (a number, a date: the first line of a file without a header, whose other
    fields may be identifiers that look like names, such as an owner id OWNER-A)."""
    names = _file_column_names(present)
    if any(re.search(r"[0-9]{4}", n) for n in names):
        return [f"<column {i}>" for i in range(1, len(names) + 1)]
    return [n if _HEADER_NAME.fullmatch(n) else f"<column {i}>"
            for i, n in enumerate(names, 1)]


#: How many files' first 64 KB :func:`_text_fix` reads when the reader's error names none.
TEXT_FIX_FILES = 50


def _text_fix(files: list[Path], failed: Path | None = None) -> str | None:
    """What to change first when a file's text is laid out as DuckDB's reader cannot guess:
    Excel's ``sep=;`` first line (which names the delimiter), or lines ending in CRLF and in LF
    alike; of the file the error names (``failed``), else of the first of ``files`` (up to
    :data:`TEXT_FIX_FILES`) with such a layout."""
    for f in [failed] if failed is not None else files[:TEXT_FIX_FILES]:
        if (fix := _text_fix_of(f)) is not None:
            return fix
    return None


def _text_fix_of(f: Path) -> str | None:
    head = _text_head(f)
    first = head.split(b"\n", 1)[0].strip()
    if re.fullmatch(rb"sep=.", first):
        delim = first[4:].decode("latin-1")
        return (f"the file's first line is Excel's 'sep={delim}', which names the delimiter: "
                f"set csv: {{skip: 1, delim: '{delim}'}}")
    lines = head.split(b"\n")[:-1]  # the last may be cut at the 64 KB edge
    lines += _text_tail(f).split(b"\n")[1:-1]  # its first may be cut; the last has no end
    if len(lines) > 1 and 0 < sum(line.endswith(b"\r") for line in lines) < len(lines):
        return ("the file's lines end in CRLF and in LF alike (a file edited on two systems, "
                "or two files joined): convert it to one (dos2unix), then read it again")
    return None


def _open_quote_line(f: Path, quoted_header: bool = True) -> int | None:
    """The number of the first line of ``f``'s first 64 KB holding an odd number of ``"``
    (when its header's names are quoted, with ``quoted_header``): a quote left open, which
    makes DuckDB's sniffer take the whole file as unquoted (its names and quoted values then
    keep their quotes); None when there is none."""
    head = _text_head(f)
    lines = head.split(b"\n")[:-1] if len(head) >= 1 << 16 else head.split(b"\n")
    if not lines or quoted_header and not lines[0].lstrip(b"\xef\xbb\xbf").startswith(b'"'):
        return None
    return next((i for i, line in enumerate(lines, 1) if line.count(b'"') % 2), None)


def _refuse_kept_quotes(con: duckdb.DuckDBPyConnection, raw: RawRead, table: str,
                        files: list[Path], names: dict[str, str]) -> None:
    """A MappingError when values of a CSV read keep their quotes (``"Shanghai"``): a quote
    left open made the reader take the file as unquoted, and every quoted value would be
    stored with its quotes (a birth province then no province's), never silently. Names the
    columns and the line holding an odd number of quotes, never a value."""
    # a value may begin with a quote doubled inside quotes (\"\"\"Sunshine\"\" Garden\"): only a
    # line with an odd number of quotes says the reader took the file as unquoted (looked for
    # first: the files' heads are at hand, and most files have none)
    at = next(((f, line) for f in files
               if (line := _open_quote_line(f, quoted_header=False)) is not None), None)
    if at is None:
        return
    # the temp table and its columns are the contract's names (allow-listed by quote)
    text = [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = 'temp' AND table_name = ? "
        "AND data_type = 'VARCHAR' AND NOT starts_with(column_name, '_') "
        "ORDER BY column_index", [raw.table]).fetchall()]
    kept = con.execute("SELECT " + ", ".join(
        f"bool_or(starts_with({quote(c)}, '\"'))" for c in text)
        + f" FROM {quote(raw.table)}").fetchone() if text else ()
    columns = [c for c, k in zip(text, kept, strict=True) if k]
    if not columns:
        return
    raise MappingError(
        f"{table}: values of {columns} keep their quotes, as the reader took the file as "
        f"unquoted: line {at[1]:,} holds an odd number of \" characters (a quote left open)",
        names.get(str(at[0])),
        "close or double the quote (\"\") in the export, then read the file again")


def _quoted_names(present: dict[str, Any]) -> bool:
    """Whether a header's names were read with their quotes (``"a_party"``): the sniffer took
    the file as unquoted."""
    return any(len(k) > 1 and k.startswith('"') and k.endswith('"') for k in present)


def _open_quote_fix(line: int) -> str:
    return (f"line {line:,} of the file has a quote left open (an odd number of \" "
            "characters), so the reader takes the file as unquoted and its quoted header's "
            "names keep their quotes: close or double the quote (\"\") in the export")


def _first_line_not_utf8(files: list[Path]) -> bool:
    """Whether the first file is text whose first line (its first 64 KB) is not UTF-8: a
    GB18030 or cp1252 export read without ``csv.encoding``, whose header DuckDB cannot read."""
    line = _text_head(files[0]).split(b"\n", 1)[0]
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(line) - 3  # not a character cut at the 64 KB edge
    return False


def _header_fix(present: dict[str, tuple[str, str]], fix: str,
                files: list[Path] | None = None) -> str:
    """``fix``, and what to check first when the column names look like data, or the header is
    not UTF-8 (``files``: the files read)."""
    names = _file_column_names(present)
    if any("\x00" in n for n in names):
        return "the file looks like UTF-16: set csv: {encoding: utf-16}; then " + fix
    if files and _quoted_names(present) and (line := _open_quote_line(files[0])) is not None:
        return f"{_open_quote_fix(line)}; then {fix}"
    if files and (text := _text_fix(files[:1])):
        return f"{text}; then {fix}"
    if files and _first_line_not_utf8(files):
        return ("the file's first line is not UTF-8 (a Chinese export in GB18030 or GBK, a "
                "Windows one in cp1252): set csv: {encoding: gb18030}, or the export's "
                "encoding; then " + fix)
    if names and all(re.fullmatch(r"column[0-9]+", n) for n in names):
        return ("the file seems to have no header line (its columns are named column0, "
                "column1, ... by position): map to those names, or set csv: {header: true} if "
                "its first line names the columns (a first line that ends with the delimiter, "
                "a|b|c|, names an empty last column, and DuckDB then takes it for data); "
                "else " + fix)
    if any(n.startswith("<column") for n in _header_names(present)):
        return ("if the first line is data, not column names, set csv: {header: false} and map "
                "the columns by position (column0, column1, ...); else " + fix)
    return fix


def _text(expr: str, p: _Params, tokens: str, unwrap: bool = False) -> str:
    """Trimmed text, NULL for a null token; ``unwrap``: an identifier's, without what a
    spreadsheet put around it first (``unwrapped``: ``="NULL"`` is a null token, ``=""``
    NULL; a token that itself begins with ``'`` or ``=`` is one as written)."""
    t = f"trim(CAST({expr} AS VARCHAR))"
    error = (lambda x: f" OR spreadsheet_error({x})") if p.spreadsheet_errors else (lambda x: "")
    if not unwrap:
        return f"CASE WHEN list_contains({tokens}, {t}){error(t)} THEN NULL ELSE {t} END"
    # unwrapped only where a spreadsheet could have wrapped it: list_contains evaluates its
    # needle once per token, and unwrapping every text there made the landing 1.8x slower
    # (benchmarks/ingest.py)
    u = f"unwrapped({t})"
    return (f"CASE WHEN starts_with({t}, '=') OR starts_with({t}, '''') THEN "
            f"CASE WHEN {u} = '' OR list_contains({tokens}, {u}) OR list_contains({tokens}, {t})"
            f"{error(u)} "
            f"THEN NULL ELSE {u} END "
            f"WHEN {t} = '' OR list_contains({tokens}, {t}){error(t)} THEN NULL ELSE {t} END")


def _identifier_text(expr: str, dtype: str, p: _Params, tokens: str,
                     number_tokens: str | None) -> str:
    """An identifier column as text, before its canonical form (:func:`canonical_identifier`):
    integers as digits, float-encoded integers as their digits, text trimmed and unwrapped,
    null tokens NULL; a float's NaN (pandas' missing value in a column of numbers) or infinity
    NULL too, never the identifier 'nan' that every such row would share. ``number_tokens``:
    the null tokens that are numbers (:func:`number_tokens`), compared with a column of numbers
    as numbers (an INT64 owner -1 is the token '-1', as the same owner in a CSV)."""
    token = "FALSE" if number_tokens is None else \
        f"list_contains({number_tokens}, CAST({expr} AS DOUBLE))"
    if dtype in _INTEGER_TYPES:
        return f"CASE WHEN {token} THEN NULL ELSE CAST({expr} AS VARCHAR) END"
    if dtype in _FLOAT_TYPES or dtype.startswith("DECIMAL"):
        text = (f"CASE WHEN NOT isfinite(CAST({expr} AS DOUBLE)) OR {token} THEN NULL "
                f"WHEN {expr} = trunc({expr}) "
                f"THEN CAST(CAST({expr} AS HUGEINT) AS VARCHAR) ELSE CAST({expr} AS VARCHAR) END")
        if dtype in _FLOAT_TYPES:
            # a float holds whole numbers exactly up to 2^24 (FLOAT) or 2^53 (DOUBLE: pandas'
            # 18-digit owner ids in a column with nulls); above, one value stands for many
            # identifiers, so it is marked rounded (canonical.sql's '~': rounded_id)
            exact = 2**53 if dtype == "DOUBLE" else 2**24
            text = (f"CASE WHEN isfinite(CAST({expr} AS DOUBLE)) AND "
                    f"abs(CAST({expr} AS DOUBLE)) >= {exact} THEN '~' || ({text}) "
                    f"ELSE {text} END")
        return text
    text = _text(expr, p, tokens, unwrap=True)
    if number_tokens is None:
        return text
    # a number token written as text another way (-1.0: a float file's value beside text files,
    # read together as text) is the token
    return f"CASE WHEN list_contains({number_tokens}, TRY_CAST({text} AS DOUBLE)) THEN NULL " \
           f"ELSE {text} END"


#: A null token that is a number (``-1``, ``0``, ``99999``): :func:`number_tokens`.
_NUMBER_TOKEN = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?")


def number_tokens(tokens: list[str], p: _Params) -> str | None:
    """The parameter of the null tokens that are numbers, as numbers (None without one)."""
    numbers = sorted({float(t) for t in tokens if _NUMBER_TOKEN.fullmatch(t.strip())})
    return p(numbers) if numbers else None


#: The connections that hold the macros of ``sql/ingest/canonical.sql`` (temp macros live as
#: long as their connection).
_WITH_CANONICAL_MACROS: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def canonical_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temp macros of ``sql/ingest/canonical.sql`` on ``con``, once a connection (a
    small ingestion ran the file nine times: 90 ms of its 1 s)."""
    if con not in _WITH_CANONICAL_MACROS:
        run_sql(con, "ingest/canonical.sql")
        _WITH_CANONICAL_MACROS.add(con)


def canonical_identifier(text: str, name: str, contract: DataContract, p: _Params) -> str:
    """The canonical form of the text of :func:`_identifier_text` of contract column ``name``:
    the macros ``canonical_phone`` (numbers), ``canonical_cell`` (cell ids) and
    ``canonical_id`` (any other identifier) of ``sql/ingest/canonical.sql``."""
    numbers = contract.numbers
    if name in NUMBER_COLUMNS:
        return (f"canonical_phone({text}, {p(numbers.country_code)}, "
                f"{p(numbers.national_lengths)}, {p(numbers.trunk_prefixes)}, "
                f"{p(numbers.area_code)}, {p(numbers.local_lengths)})")
    if name in CELL_COLUMNS:
        return (f"canonical_cell({text}, {p(contract.cell_ids.strip_leading_zeros)}, "
                f"{p(contract.cell_ids.ignore_case)})")
    return f"canonical_id({text})"


#: The digits of each fixed-width numeric strptime directive.
_DIGIT_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "I": 2, "M": 2, "S": 2, "y": 2, "j": 3}


def _digit_widths(fmt: str | None, parts: int) -> list[int | None]:
    """For a time column of ``parts`` file columns read with ``fmt``: the digits of each part's
    piece of the format when the piece is fixed-width numeric directives only (``%H%M%S``: 6),
    else None. The format is split at its spaces and read from the right: the last parts take
    a piece each, the first the rest (``'%d %b %Y %H%M%S'`` of a date and a time: ``'%d %b
    %Y'``, ``'%H%M%S'``; review 99 M3)."""
    pieces = fmt.split(" ") if fmt else []
    if len(pieces) < parts:
        return [None] * parts
    pieces = [" ".join(pieces[:len(pieces) - parts + 1]), *pieces[len(pieces) - parts + 1:]]
    return [sum(_DIGIT_WIDTHS[c] for c in piece[1::2])
            if re.fullmatch(r"(%[YmdHIMSyj])+", piece) else None for piece in pieces]


def _time_part(text: str, dtype: str, width: int | None, p: _Params) -> str:
    """One file column of a time column of several (a date and a time of day): a number's digits
    (``float_digits``), and, when its piece of the format is ``width`` fixed digits, a value of
    fewer digits padded with the leading zeros a number loses (01:10:55 stored as the integer
    11055, which strptime would read as 11:05:05; probe 34 A)."""
    if _numeric(dtype):
        text = f"float_digits({text})"
    if width is None:
        return text
    return (f"CASE WHEN regexp_full_match({text}, {p(f'[0-9]{{1,{width - 1}}}')}) "
            f"THEN lpad({text}, {p(width)}, '0') ELSE {text} END")


def _timestamp(expr: str, dtype: str, rule: Timestamps, city_tz: str, p: _Params, tokens: str,
               column: str, table: str) -> tuple[str, str]:
    """The instant (TIMESTAMPTZ) of a timestamp column, NULL when unparsable, and whether it was
    read as a wall-clock time without an offset (BOOLEAN; FALSE when the source's zone never
    goes back an hour in the calendar: :func:`repeated_hours`). The landing step takes the
    city's local time and the durations from it (a call across a daylight-saving change keeps
    its length; a wall-clock time in the repeated hour names two instants, landing.sql)."""
    src_tz = rule.timezone or city_tz
    instant = _instant(expr, dtype, rule, src_tz, p, tokens, column, table)
    # in _instant's order: a type with a zone, a type without, epoch numbers (a wall-clock
    # count from an origin without an offset), text
    if _aware(dtype):
        naive = "FALSE"
    elif dtype.startswith("TIMESTAMP"):
        naive = "TRUE"
    elif rule.unit is not None:
        naive = "TRUE" if rule.origin is not None and \
            datetime.fromisoformat(rule.origin).tzinfo is None else "FALSE"
    else:  # text: without a zone or an offset after its time of day
        naive = f"NOT regexp_matches({_text(expr, p, tokens)}, {p(_ZONED_TEXT)})"
    return instant, naive


def _instant(expr: str, dtype: str, rule: Timestamps, src_tz: str, p: _Params, tokens: str,
             column: str, table: str) -> str:
    """The instant of :func:`_timestamp`, read in ``src_tz`` when the value has no offset."""

    def from_naive(x: str) -> str:
        return f"timezone({p(src_tz)}, plausible_time({x}))"

    def from_aware(x: str) -> str:
        return f"plausible_time({x})"

    if _aware(dtype):
        return from_aware(f"CAST({expr} AS TIMESTAMPTZ)")
    if dtype == "DATE":
        raise MappingError(
            f"{table}.{column} holds dates without a time of day: every call would start at "
            "midnight (in the night's hours, where home is found)", None,
            f"map {column} to the date and the time columns: {table}: {{columns: {{{column}: "
            "[call_date, call_time]}}")
    if dtype.startswith("TIMESTAMP"):
        return from_naive(f"CAST({expr} AS TIMESTAMP)")
    numeric = _numeric(dtype)
    if rule.unit is not None:
        value = f"CAST({expr} AS DOUBLE)" if numeric else \
            f"TRY_CAST({_text(expr, p, tokens)} AS DOUBLE)"
        origin = datetime.fromisoformat(rule.origin or "1970-01-01T00:00:00+00:00")
        step = _UNIT_ROUND_MICROS.get(rule.unit)
        rounded = f"round({value} * {p(_UNIT_MICROS[rule.unit])})" if step is None else \
            f"round({value} * {p(_UNIT_MICROS[rule.unit] // step)}) * {p(step)}"
        micros = f"CAST({rounded} AS BIGINT)"
        if origin.tzinfo is None:
            # a naive origin counts wall-clock time ("local epoch", a spreadsheet's serial
            # date): the origin plus the count is a local time, read in the zone as text is.
            # Not the origin's instant plus elapsed time: 1899-12-30 in Shanghai is LMT
            # (+08:05:43), and 1970-01-01 in London was +01:00 (British Standard Time)
            instant = from_naive(f"{p(origin)} + to_microseconds({micros})")
        else:
            origin_utc = origin.astimezone(UTC).replace(tzinfo=None)
            instant = from_aware(
                f"timezone({p('UTC')}, {p(origin_utc)} + to_microseconds({micros}))")
        # within about 3,000 years of the origin, whatever the unit (a value in us or ns of
        # today's dates is above 1e15)
        bounded = f"abs({value} * {p(_UNIT_MICROS[rule.unit])}) < 1e17"
        return f"CASE WHEN isfinite({value}) AND {bounded} THEN {instant} END"
    if numeric and not rule.format:
        raise MappingError(
            f"{table}.{column} holds numbers, not timestamps", None,
            f"set {table}.timestamps.unit to s, ms, us or ns (and origin if not the Unix epoch), "
            "or to d for a spreadsheet's serial dates (days, with origin: '1899-12-30T00:00:00'); "
            "for the digits of a date and time stored as a number (20160905143000), set "
            f"{table}.timestamps.format instead (e.g. '%Y%m%d%H%M%S')")
    text = _text(expr, p, tokens)
    if numeric:  # the digits of a date and time (20160905143000), read with the format
        text = f"float_digits({text})"
    if rule.format:
        if not re.search(r"%[HIklTRXcrs]", rule.format):
            raise MappingError(
                f"{table}.timestamps.format ({rule.format!r}) reads no time of day: every call "
                "would start at midnight (in the night's hours, where home is found)", None,
                f"map {column} to the date and the time columns ({table}: {{columns: "
                f"{{{column}: [call_date, call_time]}}}}) and give a format of both (e.g. "
                "'%Y%m%d %H%M%S')")
        if "%Z" in rule.format:
            raise MappingError(
                f"{table}.timestamps.format ({rule.format!r}) reads a zone's name with %Z, which "
                "DuckDB resolves by its own table of abbreviations: CST is read as America's "
                "Central time (China Standard Time is UTC+8), BST as Bangladesh's, IST as "
                "India's", None,
                f"write the abbreviation as text in the format (e.g. '%Y-%m-%d %H:%M:%S CST') and "
                f"give the zone it stands for ({table}: {{timestamps: {{timezone: "
                "Asia/Shanghai}}); an offset such as +0800 is read with %z")
        if "%p" in rule.format:  # the words DuckDB's %p does not read (AM and PM only)
            for word, meridiem in _MERIDIEM_WORDS.items():
                text = f"replace({text}, {p(word)}, {p(meridiem)})"
            text = (f"regexp_replace({text}, {p(_DOTTED_MERIDIEM)}, {p(_MERIDIEM_OF_DOTTED)}, "
                    "'g')")
        parsed = f"try_strptime({text}, {p(rule.format)})"
        parsed = from_aware(parsed) if "%z" in rule.format else from_naive(parsed)
        # a time another Parquet file held as a TIMESTAMP, read together as text: DuckDB's form
        return (f"coalesce({parsed}, CASE WHEN regexp_full_match({text}, {p(_ISO_TEXT)}) "
                f"THEN {from_naive(f'TRY_CAST({text} AS TIMESTAMP)')} "
                f"WHEN regexp_full_match({text}, {p(_ISO_TEXT + _ISO_OFFSET)}) "
                f"THEN {from_aware(f'TRY_CAST({text} AS TIMESTAMPTZ)')} END)")
    aware = from_aware(f"TRY_CAST({text} AS TIMESTAMPTZ)")
    naive = from_naive(f"TRY_CAST({text} AS TIMESTAMP)")
    # DuckDB's TIMESTAMP cast reads '... 10:08:41 PM' or '... UTC' and drops the word: a text
    # ending in a zone is read as an instant, in any other word (AM/PM, an abbreviation such as
    # CST, China's or America's) it is NULL (bad_timestamp; timestamps.format reads it); it
    # reads '2016-09-05 00:00:00 08:30:15' (a date column written at midnight, joined to a time
    # column) as midnight: a time of day followed by another is NULL too; so is a date without
    # a time of day ('2016-09-05', read as midnight: a time column left out of the mapping)
    return (f"CASE WHEN regexp_matches({text}, {p(_TWO_TIMES)}) THEN NULL "
            f"WHEN NOT regexp_matches({text}, {p(_TIME_OF_DAY)}) THEN NULL "
            f"WHEN regexp_matches({text}, {p(_ZONED_TEXT)}) THEN {aware} "
            f"WHEN regexp_matches({text}, {p(_WORD_AFTER_TIME)}) THEN NULL ELSE {naive} END")


#: The words of a 12-hour clock's halves that a format's %p reads as AM and PM: Chinese,
#: Japanese and Korean (a spreadsheet's `2016/9/5 下午 2:30:00`), beside a.m./p.m.
_MERIDIEM_WORDS = {"上午": "AM", "下午": "PM", "午前": "AM", "午後": "PM", "오전": "AM",
                   "오후": "PM"}
#: a.m., p.m., a. m., p. m. (Spanish and Portuguese exports): AM, PM
_DOTTED_MERIDIEM = r"([AaPp])\.[\s\x{00A0}]?[Mm]\."
_MERIDIEM_OF_DOTTED = r"\1M"
#: A time of day followed by a UTC offset, Z, UTC or GMT, UTC or GMT with an offset (Java's
#: GMT+08:00), or an IANA zone name (Asia/Shanghai).
_ZONED_TEXT = (r"[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(\s*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)"
               r"|\s*([Uu][Tt][Cc]|[Gg][Mm][Tt])[+-][0-9]{1,2}(:?[0-9]{2})?"
               r"|\s+((?i)utc|gmt|[A-Za-z_]+(/[A-Za-z0-9_+-]+)+))$")
#: A time as DuckDB writes a TIMESTAMP as text, and the offset it writes after a TIMESTAMPTZ.
_ISO_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
_ISO_OFFSET = r"[+-][0-9]{2}(:[0-9]{2})?"
#: A time of day (hours and minutes) somewhere in a text.
_TIME_OF_DAY = r"[0-9]:[0-9]{2}"
#: A time of day followed by another (a date written at midnight beside a time column).
_TWO_TIMES = r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s+[0-9]{1,2}:[0-9]{2}"
#: A time of day followed by any other word: AM/PM, or a zone abbreviation that names several.
_WORD_AFTER_TIME = r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*[A-Za-z][A-Za-z.]*$"


#: Files the reader cannot read, by extension: what they are and what to do.
_UNREADABLE = {
    ".json": ("a JSON file", "convert it to Parquet or CSV, e.g. with DuckDB: COPY (FROM "
              "'calls.jsonl') TO 'calls.parquet'"),
    ".zip": ("a zip archive", "unzip it (a gzipped .gz or zstd .zst file is read as it is)"),
    ".xlsx": ("a spreadsheet workbook", "save each sheet as CSV, with numbers as text"),
    ".7z": ("a 7-zip archive", "extract it (a gzipped .gz or zstd .zst file is read as it is)"),
    ".rar": ("a rar archive", "extract it (a gzipped .gz or zstd .zst file is read as it is)"),
}
_UNREADABLE.update({
    ".jsonl": _UNREADABLE[".json"], ".ndjson": _UNREADABLE[".json"],
    ".geojson": ("a GeoJSON file", "export the points as CSV with lat and lon columns (e.g. "
                 "ogr2ogr -f CSV out.csv in.geojson -lco GEOMETRY=AS_XY)"),
    ".xls": _UNREADABLE[".xlsx"],
    ".bz2": ("bzip2-compressed", "recompress it with gzip or zstd (bzip2 -dc f.bz2 | gzip > "
             "f.gz), which are read as they are"),
    ".xz": ("xz-compressed", "recompress it with gzip or zstd (xz -dc f.xz | gzip > f.gz), "
            "which are read as they are"),
    ".orc": ("an ORC file", "convert it to Parquet (in Spark: spark.read.orc(path)"
             ".write.parquet(out))"),
    ".avro": ("an Avro file", "convert it to Parquet (in Spark: spark.read.format('avro')"
              ".load(path).write.parquet(out))"),
})
#: What a file's first bytes say it is, when its name does not say so.
_MAGIC = {
    b"\x1f\x8b": ("gzip-compressed", (".gz", ".gzip"),
                  "name it with .gz at the end (calls.csv.gz)"),
    b"\x28\xb5\x2f\xfd": ("zstd-compressed", (".zst", ".zstd"),
                         "name it with .zst at the end (calls.csv.zst)"),
    b"PAR1": ("a Parquet file", (".parquet",), "set format: parquet for it in the mapping"),
    b"BZh": ("bzip2-compressed", (), _UNREADABLE[".bz2"][1]),
    b"\xfd7zXZ": ("xz-compressed", (), _UNREADABLE[".xz"][1]),
    b"PK\x03\x04": ("a zip archive or a spreadsheet workbook", (),
                    "unzip it, or save each sheet as CSV with numbers as text"),
}


def _refuse_disguised(files: list[Path], table: str, label: dict[str, str],
                      encoding: str) -> None:
    """A file read as text whose first bytes say it is compressed, Parquet or an archive,
    though its name does not (a part ``000000_0`` of Hive, ``calls.csv`` holding gzip), or
    UTF-16 text (its byte order mark) read in another ``encoding``, is a clear error naming
    what it is, before the CSV reader's sniffing fails on it."""
    utf16 = (_python_codec(encoding) or "").startswith("utf-16")
    for f in files:
        with open(f, "rb") as handle:
            head = handle.read(6)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") and not utf16:
            raise MappingError(f"{table}: the file is UTF-16 text (Excel's 'Unicode text', "
                               f"PowerShell's default), though the mapping reads it as "
                               f"{encoding}", label.get(str(f), str(f)),
                               f"set csv: {{encoding: utf-16}} for {table} in the mapping "
                               "(its columns are often separated by tabs: delim: \"\\t\")")
        for magic, (kind, suffixes, fix) in _MAGIC.items():
            if head.startswith(magic) and f.suffix.lower() not in suffixes:
                raise MappingError(f"{table}: the file is {kind}, though its name does not say "
                                   "so", label.get(str(f), str(f)), fix)


def _refuse_unreadable(files: list[Path], table: str) -> None:
    """A JSON file, an archive or a workbook among ``files`` (by its last extension, or the one
    before a compression's: ``calls.jsonl.gz``) is a clear error, before a CSV reader splits it
    into nonsense columns (whose names would be data)."""
    for f in files:
        last = [x.lower() for x in f.suffixes[-2:]]
        if last and last[-1] in (".gz", ".zst"):
            last = last[:-1]
        kind = _UNREADABLE.get(last[-1]) if last else None
        if kind is not None:
            raise MappingError(f"{table}: the file is {kind[0]}; the contract reads CSV and "
                               "Parquet files", str(f), kind[1])


#: The extensions of a text file read as data (Parquet beside them is refused by the reader,
#: unless ``format`` says which), and of a file that is not data (a copy kept beside the data,
#: notes, checksums): a folder or a wildcard holding both reads the latter too.
_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".dat")
_NOT_DATA_SUFFIXES = (".bak", ".old", ".orig", ".tmp", ".temp", ".swp", ".md", ".log", ".md5",
                      ".sha1", ".sha256", ".crc", ".pdf", ".doc", ".docx", ".html", ".yaml",
                      ".yml", ".py", ".sql", ".sh")


def _named_unless_a_number(path: Path, where: str | None) -> str:
    """``path``, or, when it holds a number (a party file's, or its folder's), ``where`` (a path
    pattern) if given, else ``path`` with each number written ``[number]``."""
    if not _numbers_in(str(path)):
        return str(path)
    return where if where is not None else _hide_numbers(str(path), lambda digits: "[number]")


def _refuse_stray_files(files: list[Path], table: str, where: str | None = None) -> None:
    """Several files (a folder, a wildcard) of which one is a backup or a note by its extension
    (``calls_0906.csv.bak``, ``README.md``, ``~`` last), or whose data extensions differ
    (``README.txt`` beside the ``.csv`` files), are an error naming the odd file: each would be
    read as data (a stale backup's rows kept over the day's, a note's lines as calls).
    ``where``: what the error names instead of a file named by a number (a path pattern)."""
    if len(files) < 2:
        return
    kinds: dict[str, list[Path]] = {}
    for f in files:
        suffixes = [x.lower() for x in f.suffixes[-2:]]
        if suffixes and suffixes[-1] in (".gz", ".gzip", ".zst", ".zstd"):
            suffixes = suffixes[:-1]
        last = suffixes[-1] if suffixes else ""
        if last in _NOT_DATA_SUFFIXES or f.name.endswith("~"):
            raise MappingError(
                f"{table}: the path reads a file that is not data by its name (a backup, a "
                "note or a checksum beside the data), which would be read as rows",
                _named_unless_a_number(f, where),
                f"move it out of the folder, or narrow {table}.path to the data files (e.g. "
                "cdr/*.csv)")
        if last in _DATA_SUFFIXES:
            kinds.setdefault(last, []).append(f)
    if len(kinds) > 1:
        fewest = min(kinds.values(), key=len)
        counts = ", ".join(f"{len(v):,} {k}" for k, v in sorted(kinds.items()))
        raise MappingError(
            f"{table}: the path reads files of several kinds ({counts}), such as this one, "
            "which would all be read as rows of one table",
            _named_unless_a_number(fewest[0], where),
            f"narrow {table}.path to the data files (e.g. cdr/*.csv), or move the others out "
            "(a README.txt beside the exports)")


def read_table(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract, table: str,
    files: list[Path] | None = None, deferred: tuple[str, ...] = (),
    parties: dict[str, tuple[str, str]] | None = None,
) -> RawRead:
    """Read one contract table (or its ``files``) into temp table ``raw_<table>``, every row
    once.

    Columns: each contract column normalised (identifiers canonical text, except the
    identifier columns named in ``deferred``, left as their text for the caller to make
    canonical once per distinct value (``canonical_id``, ``canonical_phone``); ``start_ts`` /
    ``end_ts`` as instants (TIMESTAMPTZ), other values trimmed text with null tokens as NULL),
    ``<column>_text`` (the trimmed text; NULL for a column typed as a time) for the time
    columns, whose text a quarantine record may show, then ``_file`` and ``_row`` (Parquet:
    the row number, 1-based; CSV: the line number in the file, counting the header).
    ``parties``: :func:`party_files` of every calls file of a one-file-per-party export, when
    ``files`` is one batch of them (their labels number every file, not the batch's).
    """
    src = contract.source(table)  # raises for a name outside CONTRACT_COLUMNS: the temp table
    assert src is not None, f"{table} has no source"  # names below are from that allow-list
    files = files if files is not None else contract.files(table, cfg.calendar.days)
    if table == "calls" and src.party_from_file_name:
        parties = parties if parties is not None else party_files(contract, files)
    else:
        parties = {}
    label = file_labels(contract, table, files, parties, cfg.pseudonym_key)  # how it is named
    try:
        return _read_labelled(con, cfg, contract, table, src, files, deferred, parties, label)
    except MappingError as e:  # name the user's file by its label
        raise MappingError(shown(e.what, label), shown(e.where, label) if e.where else None,
                           e.fix) from None


def _read_labelled(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract, table: str,
    src: TableSource, files: list[Path], deferred: tuple[str, ...],
    parties: dict[str, tuple[str, str]], label: dict[str, str],
) -> RawRead:
    """:func:`read_table` of ``files`` named by ``label``: decoded (a UTF-8 copy of a file in
    an encoding DuckDB does not read), read, and ``_file`` set to the label."""
    _refuse_unreadable(files, table)
    kinds = {"parquet" if f.suffix.lower() == ".parquet" else "csv" for f in files}
    if src.format is None and len(kinds) > 1:
        raise MappingError(f"{table}: the files mix Parquet and other files", str(files[0]),
                           f"narrow {table}.path to one kind (e.g. a '*.parquet' pattern), or set "
                           f"{table}.format")
    fmt = src.format or kinds.pop()
    encoding = src.csv.get("encoding", "utf-8")
    if fmt == "csv":
        _refuse_disguised(files, table, label, encoding)
    transcode = fmt == "csv" and _duckdb_encoding(encoding) is None
    spill = cfg.duckdb.temp_directory or cfg.duckdb_path.parent / "tmp"
    with utf8_copies(files, encoding, Path(spill)) if transcode else \
            contextlib.nullcontext({str(f): str(f) for f in files}) as copies:
        # each path read (a file, or its UTF-8 copy) -> the user's file's label
        names = {read: label[original] for read, original in copies.items()}
        party_of = {read: parties[original][0] for read, original in copies.items()} \
            if parties else None
        try:
            raw = _read_table(con, cfg, contract, table, src, fmt, [Path(r) for r in copies],
                              deferred, _duckdb_encoding(encoding) or "utf-8", party_of, names)
            if fmt == "csv" and table != "calls" and "quote" not in src.csv:  # calls: a
                _refuse_kept_quotes(con, raw, table, [Path(r) for r in copies], names)  # line
        except MappingError as e:  # a UTF-8 copy is named as the user's file
            raise MappingError(shown(e.what, names), shown(e.where, names) if e.where else None,
                               e.fix) from None
        moved = {read: name for read, name in names.items() if read != name}
        if moved:
            con.execute(f"UPDATE {quote_identifier(raw.table)} AS r SET _file = m.shown "
                        "FROM (SELECT unnest($read) AS read, unnest($shown) AS shown) AS m "
                        "WHERE r._file = m.read",
                        {"read": list(moved), "shown": list(moved.values())})
    return replace(raw, rejected_lines=[(names.get(f, "[a calls file]"), line, error)
                                        for f, line, error in raw.rejected_lines],
                   files=[label[str(f)] for f in files])


def _read_table(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract, table: str,
    src: TableSource, fmt: str, files: list[Path], deferred: tuple[str, ...], encoding: str,
    party_of: dict[str, str] | None = None, names: dict[str, str] | None = None,
) -> RawRead:
    """:func:`read_table` of ``files`` that DuckDB decodes itself (``encoding``); ``party_of``:
    each file's party, for a one-file-per-party export (:func:`party_files`); ``names``: how
    each file is shown in a message (its label; the user's file for a UTF-8 copy)."""
    names = names if names is not None else {str(f): str(f) for f in files}
    where = names.get(str(files[0]))
    canonical_macros(con)
    p = _Params(spreadsheet_errors=table != "calls")
    if fmt == "csv" and not {"header", "skip"} & set(src.csv) \
            and _header_only_files(con, files, src):
        src = src.model_copy(update={"csv": {**src.csv, "header": True}})
    if fmt == "csv":
        guard_wide_lines(con, files, src, table, encoding)
    scan = _scan(files, fmt, src, p, table)
    present = _describe(con, scan, p, files, table, names)
    if fmt == "csv":
        _refuse_repeated_header_names(con, files, table, src, present, names)
    if fmt == "parquet":
        _refuse_misread_parquet(con, files, table, src, names)
    elif len(files) > 1 and src.csv.get("header") is not False:
        _refuse_csv_columns_added_later(con, files, table, src, present, names)
    rule = src.time_rule
    uses_duration = table == "calls" and reads_duration(src, present)
    if table == "calls" and src.duration_unit != "s" and not uses_duration:
        raise MappingError(f"calls.duration_unit is {src.duration_unit!r}, but the calls' end is "
                           "read from end_ts, not from a duration", where,
                           "map duration to the column of durations, or drop duration_unit")
    required = _required(table, src, present)
    if table == "calls" and "event_type" in present and src.event_types is None \
            and "event_type" not in _mapped(src):
        raise MappingError("calls: the files have a column named event_type (read as the "
                           "contract's, as every column named so) and the mapping gives no "
                           "event_types rule, so which of its values are calls is unknown",
                           where, "add event_types: {call: [...], missed: [...]} to calls, "
                           "listing the values that are voice calls (an SMS is not)")
    if table == "subscribers" and {"age", "birth_year"} <= set(present) \
            and not {"age", "birth_year"} & _mapped(src):
        raise MappingError("subscribers: the file has a column age and a column birth_year, "
                           "and the mapping maps neither (an age at export time beside a year "
                           "of birth would give two ages)", where,
                           "map the one to read: columns: {age: age} or "
                           "{birth_year: birth_year}")
    cols: list[str] = []
    for name in CONTRACT_COLUMNS[table]:
        listed = [*contract.null_tokens, *src.null_tokens.get(name, ())]
        tokens, numbers = p(listed), number_tokens(listed, p)
        if table == "calls" and name in (*PARTY_COLUMNS, "direction") \
                and src.directions is None:  # read only for a per-party export
            cols.append(f"CAST(NULL AS VARCHAR) AS {name}")
            continue
        if table == "subscribers" and name == "birth_year" and "birth_year" not in \
                _mapped(src) and ("age" in _mapped(src) or "age" in present):  # age wins
            cols.append("CAST(NULL AS VARCHAR) AS birth_year")
            continue
        if table == "subscribers" and name == "age" and "birth_year" in _mapped(src) \
                and "age" not in _mapped(src):  # a mapped birth year wins over a column age
            cols.append("CAST(NULL AS VARCHAR) AS age")
            continue
        if name == "party" and party_of is not None:
            if "file_index" in present:
                raise MappingError("calls: the file has a column named file_index, which the "
                                   "reader of a one-file-per-party export uses", where,
                                   "rename that column in the files")
            # the reader's file_index: the file's place in `files` (one lookup per row)
            expr = f"list_extract({p([party_of[str(f)] for f in files])}, " \
                "CAST(file_index AS BIGINT) + 1)"
            dtype = "VARCHAR"
        elif name in src.constants:
            expr, dtype = p(src.constants[name]), "VARCHAR"
        else:
            mapped = src.columns.get(name, name)
            parts = [mapped] if isinstance(mapped, str) else list(mapped)
            # a CSV header's names are read trimmed: ' Caller ' mapped as written is 'Caller'
            found_parts = [present.get(column_key(part)) for part in parts]
            found = found_parts[0] if len(parts) == 1 else None
            if None in found_parts:
                has = _header_names(present)
                if table == "calls" and name == "end_ts" and name not in src.columns \
                        and not uses_duration:
                    raise MappingError(
                        f"calls: the file has no column 'end_ts' or 'duration' (a call's end "
                        f"or its duration in seconds); it has {has}", where,
                        _header_fix(present, "map end_ts or duration to one of those columns "
                                    "in calls.columns; a log of text messages (SMS: no end, no "
                                    "duration) is not a calls file, whose rows are voice calls",
                                    files))
                if table == "subscribers" and name == "birth_province" \
                        and name not in src.columns and cfg.population == "labelled":
                    raise MappingError(
                        "subscribers: the file has no column 'birth_province', and every label "
                        "of the studies (study.population: labelled) needs the province a user "
                        f"was born in (SPEC §3); it has {has}", where,
                        _header_fix(present, "map birth_province to one of those columns in "
                                    "subscribers.columns; or, for the features of every user "
                                    "without the studies' groups, set population: subscribers "
                                    "(or all_active) in the study config", files))
                if name in src.columns or name in required:
                    absent = parts[found_parts.index(None)]
                    other = {"callee": f"; {_NOT_A_CALL_LOG}",
                             "other_party": f"; {_NOT_A_CALL_LOG}",
                             "is_local_number": "; or, when every number of the file is local, "
                                                "constants: {is_local_number: 'true'}"
                             }.get(name, "")
                    raise MappingError(
                        f"{table}: column {absent!r} (contract column {name!r}) is not in the "
                        f"file; it has {has}", where,
                        _header_fix(present, f"map {name} to one of those columns in "
                                    f"{table}.columns{other}", files))
                kind = "TIMESTAMPTZ" if name in TIME_COLUMNS else "VARCHAR"
                cols.append(f"CAST(NULL AS {kind}) AS {name}")
                if name in TIME_COLUMNS:
                    cols.append(f"CAST(NULL AS VARCHAR) AS {name}_text")
                    cols.append(f"CAST(NULL AS BOOLEAN) AS {name}_naive")
                continue
            nested = [f[0] for f in found_parts
                      if f[1].startswith(("STRUCT", "MAP", "UNION")) or f[1].endswith("]")]
            if nested:  # its text would be hashed as an identifier, a value read as text
                raise MappingError(
                    f"{table}: column {nested[0]!r} (contract column {name!r}) is nested (a "
                    "struct, map or list), and the contract reads flat columns", where,
                    f"export the field as a column of its own (in SQL: SELECT "
                    f"{nested[0]}.field AS {name}, ...) and map that")
            if found is not None:
                expr, dtype = quote_identifier(found[0]), found[1]
            else:  # several columns: their texts joined by a space, NULL if one is missing
                texts = [_identifier_text(quote_identifier(f[0]), f[1], p, tokens, numbers)
                         if name in NUMBER_COLUMNS or name in ID_COLUMNS
                         else _text(quote_identifier(f[0]), p, tokens) for f in found_parts]
                if name in TIME_COLUMNS:
                    widths = _digit_widths(rule.format, len(texts))
                    texts = [_time_part(t, f[1], w, p)
                             for t, f, w in zip(texts, found_parts, widths, strict=True)]
                if name in CALL_CELL_COLUMNS:
                    # a call's cell is missing when every part is (a party who is not a
                    # subscriber); one part missing (a LAC without its CI) is a cell written
                    # with that part empty, which no cell has: unknown_cell, not a call that
                    # silently lost its place
                    missing = " AND ".join(f"{t} IS NULL" for t in texts)
                    joined = " || ' ' || ".join(f"coalesce({t}, '')" for t in texts)
                else:
                    missing = " OR ".join(f"{t} IS NULL" for t in texts)
                    joined = " || ' ' || ".join(texts)
                expr = f"CASE WHEN {missing} THEN NULL ELSE {joined} END"
                dtype = "VARCHAR"
        if name in TIME_COLUMNS:
            ts, naive = _timestamp(expr, dtype, rule, cfg.city.timezone, p, tokens, name, table)
            cols.append(f"{ts} AS {name}")
            typed = dtype.startswith("TIMESTAMP") or dtype == "DATE"  # NULL only when absent
            text = "CAST(NULL AS VARCHAR)" if typed else _text(expr, p, tokens)
            cols.append(f"{text} AS {name}_text")
            # read only where the source's zone goes back an hour (a regex a row otherwise)
            repeats = table == "calls" and repeated_hours(rule.timezone or cfg.city.timezone,
                                                          cfg.calendar.days)
            cols.append(f"{naive if repeats else 'FALSE'} AS {name}_naive")
        elif name in NUMBER_COLUMNS or name in ID_COLUMNS:
            ident = _identifier_text(expr, dtype, p, tokens, numbers)
            if name not in deferred:
                ident = canonical_identifier(ident, name, contract, p)
            cols.append(f"{ident} AS {name}")
        else:
            # a code in a number column (a Parquet DOUBLE -1.0, a sex coded 1.0 / 2.0) as a
            # rule or a recode writes it (-1, 1)
            text = _identifier_text(expr, dtype, p, tokens, numbers) \
                if _numeric(dtype) and name in RECODABLE_COLUMNS \
                else _text(expr, p, tokens)
            if name == "birth_year" and _aware(dtype):
                # a birth date held as an instant (pandas' local midnight in UTC): its day in
                # the city's time zone
                text = f"strftime(timezone({p(cfg.city.timezone)}, {expr}), '%Y-%m-%d')"
            if src.recode.get(name):  # the file's value -> the value meant; others unchanged
                pairs = src.recode[name]
                recoded = f"MAP({p(list(pairs))}, {p(list(pairs.values()))})"
                text = (f"CASE WHEN map_contains({recoded}, {text}) "
                        f"THEN map_extract_value({recoded}, {text}) ELSE {text} END")
            # all_varchar: DuckDB applies neither separator, so they are applied here
            thousands = src.csv.get("thousands")
            if name in DECIMAL_COLUMNS and isinstance(thousands, str) and thousands:
                text = f"replace({text}, {p(thousands)}, '')"  # 65,860 -> 65860
            sep = src.csv.get("decimal_separator")
            if name in DECIMAL_COLUMNS and isinstance(sep, str) and sep not in ("", "."):
                # a '.' left beside another decimal separator is a thousands separator the
                # mapping does not name (100.000 with ','): it is doubled, so the value does not
                # read as a number and is quarantined (bad_price …), never read as 100.0
                text = f"replace(replace({text}, '.', '..'), {p(sep)}, '.')"
            cols.append(f"{text} AS {name}")
    row = "file_row_number + 1" if fmt == "parquet" else "NULL"
    if fmt == "csv":  # CSV rows keep file order (their line numbers); Parquet has row numbers
        con.execute("SET preserve_insertion_order = true")
        cols.append(f"{_LINE_BREAKS} AS _breaks")
        # a line inside a field that holds the delimiters of a record: a record swallowed
        delimiters = max(2, len(_file_column_names(present)) - 2)
        cols.append(f"CASE WHEN {_LINE_BREAKS} > 0 THEN regexp_matches(concat(*COLUMNS(*)), "
                    f"{p(_SWALLOWED_LINE.format(delimiters))}) ELSE false END AS _swallowed")
    select = (f"SELECT {', '.join(cols)}, {_FILE_COLUMN} AS _file, CAST({row} AS BIGINT) AS _row "
              f"FROM {scan}")
    if table == "calls":
        select = _sided(select, src, present, p)
    try:
        sql = f"CREATE OR REPLACE TEMP TABLE raw_{table} AS {select}"
        con.execute(sql, p.of(sql))
    except duckdb.Error as e:
        raise MappingError(f"{table}: reading the files failed ({type(e).__name__}: "
                           f"{redact(str(e), names=names)})", failed_file(str(e), files, names),
                           _BINARY_TEXT_FIX if "Invalid string encoding" in str(e) else
                           CUT_SHORT_FIX if _CUT_SHORT.search(str(e)) else
                           "check the mapping's columns, timestamps and csv options; with "
                           "several files, that each has the same columns of the same types "
                           "(an export delivered in parts may differ)") from None
    finally:
        con.execute("SET preserve_insertion_order = false")
    rejected: list[tuple[str, int, str]] = []
    if fmt == "csv":
        _number_csv_lines(con, table)
        rejected = con.execute(
            # one row per bad line (the parser lists a line once per missing column); the
            # parser counts a record over several lines as one line
            f"SELECT s.file_path, e.line + coalesce((SELECT sum(r._breaks) FROM raw_{table} r "
            f"WHERE r._file = s.file_path AND r._record_line < e.line), 0), "
            f"min(CAST(e.error_type AS VARCHAR)) "
            f"FROM rejects_{table} e JOIN rejects_scan_{table} s USING (scan_id, file_id) "
            f"GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        con.execute(f"DROP TABLE IF EXISTS rejects_{table}")
        con.execute(f"DROP TABLE IF EXISTS rejects_scan_{table}")
        rejected = sorted(rejected + _records_over_lines(con, table))
    if fmt == "csv" and uses_duration and not {"thousands", "decimal_separator"} & set(src.csv):
        _refuse_dotted_thousands(con, names)
    if table == "subscribers":
        _refuse_rounded_owner_ids(con, names)
    rows = con.execute(f"SELECT count(*) FROM raw_{table}").fetchone()[0]
    return RawRead(f"raw_{table}", rows, rejected, [str(f) for f in files], uses_duration)


def _refuse_dotted_thousands(con: duckdb.DuckDBPyConnection, names: dict[str, str]) -> None:
    """Durations of whole seconds beside values such as 1.234 and 2.500, and no other fraction
    (``sql/ingest/duration_thousands.sql``), are an error naming the file: a European export
    writes 1,234 s so, and read as written they would be 1,000 times too short. The csv option
    ``thousands`` or ``decimal_separator`` says which it is."""
    found = run_sql(con, "ingest/duration_thousands.sql").fetchone()
    if found is not None:
        file, whole, dotted = found
        raise MappingError(
            f"calls: {dotted:,} duration(s) are written like 1.234 or 2.500 beside {whole:,} of "
            "whole seconds and no other fraction: a '.' between thousands (1.234 is 1,234 s) "
            "would be read as a decimal point (1.234 s)", names.get(file, file),
            "say which it is: csv: {thousands: '.'} for thousands (a European export; with "
            "decimal_separator: ',' if other numbers have a decimal comma), or csv: "
            "{decimal_separator: '.'} for seconds with their milliseconds")


def _refuse_rounded_owner_ids(con: duckdb.DuckDBPyConnection, names: dict[str, str]) -> None:
    """Owner ids of 16 digits or more that end in the zeros a spreadsheet writes after 15
    significant digits, some of them shared by numbers whose sex or age differ (``sql/ingest/
    rounded_owner_ids.sql``), are an error naming the first such file: different people share
    an id. A phone number has 15 digits at most, which a spreadsheet keeps."""
    if not has_column(con, "raw_subscribers", "owner_id"):
        return
    found = run_sql(con, "ingest/rounded_owner_ids.sql").fetchone()
    if found is not None:
        file, long_ids, rounded_ids, shared_ids = found
        raise MappingError(
            f"subscribers.owner_id: {rounded_ids:,} of {long_ids:,} identifiers of 16 digits or "
            "more end in the zeros a spreadsheet writes after 15 significant digits (an "
            "18-digit ID card number saved with 000 as its last digits), and "
            f"{shared_ids:,} of them are each held by numbers of people of another sex or age: "
            "people of one place born on one day would be one user", names.get(file, file),
            "export owner_id as text, never through a spreadsheet's number format (in Excel, "
            "format the column as Text before the data is pasted or imported), or map the "
            "system's own key instead")


def _text_tail(f: Path) -> bytes:
    """The last 64 KB of an uncompressed text file beyond its first 64 KB (lines appended to
    a file, ending otherwise than its first ones); empty for any other file."""
    if f.suffix.lower() in (".parquet", ".gz", ".gzip", ".zst", ".zstd", ".bz2", ".xz"):
        return b""
    try:
        with f.open("rb") as fh:
            size = fh.seek(0, 2)
            if size <= 1 << 16:
                return b""
            fh.seek(max(1 << 16, size - (1 << 16)))
            return fh.read()
    except OSError:
        return b""


def _text_head(f: Path, con: duckdb.DuckDBPyConnection | None = None) -> bytes:
    """The first 64 KB of a text file, decompressed: gzip here, zstd by DuckDB with ``con`` (its
    first two lines); empty for Parquet, for zstd without ``con`` and for a file that cannot be
    read."""
    suffix = f.suffix.lower()
    try:
        if suffix == ".parquet" or (suffix in (".zst", ".zstd") and con is None):
            return b""
        if suffix in (".zst", ".zstd"):
            lines = con.execute(
                "SELECT line FROM read_csv(?, columns = {'line': 'VARCHAR'}, header = false, "
                "delim = ?, quote = '', escape = '', auto_detect = false, compression = 'zstd') "
                "LIMIT 2", [str(f), "\x1f"]).fetchall()
            return "\n".join(line or "" for (line,) in lines).encode()
        with (gzip.open if suffix in (".gz", ".gzip") else open)(f, "rb") as fh:
            return fh.read(1 << 16)
    except (OSError, EOFError, duckdb.Error):
        return b""


def _header_only_files(con: duckdb.DuckDBPyConnection, files: list[Path],
                       src: TableSource) -> bool:
    """Whether a CSV file holds nothing but its header line (a day without calls, exported as
    usual): one line that another file begins with, or that names every column the mapping
    maps (a gzip or zstd file's text). DuckDB cannot tell a header in a file of one line, and
    would read it as data; the files are then read with ``header``."""
    names = {c for name in src.columns for c in _file_columns(src, name)}
    delims = [src.csv[k] for k in ("delim", "sep") if k in src.csv] or list(",;\t|")
    lone, firsts = set(), set()
    for f in files:
        head = _text_head(f, con)
        text = head.removeprefix(codecs.BOM_UTF8).rstrip(b"\r\n")
        first = text.split(b"\n", 1)[0].rstrip(b"\r")
        (lone if b"\n" not in text and len(head) < 1 << 16 else firsts).add(first)
    for line in lone:
        fields = max((line.decode("utf-8", "replace").split(d) for d in delims), key=len)
        if line in firsts or names and names <= {column_key(x.strip('"')) for x in fields}:
            return True
    return False


#: The line breaks inside a CSV record's fields (any column of the file, read or not): a
#: quoted field over several lines. Free text may hold them (a remark over two lines), and the
#: lines after them keep the file's numbers (:func:`_number_csv_lines`).
_LINE_BREAKS = ("CAST(length(concat(*COLUMNS(*))) - length(replace(concat(*COLUMNS(*)), "
                "chr(10), '')) AS BIGINT)")
#: A line inside a record's fields with {} delimiters or more (the file's columns less two): a
#: record taken into a field by an unclosed quote (free text exported without escaping,
#: "Pudong, Tower B), whose field ran on to the next quote and took the lines between.
_SWALLOWED_LINE = "\n[^\n]*(?:[,;\t|][^\n]*){{{}}}"


def _records_over_lines(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int, str]]:
    """The CSV records of ``raw_{table}`` that took other records into a field
    (:data:`_SWALLOWED_LINE`), taken out of it as rejected lines (``malformed_line``): the
    file, the record's first line and what happened, never the text."""
    if table not in CONTRACT_COLUMNS:  # the name is one of the contract's tables, never data
        raise ValueError(f"not a contract table: {table!r}")
    raw = quote_identifier(f"raw_{table}")
    over = con.execute(
        f"SELECT _file, _row, _breaks FROM {raw} WHERE _swallowed ORDER BY 1, 2"
    ).fetchall()
    if over:
        con.execute(f"DELETE FROM {raw} WHERE _swallowed")
    con.execute(f"ALTER TABLE {raw} DROP COLUMN _breaks")
    con.execute(f"ALTER TABLE {raw} DROP COLUMN _swallowed")
    con.execute(f"ALTER TABLE {raw} DROP COLUMN _record_line")
    return [(file, line, f"QUOTED FIELD OVER LINES {line}-{line + breaks}: a quote opened in "
             "a field and closed lines later (free text with an unescaped quote); the lines "
             "between were read as part of that field")
            for file, line, breaks in over]


def _number_csv_lines(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Give each CSV record its line number: the i-th accepted record of a file is on line
    ``i + header + #(rejected lines before it) + #(line breaks inside earlier records)``;
    ``_record_line`` leaves out the line breaks, as the parser's own count of its rejected
    lines does."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE numbered_{table} AS
        WITH ordered AS (
            SELECT * EXCLUDE (_row),
                row_number() OVER (PARTITION BY _file ORDER BY rowid) AS _ordinal,
                coalesce(sum(_breaks) OVER (PARTITION BY _file ORDER BY rowid ROWS BETWEEN
                    UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS _breaks_before
            FROM raw_{table}
        ),
        scans AS (
            SELECT file_path AS _file, max(skip_rows + CAST(has_header AS INTEGER)) AS head
            FROM rejects_scan_{table}
            GROUP BY file_path
        ),
        rejected AS (
            SELECT _file, line - head - row_number() OVER (PARTITION BY _file ORDER BY line)
                AS accepted_before
            FROM (
                SELECT DISTINCT r.file_path AS _file, e.line
                FROM rejects_{table} AS e
                JOIN rejects_scan_{table} AS r USING (scan_id, file_id)
            )
            JOIN scans USING (_file)
        )
        SELECT * EXCLUDE (_breaks_before), _record_line + _breaks_before AS _row
        FROM (
            SELECT o.* EXCLUDE (_ordinal),
                CAST(o._ordinal + coalesce(s.head, 1) + (
                    SELECT count(*) FROM rejected AS j
                    WHERE j._file = o._file AND j.accepted_before < o._ordinal
                ) AS BIGINT) AS _record_line
            FROM ordered AS o
            LEFT JOIN scans AS s USING (_file)
        )
        """
    )
    con.execute(f"DROP TABLE raw_{table}")
    con.execute(f"ALTER TABLE numbered_{table} RENAME TO raw_{table}")
