"""Build the synthetic city block by block and stream it to the files of the data contract
(SPEC §1, §7).

The city is cut into blocks of at most ``block_calls`` social calls (:func:`plan_blocks`): a
block is a community with its own people, ties and calls, so memory holds one block (per worker)
whatever the city's size or number of days. ``generate`` writes ``cells`` and ``estates``, then
for each block in order its rows of ``subscribers`` and ``ground_truth/truth`` and one row group
of each day's ``calls/<date>.parquet`` (zstd), the record of malformed rows and, last,
``manifest.json`` — its presence means the city is complete. Every file is a deterministic
function of (preset, calls, proportions, seed, start, end, block size), whatever the number of
worker processes: no clock, no unseeded draw.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from migrant_assets.synthetic.calls import CallModel, DayCalls, build_services, day_weights
from migrant_assets.synthetic.geography import Geography, build_geography, to_latlon
from migrant_assets.synthetic.malformed import CALL_DEFECTS, inject_calls
from migrant_assets.synthetic.population import (
    NEW,
    OTHER,
    PROVINCES,
    ROLES,
    SERVICE,
    USER_TYPES,
    Population,
    behaviour_table,
    build_population,
)
from migrant_assets.synthetic.presets import BLOCK_CALLS, PRESETS, Block, plan_blocks
from migrant_assets.synthetic.seeding import permute, rng_for
from migrant_assets.synthetic.social import build_ties

GENERATOR_VERSION = "3.3"  # 3.3: the cell listed twice is a copy
UNKNOWN_CELL_ID = "C9999999"
DEFECT_REASONS = np.array([reason for reason, _ in CALL_DEFECTS])
DEFECT_DETAILS = np.array([detail for _, detail in CALL_DEFECTS])
COMPRESSION = "zstd"
MALFORMED_FLUSH_ROWS = 1_000_000


def _ids(prefix: str, n: int | np.ndarray, width: int) -> np.ndarray:
    """``prefix`` and zero-padded numbers: ``0..n-1``, or the numbers of an index array."""
    index = np.arange(n) if np.isscalar(n) else np.asarray(n)
    return np.char.add(prefix, np.char.zfill(index.astype(str), width))


def _write(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression=COMPRESSION)
    return table.num_rows


class _Appender:
    """One Parquet file written a row group at a time, with the schema of its first table."""

    def __init__(self, path: Path, dictionary: bool | list[str] = True) -> None:
        self.path, self.rows, self.dictionary = path, 0, dictionary
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(self.path, table.schema, compression=COMPRESSION,
                                           use_dictionary=self.dictionary)
        self.writer.write_table(table.cast(self.writer.schema))
        self.rows += table.num_rows

    def close(self) -> int:
        if self.writer is not None:
            self.writer.close()
        return self.rows


MALFORMED_SCHEMA = pa.schema([("file", pa.string()), ("row", pa.int64()),
                              ("reason", pa.string()), ("detail", pa.string())])


class _Malformed:
    """The record of every injected row (file, row index in the file, reason, detail), written
    to ``path`` in row groups of :data:`MALFORMED_FLUSH_ROWS`."""

    def __init__(self, path: Path) -> None:
        self.out = _Appender(path)
        self.parts: list[pa.Table] = []
        self.pending = 0
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, file: str, rows: np.ndarray, reasons: np.ndarray, details: np.ndarray) -> None:
        self.parts.append(pa.table({
            "file": pa.array(np.full(rows.size, file), pa.string()),
            "row": pa.array(rows, pa.int64()),
            "reason": pa.array(reasons, pa.string()),
            "detail": pa.array(details, pa.string()),
        }, schema=MALFORMED_SCHEMA))
        self.pending += rows.size
        counts = self.counts.setdefault(file.split("/")[0].removesuffix(".parquet"), {})
        for reason, n in zip(*np.unique(reasons, return_counts=True), strict=True):
            counts[str(reason)] = counts.get(str(reason), 0) + int(n)
        if self.pending >= MALFORMED_FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.out.write(pa.concat_tables(self.parts))
        self.parts, self.pending = [], 0

    def close(self) -> int:
        self.flush()
        return self.out.close()


def _cells(geo: Geography, rng: np.random.Generator, bad: _Malformed) -> pa.Table:
    """The cells, then three unused rows: one id twice (a copy: the same place, so the
    duplicates_agree check passes on the city) and one outside the box."""
    lat, lon = to_latlon(geo.cell_x, geo.cell_y)
    n = geo.n_cells
    ids = _ids("C", n + 2, 6)
    spare_lat, spare_lon = rng.uniform(31.0, 31.4, 2), rng.uniform(121.2, 121.7, 2)
    table = pa.table({
        "cell_id": np.concatenate([ids[:n], ids[[n, n]], ids[[n + 1]]]),
        "lat": np.concatenate([lat, spare_lat[[0, 0]], [29.9]]),
        "lon": np.concatenate([lon, spare_lon[[0, 0]], [121.5]]),
    })
    bad.add("cells.parquet", np.array([n, n + 1, n + 2]),
            np.array(["duplicate_id", "duplicate_id", "outside_bbox"]),
            np.array(["duplicate_cell_id (first row)", "duplicate_cell_id (second row)",
                      "outside_bbox"]))
    return table


def _estates(geo: Geography, bad: _Malformed) -> pa.Table:
    """The estates, then one with a price of zero and one outside the box."""
    lat, lon = to_latlon(geo.estate_x, geo.estate_y)
    n = geo.price.size
    table = pa.table({
        "estate_id": _ids("E", n + 2, 6),
        "lat": np.concatenate([lat, [31.25, 32.4]]),
        "lon": np.concatenate([lon, [121.45, 121.3]]),
        "price_per_sqm": np.concatenate([geo.price, [0.0, 48_000.0]]),
    })
    bad.add("estates.parquet", np.array([n, n + 1]), np.array(["bad_price", "outside_bbox"]),
            np.array(["price_not_positive", "outside_bbox"]))
    return table


def _id_width(city_owners: int) -> int:
    return max(7, len(str(city_owners)))


def _owner_ids(block: Block, pop: Population, seed: int, city_owners: int) -> np.ndarray:
    """Owner ids: a keyed bijection of the owners' place in the city's numbering, so an id says
    nothing about the owner's group or block."""
    index = permute(block.owner_offset + np.arange(pop.n_owners), city_owners, seed, "owner_ids")
    return _ids("O", index, _id_width(city_owners))


