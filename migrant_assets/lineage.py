"""What each table was built from, so that a re-run on changed data never mixes old and new
(docs/architecture.md, "Re-runs").

Every asset of the pipeline's stages records, when it is written, a **version** of each of its
partitions and what that version was **built from**: the versions of every asset partition it
read, directly or through its inputs, and of the study settings its stage reads
(:data:`SETTINGS`). A version is a hash of what went in (the inputs' versions, the settings, the
source files' bytes), so the same inputs give the same version and an identical re-run changes
nothing downstream. The versions live in the DuckDB file (``built_from``), beside the tables.

Before an asset is built, :func:`plan` refuses, with the assets to materialize again, when

- an asset it reads has never been materialized in the study's DuckDB file (``required``: no
  version and no table, or an ingestion asset's empty table): Dagster lets a user
  materialize any asset alone, and one built on an empty input (calls landed before the cells,
  a day of calls before the landing) would hold nothing, or every row quarantined, with
  nothing to say why; one built on a missing table would fail on DuckDB's own error. A
  partition of an asset is refused the same way when a partition of its input it maps to was
  never materialized while others were (a week's graph without one of its days' contacts);
- a source file (calls, subscribers, cells, estates) changed, appeared or disappeared since the
  asset that lands it read it (``source_files``: a hash of each file's path, its size,
  time stamp (:func:`stamp`) and SHA-256; a file whose size and stamp are unchanged is not read
  again);
- an input was built from an asset partition that has been materialized again since with other
  contents, or that had no version when it was read (:data:`UNKNOWN`) and has one now, or
  under other settings of its stage than the study config's now.

The calls are landed once for the whole month (`landed_calls`) but read by day: the version of
each day of `landed_calls` is a hash of that day's landed rows (:data:`SLICES`), so a day file
corrected and landed again makes only that day's `calls` out of date.

Versions, hashes and asset names only: never a path, a number or a value of a row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from migrant_assets.config import FilesSource, StudyConfig
from migrant_assets.contract import DataContract
from migrant_assets.db import has_table, run_schema_sql, run_sql, transaction
from migrant_assets.errors import InputError

#: The settings of the study config each stage reads (dotted paths; ``mapping``: the bytes of the
#: mapping file; ``pseudonym_key``: MIGRANT_ASSETS_KEY, as a hash of it). A change of one marks
#: the stage's tables out of date; a change of any other (checks, DuckDB, engine, work
#: directory) does not.
SETTINGS: dict[str, tuple[str, ...]] = {
    "ingest": ("calendar", "source", "mapping", "pseudonym_key", "city.province",
               "city.timezone", "city.min_lat", "city.max_lat", "city.min_lon", "city.max_lon",
               "thresholds.max_numbers_per_owner", "thresholds.service_user_types",
               "thresholds.min_price_per_sqm", "thresholds.max_price_per_sqm"),
    "labels": ("calendar", "population", "thresholds.max_degree", "thresholds.min_day_share",
               "thresholds.dense_day_calls"),
    "graphs": ("calendar", "population"),
    "features": ("calendar", "population", "city.center_lat", "city.center_lon",
                 "thresholds.similar_age_departure", "thresholds.similar_age_integration"),
    "models": ("calendar", "models", "thresholds.min_class_size", "thresholds.min_day_share",
               "thresholds.dense_day_calls"),
    "reports": ("calendar", "models", "city.currency", "city.districts_geojson",
                "city.districts_crs", "thresholds.min_group_size", "thresholds.min_day_share",
                "thresholds.dense_day_calls"),
    # the early warning, asset by asset (a setting of the models or of the evaluation does not
    # make the daily features out of date, which a live feed would have to rebuild: review 99)
    "features_arrival_days": ("calendar", "population", "city.province", "city.center_lat",
                              "city.center_lon", "thresholds.similar_age_departure",
                              "thresholds.similar_age_integration",
                              "early_warning.horizon_days", "early_warning.min_silent_days"),
    "early_warning_models": ("calendar", "models", "thresholds.min_class_size",
                             "thresholds.min_day_share", "thresholds.dense_day_calls",
                             *(f"early_warning.{name}" for name in (
                                 "horizon_days", "min_silent_days", "train_arrivals",
                                 "classifier", "calibration", "calibration_folds",
                                 "flag_alpha"))),
    "departure_risk": ("calendar", "thresholds.min_day_share", "thresholds.dense_day_calls",
                       "early_warning.horizon_days", "early_warning.min_silent_days",
                       "early_warning.models_from"),
    "early_warning_evaluation": ("thresholds.min_group_size", "models.seed",
                                 "early_warning.reliability_bins",
                                 "early_warning.random_rankings"),
}
#: The stages whose settings are listed asset by asset in :data:`SETTINGS`.
SETTINGS_BY_ASSET = frozenset({"early_warning"})
#: The settings no stage's tables depend on, with the reason (a test holds every setting of
#: the study config in :data:`SETTINGS` or here, so a new one is placed on purpose).
UNTRACKED: dict[str, str] = {
    "thresholds.quarantine_warn_share": "read by the asset checks only",
    "thresholds.quarantine_error_share": "read by the asset checks only",
    "checks": "read by the asset checks only",
    "workdir": "where the files are, not what they hold",
    "duckdb": "how DuckDB runs (memory, threads, spill, passes), not what it computes",
    "engine": "which engine computes the features (Spark's equal DuckDB's, "
              "migrant_assets_tests/test_spark.py)",
    "early_warning.enabled": "which assets the main job runs, not what they compute",
}
#: Unpartitioned assets read by day: the SQL giving each day's version (``part``, ``version``).
SLICES = {"landed_calls": "lineage/landed_calls_days.sql"}
#: The version of an input that had none when it was read (built before versions were
#: recorded, or never materialized): out of date once the input has one.
UNKNOWN = "unknown"
#: Assets built from whatever their inputs hold, which say what is missing and why (the
#: report, and the findings, untested with the reason): never refused for an input not yet
#: materialized, and run by the demo even when something they read failed.
BUILT_FROM_WHAT_EXISTS = frozenset({"findings", "report"})
#: Assets that read every day of the calls and say themselves which days lack calls (the
#: labels are withheld, naming the days): not refused for a day not yet materialized.
NAMES_DAYS_WITHOUT_CALLS = frozenset({
    "user_labels",
    # the early warning's features of a day after a day without calls are not scored:
    # departure_risk lists the day in days_not_scored (a live feed that missed a day goes on)
    "features_arrival_days"})
#: The source of each contract table (the mapping's files) and the asset that lands it.
LANDED_BY = {"calls": "landed_calls", "subscribers": "subscribers", "cells": "cells",
             "estates": "estates"}
#: The tables each partitioned asset writes by partition, with the column that holds the
#: partition (``window_id``: ``<family>:<key>``, or ``arrival_days:<arrival day>/<key>``; else
#: the key, a day), its own first. When the
#: calendar no longer has a partition (a smaller ``k_max``, a later ``month_start``),
#: :func:`record` drops its rows the next time the asset writes, so that no table keeps a window
#: of an earlier calendar (a test holds every partitioned asset of the stages here).
PARTITION_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "calls": (("calls", "call_date"), ("quarantine_calls", "partition_key"),
              ("accounting_calls", "partition_key")),
    "daily_contacts": (("daily_contacts", "call_date"),),
    "first_k_days_contacts": (),  # a view over daily_contacts: its records only
    "integration_week_graph": (("integration_week_graph", "window_id"),),
    "departure_week_graph": (("departure_week_graph", "window_id"),),
    "whole_period_graph": (("whole_period_graph", "window_id"),),
    "first_k_days_graph": (("first_k_days_graph", "window_id"),
                           ("first_k_days_graph_neighbourhood", "window_id")),
    "features_integration_weeks": (("features_integration_weeks", "window_id"),),
    "features_departure_weeks": (("features_departure_weeks", "window_id"),),
    "features_whole_period": (("features_whole_period", "window_id"),),
    "features_first_k_days": tuple((f"features_first_k_days{suffix}", "window_id") for suffix in (
        "", "_sums", "_places", "_moves", "_moments", "_positions", "_triangles")),
    "departure_models": tuple((f"departure_models{suffix}", "window_id") for suffix in (
        "", "_fold_metrics", "_splits", "_fitted")),
    # a window id 'arrival_days:<arrival day>/<end day>' is of partition <end day>; the daily
    # sums of a day the calendar no longer has are dropped with it
    "features_arrival_days": (("features_arrival_days", "window_id"),
                              ("arrival_days_graph", "window_id"),
                              ("arrival_days_windows", "end_day"),
                              *((f"arrival_days_daily_{kind}", "call_date")
                                for kind in ("sums", "places", "moves", "moments"))),
    "departure_risk": (("departure_risk", "call_date"),),
}
#: The ingestion's assets, each stored as the table of its name: the ingestion's schema creates
#: them all, empty, whichever of them runs first.
INGESTED = frozenset({*LANDED_BY.values(), "calls"})


@dataclass(frozen=True)
class Target:
    """One partition (``part``, None when unpartitioned) of an asset a step writes, with the key
    of the settings it reads (its stage, :func:`settings_key`) and the asset partitions it
    reads (``(asset, part)``)."""

    asset: str
    part: str | None
    group: str
    parents: tuple[tuple[str, str | None], ...]
    #: the assets of :data:`LANDED_BY` it is built from, directly or not
    lands: tuple[str, ...] = ()
    #: the assets among its parents that record their versions (the stages' assets, not a
    #: source's files or itself), each with its table: each must have been materialized
    #: before it is built
    required: tuple[tuple[str, str], ...] = ()
    #: every partition the asset has under the study's calendar now (partitioned assets;
    #: none given: nothing is dropped, :func:`drop_left_partitions`)
    partitions: tuple[str, ...] = ()


@dataclass
class Plan:
    """What one step records when it has written its tables (:func:`record`)."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    files: dict[str, list[list]] = field(default_factory=dict)
    slices: tuple[str, ...] = ()
    #: the settings versions the rows were built under: version -> (stage, JSON of
    #: :func:`setting_hashes`), so that a later change names the settings that changed
    settings: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: each partitioned asset written -> its partitions under the calendar now
    partitions: dict[str, tuple[str, ...]] = field(default_factory=dict)


