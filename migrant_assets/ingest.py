"""Ingestion (SPEC §1): read a contract table, validate it in SQL, pseudonymise, write.

Each function reads through :func:`migrant_assets.contract.read_table`, judges every row with
``sql/ingest/<table>.sql`` (a reason, or NULL when accepted) and replaces its rows and its
quarantine rows in one transaction, so running it twice leaves the same rows. It returns
:class:`IngestStats`, the row accounting that asset metadata and checks use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from migrant_assets.config import StudyConfig
from migrant_assets.contract import DataContract, RawRead, quote_identifier, read_table
from migrant_assets.db import run_sql, transaction
from migrant_assets.privacy import register_pseudonym_macro

#: Every reason a row can be quarantined for, by source (docs/data_contract.md). The landing
#: step (``landed_calls``) judges what a calls row says by itself; the daily ``calls`` ingestion
#: judges it against the reference tables.
QUARANTINE_REASONS: dict[str, tuple[str, ...]] = {
    "landed_calls": (
        "malformed_line",
        "missing_id",
        "bad_timestamp",
        "end_before_start",
        "duration_over_24h",
        "missed_call",
    ),
    "calls": ("self_call", "unknown_cell", "duplicate_call"),
    "subscribers": ("malformed_line", "missing_id", "bad_attribute", "duplicate_number"),
    "cells": ("malformed_line", "missing_id", "bad_coordinates", "outside_bbox", "duplicate_id"),
    "estates": (
        "malformed_line",
        "missing_id",
        "bad_coordinates",
        "outside_bbox",
        "bad_price",
        "duplicate_id",
    ),
}
#: Rows the mapping's own rules leave out of the study: counted per file, never quarantined.
EXCLUSION_REASONS = ("not_a_call", "outside_calendar")


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


@dataclass(frozen=True)
class LandingStats(IngestStats):
    """The landing step's accounting, plus the calendar coverage it found."""

    days_without_calls: tuple[str, ...] = ()
    days_without_file: tuple[str, ...] = ()
    files: int = 0
    raw_identifier_hits: dict[str, int] = field(default_factory=dict)  # SPEC §1 privacy check


def prepare(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    """Create the ingestion tables and the pseudonym and canonical-form macros on ``con``."""
    run_sql(con, "ingest/schema.sql")
    run_sql(con, "ingest/canonical.sql")
    register_pseudonym_macro(con, cfg.pseudonym_key)


def _write_rejected_lines(
    con: duckdb.DuckDBPyConnection, source: str, partition_key: str, raw: RawRead
) -> None:
    """CSV lines the parser could not split: the line number and error, never the text."""
    if raw.rejected_lines:
        con.executemany(
            "INSERT INTO quarantine VALUES (?, ?, 'malformed_line', ?, ?, "
            "CAST(to_json({error: ?}) AS VARCHAR))",
            [(source, partition_key, f, line, err) for f, line, err in raw.rejected_lines],
        )


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


def land_calls(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract
) -> LandingStats:
    """Read every calls file once: judge each row, give it its local day, pseudonymise its
    numbers, and replace ``landed_calls``, the landing's quarantine rows and ``landed_files``.

    Then searches the whole DuckDB file for the numbers just read (:func:`find_raw_identifiers`).
    """
    prepare(con, cfg)
    cal = cfg.calendar
    src = contract.calls
    raw = read_table(con, cfg, contract, "calls")
    events = src.event_types
    params = {
        "has_events": events is not None,
        "call_events": [e.lower() for e in events.call] if events else [],
        "missed_events": [e.lower() for e in events.missed] if events else [],
        "has_duration": "duration" in src.columns,
        "missed_rule": src.missed_calls,
        "month_start": cal.month_start,
        "month_end": cal.month_end,
        "city_tz": cfg.city.timezone,
    }
    run_sql(con, "ingest/landing.sql", params)
    con.execute("CREATE OR REPLACE TEMP TABLE rejected_lines (file VARCHAR, line BIGINT)")
    if raw.rejected_lines:
        con.executemany("INSERT INTO rejected_lines VALUES (?, ?)",
                        [(f, line) for f, line, _ in raw.rejected_lines])
    with transaction(con):
        run_sql(con, "ingest/landing_write.sql", {"files": raw.files})
        _write_rejected_lines(con, "landed_calls", "", raw)
    counts = dict(con.execute(
        "SELECT outcome, count(*) FROM judged_landing GROUP BY ALL").fetchall())
    landed = counts.pop("landed", 0)
    excluded = {r: counts.pop(r) for r in EXCLUSION_REASONS if r in counts}
    if raw.rejected_lines:
        counts["malformed_line"] = len(raw.rejected_lines)
    per_day = dict(con.execute(
        "SELECT call_date, count(*) FROM landed_calls GROUP BY ALL").fetchall())
    missing_files = contract.missing_days(cal.days)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE raw_identifiers AS "
        "SELECT v AS token, TRY_CAST(v AS BIGINT) AS as_int FROM ("
        "SELECT caller AS v FROM raw_calls UNION SELECT callee FROM raw_calls) "
        "WHERE length(v) >= 6"
    )
    for t in ("judged_landing", "rejected_lines", raw.table):
        con.execute(f"DROP TABLE {t}")
    hits = find_raw_identifiers(con)
    con.execute("DROP TABLE raw_identifiers")
    return LandingStats(
        "landed_calls", "", raw.read, landed, dict(sorted(counts.items())),
        dict(sorted(excluded.items())),
        days_without_calls=tuple(d.isoformat() for d in cal.days if d not in per_day),
        days_without_file=tuple(d.isoformat() for d in missing_files),
        files=len(raw.files),
        raw_identifier_hits=hits,
    )


