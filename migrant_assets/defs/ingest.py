"""Ingestion assets (SPEC §1): the study's raw inputs (the synthetic city, or the files a mapping
names), the contract tables validated and pseudonymised in DuckDB, and their checks, which read
the stored tables (so each can be re-run alone)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import dagster as dg
import duckdb

from migrant_assets.config import StudyConfig, SyntheticSource
from migrant_assets.contract import CONTRACT_COLUMNS, DataContract
from migrant_assets.defs.checks import per_partition, verdict
from migrant_assets.defs.metadata import (
    each_partition,
    table_metadata,
    table_name_metadata,
    tidy,
)
from migrant_assets.defs.partitions import STUDY, study_days
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.errors import InputError
from migrant_assets.ingest import (
    AGE_0_FIX,
    CALL_DUPLICATES_FIX,
    DUPLICATES_AGREE_FIX,
    DURATIONS_FIX,
    EMPTY_SUBSCRIBERS_FIX,
    LOCAL_FLAG_FIX,
    LOCATED_MIN_CALLS,
    LOCATED_SIDE_FIX,
    LOCATED_SIDE_SHARE,
    MIDNIGHT_FIX,
    MIDNIGHT_SHARE,
    MIN_MEDIAN_DURATION_S,
    MIN_TIMED_CALLS,
    NO_SUBSCRIBER_FIX,
    NUMBER_FORMS_ERROR_SHARE,
    NUMBERS_AGREE_FIX,
    OLDEST_AGE,
    OLDEST_AGE_FIX,
    OWNER_ATTRIBUTES_FIX,
    OWNER_NUMBERS_FIX,
    PARTIAL_RECORDS_ERROR_SHARE,
    PARTIAL_RECORDS_FIX,
    PARTIAL_RECORDS_WARN_SHARE,
    PRICE_SCALE_FIX,
    ROUNDED_FIX,
    ROUNDED_MIN_PLACES,
    ROUNDED_SHARE,
    SEXES_FIX,
    SEXES_MIN_USERS,
    SEXES_SHARE,
    STAMPED_APART_ERROR_SHARE,
    STAMPED_APART_FIX,
    UNLINKED_FIX,
    UNNAMED_PROVINCE_FIX,
    UNREADABLE_ATTRIBUTES_FIX,
    USER_TYPES_FIX,
    IngestStats,
    birth_provinces,
    calendar_coverage,
    calls_day_facts,
    check_first,
    conflicting_duplicates,
    conflicting_numbers,
    coordinate_precision,
    durations_agree,
    estate_prices,
    far_outside_problem,
    generate_city,
    identifier_scan,
    ingest_calls,
    ingest_places,
    ingest_subscribers,
    land_calls,
    landing_summary,
    number_forms,
    owner_conflicts,
    owner_numbers,
    price_column_doubt,
    province_spellings,
    quarantine_reasons,
    record_city,
    row_accounting,
    short_days_problem,
    source_kind,
    subscriber_counts,
    swapped_coordinates,
    swapped_fix,
    time_of_day,
    unreadable_attributes,
    user_types,
)

GROUP = "ingest"
#: The study's source (`defs/partitions.STUDY`): the synthetic city is an asset, a mapping's
#: files are external assets.
SOURCE = STUDY.source


# ------------------------------------------------------------------------------- raw inputs
def _source_specs() -> dict[str, dg.AssetSpec]:
    """One external asset per contract table the mapping names (its layout, never a path)."""
    try:
        contract: DataContract | None = DataContract.load(SOURCE.mapping)
    except InputError:
        contract = None  # the ingestion assets report the mapping's problem when they run
    specs = {}
    for table in CONTRACT_COLUMNS:
        if contract is not None and contract.source(table) is None:
            continue
        specs[table] = dg.AssetSpec(
            f"source_{table}", group_name=GROUP,
            description=source_kind(contract, table) if contract is not None else
            f"{table}: the files the study's mapping names (the mapping could not be read)")
    return specs


if isinstance(SOURCE, SyntheticSource):

    @dg.asset(group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "parquet"},
              metadata=table_name_metadata("synthetic_city"))
    def synthetic_city(context: dg.AssetExecutionContext,
                       study: StudyResource) -> dg.MaterializeResult:
        """The synthetic city's files (SPEC §7), generated from the study's preset, seed and
        calendar (the same files every time); the table lists each file's contract table,
        path, rows, bytes and SHA-256."""
        cfg = study.config
        files = generate_city(cfg, progress=context.log.debug)
        with study.connect() as con:
            record_city(con, cfg, files)
            md = table_metadata(con, "synthetic_city")
        return dg.MaterializeResult(metadata={
            **md, "preset": cfg.source.preset, "seed": cfg.source.seed,
            "city_dir": dg.MetadataValue.path(str(cfg.synthetic_dir))})

    SOURCES: dict[str, list] = {t: [synthetic_city] for t in CONTRACT_COLUMNS}
else:
    source_specs = list(_source_specs().values())
    SOURCES = {spec.key.path[0].removeprefix("source_"): [spec] for spec in source_specs}


# ----------------------------------------------------------------------------------- assets
def _metadata(stats: IngestStats) -> dict:
    """The ingestion's own count of what it read (the checks count what is stored)."""
    md = {
        "rows_read": stats.read,
        "rows_accepted": stats.accepted,
        "rows_quarantined": stats.quarantined,
        "quarantined_by_reason": dg.MetadataValue.json(stats.quarantined_by_reason),
    }
    if stats.excluded_by_reason:
        md["rows_excluded_by_rule"] = dg.MetadataValue.json(stats.excluded_by_reason)
    if stats.note:
        md["note"] = stats.note
    return md