def settings_key(asset: str, group: str) -> str | None:
    """The key of :data:`SETTINGS` an asset of stage ``group`` records its settings under (its
    stage's, or its own for :data:`SETTINGS_BY_ASSET`); None for an asset that keeps no
    lineage (the synthetic city)."""
    key = asset if group in SETTINGS_BY_ASSET else group
    return key if key in SETTINGS else None


def unread_inputs(cfg: StudyConfig) -> frozenset[tuple[str, str]]:
    """The inputs of the asset graph (reader, input) that the asset does not read, or that the
    study's settings leave unread; neither required nor judged out of date:

    - ``features_arrival_days``' previous day: an order for backfills only, as a day's
      windows are summed from the calls' days (the daily sums of a day whose calls changed
      are summed again: ``day_sums_status.sql``); a day out of date would stop every later
      one of a live feed (review 99 H2);
    - the ``report``'s ``early_warning_evaluation``: the report says itself when the
      evaluation is out of date (the main job runs the early warning only when enabled, and
      a report refused for it would stop every later run: review 99 H1);
    - ``departure_risk``'s ``early_warning_models`` when ``early_warning.models_from`` names
      another study's models (it scores with those, and a live feed never trains its own)."""
    unread = {("features_arrival_days", "features_arrival_days"),
              ("report", "early_warning_evaluation")}
    if cfg.early_warning.models_from:
        unread.add(("departure_risk", "early_warning_models"))
    return frozenset(unread)