def ingest_calls(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, day: date
) -> IngestStats:
    """One day of landed calls: owners merged, rows checked against the reference tables,
    bad rows quarantined; read = the day's landed rows."""
    prepare(con, cfg)
    key = day.isoformat()
    run_sql(con, "ingest/calls.sql", {"day": day})
    with transaction(con):
        run_sql(con, "ingest/calls_write.sql", {"day": day, "partition_key": key})
    judged = dict(con.execute(
        "SELECT coalesce(reason, ''), count(*) FROM judged_calls GROUP BY ALL").fetchall())
    con.execute("DROP TABLE judged_calls")
    accepted = judged.pop("", 0)
    return IngestStats("calls", key, accepted + sum(judged.values()), accepted,
                       dict(sorted(judged.items())))


def ingest_subscribers(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract
) -> IngestStats:
    """Subscribers merged into one user per owner (SPEC §1); service types from config."""
    prepare(con, cfg)
    raw = read_table(con, cfg, contract, "subscribers")
    src = contract.subscribers
    has_owner = "owner_id" in src.columns or "owner_id" in src.constants or con.execute(
        f"SELECT count(owner_id) > 0 FROM {raw.table}").fetchone()[0]
    run_sql(con, "ingest/subscribers.sql", {"has_owner": bool(has_owner)})
    with transaction(con):
        run_sql(
            con,
            "ingest/subscribers_write.sql",
            {"service_user_types": [t.lower() for t in cfg.thresholds.service_user_types]},
        )
        _write_rejected_lines(con, "subscribers", "", raw)
    stats = _stats(con, "subscribers", "", "judged_subscribers", raw)
    con.execute("DROP TABLE judged_subscribers")
    con.execute(f"DROP TABLE {raw.table}")
    return stats


def ingest_places(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract, table: str
) -> IngestStats:
    """Cells or estates: ids, coordinates inside the study area, prices (estates). A mapping
    without the table leaves it empty (geography / housing features are then unavailable)."""
    if table not in ("cells", "estates"):
        raise ValueError(f"not a point table: {table}")
    prepare(con, cfg)
    if contract.source(table) is None:
        with transaction(con):
            con.execute(f"DELETE FROM {table}")
            con.execute("DELETE FROM quarantine WHERE source = ?", [table])
        return IngestStats(table, "", 0, 0, note=f"the mapping has no {table}")
    raw = read_table(con, cfg, contract, table)
    id_col, price = ("cell_id", "NULL") if table == "cells" else ("estate_id", "price_per_sqm")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_place AS SELECT {id_col} AS id, lat, lon, "
        f"{price} AS price, _file, _row FROM {raw.table}"
    )
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
            "max_price": cfg.thresholds.max_price_per_sqm,
        },
    )
    with transaction(con):
        run_sql(con, f"ingest/{table}_write.sql")
        _write_rejected_lines(con, table, "", raw)
    stats = _stats(con, table, "", "judged_place", raw)
    for t in ("judged_place", "raw_place", raw.table):
        con.execute(f"DROP TABLE {t}")
    return stats


