"""Ingestion (SPEC §1): read a contract table, validate it in SQL, pseudonymise, write.

Each function reads through :func:`migrant_assets.contract.read_table`, judges every row with
``sql/ingest/<table>.sql`` (a reason, or NULL when accepted) and replaces, in one transaction,
its rows, its quarantine rows (``quarantine_<asset>``; the view ``quarantine`` reads them all) and
its row accounting (``accounting_<asset>``, ``landed_files``), so running it twice leaves the same
rows. It returns :class:`IngestStats` for the asset metadata; the checks read the stored tables
(:func:`row_accounting` and the functions after it).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from migrant_assets.config import PACKAGE_FILES, FilesSource, StudyConfig, SyntheticSource
from migrant_assets.contract import (
    DataContract,
    Numbers,
    RawRead,
    canonical_macros,
    end_rolls_over,
    file_labels,
    header_text,
    party_files,
    read_table,
    repeated_hours,
    value_key,
)
from migrant_assets.crs import WGS84, to_wgs84
from migrant_assets.db import (
    drop_tables,
    first_row,
    has_column,
    has_table,
    refuse_old_layout,
    registered,
    run_schema_sql,
    run_sql,
    transaction,
)
from migrant_assets.errors import ConfigError, InputError, MappingError
from migrant_assets.privacy import (
    find_owner_ids,
    find_raw_identifiers,
    register_pseudonym_macro,
)
from migrant_assets.synthetic import GENERATOR_VERSION, generate

#: Every reason a row can be quarantined for, by source (docs/data_contract.md). The landing
#: step (``landed_calls``) judges what a calls row says by itself; the daily ``calls`` ingestion
#: judges it against the reference tables.
QUARANTINE_REASONS: dict[str, tuple[str, ...]] = {
    "landed_calls": (
        "malformed_line",
        "repeated_header",
        "summary_row",
        "bad_direction",
        "missing_id",
        "masked_number",
        "rounded_id",
        "bad_timestamp",
        "bad_duration",
        "end_before_start",
        "duration_over_24h",
        "missed_call",
    ),
    "calls": ("self_call", "unknown_cell", "duplicate_call"),
    "subscribers": ("malformed_line", "missing_id", "rounded_id", "masked_id", "bad_attribute",
                    "duplicate_number"),
    "cells": ("malformed_line", "missing_id", "rounded_id", "summary_row", "bad_coordinates",
              "outside_bbox", "duplicate_id"),
    "estates": (
        "malformed_line",
        "missing_id",
        "rounded_id",
        "summary_row",
        "bad_coordinates",
        "outside_bbox",
        "bad_price",
        "duplicate_id",
    ),
}

#: What to look at when many rows share a quarantine reason: a reason that takes most of a file
#: is usually the mapping, not the data (docs/data_contract.md).
REASON_FIXES: dict[str, str] = {
    "malformed_line": "the csv options: delim, quote, header, and encoding (a GBK or GB18030 "
                      "file read as UTF-8 fails on every line with Chinese text); a record "
                      "over several lines is a quote left open in free text: escape quotes "
                      "in the export, or leave the free-text column out of it",
    "repeated_header": "files joined with each one's header line (hourly files put together "
                       "with cat): those lines are not calls, and nothing else is lost; to "
                       "leave them out, join the files without their first lines "
                       "(tail -n +2) or map the folder's files as a glob (calls.path)",
    "missing_id": "the columns mapped to the numbers and ids, and null_tokens",
    "masked_number": "the export's masking of numbers (138****1234 stands for many people): "
                     "ask for numbers hashed with a key instead, which keep people apart; "
                     "letters standing for a carrier code (Brazil's 0xx11 9…) are no digits: "
                     "write the numbers with their carrier code, or without the prefix",
    "masked_id": "the export's masking of numbers or owner ids (an ID card "
                 "340104********1234 or a number 138****1234 stands for many people, who would "
                 "be one user): ask for ids hashed with a key instead, which keep people apart",
    "rounded_id": "numbers saved by a spreadsheet in scientific notation (1.33518E+10 keeps 6 "
                  "of 11 digits, so it stands for many people), or stored as floats too large "
                  "to be exact (a Parquet DOUBLE beyond 16 digits, as pandas stores ids beside "
                  "nulls; any phone number as FLOAT): export the column as text or integers, "
                  "or from the source rather than through a spreadsheet",
    "bad_timestamp": "the start and end columns (each quarantine record shows the "
                     "text not read): the timestamps rule's format (e.g. '%d/%m/%Y %H:%M:%S' "
                     "for day-first dates, '%Y-%m-%d %I:%M:%S %p' for a 12-hour clock, "
                     "'%Y-%m-%d 00:00:00 %H:%M:%S' for a date written at midnight beside a "
                     "time column; a date without a time of day: map start_ts: [call_date, "
                     "call_time], the date and the time columns; a time of day without "
                     "its date: map start_ts: [the date column, the time column], where a "
                     "Hive folder's key (calls/dt=20160905/…) is a column of its files "
                     "(start_ts: [dt, start_time]), but a date only in a file's name is read "
                     "by no mapping (write it into the rows, or move the files into dt=… "
                     "folders); a zone abbreviation such "
                     "as CST as an offset or a zone "
                     "name) or unit for numbers; an end written as a time of day "
                     "only: map duration",
    "bad_duration": "the duration column (each quarantine record shows the text not read, "
                    "or its length where it could be a number): a duration as seconds (35; "
                    "1,234 with csv: {thousands: ','}; calls.duration_unit: ms for "
                    "milliseconds), H:MM:SS or with its units (3分25秒, 3m25s; not M:SS, "
                    "which could be H:MM); an empty duration of a call that did not connect: "
                    "map its event type to missed (event_types); null_tokens hold for every "
                    "column: a token 0 or -1 also empties a duration of 0 or -1 (a token of "
                    "one column: calls: {null_tokens: {caller_cell: ['0']}})",
    "end_before_start": "the timestamps' time zones (end_ts and start_ts in one zone), or an "
                        "end written as a time of day on the start's date (a call across "
                        "midnight ends the next day: map end_ts to the start's date column "
                        "and the end's time, [call_date, end_time], or map duration), or a "
                        "start in the hour the clocks skip when daylight saving time begins "
                        "(that time does not exist, and is read an hour later: a switch's "
                        "clock that kept its offset needs timestamps.timezone: that offset, "
                        "such as 'UTC-03:00')",
    "duration_over_24h": "the duration's unit (seconds are expected; calls.duration_unit: ms "
                         "reads milliseconds)",
    "missed_call": "event_types and missed_calls",
    "self_call": "caller and callee mapped to the same column, or, one record per party, "
                 "records whose other_party is the served party itself",
    "unknown_cell": "the cells file and the cell columns of calls (a cell the cells file "
                    "quarantined for its place is known: its calls are kept): the same ids, "
                    "written the same way (0012 and 12 differ: a spreadsheet drops leading "
                    "zeros, set cell_ids: "
                    "{strip_leading_zeros: true}; so do ab12 and AB12: cell_ids: "
                    "{ignore_case: true}; and ids with inner "
                    "spaces or other separators; LAC + CI mapped as two columns in both, "
                    "and in the calls both filled: a LAC whose CI is empty is no cell; "
                    "hexadecimal LAC/CI in one file, 0x1824 or 1824, and decimal in the other: "
                    "convert them to decimal), whether the cells file is older than the "
                    "calls (cells added since), and a cell such as 0 or -1 that stands for "
                    "no cell (calls: {null_tokens: {caller_cell: ['0'], callee_cell: ['0']}})",
    "duplicate_call": "overlapping files (the same day delivered twice), or an export with the "
                      "originating and terminating records (MOC and MTC) of each call: map "
                      "its record type to direction with a directions rule (a per-party "
                      "export, docs/data_contract.md)",
    "bad_direction": "the directions rule: every value of the direction column listed as "
                     "outgoing or incoming",
    "bad_attribute": "the subscribers' local flag, birth province and user type columns "
                     "(each quarantine record shows the values; a province of 7 or more "
                     "digits is a number, and a province or user type equal to the row's own "
                     "owner id or number an identifier, so the mapping names the wrong "
                     "column): the local flag is read "
                     "as true/false, t/f, 1/0, yes/no, y/n or 是/否; other codes need a recode "
                     "({is_local_number: {本地: 'true', 外地: 'false'}}; docs/data_contract.md, "
                     "Values)",
    "duplicate_number": "numbers listed twice: overlapping subscribers files, or a number "
                        "that changed owner or plan within the month (the first row in file "
                        "order is kept, the last with subscribers.keep: last: keep one row "
                        "per number, the one that holds for the month, or set keep: last for "
                        "a history whose newest row comes last)",
    "bad_coordinates": "the lat/lon columns and decimal_separator (and, with crs EPSG:<code>, "
                       "that lat holds the northing and lon the easting of that system)",
    "summary_row": "a spreadsheet's total or subtotal row exported with the data (总计, 合计, "
                   "Grand Total: a pivot table's, at the mean coordinates and price; a calls "
                   "file's trailer line, Summe;1410): it is no place and no call, and is left "
                   "out; export the table without its totals",
    "outside_bbox": "lat and lon swapped, coordinates written as integers (micro-degrees, "
                    "without the decimal point) or in a projection (metres: set the table's "
                    "crs, e.g. crs: 'EPSG:32651' for UTM zone 51N; docs/data_contract.md, "
                    "Coordinates), points at 0, 0 (a geocoder that found no place: "
                    "nothing to recover), rows of other places (a country's or the world's "
                    "cell list, OpenCelliD's: keep the city's operator and area), or the "
                    "city's bbox in the study config",
    "bad_price": "thresholds.min_price_per_sqm and max_price_per_sqm (100 to 1,000,000 by "
                 "default: set them for a currency other than yuan, with city.currency), the "
                 "price column, decimal_separator, thousands (65,860), the unit (a price "
                 "per m² in 万 yuan, 6.5 for 65,000: multiply it in the export), and text "
                 "around the number other than the study currency's mark and a unit of area "
                 "(city.currency: 47839元/㎡ is read in a study in yuan, R$ 65.860,00/m² in "
                 "one in reais; 6300元/月 is a rent): remove it in the export; a range "
                 "(63860-67860, 3.8万-4.1万元/㎡) is no one price: export one number per "
                 "estate, e.g. the range's midpoint",
    "duplicate_id": "overlapping files, or a file listing an id more than once (the first "
                    "row in file order is kept): an antenna that moved or an estate priced "
                    "twice (keep the row that holds for the study month; a cells file that "
                    "is a history, newest row last: cells: {keep: last}), or a file of "
                    "listings, one row per flat sold or let (aggregate it to one row per "
                    "estate, e.g. the median price per m²)",
}


#: The marks a price may be written with, by the study's currency (``city.currency``; its
#: name is one of its marks whatever it is): a mark of another currency is a price in it,
#: ``bad_price``, never read as the study's.
CURRENCY_MARKS: dict[str, tuple[str, ...]] = {
    "yuan": ("¥", "￥", "元", "yuan", "rmb", "cny"),
    "reais": ("r$", "brl", "real", "reais"),
    "euros": ("€", "eur", "euro", "euros"),
    "dollars": ("$", "us$", "usd", "dollar", "dollars"),
    "pounds": ("£", "gbp", "pound", "pounds"),
    "lira": ("₺", "tl", "try", "lira"),
    "rupees": ("₹", "inr", "rs", "rupee", "rupees"),
}
_CURRENCY_NAMES = {"real": "reais", "euro": "euros", "eur": "euros", "dollar": "dollars",
                   "usd": "dollars", "pound": "pounds", "gbp": "pounds", "rupee": "rupees",
                   "try": "lira", "brl": "reais", "cny": "yuan", "rmb": "yuan"}


def currency_marks(currency: str) -> list[str]:
    """The marks a price of the study's ``currency`` may carry (:data:`CURRENCY_MARKS`),
    lower-case."""
    name = currency.strip().lower()
    return sorted({name, *CURRENCY_MARKS.get(_CURRENCY_NAMES.get(name, name), ())})


def swapped_coordinates(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                        table: str) -> dict[str, int]:
    """The places of ``table`` (cells or estates) quarantined ``outside_bbox``, and how many of
    them lie inside the city's box with lat and lon swapped (``outside_bbox``,
    ``inside_swapped``; ``sql/ingest/swapped_coordinates.sql``)."""
    if table not in ("cells", "estates"):
        raise ValueError(f"not a point table: {table}")
    c = cfg.city
    return first_row(run_sql(con, "ingest/swapped_coordinates.sql", {
        "min_lat": c.min_lat, "max_lat": c.max_lat, "min_lon": c.min_lon, "max_lon": c.max_lon},
        identifiers={"quarantine": f"quarantine_{table}"}))


def swapped_fix(table: str, found: dict[str, int]) -> str | None:
    """The quarantine_share hint when half or more of the places outside the box lie inside it
    with lat and lon swapped (probe 32 L2: the hint listed six causes), else None."""
    n, outside = found["inside_swapped"], found["outside_bbox"]
    if not outside or 2 * n < outside:
        return None
    return (f"outside_bbox: {n:,} of the {outside:,} {table} outside the city's box lie inside "
            f"it with lat and lon swapped: map lat to the file column now mapped to lon, and lon "
            f"to lat ({table}.columns in the mapping)")


def check_first(reasons: dict[str, int]) -> str | None:
    """What to look at first for the quarantine reason that took most rows (``reasons``: rows
    per reason), as ``reason: fix`` (:data:`REASON_FIXES`); None without one."""
    top = max(reasons, key=reasons.get) if reasons else None
    return f"{top}: {REASON_FIXES[top]}" if top in REASON_FIXES else None


#: What to look at when no subscriber was accepted from rows read, or none was read.
NO_SUBSCRIBER_FIX = ("no subscriber was accepted: see subscribers.quarantine_share and the "
                     "subscribers table's quarantine")
EMPTY_SUBSCRIBERS_FIX = ("the subscribers file has no rows (empty, or a header only): the "
                         "mapping's subscribers.path")
#: What to look at when no call of a day links to a subscriber.
UNLINKED_FIX = ("numbers written differently in calls and subscribers: the mapping's numbers "
                "rule, country_code (+86… against 138…), trunk_prefix (0151… against "
                "+49151…; a list for dialled and mobile prefixes, ['044', '045', '01', '1'] "
                "for +52 1 55… against 55…) and national_digits (docs/data_contract.md, "
                "Identifiers); or a subscribers file of other people than the calls' (another "
                "extract, region or month of the operator's customers)")
#: What to do when a per-party export's callee records stand as calls beside the caller's
#: record of the same call a few seconds earlier or later (the per_party_records check).
STAMPED_APART_FIX = ("the switch stamps the caller's and the callee's record of a call apart, "
                     "so each such call is counted twice: set calls.directions.match_within_s "
                     "(e.g. 2; at most 60) to the largest gap (docs/data_contract.md)")
#: Why duplicate records of a call that end at other times are named, and what to do.
CALL_DUPLICATES_FIX = ("of the records of a call with one caller, callee and start, the one "
                       "that ends last is kept, as the most complete (a copy cut at the end of "
                       "an earlier file of overlapping deliveries ends earlier); if the later "
                       "end is not the one that holds (a correction that shortens a call), "
                       "deliver one record per call (quarantine_calls: differs_from_kept)")
#: The share of a day's landed rows stamped apart from which per_party_records fails (ERROR).
STAMPED_APART_ERROR_SHARE = 0.01
#: Rows the mapping's own rules leave out of the study: counted per file, never quarantined.
EXCLUSION_REASONS = ("not_a_call", "outside_calendar")
#: Rows a day of calls leaves out: the other party's record of a call already counted (a
#: per-party export), counted per day (``accounting_calls.rows_excluded``), never quarantined.
DAY_EXCLUSION_REASONS = ("other_party_record", "partial_record")
#: What to do when a day's calls continue the previous call of their pair within a second of
#: its end (the partial_records check).
PARTIAL_RECORDS_FIX = ("the switch writes a long call as several partial records (each "
                       "starting where the previous ended), so each such call is counted "
                       "several times and its duration split: set "
                       "calls.partial_records_within_s (e.g. 1) to make them one call "
                       "(docs/data_contract.md, Partial records)")
#: The share of a day's calls continuing the previous one from which partial_records fails
#: (ERROR); from one in a thousand it warns (the synthetic city: 6 in 2.5 million).
PARTIAL_RECORDS_ERROR_SHARE = 0.01
PARTIAL_RECORDS_WARN_SHARE = 0.001


@dataclass(frozen=True)
class IngestStats:
    """Row accounting of one ingestion: read = accepted + quarantined + excluded."""

    source: str
    partition_key: str
    read: int
    accepted: int
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    note: str = ""  # why a table is empty (e.g. the mapping has no cells)

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def excluded(self) -> int:
        return sum(self.excluded_by_reason.values())

    @property
    def quarantine_share(self) -> float:
        judged = self.read - self.excluded
        return self.quarantined / judged if judged else 0.0


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ingestion tables (``sql/ingest/landing_tables.sql`` under their own names,
    then ``schema.sql``, whose view ``quarantine`` reads them) if they do not exist."""
    run_schema_sql(con, "ingest/landing_tables.sql", identifiers={t: t for t in STAGED_LANDING})
    run_schema_sql(con, "ingest/schema.sql")