def entry(asset: str, part: str | None) -> str:
    """The name of an asset partition among versions: ``calls@2016-09-10``, ``user_labels``."""
    return asset if part is None else f"{asset}@{part}"


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _setting(cfg: StudyConfig, path: str) -> Any:
    if path == "pseudonym_key":  # another key gives other pseudonyms
        try:
            return hashlib.sha256(cfg.pseudonym_key.encode()).hexdigest()
        except InputError:
            return None  # the ingestion refuses a missing or weak key itself
    if path == "mapping":
        if not isinstance(cfg.source, FilesSource):
            return None
        try:
            return hashlib.sha256(Path(cfg.source.mapping).read_bytes()).hexdigest()
        except OSError:
            return None  # the ingestion reports an unreadable mapping itself
    value: Any = cfg.model_dump(mode="json")
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def settings_version(cfg: StudyConfig, group: str) -> str:
    """A hash of the settings of ``cfg`` that stage ``group`` reads (:data:`SETTINGS`)."""
    return _digest(group, {p: _setting(cfg, p) for p in SETTINGS[group]})


def setting_hashes(cfg: StudyConfig, group: str) -> dict[str, str]:
    """A hash of each setting stage ``group`` reads: what :data:`settings_versions` records of a
    version, to name the settings that changed since."""
    return {p: _digest(_setting(cfg, p)) for p in SETTINGS[group]}


#: How an out-of-date message names a setting that is not the study config's own.
SETTING_NAMES = {"pseudonym_key": "the pseudonymisation key (MIGRANT_ASSETS_KEY in the "
                                  "environment of the process that runs the assets)",
                 "mapping": "the mapping file's content",
                 # a files study's source is its mapping file's path: a moved study (probe 24 F5)
                 "source": "source (a synthetic city's settings, or the mapping file's path: "
                           "the same files moved to another folder are read again, and what "
                           "is built from them built again)"}


def _changed_settings(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, group: str,
                      built: set[str]) -> list[str] | None:
    """The settings of stage ``group`` whose hash differs between the versions ``built`` (as
    recorded in ``settings_versions``) and ``cfg``; None when a version is not recorded (a
    DuckDB file written before they were)."""
    now = setting_hashes(cfg, group)
    changed: set[str] = set()
    for version in built:
        row = con.execute("SELECT settings FROM settings_versions WHERE version = ?",
                          [version]).fetchone()
        if row is None:
            return None
        then = json.loads(row[0])
        changed |= {p for p in SETTINGS[group] if then.get(p) != now[p]}
    return [p for p in SETTINGS[group] if p in changed]