def _subscribers(pop: Population, owner_id: np.ndarray, number_str: np.ndarray) -> pa.Table:
    """One row per operator number of a block (attributes masked where missing), sorted by
    owner id and number."""
    o = np.arange(pop.n_owners)
    two = o[pop.num2[o] >= 0]
    owner = np.concatenate([o, two])
    num = np.concatenate([pop.num1[o], pop.num2[two]])
    local = np.concatenate([pop.local1[o], pop.local2[two]])
    order = np.lexsort((number_str[num], owner_id[owner]))
    owner, num, local = owner[order], num[order], local[order]
    return pa.table({
        "number": pa.array(number_str[num], pa.string()),
        "owner_id": pa.array(owner_id[owner], pa.string()),
        "age": pa.array(pop.age[owner].astype(np.int32), pa.int32(), mask=pop.missing_age[owner]),
        "sex": pa.array(np.where(pop.sex[owner] == 1, "M", "F"), pa.string(),
                        mask=pop.missing_sex[owner]),
        "birth_province": pa.array(PROVINCES[pop.province[owner]], pa.string(),
                                   mask=pop.missing_province[owner]),
        "is_local_number": pa.array(local, pa.bool_()),
        "user_type": pa.array(np.array(USER_TYPES)[pop.user_type[owner]], pa.string()),
    })


def _spare_subscriber(schema: pa.Schema, city_owners: int) -> pa.Table:
    """The malformed last row: a null number, for an owner with no valid number."""
    return pa.table({
        "number": pa.array([None], pa.string()),
        "owner_id": _ids("O", np.array([city_owners]), _id_width(city_owners)),
        "age": pa.array([30], pa.int32()), "sex": ["F"], "birth_province": ["Anhui"],
        "is_local_number": [True], "user_type": ["regular"],
    }).cast(schema)