def stored_accounting(con: duckdb.DuckDBPyConnection, source: str, partition_key: str) -> dict:
    """What DuckDB holds for one ingested partition: accepted rows and quarantined rows."""
    quarantined = con.execute(
        "SELECT count(*) FROM quarantine WHERE source = ? AND partition_key = ?",
        [source, partition_key],
    ).fetchone()[0]
    if source == "calls":
        accepted = con.execute(
            "SELECT count(*) FROM calls WHERE call_date = CAST(? AS DATE)", [partition_key]
        ).fetchone()[0]
    elif source == "landed_calls":
        accepted = con.execute("SELECT count(*) FROM landed_calls").fetchone()[0]
    elif source == "subscribers":
        accepted = con.execute("SELECT count(*) FROM number_owner").fetchone()[0]
    else:
        accepted = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    return {"accepted": accepted, "quarantined": quarantined}


def find_raw_identifiers(
    con: duckdb.DuckDBPyConnection, scope: dict[str, str] | None = None
) -> dict[str, int]:
    """Where the identifiers of temp table ``raw_identifiers`` (:func:`load_raw_identifiers`)
    occur in the DuckDB file: ``{"table.column": hits}`` (SPEC §1).

    Integer columns are matched against the identifiers that read as integers; text columns are
    split into alphanumeric tokens (so a number inside a JSON record is found too). ``scope``
    restricts a table to some rows (a WHERE clause), e.g. one partition of ``calls``.
    """
    scope = scope or {}
    columns = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() "
        "AND (data_type = 'VARCHAR' OR data_type IN ('BIGINT', 'INTEGER', 'HUGEINT', 'UBIGINT'))"
    ).fetchall()
    hits: dict[str, int] = {}
    for table, column, dtype in columns:
        where = f"WHERE {scope[table]}" if table in scope else ""
        if dtype == "VARCHAR":
            query = (
                "SELECT count(*) FROM (SELECT unnest(regexp_extract_all("
                f"{quote_identifier(column)}, '[A-Za-z0-9+]+')) AS token "
                f"FROM {quote_identifier(table)} {where}) "
                f"WHERE token IN (SELECT token FROM raw_identifiers)"
            )
        else:
            query = (
                f"SELECT count(*) FROM (SELECT {quote_identifier(column)} AS v "
                f"FROM {quote_identifier(table)} {where}) "
                f"WHERE v IN (SELECT as_int FROM raw_identifiers WHERE as_int IS NOT NULL)"
            )
        n = con.execute(query).fetchone()[0]
        if n:
            hits[f"{table}.{column}"] = n
    return hits


def load_raw_identifiers(
    con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract, table: str
) -> int:
    """Read a source table's identifiers (numbers, owner ids, canonical form) again from its
    files into temp table ``raw_identifiers(token, as_int)``; identifiers shorter than 6
    characters are left out (they would match ages and counts). Returns how many there are."""
    raw = read_table(con, cfg, contract, table)
    cols = ("caller", "callee") if table == "calls" else ("number", "owner_id")
    union = " UNION ".join(f"SELECT {c} AS v FROM {raw.table}" for c in cols)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE raw_identifiers AS "
        f"SELECT v AS token, TRY_CAST(v AS BIGINT) AS as_int FROM ({union}) WHERE length(v) >= 6"
    )
    con.execute(f"DROP TABLE {raw.table}")
    return con.execute("SELECT count(*) FROM raw_identifiers").fetchone()[0]