#: The form of a path key (:func:`path_key`); a key of another form is an earlier version's.
PATH_KEY = r"k:[0-9a-f]{64}"


def path_key(path: Path, key: str) -> str:
    """What stands for a source file's path (``source_files``, the landing sensor's cursor): an
    HMAC of the path under the pseudonymisation key ``key``. Never the path, nor a plain hash
    of it: a file's name may be a subscriber's number, which a plain hash gives back to
    whoever hashes the numbers one by one."""
    return "k:" + hmac.new(key.encode(), b"source file path\0" + str(path).encode(),
                           hashlib.sha256).hexdigest()


def stamp(st: os.stat_result) -> int:
    """When a file last changed, in ns: the later of its modification time and its status
    change time (ctime, which every write, copy, rename or ``touch`` sets to now and no tool
    sets back). The modification time alone misses a file fixed in place whose old time was put
    back (``touch -r``, ``cp -p``, ``rsync -a``, an archive unpacked: probe 24 F1). On
    Windows, where ctime is the creation time, such a file is not seen."""
    return max(st.st_mtime_ns, st.st_ctime_ns)


def content_hash(paths: list[Path], cache: dict[str, list], key: str) -> str:
    """sha256 of the files' bytes (in path order), each file hashed again only when its size or
    :func:`stamp` changed (``cache``: :func:`path_key` under ``key`` -> [size, stamp, sha256];
    it keeps no path, since a file's name may be a subscriber's number)."""
    digest = hashlib.sha256()
    for p in paths:
        st = os.stat(p)
        key_of = path_key(p, key)
        seen, stamped = cache.get(key_of), stamp(st)
        if seen is None or seen[:2] != [st.st_size, stamped]:
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(block)
            seen = cache[key_of] = [st.st_size, stamped, h.hexdigest()]
        digest.update(seen[2].encode())
    return digest.hexdigest()


def _rekey_source_files(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                        contract: DataContract) -> None:
    """Replace the plain sha256 of a path an earlier version stored in ``source_files`` (which
    gives a number that names a file back) by its :func:`path_key`: a file still there by the
    key of its path, one gone by an HMAC of the old hash (still a file that is gone)."""
    legacy = con.execute("SELECT DISTINCT source, path_key FROM source_files "
                         "WHERE NOT regexp_full_match(path_key, ?)", [PATH_KEY]).fetchall()
    if not legacy:
        return
    key, by_table = cfg.pseudonym_key, {}
    for table in {t for t, _ in legacy}:
        try:
            paths = _source_files(contract, cfg, table)
        except InputError:
            paths = []
        by_table[table] = {hashlib.sha256(str(p).encode()).hexdigest(): path_key(p, key)
                           for p in paths}
    with transaction(con):
        con.executemany("UPDATE source_files SET path_key = ? WHERE source = ? AND path_key = ?",
                        [[by_table[t].get(old) or path_key(Path(old), key), t, old]
                         for t, old in legacy])


def _source_files(contract: DataContract, cfg: StudyConfig, table: str) -> list[Path]:
    days = cfg.calendar.days if table == "calls" else None
    return contract.files(table, days)


def _recorded(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, dict[str, list[str]]]]:
    return {entry(a, p or None): (v, json.loads(i)) for a, p, v, i in con.execute(
        "SELECT asset, part, version, inputs FROM built_from").fetchall()}


def _recorded_files(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, list]]:
    """Per source table, each file read: path hash -> [size, stamp, sha256, day or None]."""
    files: dict[str, dict[str, list]] = {}
    for table, key, size, stamped, sha, day in con.execute(
            "SELECT source, path_key, bytes, modified, sha256, day FROM source_files").fetchall():
        files.setdefault(table, {})[key] = [size, stamped, sha, day and day.isoformat()]
    return files


def _file_days(contract: DataContract, cfg: StudyConfig, table: str) -> dict[str, str]:
    """Path hash -> the one day of the calendar a calls file's path names (a ``{date}`` path,
    ``cdr_20160905.csv``, ``day=2016-09-05/``); files naming none are left out."""
    if table != "calls":
        return {}
    by_day, _ = contract.calls_files_by_day(cfg.calendar.days)
    key = cfg.pseudonym_key
    return {path_key(p, key): d.isoformat() for d, paths in by_day.items() for p in paths}