def _calls_table(c: DayCalls, numbers: pa.Array, cells: pa.Array) -> pa.Table:
    def take(values: pa.Array, index: np.ndarray) -> pa.Array:
        return values.take(pa.array(index, pa.int64(), mask=index < 0))

    return pa.table({
        "caller": take(numbers, c.caller),
        "callee": take(numbers, c.callee),
        "start_ts": pa.array(c.start, pa.timestamp("s"), mask=c.start_null),
        "end_ts": pa.array(c.end, pa.timestamp("s"), mask=c.end_null),
        "caller_cell": take(cells, c.caller_cell),
        "callee_cell": take(cells, c.callee_cell),
    })


def _truth(pop: Population, owner_id: np.ndarray, start: date) -> pa.Table:
    """One row per owner: the planted group, calendar and behavioural parameters."""
    o = slice(0, pop.n_owners)
    role = pop.role[o]
    epoch = start.toordinal() - date(1970, 1, 1).toordinal()
    new = role == NEW
    quiet = pop.quiet_end[o] > pop.quiet_start[o]
    hlat, hlon = to_latlon(pop.home_xy[:, 0], pop.home_xy[:, 1])
    wlat, wlon = to_latlon(pop.work_xy[:, 0], pop.work_xy[:, 1])
    subgroup = np.where(role == SERVICE, np.array(USER_TYPES)[pop.user_type[o]], "")
    subgroup = np.where(new & pop.leaver[o], "leaving", np.where(new, "staying", subgroup))
    nonlocal_only = (role == OTHER) & ~pop.local1[o]
    subgroup = np.where(nonlocal_only, "nonlocal_numbers", np.where(role == OTHER, "visitor",
                                                                     subgroup))

    def day_col(offset: np.ndarray, valid: np.ndarray) -> pa.Array:
        return pa.array((epoch + offset).astype(np.int32), pa.date32(), mask=~valid)

    order = np.argsort(owner_id)
    columns = {
        "owner_id": owner_id,
        "group": np.array(ROLES)[role],
        "subgroup": subgroup,
        "will_leave": pop.leaver[o],
        "arrival_day": day_col(pop.first[o], new),
        "leave_day": day_col(pop.last[o] + 1, pop.leaver[o]),
        "quiet_from": day_col(pop.quiet_start[o], quiet),
        "quiet_until": day_col(pop.quiet_end[o] - 1, quiet),
        "n_numbers": 1 + (pop.num2[o] >= 0).astype(np.int32),
        "has_local_number": pop.local1[o] | (pop.local2[o] & (pop.num2[o] >= 0)),
        "birth_province": PROVINCES[pop.province[o]],
        "age": pop.age[o].astype(np.int32),
        "sex": np.where(pop.sex[o] == 1, "M", "F"),
        "home_lat": hlat, "home_lon": hlon, "work_lat": wlat, "work_lon": wlon,
        "n_places": pop.n_places.astype(np.int32),
        "radius_km": pop.radius_km[o],
        "initial_ties": pop.k_initial[o],
        "new_ties": pop.k_new[o],
        "p_townsman": pop.p_townsman[o],
        "p_local": pop.p_local[o],
        "p_same_sex": pop.p_same_sex[o],
        "closure": pop.closure[o],
        "activity": pop.activity[o],
        "out_bias": pop.out_bias[o],
        "duration_shift": pop.duration_shift[o],
        "moved_on": day_col(pop.move_day, pop.landing_cell >= 0),
    }
    return pa.table({k: (v.take(pa.array(order)) if isinstance(v, pa.Array) else v[order])
                     for k, v in columns.items()})


@dataclass
class BlockOutput:
    """A block's rows of every file; ``bad`` holds, per day, the injected rows' positions in
    the block's part of that day and their defect index."""

    calls: list[pa.Table]
    bad: list[tuple[np.ndarray, np.ndarray]]
    subscribers: pa.Table
    truth: pa.Table
    counts: dict[str, int]


@dataclass(frozen=True)
class BlockJob:
    seed: int
    block: Block
    city_owners: int
    start: date
    n_days: int
    null: bool = False