def _holds_identifiers(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    """Whether the subscribers' privacy search found their raw identifiers in ``column``
    (``table.column``): a check then counts its values and never shows them."""
    scan = identifier_scan(con, "subscribers")
    return scan is not None and column in scan[1]


#: What a check shows instead of values among which the privacy search found identifiers.
HIDDEN_VALUES = "values not shown: the privacy search found identifiers among them"


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=SOURCES.get("subscribers", []),
    metadata=table_name_metadata("subscribers"),
)
def subscribers(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Operator subscribers, one user per owner (numbers merged), pseudonymised (SPEC §1);
    also writes `number_owner`, `quarantine_subscribers` and `accounting_subscribers`."""
    cfg, contract = study.config, study.contract()
    with study.connect() as con:
        stats = ingest_subscribers(con, cfg, contract)
        users = subscriber_counts(con)
        md = table_metadata(con, "subscribers")
    context.log.info(f"subscribers: {stats.accepted} numbers accepted, {users['users']} users")
    return dg.MaterializeResult(metadata={**md, **_metadata(stats), **users})


def _place_asset(table: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=table,
        group_name=GROUP,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        deps=SOURCES.get(table, []),
        description=description,
        metadata=table_name_metadata(table),
    )
    def _asset(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
        cfg = study.config
        with study.connect() as con:
            stats = ingest_places(con, cfg, study.contract(), table)
            md = table_metadata(con, table)
        if stats.note:
            context.log.warning(f"{table}: empty ({stats.note})")
        context.log.info(f"{table}: {stats.accepted} accepted, {stats.quarantined} quarantined")
        return dg.MaterializeResult(metadata={**md, **_metadata(stats)})

    return _asset


cells = _place_asset("cells", "Cell towers inside the study area (SPEC §1); empty when the "
                     "mapping has no cells (geography and housing features are then null). "
                     "Also writes `quarantine_cells` and `accounting_cells`.")
estates = _place_asset("estates", "Housing estates with prices per m² (SPEC §1); empty when the "
                       "mapping has no estates (housing features are then null). Also writes "
                       "`quarantine_estates` and `accounting_estates`.")


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    # unknown cells are hashed against `cells`; the number_forms check reads `subscribers`
    deps=[*SOURCES.get("calls", []), cells, subscribers],
    metadata=table_name_metadata("landed_calls"),
)
def landed_calls(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Every calls file read once (one file, a glob, or one file per day): each row judged on
    its own, given its local day and pseudonymised by number; rows that are not calls or are
    dated outside the study calendar are counted per file (`landed_files`), never dropped
    silently (SPEC §1). Also writes `quarantine_landed_calls`."""
    cfg, contract = study.config, study.contract()
    with study.connect() as con:
        stats = land_calls(con, cfg, contract)
        files = landing_summary(con)
        md = table_metadata(con, "landed_calls")
    for reason, n in stats.excluded_by_reason.items():
        context.log.info(f"landed_calls: {n} rows excluded by the mapping's rules ({reason})")
    return dg.MaterializeResult(metadata={
        **md, **_metadata(stats), "files": files["files"],
        "first_day": str(files["first_day"] or "none"),
        "last_day": str(files["last_day"] or "none")})


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    partitions_def=study_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[landed_calls, subscribers, cells],
    metadata=table_name_metadata("calls"),
)
def calls(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """Calls of each day, taken from `landed_calls`, owners merged and checked against the
    subscribers and cells; bad rows quarantined (SPEC §1). Also writes the day's rows of
    `quarantine_calls` and `accounting_calls`.

    A run may cover a range of days (single-run backfill); each day is replaced in its own
    transaction, so re-materializing a day leaves the same rows.
    """
    cfg = study.config
    figures = {}
    with study.connect() as con:
        for key in context.partition_keys:
            s = ingest_calls(con, cfg, date.fromisoformat(key))
            context.log.info(
                f"calls {key}: {s.read} landed, {s.accepted} accepted, {s.quarantined} quarantined"
                + (f", {s.excluded} other party's records of calls" if s.excluded else ""))
            figures[key] = {**table_metadata(con, "calls", ("call_date", key, key)),
                            **_metadata(s)}
    each_partition(context, figures)
    return dg.MaterializeResult()


# ----------------------------------------------------------------------------------- checks
ACCOUNTING = ("Rows read = rows accepted + rows quarantined (+ rows excluded by the mapping's "
              "rules), from the stored tables and the asset's accounting table")
SHARE = ("Quarantined share of the rows judged: warns above thresholds.quarantine_warn_share "
         "and fails above thresholds.quarantine_error_share")
PRIVACY = ("No identifier of the source files (phone number, owner id, 6 characters or more) "
           "is in any DuckDB table: the ingestion searched every table for them in the same "
           "pass, with the identifiers in hand, and stored the result this check judges")


def _accounting_verdict(parts: list[dict], note: str = "") -> dg.AssetCheckResult:
    """Row accounting of the parts (files, days or the table) of one check (SPEC §1)."""
    columns = ("rows_read", "rows_accepted", "rows_quarantined", "rows_excluded")
    unbalanced = {p["part"] or "table": {c: p[c] for c in columns}
                  for p in parts if not p["balanced"]}
    judged = sum(max(p["rows_read"], p["rows_accepted"] + p["rows_quarantined"]
                     + p["rows_excluded"]) for p in parts)
    reason = None
    if not parts:
        reason = "no row accounting stored: materialize the asset (partition) first"
    elif not judged:
        reason = note or "no row was read"
    return verdict(not unbalanced, judged,
                   {"parts_checked": len(parts), "rows_read": sum(p["rows_read"] for p in parts),
                    "unbalanced": unbalanced}, reason)


def _share_verdict(cfg: StudyConfig, parts: list[dict], reasons: dict[str, int],
                   cause: str | None = None) -> dg.AssetCheckResult:
    """Quarantined share of the rows judged (read minus excluded by the mapping's rules);
    ``cause``: the hint when the data names its cause, instead of the top reason's."""
    t = cfg.thresholds
    judged = sum(p["rows_read"] - p["rows_excluded"] for p in parts)
    quarantined = sum(p["rows_quarantined"] for p in parts)
    share = quarantined / judged if judged else 0.0
    fix = (cause or check_first(reasons)) if share > t.quarantine_warn_share else None
    return verdict(
        share <= t.quarantine_warn_share, judged,
        {"share": share, "rows_quarantined": quarantined, "quarantined_by_reason": reasons,
         "warn_above": t.quarantine_warn_share, "error_above": t.quarantine_error_share},
        None if judged else "no row to judge",
        dg.AssetCheckSeverity.ERROR if share > t.quarantine_error_share else
        dg.AssetCheckSeverity.WARN, check_first=fix)


#: What to do when a stored column holds raw identifiers.
PRIVACY_FIX = ("the columns named hold raw phone numbers or owner ids, read into a column the "
               "pipeline does not pseudonymise: a mapping that reads a file column into the "
               "wrong contract column (a number as a cell id, a type or a province), or rows "
               "whose fields moved; fix the mapping, materialize the asset again, and delete "
               "copies of the DuckDB file made in between (they hold the numbers)")


def _privacy_verdict(scan: tuple[int, dict[str, int]] | None) -> dg.AssetCheckResult:
    searched, hits = scan if scan is not None else (0, {})
    return verdict(not hits, searched, {"identifiers_searched": searched,
                                        "columns_with_raw_identifiers": hits},
                   None if searched else "the source has no identifier to search for"
                   if scan is not None else "no search stored: materialize the asset first",
                   check_first=PRIVACY_FIX if hits else None)


def _table_checks(asset: dg.AssetsDefinition) -> list[dg.AssetChecksDefinition]:
    """row_accounting (blocking) and quarantine_share of an unpartitioned ingestion asset."""
    source = asset.key.path[-1]

    @dg.asset_check(asset=asset, name="row_accounting", blocking=True, pool=DUCKDB_POOL,
                    description=ACCOUNTING + ("; per file." if source == "landed_calls" else "."))
    def _accounting(study: StudyResource) -> dg.AssetCheckResult:
        with study.connect() as con:
            parts = row_accounting(con, source)
        return _accounting_verdict(parts, "; ".join(p["note"] for p in parts if p["note"]))

    @dg.asset_check(asset=asset, name="quarantine_share", pool=DUCKDB_POOL,
                    description=SHARE + ".")
    def _share(study: StudyResource) -> dg.AssetCheckResult:
        with study.connect() as con:
            reasons = quarantine_reasons(con, source)
            swapped = swapped_fix(source, swapped_coordinates(con, study.config, source)) \
                if reasons.get("outside_bbox") and source in ("cells", "estates") else None
            return _share_verdict(study.config, row_accounting(con, source), reasons, swapped)

    return [_accounting, _share]


subscribers_checks = _table_checks(subscribers)
cells_checks = _table_checks(cells)
estates_checks = _table_checks(estates)
landed_calls_checks = _table_checks(landed_calls)


def _privacy_check(asset: dg.AssetsDefinition, files: str) -> dg.AssetChecksDefinition:
    """``no_raw_identifiers`` of an asset that reads raw identifiers: the search its
    ingestion stored (``ingest.identifier_scan``)."""
    source = asset.key.path[-1]

    @dg.asset_check(asset=asset, name="no_raw_identifiers", blocking=True, pool=DUCKDB_POOL,
                    description=f"{PRIVACY} ({files}).")
    def _check(study: StudyResource) -> dg.AssetCheckResult:
        with study.connect() as con:
            return _privacy_verdict(identifier_scan(con, source))

    return _check


subscribers_no_raw_identifiers = _privacy_check(subscribers, "the subscribers files")
landed_calls_no_raw_identifiers = _privacy_check(landed_calls, "every calls file")


@dg.asset_check(asset=subscribers, name="has_users", pool=DUCKDB_POOL,
                description="At least one subscriber user was accepted (fails on an empty or "
                "header-only file); judges the one table.")
def subscribers_has_users(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        users = subscriber_counts(con)["users"]
        read = sum(p["rows_read"] for p in row_accounting(con, "subscribers"))
        fix = None if users else check_first(quarantine_reasons(con, "subscribers")) \
            if read else EMPTY_SUBSCRIBERS_FIX
    return verdict(users > 0, 1, {"users": users, "rows_read": read}, check_first=fix)


@dg.asset_check(asset=subscribers, name="province_spellings", pool=DUCKDB_POOL,
                description="Birth provinces are spelled one way: names equal up to case, "
                "accents, spaces, a suffix (Province, Shi; 省, 市) or the script (上海, "
                "Shanghai) count as different provinces (fails when that, or no subscriber born in "
                "`city.province` as spelled, changes who is local; warns when it only splits a "
                "province in province_diversity). Judges the users of a known province.")
def subscribers_province_spellings(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = province_spellings(con, study.config)
    problem = out.pop("problem")
    fix = ("recode the spellings in the mapping (subscribers.recode.birth_province: {SHANGHAI: "
           "Shanghai, 沪: Shanghai, ...}) or set city.province to your file's spelling; places "
           "below the province (上海市浦东新区, 安徽省合肥市) are best exported as the province "
           "alone (or recoded to it)")
    return verdict(problem is None, out["users_with_province"], out,
                   None if out["users_with_province"] else "no subscriber has a birth province",
                   dg.AssetCheckSeverity.ERROR if out["locals_affected"] else
                   dg.AssetCheckSeverity.WARN, check_first=f"{problem}: {fix}" if problem else None)


@dg.asset_check(asset=estates, name="price_scale", pool=DUCKDB_POOL,
                description="Prices per m² are on one scale, the usual one: warns when their "
                "median is under 10 x thresholds.min_price_per_sqm (1,000 by default: a price "
                "in 万 yuan or a total price), when some lie under a tenth of the median (a "
                "few rows in another unit), or when the column mapped to price_per_sqm is named "
                "as a rent, a monthly or total figure or 万 (rent_cny_month). Judges the "
                "estates.")
def estates_price_scale(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = estate_prices(con)
    try:
        source = study.contract().source("estates")
    except InputError:  # the mapping no longer loads: the assets report it
        source = None
    mapped = source.columns.get("price_per_sqm", "price_per_sqm") if source else []
    doubt = price_column_doubt([mapped] if isinstance(mapped, str) else mapped)
    floor = 10 * study.config.thresholds.min_price_per_sqm
    judged, median, below = out["estates"], out["median_price"], out["far_below_median"]
    problems = ([f"the median price per m² is {median:,.0f}, under {floor:,.0f}"]
                if judged and median < floor else []) + (
        [f"{below} estates are priced under a tenth of the median ({median:,.0f})"]
        if below else [])
    hint = "; ".join([*([doubt] if doubt else []),
                      *([f"{'; '.join(problems)}: {PRICE_SCALE_FIX}"] if problems else [])])
    return verdict(not problems and not doubt, judged, out, None if judged else "no estate",
                   dg.AssetCheckSeverity.WARN, check_first=hint or None)


def _duplicates_check(asset: dg.AssetsDefinition, what: str) -> dg.AssetChecksDefinition:
    """``duplicates_agree`` of cells or estates (:func:`conflicting_duplicates`)."""
    table = asset.key.path[-1]

    @dg.asset_check(asset=asset, name="duplicates_agree", pool=DUCKDB_POOL,
                    description=f"An id listed more than once gives the same {what} each time "
                    "(warns naming the ids listed with other values: the first row in file "
                    "order is kept, which may not be the one that holds; with the mapping's "
                    f"{table}.keep: last, a history whose older rows differ by design, they are "
                    "counted only). Judges the ids kept.")
    def _check(study: StudyResource) -> dg.AssetCheckResult:
        with study.connect() as con:
            out = conflicting_duplicates(con, table)
        source = study.contract().source(table)
        history = source is not None and source.keep == "last"
        rows = out["differing_rows"]
        fix = (f"{rows} rows list {'a cell' if table == 'cells' else 'an estate'} id again "
               f"with other {what} (e.g. "
               f"{', '.join(map(repr, out['examples']))}): {DUPLICATES_AGREE_FIX}")
        return verdict(history or rows == 0, out["places"],
                       {**out, "keep": "last" if history else "first"},
                       None if out["places"] else f"no {table}", dg.AssetCheckSeverity.WARN,
                       check_first=fix if rows and not history else None)

    return _check


@dg.asset_check(asset=subscribers, name="duplicates_agree", pool=DUCKDB_POOL,
                description="A number listed more than once gives the same owner and "
                "attributes each time (warns counting the rows listed with others: the first "
                "row in file order is kept, and its birth province and local flag decide who is "
                "local; with the mapping's subscribers.keep: last, a history whose older rows "
                "differ by design, they are counted only). Judges the numbers kept.")
def subscribers_duplicates_agree(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = conflicting_numbers(con)
    # a history the mapping names as such (keep: last): its older rows differ by design
    history = study.contract().subscribers.keep == "last"
    rows, unmarked = out["differing_rows"], out["unmarked_rows"]
    differ = (f"{rows} row{'s list' if rows != 1 else ' lists'} a number again with another "
              f"owner, birth province, local flag, age, sex or user type: {NUMBERS_AGREE_FIX}")
    earlier = (f"{unmarked} duplicate row{'s were' if unmarked != 1 else ' was'} quarantined by "
               "an earlier version, which did not compare them with the row kept: materialize "
               "subscribers again")
    hint = "; ".join(text for n, text in ((0 if history else rows, differ), (unmarked, earlier))
                     if n)
    return verdict((history or rows == 0) and unmarked == 0, out["numbers"],
                   {**out, "keep": "last" if history else "first"},
                   None if out["numbers"] else "no subscriber number", dg.AssetCheckSeverity.WARN,
                   check_first=hint or None)


cells_duplicates_agree = _duplicates_check(cells, "coordinates")
estates_duplicates_agree = _duplicates_check(estates, "coordinates and price")


def _precision_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    """``coordinate_precision`` of cells or estates (:func:`coordinate_precision`)."""
    table = asset.key.path[-1]

    @dg.asset_check(asset=asset, name="coordinate_precision", pool=DUCKDB_POOL,
                    description="Coordinates keep their decimals: warns when half or more of "
                    f"the {table} (from {ROUNDED_MIN_PLACES}) lie on a grid of 0.01 degree or "
                    "coarser (a column rounded to two decimals or fewer puts places a kilometre "
                    f"apart at one point). Judges the {table}.")
    def _check(study: StudyResource) -> dg.AssetCheckResult:
        with study.connect() as con:
            out = coordinate_precision(con, table)
        places, rounded = out["places"], out["rounded_places"]
        judged = places if places >= ROUNDED_MIN_PLACES else 0
        bad = bool(judged) and rounded >= ROUNDED_SHARE * places
        return verdict(not bad, judged, out,
                       None if judged else f"fewer than {ROUNDED_MIN_PLACES} {table}",
                       dg.AssetCheckSeverity.WARN,
                       check_first=f"{rounded:,} of {places:,} {table} have coordinates rounded "
                       f"to 0.01 degree or coarser: {ROUNDED_FIX}" if bad else None)

    return _check


cells_coordinate_precision = _precision_check(cells)
estates_coordinate_precision = _precision_check(estates)


@dg.asset_check(asset=subscribers, name="unnamed_provinces", pool=DUCKDB_POOL,
                description="Every birth province names a province: a word for unknown (未知, "
                "Unknown) or a code (340000, -) counts as born elsewhere, so its users become "
                "migrants (fails when words for unknown reach 1% of the users with a province; "
                "warns for codes, which province_spellings judges when one is the city's, and "
                "below 1%). Judges the users with a province.")
def subscribers_unnamed_provinces(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = birth_provinces(con, study.config)
        hidden = _holds_identifiers(con, "subscribers.birth_province")
    judged, unnamed = out["users_with_province"], out["unnamed_users"]
    if hidden:
        out["unnamed"] = []
    shown = HIDDEN_VALUES if hidden else ", ".join(
        f"{v['value']!r} ({v['users']})" for v in out["unnamed"])
    fix = (f"{unnamed} users' birth province names no province ({shown}), so they count as "
           f"born elsewhere: {UNNAMED_PROVINCE_FIX}")
    # a code of another province is born elsewhere indeed; one of the city's province is
    # judged by province_spellings (data/province_names.csv names the 6-digit codes)
    unknown = out["unknown_word_users"]
    return verdict(unnamed == 0, judged, {k: out[k] for k in (
                       "users_with_province", "unnamed_users", "unknown_word_users", "unnamed")},
                   None if judged else "no subscriber has a birth province",
                   dg.AssetCheckSeverity.ERROR if unknown >= 0.01 * judged
                   else dg.AssetCheckSeverity.WARN, check_first=fix if unnamed else None)


@dg.asset_check(asset=subscribers, name="local_numbers", pool=DUCKDB_POOL,
                description="Most users born in city.province hold a local number (fails when "
                "fewer than half do: the local flag is read the other way, e.g. a column "
                "is_migrant mapped to is_local_number). Judges the users born in the province.")
def subscribers_local_numbers(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = birth_provinces(con, study.config)
    judged, local = out["born_in_province"], out["born_local_number"]
    province = study.config.city.province
    fix = (f"only {local} of the {judged} users born in {province!r} hold a local number: "
           f"{LOCAL_FLAG_FIX}")
    return verdict(2 * local >= judged, judged, {"born_in_province": judged,
                                                  "born_with_local_number": local},
                   None if judged else f"no user is born in {province!r}",
                   dg.AssetCheckSeverity.ERROR, check_first=None if 2 * local >= judged else fix)


@dg.asset_check(asset=subscribers, name="owner_numbers", pool=DUCKDB_POOL,
                description="No owner holds more than thresholds.max_numbers_per_owner numbers "
                "(warns: an owner id standing for no owner, such as -1, merges many people "
                "into one user). Judges the users.")
def subscribers_owner_numbers(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = owner_numbers(con, study.config)
    over = out["owners_over"]
    limit = study.config.thresholds.max_numbers_per_owner
    fix = (f"{over} owner(s) hold more than {limit} numbers ({out['their_numbers']} numbers, "
           f"at most {out['most_numbers']} for one): {OWNER_NUMBERS_FIX}")
    return verdict(over == 0, out["users"], out, None if out["users"] else "no subscriber user",
                   dg.AssetCheckSeverity.WARN, check_first=fix if over else None)


@dg.asset_check(asset=subscribers, name="owner_attributes", pool=DUCKDB_POOL,
                description="The numbers of one owner agree on age, sex and birth province "
                "(warns naming how many owners' rows disagree: the user keeps the first row's "
                "value in file order). Judges the users.")
def subscribers_owner_attributes(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        users = subscriber_counts(con)["users"]
        conflicts = owner_conflicts(con)
    odd = {attribute: n for attribute, n in conflicts.items() if n}
    plural = {"age": "ages", "sex": "sexes", "birth_province": "birth provinces"}
    fix = ", ".join(f"{n:,} owner(s) whose numbers give different {plural[a]}"
                    for a, n in odd.items())
    return verdict(not odd, users, {"owners_with_different_values": conflicts},
                   None if users else "no subscriber user", dg.AssetCheckSeverity.WARN,
                   check_first=f"{fix}: {OWNER_ATTRIBUTES_FIX}" if odd else None)


@dg.asset_check(asset=subscribers, name="ages", pool=DUCKDB_POOL,
                description="No user is of age 0, or older than 105, which exports write for "
                "an unknown age or birth date (1900-01-01; warns with the counts and the recode "
                "that makes it unknown). Judges the users with an age.")
def subscribers_ages(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        counts = subscriber_counts(con)
    aged_0, oldest, judged = (counts["users_aged_0"], counts["users_over_oldest"],
                              counts["users_with_age"])
    first = "; ".join([*([f"{aged_0} users of age 0: {AGE_0_FIX}"] if aged_0 else []),
                       *([f"{oldest} users older than {OLDEST_AGE}: {OLDEST_AGE_FIX}"]
                         if oldest else [])])
    return verdict(aged_0 == oldest == 0, judged,
                   {"users_with_age": judged, "users_aged_0": aged_0,
                    f"users_older_than_{OLDEST_AGE}": oldest},
                   None if judged else "no user has an age", dg.AssetCheckSeverity.WARN,
                   check_first=first or None)


@dg.asset_check(asset=subscribers, name="sexes", pool=DUCKDB_POOL,
                description="Both sexes are common: a male share outside [0.1, 0.9] is a "
                "recode that made two codes one (Spanish H/M, where M is mujer) or another "
                "column mapped as sex (warns, from 100 users with a sex). Judges the users with a "
                "sex.")
def subscribers_sexes(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        counts = subscriber_counts(con)
    judged, male = counts["users_with_sex"], counts["male_users"]
    share = male / judged if judged else None
    # fewer users than SEXES_MIN_USERS tell nothing of the share
    ok = judged < SEXES_MIN_USERS or SEXES_SHARE <= share <= 1 - SEXES_SHARE
    return verdict(ok, judged, {"users_with_sex": judged, "male_users": male,
                                "male_share": round(share, 4) if share is not None else None},
                   None if judged else "no user has a sex", dg.AssetCheckSeverity.WARN,
                   check_first=None if ok else
                   f"{male} of {judged} users with a sex are male: {SEXES_FIX}")


@dg.asset_check(asset=subscribers, name="readable_attributes", pool=DUCKDB_POOL,
                description="Every age and sex given is read: one that is not (a sex U, an age "
                "34.5 or -1) is stored as unknown and its subscriber kept (warns naming the "
                "values; fails from thresholds.quarantine_error_share of the numbers, a code "
                "the mapping does not recode). Judges the accepted subscriber numbers.")
def subscribers_readable_attributes(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = unreadable_attributes(con)
        hidden = _holds_identifiers(con, "unreadable_attributes_subscribers.value")
    ages, sexes, judged = out["unreadable_ages"], out["unreadable_sexes"], out["numbers"]
    values = out["values"]
    shown = HIDDEN_VALUES if hidden else ", ".join(
        f"{v['attribute']} {v['value']!r} ({v['numbers']})" for v in values[:10])
    counts = " and ".join(f"{n} numbers' {what}" for n, what in ((ages, "age"), (sexes, "sex"))
                          if n)
    fix = (f"{counts} could not be read ({shown}{', ...' if len(values) > 10 else ''}): "
           f"{UNREADABLE_ATTRIBUTES_FIX}")
    error = max(ages, sexes) >= study.config.thresholds.quarantine_error_share * judged
    return verdict(not values, judged, {**out, "values": [] if hidden else values[:10]},
                   None if judged else "no subscriber number",
                   dg.AssetCheckSeverity.ERROR if error else dg.AssetCheckSeverity.WARN,
                   check_first=fix if values else None)


@dg.asset_check(asset=subscribers, name="user_types", pool=DUCKDB_POOL,
                description="Every user_type is regular (or empty) or a service type of "
                "thresholds.service_user_types (warns naming the others, whose numbers are "
                "counted as regular). Judges the subscribers' numbers.")
def subscribers_user_types(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = user_types(con)
        hidden = _holds_identifiers(con, "user_types_subscribers.user_type")
    unknown = out["unknown_types"]
    shown = HIDDEN_VALUES if hidden else ", ".join(
        f"{t['user_type']} ({t['numbers']})" for t in unknown[:10])
    fix = (f"{out['unknown_numbers']} numbers of user types neither regular nor service "
           f"({shown}{', ...' if len(unknown) > 10 else ''}) are counted as regular: "
           f"{USER_TYPES_FIX}")
    return verdict(not unknown, out["numbers"],
                   {**out, "unknown_types": [] if hidden else unknown[:10]},
                   None if out["numbers"] else "no subscriber number",
                   dg.AssetCheckSeverity.WARN, check_first=fix if unknown else None)


@dg.asset_check(asset=landed_calls, name="calendar_coverage", pool=DUCKDB_POOL,
                description="Every day of the study calendar has landed calls; days without a "
                "file or without calls, and rows dated outside the calendar, are listed (fails "
                "when nothing landed; warns on days without calls, on days with fewer than "
                "half the median day's calls (a file cut short), and when rows dated more "
                "than a week outside the calendar, times misread, are "
                "thresholds.quarantine_warn_share of the rows read).")
def landed_calls_calendar_coverage(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        cov = calendar_coverage(con, study.config, study.contract())
        # nothing landed and rows quarantined: the quarantine's top reason, not the calendar
        fix = (check_first(quarantine_reasons(con, "landed_calls")) if not cov["rows_landed"]
               else None)
    days = [str(d) for d in cov["days_without_calls"]]
    far = far_outside_problem(cov, study.config.thresholds.quarantine_warn_share)
    # the misread times first: they may be why days lack calls
    missing = (f"{len(days)} days of the calendar without calls ({', '.join(days[:5])}"
               f"{', ...' if len(days) > 5 else ''}): the files of those days, or the calendar"
               if days else None)
    short = short_days_problem(cov)
    hint = (f"no call landed; most rows quarantined as {fix}" if fix
            else "; ".join(text for text in (far, missing, short) if text) or None)
    return verdict(not cov["days_without_calls"] and cov["rows_landed"] > 0 and not far
                   and not short,
                   cov["days_in_calendar"], cov,
                   severity=dg.AssetCheckSeverity.ERROR if cov["rows_landed"] == 0 else
                   dg.AssetCheckSeverity.WARN, check_first=hint)


@dg.asset_check(asset=landed_calls, name="time_of_day", pool=DUCKDB_POOL,
                description="The calls' quietest three hours of the day are a night (starting "
                "22:00-05:00 city time) and far quieter than the day: times read in the wrong "
                "zone (local times declared UTC) or two zones mixed in one column show "
                "otherwise (warns, from 1,000 landed calls). Judges the landed calls.")
def landed_calls_time_of_day(study: StudyResource) -> dg.AssetCheckResult:
    return _landed_calls_warning(study, time_of_day, "calls")


def _landed_calls_warning(study: StudyResource, judge: Callable[[duckdb.DuckDBPyConnection], dict],
                          judged: str) -> dg.AssetCheckResult:
    """A check of the landed calls that warns: ``judge`` gives its figures, ``judged`` the
    count judged among them, and ``problem``, None when it passes."""
    with study.connect() as con:
        out = judge(con)
    problem = out.pop("problem")
    return verdict(problem is None, out[judged], out, None if out[judged] else "no landed call",
                   dg.AssetCheckSeverity.WARN, check_first=problem)


@dg.asset_check(asset=landed_calls, name="durations_agree", pool=DUCKDB_POOL,
                description="A file with both an end and a duration of each call gives one "
                "length: the column not read (the end from end_ts, or start_ts + duration "
                "when duration is mapped) disagrees by more than a second (a minute stamped "
                "to the minute) on few calls (warns from 1% of the landed calls).")
def landed_calls_durations_agree(study: StudyResource) -> dg.AssetCheckResult:
    return _landed_calls_warning(study, durations_agree, "rows_landed")


@dg.asset_check(asset=landed_calls, name="number_forms", pool=DUCKDB_POOL,
                description="The calls and the subscribers write each number one way: a "
                "subscriber's number also written with a country code (+86 139…, 0086139…, "
                "86139…) in either file loses some of its calls to the users (fails from 1 in "
                "1,000 of the subscribers' numbers, warns below). Judges the subscribers' "
                "numbers.")
def landed_calls_number_forms(study: StudyResource) -> dg.AssetCheckResult:
    with study.connect() as con:
        out = number_forms(con, study.contract().numbers)
    fix = out.pop("check_first")
    total, found = out["subscriber_numbers"], out["written_two_ways"]
    return verdict(found == 0, total, out, None if total else "no subscriber number",
                   dg.AssetCheckSeverity.ERROR if found >= NUMBER_FORMS_ERROR_SHARE * total
                   else dg.AssetCheckSeverity.WARN, check_first=fix)


# Daily checks of `calls`. A partitioned check's result is tied to the run's partition only
# when the run has one partition; a single-run backfill over a range would record one result
# for no partition. So each daily check judges every partition of its run and, for a range,
# reports one evaluation per day itself (`checks.per_partition`).
@dataclass
class Day:
    """What a daily check judges: the connection, the study, the day's partition key and its
    stored accounting rows; ``facts`` (``calls_day_facts``: one pass over the day's calls) is
    computed once for every check of an op that reads it."""

    con: duckdb.DuckDBPyConnection
    cfg: StudyConfig
    key: str
    parts: list[dict]

    @cached_property
    def facts(self) -> dict[str, int]:
        return calls_day_facts(self.con, date.fromisoformat(self.key))


#: A daily check's judge of one day.
DayJudge = Callable[[Day], dg.AssetCheckResult]


def _daily_checks(op: str, *checks: tuple[str, str, DayJudge, bool]) -> dg.AssetChecksDefinition:
    """One op for the daily checks ``checks`` (name, description, judge, blocking): those the
    run selects judge every partition of the run with the day's facts read once."""
    specs = [(dg.AssetCheckSpec(name, asset=calls, blocking=blocking, partitions_def=study_days,
                                description=description), judge)
             for name, description, judge, blocking in checks]

    @dg.multi_asset_check(name=f"calls_{op}", specs=[spec for spec, _ in specs], can_subset=True,
                          pool=DUCKDB_POOL)
    def _check(context: dg.AssetCheckExecutionContext, study: StudyResource) -> Iterator:
        chosen = [(s, judge) for s, judge in specs if s.key in context.selected_asset_check_keys]
        with study.connect() as con:
            parts = row_accounting(con, "calls")  # every day's, read once
            days = [Day(con, study.config, k, [p for p in parts if p["part"] == k])
                    for k in context.partition_keys]
            results = [(s, {d.key: judge(d) for d in days}) for s, judge in chosen]
        yield from per_partition(context, results)

    return _check


def _day_accounting(day: Day) -> dg.AssetCheckResult:
    return _accounting_verdict(day.parts)


def _day_share(day: Day) -> dg.AssetCheckResult:
    return _share_verdict(day.cfg, day.parts, quarantine_reasons(day.con, "calls", day.key))


def _day_unjudged(day: Day, read: int) -> str | None:
    """Why a day with ``read`` landed rows has nothing to judge (None: it has some)."""
    return None if read else "no calls landed on this day" if day.parts else \
        "the day is not ingested yet"


def _day_accepted(day: Day) -> dg.AssetCheckResult:
    read = sum(p["rows_read"] for p in day.parts)
    accepted = sum(p["rows_accepted"] for p in day.parts)
    fix = (check_first(quarantine_reasons(day.con, "calls", day.key)) if read and not accepted
           else None)
    return verdict(accepted > 0, read, {"rows_landed": read, "rows_accepted": accepted},
                   _day_unjudged(day, read), check_first=fix)


def _day_cells(day: Day) -> dg.AssetCheckResult:
    f = day.facts
    return verdict(f["calls_unknown_cell"] == 0, f["calls"],
                   {"calls_unknown_cell": f["calls_unknown_cell"]},
                   None if f["calls"] else "no call stored on this day")


def _day_linked(day: Day) -> dg.AssetCheckResult:
    f = day.facts
    n, linked = f["calls"], f["calls_with_a_subscriber"]
    fix = (UNLINKED_FIX if f["subscribers"] else NO_SUBSCRIBER_FIX) if n and not linked \
        else None
    return verdict(linked > 0, n, {"calls_accepted": n, "calls_with_a_subscriber": linked,
                                   "share_linked": tidy(linked / n) if n else 0.0},
                   None if n else "no call stored on this day", check_first=fix)


def _day_records(day: Day) -> dg.AssetCheckResult:
    read = sum(p["rows_read"] for p in day.parts)
    apart = sum(p["records_stamped_apart"] for p in day.parts)
    return verdict(apart == 0, read, {"rows_landed": read, "records_stamped_apart": apart},
                   _day_unjudged(day, read),
                   dg.AssetCheckSeverity.ERROR if apart >= STAMPED_APART_ERROR_SHARE * read
                   else dg.AssetCheckSeverity.WARN,
                   check_first=f"{apart} callee records stand as calls beside their caller's "
                   f"record: {STAMPED_APART_FIX}" if apart else None)


def _day_duplicates(day: Day) -> dg.AssetCheckResult:
    read = sum(p["rows_read"] for p in day.parts)
    earlier = any(p["duplicates_differing"] is None for p in day.parts)
    differing = sum(p["duplicates_differing"] or 0 for p in day.parts)
    return verdict(differing == 0, 0 if earlier else read,
                   {"rows_landed": read, "duplicates_differing": differing},
                   "the day was ingested by an earlier version, which did not compare a call's "
                   "duplicate records: materialize calls again" if earlier
                   else _day_unjudged(day, read), dg.AssetCheckSeverity.WARN,
                   check_first=f"{differing} duplicate record{'s' if differing != 1 else ''} of "
                   f"calls end at another time than the record kept: {CALL_DUPLICATES_FIX}"
                   if differing else None)


def _day_partial(day: Day) -> dg.AssetCheckResult:
    f = day.facts
    n, continuing = f["calls"], f["calls_continuing"]
    share = continuing / n if n else 0.0
    return verdict(share < PARTIAL_RECORDS_WARN_SHARE, n,
                   {"calls_accepted": n, "calls_continuing": continuing,
                    "share": tidy(share)},
                   None if n else "no call stored on this day",
                   dg.AssetCheckSeverity.ERROR if share >= PARTIAL_RECORDS_ERROR_SHARE
                   else dg.AssetCheckSeverity.WARN,
                   check_first=f"{continuing} calls start within a second of the end of the "
                   f"previous call of their pair: {PARTIAL_RECORDS_FIX}"
                   if share >= PARTIAL_RECORDS_WARN_SHARE else None)


def _day_durations(day: Day) -> dg.AssetCheckResult:
    f = day.facts
    timed, median = f["timed_calls"], f["median_duration_s"]
    short = timed >= MIN_TIMED_CALLS and median < MIN_MEDIAN_DURATION_S
    return verdict(not short, timed,
                   {"timed_calls": timed, "median_duration_s": tidy(median or 0.0)},
                   None if timed >= MIN_TIMED_CALLS else
                   f"fewer than {MIN_TIMED_CALLS} timed calls on this day",
                   dg.AssetCheckSeverity.WARN,
                   check_first=f"the day's timed calls last {tidy(median)} s at the median: "
                   f"{DURATIONS_FIX}" if short else None)


def _day_start_times(day: Day) -> dg.AssetCheckResult:
    f = day.facts
    calls, midnight = f["calls"], f["calls_at_midnight"]
    bad = calls >= MIN_TIMED_CALLS and midnight >= MIDNIGHT_SHARE * calls
    return verdict(not bad, calls, {"calls": calls, "calls_at_midnight": midnight},
                   None if calls else "no call on this day", dg.AssetCheckSeverity.WARN,
                   check_first=f"{midnight:,} of the day's {calls:,} calls start at 00:00:00: "
                   f"{MIDNIGHT_FIX}" if bad else None)


def _day_located(day: Day) -> dg.AssetCheckResult:
    f = day.facts
    sides = {"caller": (f["calls_from_a_subscriber"], f["calls_from_a_subscriber_without_cell"]),
             "callee": (f["calls_to_a_subscriber"], f["calls_to_a_subscriber_without_cell"])}
    bare = [f"{missing:,} of the day's {n:,} calls {'from' if side == 'caller' else 'to'} a "
            f"subscriber have no {side} cell" for side, (n, missing) in sides.items()
            if n >= LOCATED_MIN_CALLS and missing >= LOCATED_SIDE_SHARE * n]
    judged = sum(n for n, _ in sides.values()) if f["cells"] else 0
    facts = {k: f[k] for k in ("calls_from_a_subscriber", "calls_from_a_subscriber_without_cell",
                               "calls_to_a_subscriber", "calls_to_a_subscriber_without_cell")}
    return verdict(not bare, judged, facts,
                   None if judged else "no cell locations, or no call with a subscriber",
                   dg.AssetCheckSeverity.WARN,
                   check_first=f"{'; '.join(bare)}: {LOCATED_SIDE_FIX}" if bare else None)


calls_checks = [
    _daily_checks("row_accounting",
                  ("row_accounting", ACCOUNTING + "; per day.", _day_accounting, True)),
    _daily_checks("quarantine_share",
                  ("quarantine_share", SHARE + "; per day.", _day_share, False),
                  ("duplicates_agree", "The records of a call agree: warns naming the duplicate "
                   "records of a call (one caller, callee and start) that end at another time "
                   "than the one kept, the one that ends last (a copy cut at a file's end).",
                   _day_duplicates, False)),
    _daily_checks("per_party_records", (
        "per_party_records", "A per-party export's callee record is one call with its caller's "
        "record: fails when 1% of the day's rows are callee records kept as calls with the "
        "caller's record of the same two parties within 60 s (records stamped apart, each call "
        "counted twice: directions.match_within_s), warns below.", _day_records, False)),
    _daily_checks("accepted_rows", (
        "accepted_rows", "A day with landed calls keeps some of them (fails when every row of a "
        "day is quarantined; warns on a day without calls).", _day_accepted, False)),
    # the checks that read the day's calls share one pass over them (Day.facts)
    _daily_checks(
        "stored_facts",
        ("cells_known", "Every stored call's cells are in the cells table.", _day_cells, False),
        ("linked_to_subscribers", "Some stored calls of the day have a subscriber at one end "
         "(fails when no call links to a subscriber: numbers written differently in calls and "
         "subscribers).", _day_linked, False),
        ("partial_records", "A long call is one call: warns from 0.1% and fails from 1% of the "
         "day's calls starting within a second after the previous call of their caller and "
         "callee ended (partial records: calls.partial_records_within_s).", _day_partial,
         False),
        ("durations", f"Durations are seconds: warns when the day's timed calls (at least "
         f"{MIN_TIMED_CALLS}) last under {MIN_MEDIAN_DURATION_S} s at the median (durations in "
         "minutes read as seconds: calls.duration_unit: min).", _day_durations, False),
        ("start_times", f"Calls start at their time of day: warns when a tenth or more of the "
         f"day's calls (from {MIN_TIMED_CALLS}) start at 00:00:00 exactly (a date without its "
         "time read as midnight).", _day_start_times, False),
        ("located_sides", f"Both parties' cells are given: warns when "
         f"{LOCATED_SIDE_SHARE:.0%} or more of the day's calls from (or to) a subscriber (from "
         f"{LOCATED_MIN_CALLS}) have no cell for her (an export that logs the caller's cell "
         "only: her places would rest on the calls she made).", _day_located, False)),
]