def _changed_sources(con: duckdb.DuckDBPyConnection, cfg: StudyConfig,
                     contract: DataContract | None,
                     tables: dict[str, set[str] | None]) -> dict[str, str]:
    """Each source of ``tables`` whose files are not those its landing asset read, with what
    changed: of the files that name one of the days given (``None``: every file), and of those
    that name no day."""
    if contract is None:
        return {}
    out = {}
    for table, seen in sorted(_recorded_files(con).items()):
        if table not in tables:
            continue
        days = tables[table]
        try:
            paths = _source_files(contract, cfg, table)
        except InputError:
            paths = []
        named = _file_days(contract, cfg, table)
        key = cfg.pseudonym_key
        keys = {p: path_key(p, key) for p in paths}
        # a file by the day its path names, or named when it was read (a day before the month
        # the calendar's paths still match: not a new file; probe 36 L1); a file's name may be
        # a phone number: never shown
        day_of = {**{k: v[3] for k, v in seen.items()}, **named}
        if days is not None:
            paths = [p for p in paths if day_of.get(keys[p]) is None or day_of[keys[p]] in days]
            seen = {k: v for k, v in seen.items() if v[3] is None or v[3] in days}
        cache = {k: list(v[:3]) for k, v in seen.items()}
        try:
            content_hash(paths, cache, key)
        except OSError as e:
            out[table] = f"a file cannot be read ({e.strerror})"
            continue
        # the same bytes under a new stamp (a chmod, a copy, a backup restored, an earlier
        # version's stamp): kept, so that the next step does not read the file again
        restamped = [[*cache[k][:2], table, k] for k in cache.keys() & seen.keys()
                     if cache[k][2] == seen[k][2] and cache[k][:2] != seen[k][:2]]
        if restamped:
            con.executemany("UPDATE source_files SET bytes = ?, modified = ? "
                            "WHERE source = ? AND path_key = ?", sorted(restamped))
        now = {keys[p] for p in paths}
        calendar = {d.isoformat() for d in cfg.calendar.days}
        # a file of a day the calendar no longer has is not read again, though it is there:
        # said so, not as gone (probe 36 L1)
        left = [k for k in seen.keys() - now if day_of.get(k) and day_of[k] not in calendar]
        which = {"changed": [k for k in now if k in seen and cache[k][2] != seen[k][2]],
                 "new": list(now - seen.keys()), "gone": list(seen.keys() - now - set(left)),
                 "of a day the calendar no longer has": left}
        if now and not now & seen.keys() and sorted(cache[k][2] for k in now) == sorted(
                v[2] for v in seen.values()):
            # the same bytes under other keys: another pseudonymisation key (a key of the
            # path's), which the out-of-date refusal names as such, not changed files
            continue
        if any(which.values()):
            out[table] = ", ".join(f"{len(keys)} {what}{_days_of(keys, day_of)}"
                                   for what, keys in which.items() if keys)
    return out


def _days_of(keys: list[str], day_of: dict[str, str | None]) -> str:
    """``: the files of 2016-09-05, 2016-09-06``: the days the files of ``keys`` (path keys)
    name, when each names one; else nothing."""
    days = sorted({day_of.get(k) or "" for k in keys})
    if not days or "" in days:
        return ""
    return f": the file{'s' if len(keys) > 1 else ''} of {', '.join(days[:3])}" + (
        ", ..." if len(days) > 3 else "")


def _parts(entries: Iterable[str]) -> str:
    """``calls (2016-09-10, 2016-09-20)``: the asset partitions of ``entries``, by asset."""
    by_asset: dict[str, list[str]] = {}
    for e in sorted(entries):
        asset, _, part = e.partition("@")
        by_asset.setdefault(asset, [])
        if part:
            by_asset[asset].append(part)
    shown = []
    for asset, parts in by_asset.items():
        if not parts:
            shown.append(asset)
        else:
            more = f" and {len(parts) - 3} more" if len(parts) > 3 else ""
            shown.append(f"{asset} ({', '.join(parts[:3])}{more})")
    return ", ".join(shown)


def _settings_changed(group: str, changed: list[str] | None) -> str:
    """What an out-of-date message says of stage ``group``'s settings: those that changed
    (:func:`_changed_settings`), or all of them when that is not known."""
    if changed:
        return f"the {group} settings changed: " + ", ".join(
            SETTING_NAMES.get(p, p) for p in changed)
    return f"the study config's {group} settings ({', '.join(SETTINGS[group])}) changed"