@lru_cache(maxsize=2)
def _geography(seed: int, n_cells: int, n_estates: int) -> Geography:
    return build_geography(rng_for(seed, "geography"), n_cells, n_estates)


@contextmanager
def base_pages() -> Iterator[None]:
    """NumPy's arrays on the kernel's base pages while the city is built (a decorator too).
    NumPy asks Linux for transparent huge pages (``madvise``) for every array of 4 MB or more;
    where the kernel's THP defrag policy is ``madvise`` (this project's machines), a fault on
    such an array first compacts memory: 3-4 of the `demo` city's 8-9 s, 1.24x the `large`
    city's time (docs/scale.md, "The generator and huge pages"). Sets the flag of NumPy's own
    switch, ``NUMPY_MADVISE_HUGEPAGE`` (read once, at import), while it runs and restores it
    after; left alone when the variable is set (the user's choice) or the switch is not there.
    Pages move no value: the files are the same byte for byte."""
    switch = getattr(getattr(np, "_core", None), "multiarray", None)
    switch = getattr(switch, "_set_madvise_hugepage", None)
    if switch is None or "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)


@base_pages()
def build_block(job: BlockJob) -> BlockOutput:
    """Everything about one block, from its own random streams: people, ties, services and the
    month of calls cut into days, each day with its planted malformed rows (on base pages, in
    a worker process too)."""
    seed, block, b = job.seed, job.block, job.block.index
    params = block.params
    geo = _geography(seed, params.n_cells, params.n_estates)
    pop = build_population(rng_for(seed, "population", b), params, job.n_days, geo, seed=seed,
                           owner_offset=block.owner_offset,
                           external_offset=block.external_offset, city_owners=job.city_owners,
                           null=job.null)
    _, weight = day_weights(job.start, job.n_days)
    ties = build_ties(rng_for(seed, "ties", b), pop, job.n_days, params.calls_per_month, weight)
    services = build_services(rng_for(seed, "services", b), pop, params, ties)
    model = CallModel(pop, ties, services, geo.n_cells, job.start, job.n_days)
    month, offsets, counts = model.month(rng_for(seed, "calls", b))
    del model, services

    owner_id = _owner_ids(block, pop, seed, job.city_owners)
    number_str = pop.numbers.astype(str)
    numbers = pa.array(number_str, pa.string())
    cells = pa.array(np.append(_ids("C", geo.n_cells, 6), UNKNOWN_CELL_ID), pa.string())
    tables, bad = [], []
    for d in range(job.n_days):
        day, where, defect = inject_calls(
            month.take(slice(offsets[d], offsets[d + 1])), rng_for(seed, "malformed", b, d),
            params.malformed_share, d + b, geo.n_cells)
        tables.append(_calls_table(day, numbers, cells))
        bad.append((where, defect))
    counts |= pop.summary() | {"ties": int(ties.size)}
    return BlockOutput(tables, bad, _subscribers(pop, owner_id, number_str),
                       _truth(pop, owner_id, job.start), counts)


