"""Runs that died, and processes that share a work directory (issue 11).

DuckDB allows one writing process per file, and every asset that writes it holds the one slot of
the Dagster pool ``duckdb``. A run whose process was killed (``kill -9``, out of memory, power)
never gives its slot back, and the next run would wait for it forever. The main job therefore:

- tags each of its runs with the process id and host that run it (:func:`process_tags`);
- before it starts, marks as failed every unfinished run of this host whose process is gone (its
  own, by their tags; those of Dagster's CLI or the UI, by the process ids of their engine
  events), and frees every pool slot held by a run that is finished or dead
  (:func:`recover_dead_runs`; ``migrant-assets recover`` does only this);
- before each run, says which run holds the slot while it waits for a live one
  (:func:`wait_for_pool`), instead of pausing silently inside Dagster;
- holds a lock on its work directory while it runs (:func:`workdir_lock`), so a second process
  on the same DuckDB file gets a clear "in use" error instead of a crash;
- initialises the Dagster instance under a lock of its home (:func:`instance_lock`), so two
  processes sharing a fresh ``DAGSTER_HOME`` do not race to create its storage.

Messages name runs and process ids, never data.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg

from migrant_assets.errors import InputError

PID_TAG = "migrant_assets/pid"
HOST_TAG = "migrant_assets/host"
LOCK_FILE = ".migrant_assets.lock"
_UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
               dg.DagsterRunStatus.CANCELING]


#: The DuckDB file a run of the main job writes: a run waiting for the pool says whether the
#: run it waits for writes the same file, or another study's (probe 33 F3).
DUCKDB_TAG = "migrant_assets/duckdb"


def process_tags(database: Path | None = None) -> dict[str, str]:
    """Tags that let a later process tell whether this one is still alive, and which DuckDB
    file it writes."""
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    if database is not None:
        tags[DUCKDB_TAG] = str(Path(database).resolve())
    return tags


def _holder_writes(run: dg.DagsterRun | None, database: Path | None) -> str:
    """What the run holding the pool writes, as the wait's message says it."""
    theirs = run.tags.get(DUCKDB_TAG) if run is not None else None
    if theirs is None or database is None:
        return ("another run of this Dagster instance is writing a DuckDB file (this study's, or "
                "another study's that shares DAGSTER_HOME)")
    if theirs == str(Path(database).resolve()):
        return "another process is writing the DuckDB file"
    return (f"a run of another study is writing its DuckDB file ({theirs}): the pool is the "
            "Dagster instance's, so studies that share DAGSTER_HOME run one step at a time "
            "(give each its own DAGSTER_HOME to run them side by side)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_pids(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[int]:
    """The processes of a run: the one ``migrant-assets demo`` tagged it with, else those its
    engine events name (the run's process: Dagster's CLI, the UI's run worker; each step's
    worker process)."""
    pid = run.tags.get(PID_TAG)
    if pid is not None:
        return [int(pid)] if pid.isdigit() and run.tags.get(HOST_TAG) == socket.gethostname() \
            else []
    if not _local_storage(instance):
        return []  # a run of another host may share the run storage
    pids = []
    for record in instance.all_logs(run.run_id, of_type={
            dg.DagsterEventType.ENGINE_EVENT, dg.DagsterEventType.STEP_WORKER_STARTED}):
        data = record.dagster_event.event_specific_data if record.dagster_event else None
        value = getattr(data, "metadata", {}).get("pid")
        text = getattr(value, "text", None)
        if text is not None and text.isdigit():
            pids.append(int(text))
    return pids


def _local_storage(instance: dg.DagsterInstance) -> bool:
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    return isinstance(instance.run_storage, SqliteRunStorage)


def recover_dead_runs(instance: dg.DagsterInstance, pool: str) -> list[str]:
    """Mark unfinished runs of dead processes of this host as failed and free the ``pool`` slots
    of finished or dead runs: the main job's runs, and those of Dagster's CLI or the UI (their
    processes are read from their engine events; with a run storage on this machine only).
    Returns one message per run recovered."""
    messages = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_UNFINISHED)):
        pids = _run_pids(instance, run)
        if not pids or any(_alive(p) for p in pids):
            continue
        shown = ", ".join(map(str, sorted(set(pids))))
        instance.report_run_failed(
            run, message=f"The process that ran it (PID {shown}) died; marked failed by the next "
            "run of migrant-assets.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        messages.append(f"run {run.run_id} of {run.job_name} was left unfinished by a process "
                        f"that died (PID {shown}): marked failed and its pool slot freed")
    info = instance.event_log_storage.get_concurrency_info(pool)
    for run_id in sorted(info.active_run_ids):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            messages.append(f"run {run_id} had finished but still held a '{pool}' pool slot: "
                            "freed")
    return messages