def plan(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, contract: DataContract | None,
         targets: list[Target]) -> Plan:
    """Check that what ``targets`` read is up to date with its own inputs, and compute their
    versions. Raises :class:`InputError` naming what to materialize again when it is not."""
    run_schema_sql(con, "lineage/schema.sql")
    recorded = _recorded(con)
    if not isinstance(cfg.source, FilesSource):
        contract = None  # the synthetic city: its files are the synthetic_city asset's
    # an ingestion asset of a file the mapping leaves out (cells, estates) builds an empty
    # table: nothing to wait for
    left_out = {asset for table, asset in LANDED_BY.items()
                if contract is not None and contract.source(table) is None}
    if contract is not None:
        _rekey_source_files(con, cfg, contract)
    _refuse_never_built(con, recorded, targets, left_out)
    settings = {g: settings_version(cfg, g) for g in SETTINGS}
    slices = {a for a in SLICES if any(k.startswith(f"{a}@") for k in recorded)}

    def current(name: str) -> str | None:
        if name.startswith("settings:"):
            return settings.get(name.removeprefix("settings:"))
        if name in recorded:
            return recorded[name][0]
        asset, _, part = name.partition("@")
        return _digest(asset, part, "no rows") if part and asset in slices else None

    own = {entry(t.asset, t.part) for t in targets}
    sources = {table for table, asset in LANDED_BY.items()
               if contract is not None and contract.source(table) is not None
               and any(t.asset == asset for t in targets)}
    out = Plan(slices=tuple(sorted({t.asset for t in targets} & SLICES.keys())),
               settings={settings[g]: (g, json.dumps(setting_hashes(cfg, g), sort_keys=True))
                         for g in sorted({t.group for t in targets})},
               partitions={t.asset: t.partitions for t in targets
                           if t.partitions and t.asset in PARTITION_TABLES})
    versions: dict[str, tuple[str, dict[str, list[str]]]] = {}
    todo = sorted(targets, key=lambda t: (t.asset, t.part or ""))
    while todo:
        waiting = []
        for t in todo:
            names = [_read_as(a, p, t.part, slices) for a, p in t.parents]
            if any(n in own and n not in versions and n != entry(t.asset, t.part)
                   for n in names):
                waiting.append(t)
                continue
            inputs: dict[str, set[str]] = {f"settings:{t.group}": {settings[t.group]}}
            for n in names:
                got = versions.get(n) or recorded.get(n)
                version = got[0] if got else current(n) or UNKNOWN
                inputs.setdefault(n, set()).add(version)
                for inp, vs in (got[1].items() if got else ()):
                    inputs.setdefault(inp, set()).update(vs)
            files = {}
            for table in sources:
                if LANDED_BY[table] == t.asset:
                    paths = _source_files(contract, cfg, table)
                    cache = {k: v[:3] for k, v in _recorded_files(con).get(table, {}).items()}
                    files[table] = content_hash(paths, cache, cfg.pseudonym_key)
                    named = _file_days(contract, cfg, table)
                    out.files[table] = [[k, *cache[k], named.get(k)]
                                        for k in sorted({path_key(p, cfg.pseudonym_key)
                                                         for p in paths})]
            inputs_json = {k: sorted(v) for k, v in sorted(inputs.items())}
            version = _digest(t.asset, t.part, inputs_json, files)
            versions[entry(t.asset, t.part)] = (version, inputs_json)
            out.rows.append((t.asset, t.part or "", version, json.dumps(inputs_json)))
        if len(waiting) == len(todo):  # a cycle cannot happen in an asset graph
            raise RuntimeError(f"cannot order {[entry(t.asset, t.part) for t in todo]}")
        todo = waiting

    # the source files of what the targets read, each landed table's by the days they read
    judged: dict[str, set[str] | None] = {}
    for t in targets:
        inputs = versions[entry(t.asset, t.part)][1]
        for table, asset in LANDED_BY.items():
            if asset not in t.lands or table in sources:
                continue
            days = {n.partition("@")[2] for n in inputs if n.startswith(f"{asset}@")}
            whole = asset in inputs or not days or judged.get(table, set()) is None
            judged[table] = None if whole else judged.get(table, set()) | days
    changed = _changed_sources(con, cfg, contract, judged)
    if changed:
        raise InputError(
            "; ".join(f"the {t} files changed since {LANDED_BY[t]} read them ({what})"
                      for t, what in changed.items()), "the mapping's files",
            "materialize " + " and ".join(LANDED_BY[t] for t in changed) + " again, then what "
            "reads them (migrant-assets demo rebuilds everything in order)")

    # a parent's inputs that were materialized again since it was built
    stale: dict[str, set[str]] = {}
    built_under: dict[str, set[str]] = {}  # a changed input -> the versions it was read at
    for t in targets:
        for asset, part in t.parents:
            name = _read_as(asset, part, t.part, slices)
            for read in {name, entry(asset, part)} - own:  # a day of a slice: the whole too
                for inp, built in recorded.get(read, ("", {}))[1].items():
                    now = current(inp)
                    if now is not None and any(v != now for v in built):
                        stale.setdefault(read, set()).add(inp)
                        built_under.setdefault(inp, set()).update(
                            v for v in built if v != now)
    if stale:
        parts = _parts(stale)
        causes = {i for ins in stale.values() for i in ins}
        since = [f"{_parts(c for c in causes if not c.startswith('settings:'))} changed"] \
            if any(not c.startswith("settings:") for c in causes) else []
        since += [_settings_changed(group, _changed_settings(con, cfg, group, built_under[c]))
                  for c in sorted(causes) if c.startswith("settings:")
                  for group in [c.removeprefix("settings:")]]
        first = _first_to_build(recorded, current, set(stale) - own)
        last = set(stale) - first
        order = f"materialize {parts} again first" if not last else (
            f"materialize {_parts(first)} again first, then what reads "
            f"{'it' if len(first) == 1 else 'them'}, up to {_parts(last)}")
        raise InputError(
            f"{parts} {'is' if len(stale) == 1 else 'are'} out of date: since "
            f"{'it was' if len(stale) == 1 else 'they were'} built, " + "; ".join(since),
            ", ".join(sorted({t.asset for t in targets})),
            f"{order} (each is checked the same way; migrant-assets demo rebuilds everything "
            "in order)")
    return out