def prepare(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    """Create the ingestion tables and the pseudonym and canonical-form macros on ``con``."""
    refuse_old_layout(con, ["quarantine"])
    create_tables(con)
    canonical_macros(con)
    register_pseudonym_macro(con, cfg.pseudonym_key)


def _stage_rejected_lines(con: duckdb.DuckDBPyConnection, raw: RawRead) -> None:
    """Temp table ``rejected_lines`` (``sql/ingest/rejected_lines.sql``): the CSV lines the
    parser could not split, as quarantine rows (line number and error, never the text)."""
    con.execute("CREATE OR REPLACE TEMP TABLE parser_rejects "
                "(file VARCHAR, line BIGINT, error VARCHAR)")
    if raw.rejected_lines:
        con.executemany("INSERT INTO parser_rejects VALUES (?, ?, ?)", raw.rejected_lines)
    run_sql(con, "ingest/rejected_lines.sql")
    con.execute("DROP TABLE parser_rejects")


def _stats(
    con: duckdb.DuckDBPyConnection, source: str, partition_key: str, judged: str, raw: RawRead
) -> IngestStats:
    counts = dict(
        con.execute(
            f"SELECT coalesce(reason, ''), count(*) FROM {judged} GROUP BY ALL"
        ).fetchall()
    )
    accepted = counts.pop("", 0)
    if raw.rejected_lines:
        counts["malformed_line"] = len(raw.rejected_lines)
    return IngestStats(source, partition_key, raw.read, accepted, dict(sorted(counts.items())))


#: The landing step reads the calls files in batches of about this many bytes once read (at
#: least one file; :func:`bytes_once_read`), so its temporary tables stay bounded whatever the
#: month's size.
LANDING_BATCH_BYTES = 256 * 2**20
#: How many times its own size a compressed calls file counts for at least in a batch: text of
#: calls inflates 3-10 times (a month of gzipped CSV: 244 MB to 770 MB), and the reader's
#: tables grow with the rows, not with the bytes on disk.
INFLATION = 4
#: A row dated outside the calendar by more than this many days is not a file of the days
#: beside the month (an extract's edge) but a time misread (epoch seconds among milliseconds,
#: day-first dates read month-first, a corrupt year): ``calendar_coverage`` judges their share.
FAR_OUTSIDE_DAYS = 7


#: The landing step's staged tables, by the name of the table each is swapped in for
#: (``sql/ingest/landing_tables.sql``, ``landing_swap.sql``).
STAGED_LANDING = {t: f"{t}_staged"
                  for t in ("landed_calls", "landed_files", "quarantine_landed_calls")}


def bytes_once_read(path: Path, fmt: str | None = None) -> int:
    """About how many bytes ``path`` holds once read, what a landing batch is sized by (``fmt``:
    the mapping's ``format``; None: by the file's extension, as the reader decides): a
    Parquet file's uncompressed column chunks (its footer; still about half of what its rows
    take once read, dictionaries encoded), a gzip file's inflated size (its trailer: the size,
    modulo 4 GiB, of its last member), each of them, and a zstd file, at least
    :data:`INFLATION` times its own size (a gzip trailer below that has wrapped, or belongs to
    the last of several members); any other file its size. Raises OSError as ``stat`` does."""
    size = path.stat().st_size
    suffix = path.suffix.lower()
    if (fmt or ("parquet" if suffix == ".parquet" else "csv")) == "parquet":
        try:
            meta = pq.read_metadata(path)
        except (OSError, pa.ArrowException):  # not Parquet: the reader says what it is
            return size
        return max(INFLATION * size, sum(meta.row_group(i).total_byte_size
                                         for i in range(meta.num_row_groups)))
    if suffix in (".gz", ".gzip"):
        inflated = 0
        if size >= 18:  # a gzip header and trailer at least
            with open(path, "rb") as handle:
                handle.seek(-4, 2)
                inflated = int.from_bytes(handle.read(4), "little")
        return max(inflated, INFLATION * size)
    if suffix in (".zst", ".zstd"):
        return INFLATION * size
    return size


def _batches(files: list[Path], size: int, labels: dict[str, str],
             fmt: str | None = None) -> list[list[Path]]:
    """Consecutive groups of ``files`` of at least ``size`` bytes once read
    (:func:`bytes_once_read`; the last may be smaller); a file gone since it was listed is an
    error naming it by its label."""
    batches: list[list[Path]] = [[]]
    held = 0
    for f in files:
        if held >= size:
            batches.append([])
            held = 0
        batches[-1].append(f)
        try:
            held += bytes_once_read(f, fmt)
        except OSError as e:
            raise MappingError(f"calls: a file listed a moment ago cannot be read ({e.strerror})",
                               labels[str(f)], "let the files settle (a copy still under way?) "
                               "and run again") from None
    return [b for b in batches if b]


#: What the landing says when the mapping has no cells (any cell ids of the calls are not kept).
NO_CELLS_NOTE = ("the mapping has no cells: the calls are kept without their cells (geography "
                 "and housing features are unavailable)")


def land_calls(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract
) -> IngestStats:
    """Read every calls file once, batch by batch (:data:`LANDING_BATCH_BYTES`): judge each
    row, give it its local day and its numbers' pseudonyms (each distinct number hashed once,
    ``sql/ingest/landing_identifiers.sql``). Each batch is committed into the staged tables
    (:data:`STAGED_LANDING`), which replace, in one short transaction at the end,
    ``landed_calls``, ``quarantine_landed_calls``, ``landed_files`` (the per-file accounting)
    beside ``identifier_scan_landed_calls`` (the no_raw_identifiers search, made with the
    numbers in hand, and of the subscribers' owner ids by their pseudonyms); a failed landing
    drops them and leaves the last one in place."""
    prepare(con, cfg)
    cal = cfg.calendar
    src = contract.calls
    files = contract.files("calls", cal.days)
    events = src.event_types
    params = {
        "has_events": events is not None,
        "has_directions": src.directions is not None,
        # None: every value not listed as missed is a call
        # compared as written up to case, spaces and width (ＭＯＣ: fold_width, value_key)
        "call_events": [value_key(e) for e in events.call]
        if events and events.call is not None else None if events else [],
        "missed_events": [value_key(e) for e in events.missed] if events else [],
        "missed_rule": src.missed_calls,
        "seconds_per_unit": {"s": 1.0, "ms": 0.001, "min": 60.0, "d": 86400.0}[
            src.duration_unit],
        "month_start": cal.month_start,
        "month_end": cal.month_end,
        "city_tz": cfg.city.timezone,
        "has_cells": contract.source("cells") is not None,
        # a line that repeats the header: the start column's text is its own name
        "start_header": header_text(src, "start_ts"),
        "end_rolls_over": end_rolls_over(src),
    }
    # the source zone's changes back (a wall-clock time in the repeated hour: landing.sql)
    repeats = repeated_hours(src.time_rule.timezone or cfg.city.timezone, cal.days)
    params |= {"has_repeats": bool(repeats),
               "repeat_starts": [at for at, _ in repeats] or [datetime(1970, 1, 1, tzinfo=UTC)],
               "repeat_seconds": [n for _, n in repeats] or [0]}
    numbers = {"country_code": contract.numbers.country_code,
               "national_digits": contract.numbers.national_lengths,
               "trunk_prefixes": contract.numbers.trunk_prefixes,
               "area_code": contract.numbers.area_code,
               "local_digits": contract.numbers.local_lengths,
               "strip_cell_zeros": contract.cell_ids.strip_leading_zeros,
               "fold_cell_case": contract.cell_ids.ignore_case}
    # a one-file-per-party export: each file's party and label, once for every batch
    parties = party_files(contract, files) if src.party_from_file_name else None
    labels = file_labels(contract, "calls", files, parties,
                         cfg.pseudonym_key)  # never a name that is a number
    run_sql(con, "ingest/landing_start.sql", {"files": [labels[str(f)] for f in files]})
    # the subscribers' owner ids by their pseudonyms: a quarantine record shows none (landing.sql)
    con.execute("CREATE OR REPLACE TEMP TABLE landing_owner_ids AS "
                + ("SELECT DISTINCT user_id FROM subscribers" if has_table(con, "subscribers")
                   else "SELECT CAST(NULL AS BIGINT) AS user_id WHERE false"))
    drop_tables(con, *STAGED_LANDING.values(), if_exists=True)
    run_schema_sql(con, "ingest/landing_tables.sql", identifiers=STAGED_LANDING)
    read, counts, outside = 0, {}, []
    try:
        for batch in _batches(files, LANDING_BATCH_BYTES, labels, src.format):
            raw = read_table(con, cfg, contract, "calls", files=batch,
                             deferred=("caller", "callee", "caller_cell", "callee_cell",
                                       "party", "other_party", "cell"), parties=parties)
            run_sql(con, "ingest/landing_identifiers.sql", numbers)
            run_sql(con, "ingest/landing.sql", {**params, "has_duration": raw.has_duration})
            _stage_rejected_lines(con, raw)
            run_sql(con, "ingest/landing_write.sql",
                    {"files": raw.files, "month_start": cal.month_start,
                     "month_end": cal.month_end, "far_days": FAR_OUTSIDE_DAYS},
                    identifiers=STAGED_LANDING)
            for outcome, n, first, last in con.execute(
                    "SELECT outcome, count(*), min(day), max(day) FROM judged_landing "
                    "GROUP BY ALL").fetchall():
                counts[outcome] = counts.get(outcome, 0) + n
                if outcome == "outside_calendar":
                    outside += [first, last]
            if raw.rejected_lines:
                counts["malformed_line"] = counts.get("malformed_line", 0) + len(
                    raw.rejected_lines)
            read += raw.read
            drop_tables(con, "judged_landing", "rejected_lines", raw.table)
        quarantined = sum(n for r, n in counts.items()
                          if r not in ("landed", *EXCLUSION_REASONS))
        # the calendar is the cause only when the dated rows outside it outnumber the rows
        # quarantined (else quarantine_share names the cause); not swapped in: the last stays
        if outside and not counts.get("landed") and counts["outside_calendar"] > quarantined:
            raise ConfigError(
                f"none of the {counts['outside_calendar']:,} calls dated in the files falls in "
                f"the study calendar ({cal.month_start} .. {cal.month_end}): they run from "
                f"{min(outside)} to {max(outside)}", "calendar in the study config",
                "set calendar.month_start, month_end and the study weeks to your data's month "
                "(docs/your_own_data.md, step 3)")
        run_sql(con, "ingest/landing_redact.sql", numbers, identifiers=STAGED_LANDING)
        with transaction(con):
            run_sql(con, "ingest/landing_swap.sql", identifiers=STAGED_LANDING)
            run_sql(con, "ingest/raw_identifiers_calls.sql")
            # landed_calls' texts are cells, known (the cells file's, searched with the
            # subscribers) or hashed: the other two hold the calls files' other texts
            _store_identifier_scan(con, "landed_calls",
                                   owners_in=["landed_files", "quarantine_landed_calls"])
            _store_number_forms(con, "landed_calls", "landing_number_ids")
    finally:
        drop_tables(con, *STAGED_LANDING.values(), if_exists=True)
        drop_tables(con, "landing_file_ids", "landing_numbers", "landing_number_ids",
                    "landing_cells", "landing_owner_ids", "landing_codes")
    landed = counts.pop("landed", 0)
    excluded = {r: counts.pop(r) for r in EXCLUSION_REASONS if r in counts}
    return IngestStats("landed_calls", "", read, landed, dict(sorted(counts.items())),
                       dict(sorted(excluded.items())),
                       note="" if params["has_cells"] else NO_CELLS_NOTE)


def _store_identifier_scan(con: duckdb.DuckDBPyConnection, source: str,
                           owners_in: Sequence[str] = ()) -> None:
    """Search every table for the identifiers of temp table ``raw_identifiers`` (the source's,
    in hand during its ingestion: :func:`find_raw_identifiers`), and ``owners_in`` (the tables
    this ingestion wrote) for the subscribers' owner ids by their pseudonyms
    (:func:`find_owner_ids`: they are no longer in hand), and store the result in
    ``identifier_scan_<source>`` (the no_raw_identifiers check reads it); drops the temp
    table."""
    searched = con.execute("SELECT count(*) FROM raw_identifiers").fetchone()[0]
    hits = find_raw_identifiers(con, province_names()["spellings"])
    for place, n in find_owner_ids(con, owners_in).items():
        hits[place] = max(hits.get(place, 0), n)
    con.execute("DROP TABLE raw_identifiers")
    run_sql(con, "ingest/identifier_scan_write.sql",
            {"searched": searched, "hits": json.dumps(hits, sort_keys=True)},
            identifiers={"scan_table": f"identifier_scan_{source}"})


def _calls_rules(cfg: StudyConfig) -> tuple[float, float | None]:
    """The mapping's rules for the records of one call, read once a day: how far apart a
    per-party export's two records may be stamped (``directions.match_within_s``; 0 for the
    synthetic city and per-call exports), and ``calls.partial_records_within_s`` (None: no
    partial records)."""
    if not isinstance(cfg.source, FilesSource):
        return 0.0, None
    calls = DataContract.load(cfg.source.mapping).calls
    return (calls.directions.match_within_s if calls.directions is not None else 0.0,
            calls.partial_records_within_s)


def ingest_calls(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, day: date
) -> IngestStats:
    """One day of landed calls: owners merged, rows checked against the reference tables,
    the records of one call made one call, bad rows quarantined; read = the day's landed rows
    (``accounting_calls``)."""
    prepare(con, cfg)
    key = day.isoformat()
    if not has_column(con, "landed_calls", "side"):
        raise InputError("landed_calls was written by an earlier version of migrant_assets "
                         "(it has no column side)", "the study's DuckDB file",
                         "materialize landed_calls again (migrant-assets demo does), then calls")
    match_within_s, within = _calls_rules(cfg)
    run_sql(con, "ingest/calls.sql", {"day": day, "match_within_s": match_within_s})
    if within is not None:
        run_sql(con, "ingest/calls_partial_records.sql", {"within_s": within})
    with transaction(con):
        run_sql(con, "ingest/calls_write.sql", {"day": day, "partition_key": key})
    judged = dict(con.execute(
        "SELECT coalesce(reason, ''), count(*) FROM judged_calls GROUP BY ALL").fetchall())
    unlocated = con.execute("SELECT count(*) FROM judged_calls WHERE reason IS NULL "
                            "AND cell_unlocated").fetchone()[0]
    con.execute("DROP TABLE judged_calls")
    accepted = judged.pop("", 0)
    excluded = {r: judged.pop(r) for r in DAY_EXCLUSION_REASONS if r in judged}
    return IngestStats("calls", key, accepted + sum(judged.values()) + sum(excluded.values()),
                       accepted, dict(sorted(judged.items())), excluded,
                       note=f"{UNLOCATED_NOTE} ({unlocated} calls)" if unlocated else "")


#: What a day of calls says of its calls at cells the cells file quarantined.
UNLOCATED_NOTE = ("calls kept without the place of a cell whose row the cells file quarantined "
                  "(bad_coordinates, outside_bbox: table unlocated_cells)")


def _store_number_forms(con: duckdb.DuckDBPyConnection, source: str, numbers: str) -> None:
    """Store in ``number_forms_<source>`` the pseudonyms of the national forms that the
    numbers of table ``numbers`` (canonical, in hand during the ingestion) written with a
    country code could stand for (``sql/ingest/number_forms_write.sql``; :func:`number_forms`
    judges them)."""
    run_sql(con, "ingest/number_forms_write.sql",
            identifiers={"forms_table": f"number_forms_{source}", "numbers": numbers})


def ingest_subscribers(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract
) -> IngestStats:
    """Subscribers merged into one user per owner (SPEC §1); service types from config. The
    no_raw_identifiers search of the subscribers' numbers and owner ids is made in the same
    pass and stored in ``identifier_scan_subscribers``."""
    prepare(con, cfg)
    raw = read_table(con, cfg, contract, "subscribers")
    src = contract.subscribers
    has_owner = "owner_id" in src.columns or "owner_id" in src.constants or con.execute(
        f"SELECT count(owner_id) > 0 FROM {raw.table}").fetchone()[0]
    keep_last = src.keep == "last"
    run_sql(con, "ingest/subscribers.sql", {"has_owner": bool(has_owner),
                                            "month_start": cfg.calendar.month_start,
                                            "keep_last": keep_last})
    _stage_rejected_lines(con, raw)
    with transaction(con):
        run_sql(con, "ingest/subscribers_write.sql", {
            "service_user_types": [t.lower() for t in cfg.thresholds.service_user_types],
            "rows_read": raw.read, "note": None, "keep_last": keep_last})
        run_sql(con, "ingest/raw_identifiers_subscribers.sql")
        _store_identifier_scan(con, "subscribers")
        _store_number_forms(con, "subscribers", raw.table)
    stats = _stats(con, "subscribers", "", "judged_subscribers", raw)
    drop_tables(con, "judged_subscribers", "rejected_lines", raw.table)
    return stats


def ingest_places(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract, table: str
) -> IngestStats:
    """Cells or estates: ids, coordinates inside the study area, prices (estates). A mapping
    without the table leaves it empty (geography / housing features are then unavailable)."""
    if table not in ("cells", "estates"):
        raise ValueError(f"not a point table: {table}")
    prepare(con, cfg)
    note = None if contract.source(table) is not None else f"the mapping has no {table}"
    if note is None:
        raw = read_table(con, cfg, contract, table)
        id_col, price = ("cell_id", "NULL") if table == "cells" else ("estate_id", "price_per_sqm")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE raw_place AS SELECT {id_col} AS id, lat, lon, "
            f"{price} AS price, _file, _row FROM {raw.table}"
        )
        drop_tables(con, raw.table)
    else:
        raw = RawRead("raw_place", 0)
        con.execute("CREATE OR REPLACE TEMP TABLE raw_place (id VARCHAR, lat VARCHAR, "
                    "lon VARCHAR, price VARCHAR, _file VARCHAR, _row BIGINT)")
    run_sql(con, "ingest/place_values.sql", {"marks": currency_marks(cfg.city.currency)})
    source = contract.source(table)
    if source is not None and source.crs != WGS84:
        places_to_wgs84(con, source.crs)
    city = cfg.city
    run_sql(
        con,
        "ingest/places.sql",
        {
            "min_lat": city.min_lat,
            "max_lat": city.max_lat,
            "min_lon": city.min_lon,
            "max_lon": city.max_lon,
            "has_price": table == "estates",
            "min_price": cfg.thresholds.min_price_per_sqm,
            "max_price": cfg.thresholds.max_price_per_sqm,
            "keep_last": source is not None and source.keep == "last",
        },
    )
    _stage_rejected_lines(con, raw)
    with transaction(con):
        run_sql(con, f"ingest/{table}_write.sql", {"rows_read": raw.read, "note": note})
    stats = _stats(con, table, "", "judged_place", raw)
    drop_tables(con, "judged_place", "place_values", "raw_place", "rejected_lines")
    return replace(stats, note=note or "")


