"""Ingestion assets (SPEC §1): the contract tables, validated and pseudonymised, in DuckDB."""

from datetime import date

import dagster as dg

from migrant_assets.defs.partitions import study_days
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.ingest import (
    IngestStats,
    find_raw_identifiers,
    ingest_calls,
    ingest_places,
    ingest_subscribers,
    land_calls,
    load_raw_identifiers,
    stored_accounting,
)

GROUP = "ingest"

CALLS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("call_date", "DATE", description="Day of start_ts; the partition key."),
        dg.TableColumn("caller", "BIGINT", description="Pseudonymised party (user id or number)."),
        dg.TableColumn("callee", "BIGINT", description="Pseudonymised party (user id or number)."),
        dg.TableColumn("start_ts", "TIMESTAMP", description="Local time of the study city."),
        dg.TableColumn("end_ts", "TIMESTAMP",
                       description="Local time of the study city; null for a missed call."),
        dg.TableColumn("duration_s", "DOUBLE",
                       description="end_ts - start_ts in seconds; null for a missed call."),
        dg.TableColumn("caller_cell", "VARCHAR", description="Null for other operators."),
        dg.TableColumn("callee_cell", "VARCHAR", description="Null for other operators."),
    ]
)
SUBSCRIBERS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("user_id", "BIGINT", description="Pseudonymised owner id: one user."),
        dg.TableColumn("age", "INTEGER"),
        dg.TableColumn("sex", "VARCHAR", description="'M' or 'F'."),
        dg.TableColumn("birth_province", "VARCHAR"),
        dg.TableColumn("has_local_number", "BOOLEAN", description="Any of the owner's numbers."),
        dg.TableColumn("is_service", "BOOLEAN", description="user_type is a service type."),
        dg.TableColumn("n_numbers", "INTEGER", description="Numbers merged into this user."),
    ]
)


def _metadata(stats: list[IngestStats]) -> dict:
    read = sum(s.read for s in stats)
    reasons: dict[str, int] = {}
    excluded: dict[str, int] = {}
    for s in stats:
        for reason, n in s.quarantined_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + n
        for reason, n in s.excluded_by_reason.items():
            excluded[reason] = excluded.get(reason, 0) + n
    md = {
        "rows_read": read,
        "rows_accepted": sum(s.accepted for s in stats),
        "rows_quarantined": sum(reasons.values()),
        "quarantined_by_reason": dg.MetadataValue.json(reasons),
        "dagster/row_count": sum(s.accepted for s in stats),
    }
    if excluded:
        md["rows_excluded_by_rule"] = dg.MetadataValue.json(excluded)
    notes = sorted({s.note for s in stats if s.note})
    if notes:
        md["note"] = "; ".join(notes)
    return md


def _check_results(
    asset: str, stats: list[IngestStats], stored: list[dict], privacy_hits: dict[str, int] | None,
    study: StudyResource,
) -> list[dg.AssetCheckResult]:
    """The checks every ingested table gets: accounting, quarantine share, no raw identifier
    (``privacy_hits`` None: this asset does not read raw identifiers)."""
    t = study.config.thresholds
    unbalanced = {
        s.partition_key or asset: {"read": s.read, "excluded": s.excluded, **st}
        for s, st in zip(stats, stored, strict=True)
        if st["accepted"] + st["quarantined"] + s.excluded != s.read
    }
    worst = max(stats, key=lambda s: s.quarantine_share)
    share = worst.quarantine_share
    severity = (
        dg.AssetCheckSeverity.ERROR if share > t.quarantine_error_share else
        dg.AssetCheckSeverity.WARN
    )
    judged = sum(s.read for s in stats)
    results = [
        dg.AssetCheckResult(
            check_name="row_accounting",
            passed=not unbalanced,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"partitions_checked": len(stats), "rows_read": judged,
                      "unbalanced": dg.MetadataValue.json(unbalanced)},
        ),
        dg.AssetCheckResult(
            check_name="quarantine_share",
            passed=share <= t.quarantine_warn_share,
            severity=severity,
            metadata={
                "worst_share": round(share, 6),
                "worst_partition": worst.partition_key or asset,
                "warn_above": t.quarantine_warn_share,
                "error_above": t.quarantine_error_share,
                "rows_judged": judged,
            },
        ),
    ]
    if privacy_hits is not None:
        results.append(dg.AssetCheckResult(
            check_name="no_raw_identifiers",
            passed=not privacy_hits,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"columns_with_raw_identifiers": dg.MetadataValue.json(privacy_hits)},
        ))
    return results