def out_of_date(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, asset: str,
                parts: Iterable[str | None] = (None,)) -> InputError | None:
    """Why ``parts`` of the recorded ``asset`` are out of date with what they were built from
    (what :func:`plan` says to a step reading them: ``what`` and ``fix``), or None: up to
    date, or never recorded. For a reader that says so itself rather than being refused
    (:func:`unread_inputs`), and for the early warning's scores, which nothing reads."""
    if not has_table(con, "built_from"):
        return None
    try:
        plan(con, cfg, None, [Target(f"a reader of {asset}", None, "reports",
                                     tuple((asset, p) for p in parts))])
    except InputError as e:
        return e
    return None


def recorded_parts(con: duckdb.DuckDBPyConnection, asset: str) -> list[str]:
    """The partitions of ``asset`` recorded in ``built_from``, in order."""
    if not has_table(con, "built_from"):
        return []
    return [p for (p,) in con.execute(
        "SELECT part FROM built_from WHERE asset = $asset AND part <> '' ORDER BY part",
        {"asset": asset}).fetchall()]


def _first_to_build(recorded: dict[str, tuple[str, dict[str, list[str]]]],
                    current: Callable[[str], str | None], stale: set[str]) -> set[str]:
    """Of the out-of-date entries ``stale`` and the recorded entries they were built from
    (a record lists every input, directly or through others), the out-of-date ones built from
    no other out-of-date one: what to materialize again first, so that a user is not refused
    one level further up at each try. A day of a slice (:data:`SLICES`, ``landed_calls@…``,
    whose record lists no input) stands for its asset, whose record lists what the whole was
    built from (the subscribers: probe 24 F4)."""
    def inputs(name: str) -> dict[str, list[str]]:
        return recorded.get(name, ("", {}))[1]

    def whole(name: str) -> str:
        asset = name.partition("@")[0]
        return asset if asset in SLICES and asset in recorded else name

    def out_of_date(name: str) -> bool:
        return any((now := current(i)) is not None and any(v != now for v in built)
                   for i, built in inputs(name).items())

    candidates = stale | {whole(i) for s in stale for i in inputs(s) if i in recorded}
    behind = {c for c in candidates if c in stale or out_of_date(c)}
    return {c for c in behind if not ({whole(i) for i in inputs(c)} & behind)} or stale