def places_to_wgs84(con: duckdb.DuckDBPyConnection, crs: str) -> int:
    """The finite coordinates of ``place_values``, given in the mapping's ``crs``, replaced by
    WGS-84 degrees (:func:`migrant_assets.crs.to_wgs84`, vectorised over the table); returns
    the points turned. The file's own text stays in ``lat`` and ``lon``."""
    points = run_sql(con, "ingest/place_points.sql").df()
    points["lat"], points["lon"] = to_wgs84(points.pop("lat_value").to_numpy(),
                                            points.pop("lon_value").to_numpy(), crs)
    with registered(con, wgs84_points=points):
        run_sql(con, "ingest/place_points_write.sql")
    return len(points)


# ---------------------------------------------------------------- what the checks judge
def row_accounting(con: duckdb.DuckDBPyConnection, source: str) -> list[dict]:
    """Per part of ``source`` (a file of ``landed_calls``, a day of ``calls``, else ``''``): rows
    read and excluded as its ingestion recorded them, rows accepted and quarantined as stored
    (``sql/ingest/row_accounting.sql``, ``row_accounting_calls.sql``), and ``balanced``: read =
    the three others' sum."""
    if source not in QUARANTINE_REASONS:
        raise ValueError(f"not an ingestion asset: {source}")
    cur = (run_sql(con, "ingest/row_accounting_calls.sql") if source == "calls" else
           run_sql(con, "ingest/row_accounting.sql", {"source": source}))
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["balanced"] = (r["rows_accepted"] + r["rows_quarantined"] + r["rows_excluded"]
                         == r["rows_read"])
    return rows


