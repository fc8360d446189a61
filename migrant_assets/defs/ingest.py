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
        dg.TableColumn("end_ts", "TIMESTAMP", description="Local time of the study city."),
        dg.TableColumn("duration_s", "DOUBLE", description="end_ts - start_ts in seconds."),
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
    for s in stats:
        for reason, n in s.quarantined_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + n
    return {
        "rows_read": read,
        "rows_accepted": sum(s.accepted for s in stats),
        "rows_quarantined": sum(reasons.values()),
        "quarantined_by_reason": dg.MetadataValue.json(reasons),
        "dagster/row_count": sum(s.accepted for s in stats),
    }


def _check_results(
    asset: str, stats: list[IngestStats], stored: list[dict], privacy_hits: dict[str, int],
    study: StudyResource,
) -> list[dg.AssetCheckResult]:
    """The checks every ingested table gets: accounting, quarantine share, no raw identifier."""
    t = study.config.thresholds
    unbalanced = {
        s.partition_key or asset: {"read": s.read, **st}
        for s, st in zip(stats, stored, strict=True)
        if st["accepted"] + st["quarantined"] != s.read
    }
    worst = max(stats, key=lambda s: s.quarantine_share)
    share = worst.quarantine_share
    severity = (
        dg.AssetCheckSeverity.ERROR if share > t.quarantine_error_share else
        dg.AssetCheckSeverity.WARN
    )
    return [
        dg.AssetCheckResult(
            check_name="row_accounting",
            passed=not unbalanced,
            metadata={"partitions_checked": len(stats), "unbalanced": dg.MetadataValue.json(
                unbalanced)},
        ),
        dg.AssetCheckResult(
            check_name="quarantine_share",
            passed=share <= t.quarantine_warn_share,
            severity=severity,
            metadata={
                "worst_share": share,
                "worst_partition": worst.partition_key or asset,
                "warn_above": t.quarantine_warn_share,
                "error_above": t.quarantine_error_share,
            },
        ),
        dg.AssetCheckResult(
            check_name="no_raw_identifiers",
            passed=not privacy_hits,
            metadata={"columns_with_raw_identifiers": dg.MetadataValue.json(privacy_hits)},
        ),
    ]


def _ingest_checks(asset: str, extra: tuple[str, ...] = ()) -> list[dg.AssetCheckSpec]:
    descriptions = {
        "row_accounting": "Rows read = rows accepted + rows quarantined, per partition.",
        "quarantine_share": "Quarantined share of rows: warns above the configured share and "
        "fails far above it.",
        "no_raw_identifiers": "No raw phone number or owner id of the source is in any DuckDB "
        "table.",
        "cells_known": "Every accepted call's cells are in the cells table.",
    }
    names = ("row_accounting", "quarantine_share", "no_raw_identifiers", *extra)
    return [dg.AssetCheckSpec(n, asset=asset, description=descriptions[n]) for n in names]


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    check_specs=_ingest_checks("subscribers"),
    metadata={"dagster/column_schema": SUBSCRIBERS_SCHEMA},
)
def subscribers(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Operator subscribers, one user per owner (numbers merged), pseudonymised (SPEC §1)."""
    cfg, contract = study.config, study.contract()
    with study.connect() as con:
        stats = ingest_subscribers(con, cfg, contract)
        stored = stored_accounting(con, "subscribers", "")
        load_raw_identifiers(con, contract, "subscribers")
        hits = find_raw_identifiers(con)
        users = con.execute(
            "SELECT count(*), count(*) FILTER (has_local_number), count(*) FILTER (is_service),"
            " count(*) FILTER (n_numbers > 1) FROM subscribers"
        ).fetchone()
    context.log.info(f"subscribers: {stats.accepted} numbers accepted, {users[0]} users")
    return dg.MaterializeResult(
        metadata={
            **_metadata([stats]),
            "users": users[0],
            "users_with_local_number": users[1],
            "service_users": users[2],
            "users_with_several_numbers": users[3],
        },
        check_results=_check_results("subscribers", [stats], [stored], hits, study),
    )


def _place_asset(table: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=table,
        group_name=GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        check_specs=_ingest_checks(table)[:2],
        description=description,
    )
    def _asset(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
        cfg = study.config
        with study.connect() as con:
            stats = ingest_places(con, cfg, study.contract(), table)
            stored = stored_accounting(con, table, "")
        context.log.info(f"{table}: {stats.accepted} accepted, {stats.quarantined} quarantined")
        return dg.MaterializeResult(
            metadata=_metadata([stats]),
            check_results=_check_results(table, [stats], [stored], {}, study)[:2],
        )

    return _asset


cells = _place_asset("cells", "Cell towers inside the study area (SPEC §1).")
estates = _place_asset("estates", "Housing estates with prices per m² (SPEC §1).")


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=study_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[subscribers, cells],
    check_specs=_ingest_checks("calls", ("cells_known",)),
    metadata={"dagster/column_schema": CALLS_SCHEMA},
)
def calls(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Calls of each day, validated and pseudonymised; bad rows quarantined (SPEC §1).

    A run may cover a range of days (single-run backfill); each day is replaced in its own
    transaction, so re-materializing a day leaves the same rows.
    """
    cfg, contract = study.config, study.contract()
    stats, stored, hits, unknown = [], [], {}, 0
    with study.connect() as con:
        for key in context.partition_keys:
            day = date.fromisoformat(key)
            s = ingest_calls(con, cfg, contract, day)
            stats.append(s)
            stored.append(stored_accounting(con, "calls", key))
            scope = {"calls": f"call_date = DATE '{key}'"}
            load_raw_identifiers(con, contract, "calls", day)
            for col, n in find_raw_identifiers(con, scope).items():
                hits[col] = hits.get(col, 0) + n
            unknown += con.execute(
                "SELECT count(*) FROM calls c WHERE call_date = ? AND ("
                " (caller_cell IS NOT NULL AND caller_cell NOT IN (SELECT cell_id FROM cells))"
                " OR (callee_cell IS NOT NULL AND callee_cell NOT IN (SELECT cell_id FROM cells)))",
                [day],
            ).fetchone()[0]
            context.log.info(
                f"calls {key}: {s.read} read, {s.accepted} accepted, {s.quarantined} quarantined"
            )
    checks = _check_results("calls", stats, stored, hits, study)
    checks.append(
        dg.AssetCheckResult(
            check_name="cells_known", passed=unknown == 0, metadata={"calls_unknown_cell": unknown}
        )
    )
    return dg.MaterializeResult(metadata=_metadata(stats), check_results=checks)