def _refuse_never_built(con: duckdb.DuckDBPyConnection,
                        recorded: dict[str, tuple[str, dict[str, list[str]]]],
                        targets: list[Target], left_out: set[str]) -> None:
    """An :class:`InputError` naming the assets ``targets`` read (``required``) that have never
    been materialized in the study's DuckDB file: no version recorded and no table, or, for an
    ingestion asset in a file whose ingestion records its versions, an empty table, as the
    ingestion's schema leaves those it has not filled (the calls landed before the cells would
    all be quarantined, a day of calls read before its partition is built would hold none). A
    table written before versions were recorded, or by the pipeline's functions outside
    Dagster, counts as built, and so does an ingestion asset of a file the mapping leaves out
    (``left_out``: its table is empty however often it is built). A partition of a step reads
    each partition of such an asset it maps to, and so does an unpartitioned asset (except
    :data:`NAMES_DAYS_WITHOUT_CALLS`): one never materialized, where others of the asset were,
    would be missing from it (a week's graph without one of its days, Figure 8 without a k)."""
    recorded_assets = {name.partition("@")[0] for name in recorded}
    built = recorded_assets | {t.asset for t in targets} | left_out
    judged = [t for t in targets if t.asset not in BUILT_FROM_WHAT_EXISTS]
    unknown = {(a, table) for t in judged for a, table in t.required if a not in built}
    never: set[str] = set()
    if unknown:
        tables = sorted({table for _, table in unknown})
        exists = {name for (name,) in run_sql(con, "lineage/tables_present.sql",
                                               {"names": tables}).fetchall()}
        ingested = INGESTED & built
        filled = {table for table in exists if table not in INGESTED or not ingested
                  or run_sql(con, "lineage/table_has_rows.sql",
                             identifiers={"table": table}).fetchall()[0][0]}
        never = {a for a, table in unknown if table not in filled}
    readers = {t.asset for t in judged if {a for a, _ in t.required} & never}
    missing = set(never)
    own = {entry(t.asset, t.part) for t in targets}
    for t in judged:
        required = {a for a, _ in t.required} & recorded_assets
        gaps = {entry(a, p) for a, p in t.parents if p is not None and a in required} \
            - recorded.keys() - own
        if t.asset in NAMES_DAYS_WITHOUT_CALLS:
            # a day without calls it says itself; a day whose calls were built but not what is
            # built from them (its contacts) is a gap all the same (review 99 M1)
            gaps = {g for g in gaps
                    if entry("calls", g.partition("@")[2]) in recorded.keys() | own}
        if gaps:
            readers.add(entry(t.asset, t.part))
            missing |= gaps
    if not missing:
        return
    one, alone = len(readers) == 1, len(missing) == 1
    raise InputError(
        f"{_parts(readers)} {'reads' if one else 'read'} {_parts(missing)}, which "
        f"{'has' if alone else 'have'} not been materialized in this study's DuckDB file yet: "
        f"built now, {'it' if one else 'they'} would hold nothing of {'it' if alone else 'them'}",
        ", ".join(sorted({r.partition("@")[0] for r in readers})),
        f"materialize {_parts(missing)} first (and what {'it reads' if alone else 'they read'}: "
        "the Dagster UI's 'Materialize all' or migrant-assets demo builds everything in order)")


def _read_as(asset: str, part: str | None, child_part: str | None, slices: set[str]) -> str:
    """How a child partition reads a parent: an unpartitioned parent read by day (a slice) by
    the child's day."""
    if part is None and child_part is not None and asset in slices:
        return entry(asset, child_part)
    return entry(asset, part)


def record(con: duckdb.DuckDBPyConnection, done: Plan) -> None:
    """Store the versions of a step that has written its tables (and, for an asset that lands
    source files, what it read of them; for one read by day, each day's version)."""
    if not done.rows:
        return
    run_schema_sql(con, "lineage/schema.sql")
    with transaction(con):
        for asset, part, version, inputs in done.rows:
            con.execute("DELETE FROM built_from WHERE asset = $asset AND part = $part",
                        {"asset": asset, "part": part})
            con.execute("INSERT INTO built_from VALUES ($asset, $part, $version, $inputs)",
                        {"asset": asset, "part": part, "version": version, "inputs": inputs})
        for table, rows in done.files.items():
            con.execute("DELETE FROM source_files WHERE source = $source", {"source": table})
            if rows:
                con.executemany("INSERT INTO source_files VALUES (?, ?, ?, ?, ?, ?)",
                                [[table, *r] for r in rows])
        for version, (group, hashes) in done.settings.items():
            con.execute("INSERT INTO settings_versions SELECT $version, $stage, $settings "
                        "WHERE NOT EXISTS (SELECT 1 FROM settings_versions "
                        "WHERE version = $version)",
                        {"version": version, "stage": group, "settings": hashes})
        for asset in done.slices:
            con.execute("DELETE FROM built_from WHERE asset = ? AND length(part) > 0", [asset])
            run_sql(con, SLICES[asset])
        for asset, parts in done.partitions.items():
            drop_left_partitions(con, asset, parts)


def drop_left_partitions(con: duckdb.DuckDBPyConnection, asset: str,
                         parts: Iterable[str]) -> list[str]:
    """Delete the rows of ``asset``'s partitions that it recorded but that are not among
    ``parts`` (the calendar's now; :data:`PARTITION_TABLES`), and their records; return those
    partitions. Only partitions the asset recorded are dropped, never what it did not write."""
    left = [p for (p,) in con.execute(
        "SELECT DISTINCT part FROM built_from WHERE asset = $asset AND part <> '' "
        "AND part NOT IN (SELECT unnest($parts::VARCHAR[])) ORDER BY part",
        {"asset": asset, "parts": list(parts)}).fetchall()]
    if not left:
        return left
    for table, column in PARTITION_TABLES.get(asset, ()):
        if has_table(con, table):
            run_sql(con, "lineage/drop_partition_rows.sql", {"dropped": left},
                    identifiers={"partition_table": table, "partition_column": column})
    con.execute("DELETE FROM built_from WHERE asset = $asset "
                "AND part IN (SELECT unnest($left::VARCHAR[]))", {"asset": asset, "left": left})
    return left