def quarantine_reasons(
    con: duckdb.DuckDBPyConnection, source: str, partition_key: str = ""
) -> dict[str, int]:
    """Stored quarantined rows of ``source`` (and partition) per reason."""
    return dict(run_sql(con, "ingest/quarantine_reasons.sql",
                        {"source": source, "partition_key": partition_key}).fetchall())


def subscriber_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Users, users with a local number, service users, users with several numbers, users
    with an age, of age 0 and older than :data:`OLDEST_AGE`, users with a sex and male
    users."""
    return first_row(run_sql(con, "ingest/subscribers_stats.sql", {"oldest": OLDEST_AGE}))


#: What to do when users are of age 0 (the ages check).
AGE_0_FIX = ("an age of 0 is how some exports write an unknown age: make it unknown in the age "
             "column alone with recode: {age: {'0': null}} (docs/data_contract.md, Values)")


#: The ages check warns about users older than this: 1900-01-01 (19000101) is how some exports
#: write an unknown birth date (ages up to 120 are read).
OLDEST_AGE = 105
#: What to do when users are older than :data:`OLDEST_AGE` (the ages check).
OLDEST_AGE_FIX = ("an age over 105 is mostly a birth date a CRM writes for an unknown one "
                  "(1900-01-01): make it unknown with recode: {birth_year: {'19000101': null}}, "
                  "written as the file writes it, or {age: {'116': null}} (docs/data_contract.md,"
                  " Values)")


#: What to check when nearly every user is of one sex (the sexes check).
SEXES_FIX = ("a recode that makes two codes one: sex is read as M (male) and F (female), so a "
             "Spanish export's H (hombre) and M (mujer) need recode: {sex: {H: M, M: F}}; or "
             "the mapping names another column as sex (docs/data_contract.md, Values)")
#: The sexes check judges from this many users with a sex, and warns when the male share is
#: outside [SEXES_SHARE, 1 - SEXES_SHARE] (a population's is near a half).
SEXES_MIN_USERS = 100
SEXES_SHARE = 0.1


#: What to check when an owner holds implausibly many numbers (the owner_numbers check).
OWNER_NUMBERS_FIX = ("if the owner id stands for numbers without a registered owner (-1, 0, "
                     "UNKNOWN), add it to the mapping's null_tokens (those numbers are "
                     "then quarantined as missing_id, not merged into one user); if it is a "
                     "company whose staff use its numbers, each number is a person: export "
                     "those numbers with an owner id of their own (the merged user's calls "
                     "between colleagues are self_calls); raise "
                     "thresholds.max_numbers_per_owner only for owners that are one person or "
                     "one service")


#: What to do about ages and sexes that could not be read (the readable_attributes check).
UNREADABLE_ATTRIBUTES_FIX = (
    "they are stored as unknown, the subscribers kept: sex is read as M/F, male/female, 男/女 "
    "or 男性/女性, the age as whole years from 0 to 120 (a fraction is never rounded) or from "
    "a year or date of birth mapped to birth_year; other codes need a recode (recode: {sex: "
    "{'1': M, '2': F}}, age bands {age: {'25-34': '30'}}), and an export's code for unknown "
    "(U, -1, 00000000) is recoded to null ({sex: {U: null}}) so it is not reported "
    "(docs/data_contract.md, Values)")


def unreadable_attributes(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The ages and sexes given on accepted subscriber rows but unreadable, stored as unknown
    (``sql/ingest/unreadable_attributes.sql``): ``numbers`` (accepted), ``unreadable_ages``,
    ``unreadable_sexes`` and ``values`` (``attribute``, ``value``, ``numbers``), codes and
    counts only."""
    return first_row(run_sql(con, "ingest/unreadable_attributes.sql"))