def wait_for_pool(instance: dg.DagsterInstance, pool: str, say: Callable[[str], None],
                  poll_s: float = 2.0, database: Path | None = None) -> None:
    """Return when no other run holds a slot of ``pool``, saying once which run it waits for
    (a run of Dagster's CLI or the UI writing the same DuckDB file, ``database``, or another
    study's); runs whose processes died meanwhile are recovered (:func:`recover_dead_runs`).
    Ctrl-C or a SIGTERM stops the wait."""
    told: set[str] = set()
    while True:
        for message in recover_dead_runs(instance, pool):
            say(f"recovered: {message}")
        holders = sorted(instance.event_log_storage.get_concurrency_info(pool).active_run_ids)
        if not holders:
            return
        for run_id in set(holders) - told:
            run = instance.get_run_by_id(run_id)
            record = instance.get_run_record_by_id(run_id)
            since = f", started {_clock(record.start_time)}" \
                if record is not None and record.start_time else ""
            pids = sorted(set(_run_pids(instance, run))) if run is not None else []
            by = f", PID {', '.join(map(str, pids))}" if pids else ""
            say(f"waiting for the '{pool}' pool slot held by run {run_id} "
                f"({run.job_name if run else 'unknown job'}{since}{by}): "
                f"{_holder_writes(run, database)}; this run starts when it ends (Ctrl-C stops)")
            told.add(run_id)
        time.sleep(poll_s)


def _clock(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return ""
    return f" (PID {text})" if text.isdigit() else ""


@contextmanager
def workdir_lock(workdir: Path) -> Iterator[None]:
    """Hold the work directory for this process; a second process gets a clear error. The lock
    dies with its process, so a killed run never blocks the next one."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InputError(
            f"another migrant-assets process{_holder(path)} is running on this work directory "
            "and its DuckDB file", str(workdir),
            "wait for it to finish, or give this run another --workdir") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


#: The file of a work directory that names the DuckDB file whose figures, models and report
#: it holds (:func:`claim_workdir`).
OWNER_FILE = ".migrant_assets_duckdb"


def claim_workdir(workdir: Path, database: Path) -> None:
    """Record that ``workdir``'s figures, models and report are ``database``'s, or refuse when
    they are another DuckDB file's that still exists (probe 33 F5: two studies in one work
    directory, their tables apart through MIGRANT_ASSETS_DUCKDB, overwrote each other's
    figures and models, and a report showed the other study's figures). The file is named
    relative to the work directory when it is inside it, so a copied work directory is its
    copy's."""
    database = database.resolve()
    marker = workdir / OWNER_FILE
    try:
        named = marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        named = ""
    owner = (workdir / named).resolve() if named else None
    if owner == database:
        return
    if owner is not None and owner.exists():
        raise InputError(
            f"the work directory holds the figures, models and report of another DuckDB file "
            f"({owner}), which this study's ({database}) would overwrite", str(workdir),
            "give this study a work directory of its own (MIGRANT_ASSETS_WORKDIR, or workdir in "
            f"its study config), or delete {marker} if that DuckDB file is no longer used")
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        text = str(database.relative_to(workdir.resolve()))
    except ValueError:
        text = str(database)
    tmp = marker.with_name(f"{OWNER_FILE}.{os.getpid()}")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(marker)


@contextmanager
def instance_lock(home: Path) -> Iterator[None]:
    """Wait for any other process initialising the same Dagster home."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


#: Set to 1 to keep every commit of Dagster's run history synced to disk (:func:`quick_event_log`).
DURABLE_ENV = "MIGRANT_ASSETS_DURABLE_EVENT_LOG"


def quick_event_log(home: Path) -> bool:
    """Let this process write Dagster's SQLite run history under ``home`` without an fsync per
    event (``PRAGMA synchronous=OFF``), unless ``MIGRANT_ASSETS_DURABLE_EVENT_LOG=1``.

    Dagster's SQLite storage opens, commits and closes a connection for every event, and each
    close checkpoints the WAL with an fsync: measured here, half of a small run's time
    (``benchmarks/demo.py``; docs/scale.md). A crash of the process loses nothing; a power loss
    may lose or damage the run history of ``home``, never the study's DuckDB file. Returns
    whether it applies."""
    if os.environ.get(DURABLE_ENV) == "1":
        return False
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not _QUICK_HOMES:
        event.listen(Engine, "connect", _no_fsync)
    _QUICK_HOMES.add(str(home.resolve()))
    return True


_QUICK_HOMES: set[str] = set()


def _no_fsync(dbapi_connection, _record) -> None:
    """SQLAlchemy ``connect`` hook of :func:`quick_event_log`: SQLite files under its homes."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list")]
    if any(f and f.startswith(home) for f in files for home in _QUICK_HOMES):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