def _outputs(jobs: list[BlockJob], workers: int):
    """The blocks' outputs in block order; with workers, at most ``workers`` blocks are built or
    waiting at once besides the one being written (the spawned processes share nothing with the
    caller)."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield build_block(job)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending: deque[Future] = deque()
        todo = iter(jobs)
        for job in todo:
            pending.append(pool.submit(build_block, job))
            if len(pending) == workers:
                break
        while pending:
            out = pending.popleft().result()
            job = next(todo, None)
            if job is not None:
                pending.append(pool.submit(build_block, job))
            yield out


@base_pages()
def generate(
    preset: str = "demo",
    seed: int = 20160901,
    out: Path | str | None = None,
    *,
    calls: int | None = None,
    proportions: Literal["preset", "paper"] = "preset",
    start: date = date(2016, 9, 1),
    end: date = date(2016, 9, 30),
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    block_calls: int = BLOCK_CALLS,
    null: bool = False,
) -> Path:
    """Generate the synthetic city into ``out`` (default ``work/synthetic/<preset>-<seed>``) and
    return the path of its ``manifest.json``. ``calls`` scales the preset to that many social
    calls a month (``Preset.scaled``); ``workers`` processes build blocks (default: up to 2;
    the files do not depend on it). ``null``: the null city, where every studied group draws
    from the same behaviour (``NULL_BEHAVIOUR``). See ``docs/synthetic_city.md``."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    if end < start + timedelta(17):
        raise ValueError("the synthetic calendar needs at least 18 days (arrivals, departures)")
    params = PRESETS[preset].scaled(calls).with_proportions(proportions)
    out = Path(out) if out is not None else Path("work") / "synthetic" / f"{preset}-{seed}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    for stale in (out / "calls").glob("*.parquet"):
        stale.unlink()
    n_days = (end - start).days + 1
    blocks = plan_blocks(params, block_calls)
    city_owners = sum(b.params.n_owners for b in blocks)
    workers = min(2, os.cpu_count() or 1) if workers is None else workers

    geo = _geography(seed, params.n_cells, params.n_estates)
    bad = _Malformed(out / "ground_truth" / "malformed.parquet")
    rows = {
        "cells.parquet": _write(_cells(geo, rng_for(seed, "cells"), bad), out / "cells.parquet"),
        "estates.parquet": _write(_estates(geo, bad), out / "estates.parquet"),
    }
    names = [f"calls/{(start + timedelta(d)).isoformat()}.parquet" for d in range(n_days)]
    # Numbers are nearly all distinct within a row group: no dictionary (faster and smaller).
    days = [_Appender(out / name, ["caller_cell", "callee_cell"]) for name in names]
    subscribers = _Appender(out / "subscribers.parquet")
    truth = _Appender(out / "ground_truth" / "truth.parquet")
    counts: dict[str, int] = {}
    jobs = [BlockJob(seed, block, city_owners, start, n_days, null) for block in blocks]
    for block, result in zip(blocks, _outputs(jobs, workers), strict=True):
        for name, appender, table, (where, defect) in zip(names, days, result.calls, result.bad,
                                                           strict=True):
            bad.add(name, appender.rows + where, DEFECT_REASONS[defect], DEFECT_DETAILS[defect])
            appender.write(table)
        subscribers.write(result.subscribers)
        truth.write(result.truth)
        for k, v in result.counts.items():
            counts[k] = counts.get(k, 0) + v
        if progress is not None:
            n = sum(t.num_rows for t in result.calls)
            progress(f"block {block.index + 1}/{len(blocks)}: {n:,} calls")
        del result
    bad.add("subscribers.parquet", np.array([subscribers.rows]), np.array(["missing_id"]),
            np.array(["null_number"]))
    subscribers.write(_spare_subscriber(subscribers.writer.schema, city_owners))
    rows["subscribers.parquet"] = subscribers.close()
    rows |= {name: appender.close() for name, appender in zip(names, days, strict=True)}
    rows["ground_truth/truth.parquet"] = truth.close()
    rows["ground_truth/malformed.parquet"] = bad.close()
    manifest = {
        "generator": "migrant_assets.synthetic",
        "generator_version": GENERATOR_VERSION,
        "preset": preset,
        "calls": calls,
        "proportions": proportions,
        "proportions_note": (
            "group ratios of the papers (1.7M locals : 1.0M settled : 22K new migrants)"
            if proportions == "paper"
            else "preset ratios: new migrants are over-represented relative to the papers so that "
            "the departure study has enough leaving migrants"
        ),
        "seed": seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "blocks": len(blocks),
        "block_calls": block_calls,
        "parameters": asdict(params),
        "behaviour": behaviour_table(null),
        "null": null,
        "null_note": (
            "null city: locals, settled, staying and leaving migrants draw from one behaviour "
            "(NULL_BEHAVIOUR); arrivals and departures on the study windows' edges; no planted "
            "mechanism; the papers' findings should not hold" if null
            else "the papers' directions are planted in behaviour (docs/synthetic_city.md)"),
        "counts": counts,
        "calls_total": sum(v for k, v in rows.items() if k.startswith("calls/")),
        "rows": rows,
        "malformed": bad.counts,
        "pseudonym_key": "the documented synthetic key, config.SYNTHETIC_KEY",
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path