#: What to do about a user_type that is neither regular nor a service type.
USER_TYPES_FIX = ("list it in thresholds.service_user_types when its numbers are not people "
                  "(a company's, a machine's), or recode it to regular (recode: {user_type: "
                  "{personal: regular}}; docs/data_contract.md, Values)")


def user_types(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The subscribers' user types neither regular nor a service type
    (``sql/ingest/user_types.sql``): ``numbers``, ``unknown_numbers`` and ``unknown_types``
    (``user_type``, ``numbers``), codes and counts only."""
    return first_row(run_sql(con, "ingest/user_types.sql"))


#: The share of the subscribers' numbers written two ways from which the number_forms check
#: fails (ERROR); below it, down to one number, it warns (a foreign number can look like one).
NUMBER_FORMS_ERROR_SHARE = 0.001


#: The time_of_day check judges the calls' hours from this many landed calls.
TIME_OF_DAY_MIN_CALLS = 1000
#: ... and warns unless the day's quietest three hours start between 22:00 and 05:00 (the
#: night, where every city's calls are fewest) ...
NIGHT_STARTS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})
#: ... and hold at most this share of an average three hours' calls (a night is far quieter
#: than the day: under a tenth in call records; times of two zones mixed fill it).
QUIET_SHARE = 0.5
#: What to look at when the calls' quietest hours are not a night.
TIME_OF_DAY_FIX = ("the time zone the times are read in: timestamps.timezone names the zone of "
                   "times written without an offset (local times declared UTC move every call "
                   "by the city's offset), a column whose rows carry an offset (+08:00, Z) "
                   "beside rows without one reads the latter in timestamps.timezone, and "
                   "epoch numbers are UTC unless timestamps.origin says otherwise")


def time_of_day(con: duckdb.DuckDBPyConnection) -> dict:
    """The landed calls by hour of the city's day, and the quietest three hours: ``calls``,
    ``calls_by_hour``, ``quietest_hours`` (``"HH:00-HH:00"``), ``quiet_share`` (their calls
    over an average three hours') and ``problem``: why they are no night, or None (and None
    under :data:`TIME_OF_DAY_MIN_CALLS` calls)."""
    (hours,) = run_sql(con, "ingest/time_of_day.sql").fetchone()
    total = sum(hours)
    blocks = [hours[h] + hours[(h + 1) % 24] + hours[(h + 2) % 24] for h in range(24)]
    start = min(range(24), key=blocks.__getitem__)
    share = blocks[start] / (total / 8) if total else None
    shown = f"{start:02d}:00-{(start + 3) % 24:02d}:00"
    problem = None
    if total >= TIME_OF_DAY_MIN_CALLS and start not in NIGHT_STARTS:
        problem = (f"the calls' quietest three hours are {shown} city time, where a city's "
                   f"are at night: the times are likely read in the wrong zone; check "
                   f"{TIME_OF_DAY_FIX}")
    elif total >= TIME_OF_DAY_MIN_CALLS and share > QUIET_SHARE:
        problem = (f"the calls' quietest three hours ({shown} city time) hold {share:.0%} of "
                   f"an average three hours' calls, where a city's night holds far fewer: "
                   f"times of two zones mixed fill it; check {TIME_OF_DAY_FIX}")
    return {"calls": total, "calls_by_hour": hours, "quietest_hours": shown,
            "quiet_share": None if share is None else round(share, 4), "problem": problem}


def number_forms(con: duckdb.DuckDBPyConnection,
                 rule: Numbers | None = None) -> dict[str, Any]:
    """The subscribers' numbers written two ways, with and without a country code, in the
    subscribers or calls files (``sql/ingest/number_forms.sql``): ``subscriber_numbers``,
    ``written_two_ways``, and ``check_first``, the numbers rule that makes them one (None when
    there are none): the mapping's ``rule`` with what was found added. Counts and country codes
    only."""
    out = first_row(run_sql(con, "ingest/number_forms.sql"))
    cc = out["country_code"] or (rule.country_code if rule else None)
    # the mapping's trunk prefixes kept, the ones found added (044 found beside 045 listed)
    trunks = list(dict.fromkeys([*(rule.trunk_prefixes if rule else []),
                                 *(out["trunk_prefixes"] or [])]))
    trunk = (f"trunk_prefix: '{trunks[0]}'" if len(trunks) == 1 else
             f"trunk_prefix: [{', '.join(repr(t) for t in trunks)}]")
    # the mapping's lengths kept, the one found added (10 found beside the mapping's 11)
    lengths = sorted({*(rule.national_lengths if rule else []), out["national_digits"]} - {None})
    digits = lengths[0] if len(lengths) == 1 else f"[{', '.join(map(str, lengths))}]"
    rule = ", ".join([*([f"country_code: '{cc}'"] if cc else []),
                      f"national_digits: {digits}",
                      *([trunk] if trunks else [])])
    found = out["written_two_ways"]
    prefix = (f"country code {out['country_code']}" if out["country_code"]
              else "a trunk or carrier prefix, " + " or ".join(out["trunk_prefixes"] or []))
    return {"subscriber_numbers": out["subscriber_numbers"], "written_two_ways": found,
            "check_first": None if not found else (
                f"{found:,} of the subscribers' numbers are written both with {prefix} and "
                "without it, in the subscribers or the calls files, so some of their calls do "
                "not link to them: set the mapping's numbers rule "
                f"(numbers: {{{rule}}}; docs/data_contract.md, Identifiers)")}


#: What to do when an owner's numbers give different ages, sexes or birth provinces.
OWNER_ATTRIBUTES_FIX = ("the user keeps the value of the owner's first row in file order that "
                        "has one, so the row order decides (a birth province decides who is "
                        "local): make the rows of each owner agree in the export, or check "
                        "that the owner id stands for one person (a family or company account "
                        "holds several)")


def owner_conflicts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The owners whose numbers' rows give different values, per attribute (``age``, ``sex``,
    ``birth_province``; table ``owner_conflicts_subscribers``, written with the subscribers)."""
    return dict(con.execute(
        "SELECT attribute, owners FROM owner_conflicts_subscribers ORDER BY attribute"
    ).fetchall())


def owner_numbers(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> dict[str, Any]:
    """The owners holding more than ``thresholds.max_numbers_per_owner`` numbers
    (``sql/ingest/owner_numbers.sql``): ``users``, ``owners_over``, ``their_numbers`` and
    ``most_numbers``, counts only."""
    return first_row(run_sql(con, "ingest/owner_numbers.sql",
                             {"max_numbers": cfg.thresholds.max_numbers_per_owner}))


@functools.cache
def province_names() -> dict[str, list[str]]:
    """Other spellings of China's provinces (Chinese characters, pinyin) and the province each
    names, from the shipped ``data/province_names.csv`` (read once)."""
    text = (PACKAGE_FILES / "data" / "province_names.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    return {"spellings": [r["spelling"] for r in rows], "provinces": [r["province"] for r in rows]}


def birth_provinces(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> dict[str, Any]:
    """The users whose birth province names no province and the local flags of those born in
    ``city.province`` (``sql/ingest/birth_provinces.sql``): ``users_with_province``,
    ``unnamed_users``, ``unnamed`` (the commonest such values), ``born_in_province`` and
    ``born_local_number``."""
    return first_row(run_sql(con, "ingest/birth_provinces.sql",
                             {"province": cfg.city.province}))


def estate_prices(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The stored estates' count, median price per m² and how many lie below a tenth of it
    (``sql/ingest/estate_prices.sql``)."""
    return first_row(run_sql(con, "ingest/estate_prices.sql"))


#: What to check when the estates' prices are far below the usual scale (price_scale check).
PRICE_SCALE_FIX = ("price_per_sqm must be a price per m² in whole units of the currency; for "
                   "a currency whose m² costs less than yuan's (euros), lower "
                   "thresholds.min_price_per_sqm and set city.currency; otherwise a price in "
                   "万 yuan (6.5 for 65,000), a total price per flat, or thousands written "
                   "165.860 without csv thousands ('.' read it too low): convert the column or "
                   "set csv thousands")


#: Words of the name of the column mapped to price_per_sqm that say it holds something else: a
#: rent, a monthly or total figure, a price in 万 (the price_scale check). Latin words are
#: whole words of the name (``current_price`` speaks of no rent), Chinese ones any part of it
#: (月 alone is not one: 成交月份均价 is a month's average price).
NOT_A_PRICE_WORDS = frozenset({"rent", "rents", "rental", "lease", "month", "monthly", "total",
                               "wan"})
NOT_A_PRICE_CHINESE = re.compile(r"租|总价|总额|每月|月租|万")


def price_column_doubt(columns: Sequence[str]) -> str | None:
    """Why the file columns mapped to ``price_per_sqm`` may not hold a sale price per m² (their
    names speak of a rent, a month, a total or 万: ``rent_cny_month``), or None."""
    doubtful = [c for c in columns
                if NOT_A_PRICE_WORDS & {w.lower() for w in  # snake_case and CamelCase words
                                         re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", c)}
                or NOT_A_PRICE_CHINESE.search(c)]
    if not doubtful:
        return None
    return (f"the column mapped to price_per_sqm is named {doubtful[0]!r}, which reads as a "
            "rent, a monthly or total figure or a price in 万, not a sale price per m² (SPEC "
            "§5): map the estates' price per m² (rents and totals fall within the usual range "
            "of a price per m², so nothing else can tell)")


#: The durations check: a day's timed calls whose median lasts less than this many seconds
#: were not written in seconds (a voice call's median lasts about a minute or more).
MIN_MEDIAN_DURATION_S = 10
#: ... judged from this many timed calls of the day (a median of a handful says nothing).
MIN_TIMED_CALLS = 20
#: What to look at when the durations are too short to be seconds.
DURATIONS_FIX = ("the duration column's unit: durations in minutes (2.5 for two and a half "
                 "minutes) read as seconds make every call 60 times too short; set "
                 "calls.duration_unit: min, or map the end time instead; durations a "
                 "spreadsheet saved as fractions of a day (0.00104 for 0:01:30) need "
                 "calls.duration_unit: d")

#: The located_sides check warns when at least this share of a day's calls from (or to) a
#: subscriber lack her cell, from LOCATED_MIN_CALLS such calls: an export that logs one
#: party's cell only (the caller's, as some switches do).
LOCATED_SIDE_SHARE = 0.9
LOCATED_MIN_CALLS = 100
#: What to look at when one side of the calls has no cell.
LOCATED_SIDE_FIX = ("the cell columns of calls: a user's places (centre, home, work, "
                    "distances, prices) are read from the cells of her calls, made and "
                    "received; an export that logs the caller's cell only places everyone by "
                    "the calls she made: map the other party's cell if the file holds it "
                    "(calls.columns: callee_cell, or caller_cell), or ask for an export with "
                    "both; for one record per party, map each record's cell (cell)")

#: The start_times check warns when at least this share of a day's calls (from
#: MIN_TIMED_CALLS calls) start at midnight exactly: a date without its time of day.
MIDNIGHT_SHARE = 0.1
#: What to look at when a day's calls start at midnight.
MIDNIGHT_FIX = ("the start column: a date without its time of day is read as midnight (a date "
                "column mapped as start_ts, or a Parquet TIMESTAMP column that holds dates), so "
                "every call falls in the night's hours, where home is found; map start_ts to "
                "the date and the time columns: [call_date, call_time]")

#: The duplicates_agree check: what a place listed with other values means, and what to do.
DUPLICATES_AGREE_FIX = ("the first row in file order is kept: for an antenna that moved within "
                        "the month or an estate priced twice, keep the row that holds for the "
                        "study month (a history file, newest row last: cells: {keep: last}, "
                        "estates: {keep: last}); a public cell list (OpenCelliD) holds every "
                        "operator's and "
                        "radio's cells, whose LAC/TAC and cell numbers repeat: keep only the "
                        "rows of your operator (its MCC and network code) and of the radio "
                        "your calls' ids name before mapping it, or the calls link to another "
                        "operator's tower; a file of listings (one row per flat sold or let) "
                        "is aggregated to one row per estate first (e.g. the median price per "
                        "m²)")


def conflicting_duplicates(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """The rows of ``table`` (cells or estates) that list an id again with other coordinates or
    another price than the kept row (``sql/ingest/conflicting_duplicates.sql``): ``places``,
    ``duplicate_rows``, ``differing_rows`` and up to 5 ``examples`` of their ids."""
    if table not in ("cells", "estates"):
        raise ValueError(f"not a point table: {table}")
    return first_row(run_sql(con, "ingest/conflicting_duplicates.sql",
                             {"id_column": "cell_id" if table == "cells" else "estate_id"},
                             identifiers={"quarantine": f"quarantine_{table}",
                                          "places": table}))


def conflicting_numbers(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The subscribers' rows that list a number again with another owner or attribute than
    the kept row (``sql/ingest/conflicting_numbers.sql``): ``numbers`` kept,
    ``duplicate_rows``, ``differing_rows`` and ``unmarked_rows`` (quarantined by a version
    that did not record it)."""
    return first_row(run_sql(con, "ingest/conflicting_numbers.sql"))


#: What to do when a number is listed again with other values (subscribers.duplicates_agree).
NUMBERS_AGREE_FIX = ("the first row in file order is kept, and its birth province and local "
                     "flag decide who is local: keep one row per number, the one that holds "
                     "for the study month (a subscribers file appended from two snapshots "
                     "lists a number that changed owner or record twice), or, for a history "
                     "whose newest row of a number comes last, set subscribers.keep: last")


def coordinate_precision(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """The stored places of ``table`` (cells or estates) and how many have both coordinates
    rounded to 0.01 degree or coarser (``sql/ingest/coordinate_precision.sql``): ``places``,
    ``rounded_places``."""
    if table not in ("cells", "estates"):
        raise ValueError(f"not a point table: {table}")
    return first_row(run_sql(con, "ingest/coordinate_precision.sql",
                             identifiers={"places": table}))


#: The coordinate_precision check judges from this many places, and warns when at least this
#: share of them lie on a grid of 0.01 degree (about 1 km) or coarser.
ROUNDED_MIN_PLACES, ROUNDED_SHARE = 5, 0.5
#: What to do when the places' coordinates are rounded (the coordinate_precision check).
ROUNDED_FIX = ("export the coordinates with all their decimals (5 or 6: a metre or so): a "
               "spreadsheet column formatted with fewer rounds them, and places a kilometre or "
               "more apart become one point, so radius of gyration, distances and the places "
               "visited are coarse")


#: What to do when birth provinces name no province (the unnamed_provinces check).
UNNAMED_PROVINCE_FIX = ("a word for an unknown province makes its users unknown with recode: "
                        "{birth_province: {'未知': null}} (not studied: a label needs a known "
                        "province) or null_tokens; a code is recoded to the province's name "
                        "({birth_province: {'310000': Shanghai}})")

#: What to do when few of the users born in the city's province hold a local number.
LOCAL_FLAG_FIX = ("is_local_number must be true for a number of the study city: a column that "
                  "says the opposite (is_migrant, non_local, 外地) is read the other way with "
                  "recode: {is_local_number: {'1': 'false', '0': 'true'}}")


def province_spellings(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> dict[str, Any]:
    """How the stored subscribers spell their birth provinces against ``city.province``
    (``sql/ingest/province_spellings.sql``): ``users_in_province`` (as spelled in the config),
    ``users_with_province`` and ``variants``, the provinces spelled several ways up to case,
    accents, spaces, a suffix or the script (:func:`province_names`) (``spellings``, ``users``,
    ``is_study_province``); ``problem`` says what is wrong (None: nothing) and
    ``locals_affected`` whether it changes who is local."""
    out = first_row(run_sql(con, "ingest/province_spellings.sql",
                            {"province": cfg.city.province, **province_names()}))
    study = [v for v in out["variants"] if v["is_study_province"]]
    out["locals_affected"] = bool(study) or (
        out["users_with_province"] > 0 and out["users_in_province"] == 0)
    if study:
        out["problem"] = (f"the study province is spelled {study[0]['spellings']} by "
                          f"{study[0]['users']} subscribers; only {cfg.city.province!r} (the "
                          "config's city.province) makes a local")
    elif out["locals_affected"]:
        out["problem"] = (f"no subscriber is born in {cfg.city.province!r} (city.province) as "
                          "spelled: nobody is local")
    elif out["variants"]:
        out["problem"] = (f"{len(out['variants'])} provinces are spelled several ways (e.g. "
                          f"{out['variants'][0]['spellings']}): each spelling counts as a "
                          "province of its own in province_diversity")
    else:
        out["problem"] = None
    return out


def landing_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """The landing step's files: ``files``, ``rows_read``, ``rows_outside_calendar``, those far
    outside with their days and first files, ``first_day``, ``last_day`` (None when nothing
    landed), ``rows_landed`` and ``rows_times_disagree``. A ``landed_files`` of an earlier
    version (without the rows far outside, or those whose end and duration disagree) is an
    :class:`InputError` saying to land the calls again."""
    if has_column(con, "landed_files", "file") \
            and not has_column(con, "landed_files", "rows_times_disagree"):
        raise InputError("landed_files was written by an earlier version of migrant_assets, "
                         "which did not count the rows dated far outside the calendar, or "
                         "the calls whose end and duration disagree",
                         "the study's DuckDB file",
                         "materialize landed_calls again (it writes landed_files anew)")
    return first_row(run_sql(con, "ingest/landed_files_stats.sql"))


def calendar_coverage(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract
) -> dict:
    """The calendar days without a landed call and without a calls file (a ``{date}`` path),
    the rows read, landed and dated outside the calendar, those far outside
    (:data:`FAR_OUTSIDE_DAYS`) with their first and last day and the first files that hold
    them."""
    landed = dict(run_sql(con, "ingest/landed_days.sql").fetchall())
    summary = landing_summary(con)
    days = cfg.calendar.days
    far = [summary[k] for k in ("first_day_far_outside", "last_day_far_outside")]
    counts = [landed[d] for d in days if d in landed]
    median = float(statistics.median(counts)) if counts else 0.0
    short = {d.isoformat(): round(landed[d] / median, 3) for d in days
             if median >= cfg.thresholds.dense_day_calls and d in landed
             and landed[d] < SHORT_DAY_SHARE * median}
    return {
        "days_in_calendar": len(days),
        "days_without_calls": [d.isoformat() for d in days if d not in landed],
        "median_day_calls": median,
        "short_days": short,
        "days_without_file": [d.isoformat() for d in contract.missing_days(days)],
        "rows_read": int(summary["rows_read"]),
        "rows_landed": int(summary["rows_landed"]),
        "rows_outside_calendar": int(summary["rows_outside_calendar"]),
        "days_far_outside": [d.isoformat() for d in far] if far[0] else [],
        "rows_far_outside_calendar": int(summary["rows_far_outside_calendar"]),
        "files_far_outside": list(summary["files_far_outside"] or []),
    }


#: A calendar day with calls but fewer than this share of the median day's (once that median is
#: ``thresholds.dense_day_calls``) is listed by the calendar_coverage check (a warning): a day
#: file cut short, or an hour's files missing, which the labels would read as a quiet day
#: (under ``thresholds.min_day_share`` the day is not covered: labels.find_uncovered_days).
SHORT_DAY_SHARE = 0.5


def short_days_problem(cov: dict) -> str | None:
    """What :func:`calendar_coverage` says of its short days; None without any."""
    short = cov["short_days"]
    if not short:
        return None
    # a share shown rounded down: a day under half never reads 50%
    shown = ", ".join(f"{d}: {math.floor(share * 100)}%" for d, share in list(short.items())[:5])
    days = "1 day" if len(short) == 1 else f"{len(short)} days"
    return (f"{days} with fewer than {SHORT_DAY_SHARE:.0%} of the median day's calls "
            f"({shown}{', ...' if len(short) > 5 else ''}): a day's file cut short or an hour's "
            "files missing? Deliver those days again if so: above thresholds.min_day_share of "
            "the median the labels read such a day as a quiet one")


def far_outside_problem(cov: dict, warn_share: float) -> str | None:
    """What :func:`calendar_coverage` says of the rows dated far outside the calendar, when
    they are ``warn_share`` (``thresholds.quarantine_warn_share``) of the rows read or more:
    times misread, which the landing leaves out as outside the calendar. None below."""
    far, read = cov["rows_far_outside_calendar"], cov["rows_read"]
    if not far or far < warn_share * read:
        return None
    first, last = cov["days_far_outside"]
    return (f"{far:,} of {read:,} rows ({far / read:.1%}) are dated more than "
            f"{FAR_OUTSIDE_DAYS} days outside the calendar (from {first} to {last}; "
            f"most in {', '.join(cov['files_far_outside'])}), left out as outside_calendar: "
            "times misread in some rows, not files of other days (epoch seconds among "
            "milliseconds: timestamps.unit; day-first dates read month-first: "
            "timestamps.format; a corrupt year), or files of another period in the calls path")


#: Share of the landed calls whose end and duration disagree (``durations_agree``) from which
#: the check warns: a few records rounded or corrected are no other meaning of a column.
TIMES_DISAGREE_SHARE = 0.01


def durations_agree(con: duckdb.DuckDBPyConnection) -> dict:
    """The landed calls whose file gives both an end and a duration that disagree (by more than
    a second; a minute in a file stamped to the minute): ``rows_landed``,
    ``rows_times_disagree`` and ``problem`` (None under :data:`TIMES_DISAGREE_SHARE` of the
    landed calls): the file holds two lengths of a call, and the one read may not be the
    one meant (docs/data_contract.md, "Timestamps")."""
    summary = landing_summary(con)
    landed, differ = int(summary["rows_landed"]), int(summary["rows_times_disagree"])
    problem = None
    if landed and differ >= TIMES_DISAGREE_SHARE * landed:
        problem = (f"{differ:,} of {landed:,} landed calls ({differ / landed:.1%}) have an end "
                   "and a duration that disagree: a call's end is read from end_ts when both "
                   "are columns named as in the contract, from start_ts + duration when "
                   "duration is mapped; a billing duration rounded up, or a start at seizure "
                   "rather than answer, gives another length: map the column that holds the "
                   "call's length (calls.columns: duration, or end_ts)")
    return {"rows_landed": landed, "rows_times_disagree": differ, "problem": problem}


def calls_day_facts(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, int]:
    """One stored day of calls: ``calls``, ``calls_unknown_cell``, ``calls_with_a_subscriber``,
    the ``subscribers`` stored, ``calls_continuing``, the ``timed_calls`` (a duration over 0)
    with their ``median_duration_s``, ``calls_at_midnight``, the calls from and to a subscriber
    (``calls_from_a_subscriber``, ``calls_to_a_subscriber``) and of them those without that
    party's cell (``..._without_cell``), and the ``cells`` stored."""
    return first_row(run_sql(con, "ingest/calls_day_checks.sql", {"day": day}))


def identifier_scan(
    con: duckdb.DuckDBPyConnection, source: str
) -> tuple[int, dict[str, int]] | None:
    """The no_raw_identifiers search that the ingestion of ``source`` (``landed_calls`` or
    ``subscribers``) made over every table of the DuckDB file with the source's identifiers in
    hand: how many were searched and the hits per ``table.column``; None before the asset's
    first materialization."""
    if source not in ("landed_calls", "subscribers"):
        raise ValueError(f"no raw identifiers in {source}")
    row = run_sql(con, "ingest/identifier_scan.sql",
                  identifiers={"scan_table": f"identifier_scan_{source}"}).fetchone()
    return None if row is None else (int(row[0]), json.loads(row[1]))


# ---------------------------------------------------------------- sources
def generate_city(cfg: StudyConfig,
                  progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Generate the study's synthetic city (SPEC §7) into ``cfg.synthetic_dir``: the same files
    for the same preset, seed and calendar, so a complete city of the same parameters is kept
    as it is. Returns its files: the contract table each feeds, path, rows, bytes and SHA-256,
    nothing of their content (:func:`record_city`)."""
    if not isinstance(cfg.source, SyntheticSource):
        raise ConfigError("the study's source is not the synthetic city: there is nothing to "
                          "generate", "source.kind in the study config",
                          "materialize the ingestion assets, which read the mapping's files")
    src = cfg.source
    manifest = cfg.synthetic_dir / "manifest.json"
    wanted = {"generator_version": GENERATOR_VERSION, "preset": src.preset, "seed": src.seed,
              "calls": src.calls, "proportions": src.proportions, "null": src.null,
              "start": cfg.calendar.month_start.isoformat(),
              "end": cfg.calendar.month_end.isoformat()}
    made = json.loads(manifest.read_text()) if manifest.exists() else {}
    if any(made.get(k) != v for k, v in wanted.items()):
        manifest = generate(src.preset, src.seed, cfg.synthetic_dir, calls=src.calls,
                            proportions=src.proportions, start=cfg.calendar.month_start,
                            end=cfg.calendar.month_end, progress=progress, null=src.null)
    city = manifest.parent
    rows: dict[str, int | None] = json.loads(manifest.read_text())["rows"]
    rows[manifest.name] = None
    return pd.DataFrame([
        {"table_name": _city_table(path), "path": path, "n_rows": n,
         "n_bytes": (city / path).stat().st_size,
         "sha256": _sha256(city / path)}
        for path, n in sorted(rows.items())])


def _sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks (a paper-scale day file is hundreds of MB)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def record_city(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, files: pd.DataFrame) -> None:
    """Replace table ``synthetic_city`` with the files of :func:`generate_city`."""
    prepare(con, cfg)
    with registered(con, generated_files=files), transaction(con):
        run_sql(con, "ingest/synthetic_city_write.sql")


def _city_table(path: str) -> str:
    """The contract table a file of the synthetic city feeds (``ground_truth``, ``manifest``
    for the others)."""
    first = path.split("/")[0]
    if first == "manifest.json":
        return "manifest"
    return first.removesuffix(".parquet")


def source_kind(contract: DataContract, table: str) -> str:
    """How the mapping lays out ``table``'s files, in words (no path, no value): one file, a
    glob, one file per day or per subscriber, and the format."""
    src = contract.source(table)
    if src is None:
        return f"the mapping has no {table}"
    if src.party_from_file_name:
        layout = "one file per subscriber, the party read from its path"
    elif "{date" in src.path:
        layout = "one file per day of the calendar"
    elif any(c in src.path for c in "*?["):
        layout = "every file matching a glob"
    else:
        layout = "one file"
    fmt = src.format or ("parquet" if src.path.endswith(".parquet") else "csv")
    return f"{table}: {layout} ({fmt}), read through the mapping file"