@contextmanager
def kept_event_log_connections(instance: dg.DagsterInstance) -> Iterator[None]:
    """While inside, ``instance``'s SQLite run history (its event log and its runs table) keeps
    one connection per file open instead of opening, committing and closing one for every
    event (each open made an engine and a connection, each close checkpointed the write-ahead
    log: most of the cost of Dagster's storage in the main job, docs/scale.md). The same
    statements and transactions; the connections are closed on the way out (the main job:
    after each run). Any other storage is left as it is. It stands in for two private methods
    of Dagster 1.13's SQLite storage (``SqliteEventLogStorage._connect``,
    ``SqliteRunStorage.connect``): test_cli.py runs a job with and without it and compares the
    events stored, so an upgrade that changes them shows there."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    engines: dict[str, Any] = {}

    def kept_engine(conn_string: str):
        if conn_string not in engines:
            engines[conn_string] = create_engine(
                conn_string, poolclass=QueuePool, pool_size=1,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                              "check_same_thread": False})
        return engines[conn_string]

    events, runs = instance.event_log_storage, instance.run_storage
    if type(events) is SqliteEventLogStorage:
        @contextmanager
        def _connect(shard: str):  # SqliteEventLogStorage._connect, the engine kept
            with events._db_lock:
                engine = kept_engine(events.conn_string_for_shard(shard))
                if shard not in events._initialized_dbs:
                    events._initdb(engine)
                    events._initialized_dbs.add(shard)
                with engine.connect() as conn, conn.begin():
                    yield conn

        events._connect = _connect
    if type(runs) is SqliteRunStorage:
        @contextmanager
        def connect():  # SqliteRunStorage.connect, the engine kept
            with kept_engine(runs._conn_string).connect() as conn, conn.begin():
                yield conn

        runs.connect = connect
    try:
        yield
    finally:
        for storage, method in ((events, "_connect"), (runs, "connect")):
            vars(storage).pop(method, None)
        for engine in engines.values():
            engine.dispose()


# ---------------------------------------------------------------- the main job's order

#: The order of stages when several are ready at once (the asset groups, docs/architecture.md).
STAGES = ("ingest", "labels", "graphs", "features", "models", "reports")


@dataclass(frozen=True)
class Step:
    """Assets that are ready together and share a partitioning: one run over all partitions
    when they backfill in a single run, else one run per partition."""

    keys: tuple[dg.AssetKey, ...]
    partitions_def: dg.PartitionsDefinition | None = None
    single_run: bool = False

    @property
    def name(self) -> str:
        return " + ".join(k.to_user_string() for k in self.keys)

    def partition_runs(self) -> list[tuple[str | None, str | None]]:
        """``(first, last)`` partition key of each run (``(None, None)``: unpartitioned)."""
        if self.partitions_def is None:
            return [(None, None)]
        keys = self.partitions_def.get_partition_keys()
        return [(keys[0], keys[-1])] if self.single_run else [(k, k) for k in keys]


def main_plan(defs: dg.Definitions, skip_groups: tuple[str, ...] = ()) -> list[Step]:
    """Every materializable asset of ``defs`` but those of ``skip_groups``, in an order of its
    graph: the assets whose upstream is done, by stage, grouped by partitioning (derived, never
    written by hand)."""
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    runnable = {k for k in specs if defs.resolve_assets_def(k).is_executable
                and specs[k].group_name not in skip_groups}
    # an asset reading its own previous partition (a first-k-days window) is not its own upstream
    sorter = TopologicalSorter(
        {k: {d.asset_key for d in specs[k].deps} & runnable - {k} for k in runnable})
    sorter.prepare()

    def order(key: dg.AssetKey) -> tuple:
        group = specs[key].group_name
        return (STAGES.index(group) if group in STAGES else len(STAGES), key.to_user_string())

    steps: list[Step] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=order)
        groups: list[Step] = []
        for key in ready:
            policy = defs.resolve_assets_def(key).backfill_policy
            partitions = specs[key].partitions_def
            single = partitions is not None and policy is not None \
                and policy.max_partitions_per_run is None
            same = next((i for i, s in enumerate(groups)
                         if s.partitions_def == partitions and s.single_run == single), None)
            if same is None:
                groups.append(Step((key,), partitions, single))
            else:
                groups[same] = Step((*groups[same].keys, key), partitions, single)
        steps += groups
        sorter.done(*ready)
    return steps