CHECK_DESCRIPTIONS = {
    "row_accounting": "Rows read = rows accepted + rows quarantined (+ rows excluded by the "
    "mapping's rules), per partition and per file.",
    "quarantine_share": "Quarantined share of rows: warns above the configured share and "
    "fails far above it.",
    "no_raw_identifiers": "No raw phone number or owner id of the source is in any DuckDB "
    "table.",
    "cells_known": "Every accepted call's cells are in the cells table.",
    "has_users": "At least one subscriber user was accepted (fails on an empty or header-only "
    "file).",
    "calendar_coverage": "Every day of the study calendar has calls; days without a file or "
    "without calls, and rows dated outside the calendar, are listed.",
    "accepted_rows": "A day with landed calls keeps some of them (fails when every row of a day "
    "is quarantined; warns on a day without calls).",
    "linked_to_subscribers": "Some accepted calls have a subscriber at one end (fails when no "
    "call links to a subscriber: numbers written differently in calls and subscribers).",
}


def _ingest_checks(asset: str, names: tuple[str, ...]) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(n, asset=asset, description=CHECK_DESCRIPTIONS[n]) for n in names]


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    check_specs=_ingest_checks(
        "subscribers", ("row_accounting", "quarantine_share", "no_raw_identifiers", "has_users")),
    metadata={"dagster/column_schema": SUBSCRIBERS_SCHEMA},
)
def subscribers(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Operator subscribers, one user per owner (numbers merged), pseudonymised (SPEC §1)."""
    cfg, contract = study.config, study.contract()
    with study.connect() as con:
        stats = ingest_subscribers(con, cfg, contract)
        stored = stored_accounting(con, "subscribers", "")
        load_raw_identifiers(con, cfg, contract, "subscribers")
        hits = find_raw_identifiers(con)
        users = con.execute(
            "SELECT count(*), count(*) FILTER (has_local_number), count(*) FILTER (is_service),"
            " count(*) FILTER (n_numbers > 1) FROM subscribers"
        ).fetchone()
    context.log.info(f"subscribers: {stats.accepted} numbers accepted, {users[0]} users")
    checks = _check_results("subscribers", [stats], [stored], hits, study)
    checks.append(dg.AssetCheckResult(
        check_name="has_users", passed=users[0] > 0, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"users": users[0], "rows_read": stats.read},
    ))
    return dg.MaterializeResult(
        metadata={
            **_metadata([stats]),
            "users": users[0],
            "users_with_local_number": users[1],
            "service_users": users[2],
            "users_with_several_numbers": users[3],
        },
        check_results=checks,
    )


def _place_asset(table: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=table,
        group_name=GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        check_specs=_ingest_checks(table, ("row_accounting", "quarantine_share")),
        description=description,
    )
    def _asset(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
        cfg = study.config
        with study.connect() as con:
            stats = ingest_places(con, cfg, study.contract(), table)
            stored = stored_accounting(con, table, "")
        if stats.note:
            context.log.warning(f"{table}: empty ({stats.note})")
        context.log.info(f"{table}: {stats.accepted} accepted, {stats.quarantined} quarantined")
        return dg.MaterializeResult(
            metadata=_metadata([stats]),
            check_results=_check_results(table, [stats], [stored], None, study),
        )

    return _asset


cells = _place_asset("cells", "Cell towers inside the study area (SPEC §1); empty when the "
                     "mapping has no cells (geography and housing features are then null).")
estates = _place_asset("estates", "Housing estates with prices per m² (SPEC §1); empty when the "
                       "mapping has no estates (housing features are then null).")


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    check_specs=_ingest_checks(
        "landed_calls",
        ("row_accounting", "quarantine_share", "no_raw_identifiers", "calendar_coverage")),
)
def landed_calls(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Every calls file read once (one file, a glob, or one file per day): each row judged on
    its own, given its local day and pseudonymised by number; rows that are not calls or are
    dated outside the study calendar are counted per file (`landed_files`), never dropped
    silently (SPEC §1)."""
    cfg, contract = study.config, study.contract()
    with study.connect() as con:
        stats = land_calls(con, cfg, contract)
        stored = stored_accounting(con, "landed_calls", "")
        files = con.execute(
            "SELECT count(*), sum(rows_read), min(first_day), max(last_day) FROM landed_files"
        ).fetchone()
    for day in stats.days_without_file:
        context.log.warning(f"no calls file for {day}: an empty day")
    if stats.days_without_calls:
        context.log.warning(f"{len(stats.days_without_calls)} day(s) of the calendar have no "
                            f"calls: {', '.join(stats.days_without_calls)}")
    for reason, n in stats.excluded_by_reason.items():
        context.log.info(f"landed_calls: {n} rows excluded by the mapping's rules ({reason})")
    checks = _check_results("landed_calls", [stats], [stored], stats.raw_identifier_hits, study)
    checks.append(dg.AssetCheckResult(
        check_name="calendar_coverage",
        passed=not stats.days_without_calls and stats.accepted > 0,
        severity=dg.AssetCheckSeverity.ERROR if stats.accepted == 0 else
        dg.AssetCheckSeverity.WARN,
        metadata={
            "days_in_calendar": len(cfg.calendar.days),
            "days_without_calls": dg.MetadataValue.json(list(stats.days_without_calls)),
            "days_without_file": dg.MetadataValue.json(list(stats.days_without_file)),
            "rows_outside_calendar": stats.excluded_by_reason.get("outside_calendar", 0),
            "rows_landed": stats.accepted,
        },
    ))
    return dg.MaterializeResult(
        metadata={**_metadata([stats]), "files": files[0],
                  "first_day": str(files[2]) if files[2] else "none",
                  "last_day": str(files[3]) if files[3] else "none"},
        check_results=checks,
    )


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=study_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[landed_calls, subscribers, cells],
    check_specs=_ingest_checks(
        "calls",
        ("row_accounting", "quarantine_share", "cells_known", "accepted_rows",
         "linked_to_subscribers")),
    metadata={"dagster/column_schema": CALLS_SCHEMA},
)
def calls(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Calls of each day, taken from `landed_calls`, owners merged and checked against the
    subscribers and cells; bad rows quarantined (SPEC §1).

    A run may cover a range of days (single-run backfill); each day is replaced in its own
    transaction, so re-materializing a day leaves the same rows.
    """
    cfg = study.config
    stats, stored = [], []
    with study.connect() as con:
        for key in context.partition_keys:
            day = date.fromisoformat(key)
            s = ingest_calls(con, cfg, day)
            stats.append(s)
            stored.append(stored_accounting(con, "calls", key))
            context.log.info(
                f"calls {key}: {s.read} landed, {s.accepted} accepted, {s.quarantined} quarantined"
            )
        days = [date.fromisoformat(k) for k in context.partition_keys]
        unknown, linked, accepted = con.execute(
            "SELECT"
            " count(*) FILTER ((caller_cell IS NOT NULL AND caller_cell NOT IN"
            "   (SELECT cell_id FROM cells)) OR (callee_cell IS NOT NULL AND callee_cell NOT IN"
            "   (SELECT cell_id FROM cells))),"
            " count(*) FILTER (caller IN (SELECT user_id FROM subscribers)"
            "   OR callee IN (SELECT user_id FROM subscribers)),"
            " count(*)"
            " FROM calls WHERE list_contains(?, call_date)",
            [days],
        ).fetchone()
    empty = [s.partition_key for s in stats if s.read == 0]
    lost = [s.partition_key for s in stats if s.read > 0 and s.accepted == 0]
    for key in empty:
        context.log.warning(f"calls {key}: no calls landed on this day")
    checks = _check_results("calls", stats, stored, None, study)
    checks += [
        dg.AssetCheckResult(
            check_name="cells_known", passed=unknown == 0,
            severity=dg.AssetCheckSeverity.ERROR, metadata={"calls_unknown_cell": unknown}),
        dg.AssetCheckResult(
            check_name="accepted_rows", passed=not empty and not lost,
            severity=dg.AssetCheckSeverity.ERROR if lost else dg.AssetCheckSeverity.WARN,
            metadata={"days_checked": len(stats),
                      "days_without_calls": dg.MetadataValue.json(empty),
                      "days_with_every_row_quarantined": dg.MetadataValue.json(lost)}),
        dg.AssetCheckResult(
            check_name="linked_to_subscribers", passed=accepted > 0 and linked > 0,
            severity=dg.AssetCheckSeverity.ERROR if accepted > 0 else
            dg.AssetCheckSeverity.WARN,
            metadata={"calls_accepted": accepted, "calls_with_a_subscriber": linked,
                      "share_linked": round(linked / accepted, 6) if accepted else 0.0}),
    ]
    return dg.MaterializeResult(metadata=_metadata(stats), check_results=checks)
