"""Build the synthetic city once, then stream it to the files of the data contract (SPEC §1, §7).

``generate`` writes ``cells``, ``estates`` and ``subscribers`` (each with its planted malformed
rows), one ``calls/<date>.parquet`` per day (only one day in memory at a time), the ground truth
and, last, ``manifest.json`` — its presence means the city is complete. Every file is a
deterministic function of (preset, proportions, seed, start, end): no clock, no unseeded draw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from migrant_assets.synthetic.calls import CallModel, DayCalls, build_services
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
from migrant_assets.synthetic.presets import PRESETS
from migrant_assets.synthetic.seeding import rng_for
from migrant_assets.synthetic.social import build_ties

GENERATOR_VERSION = "1.0"
UNKNOWN_CELL_ID = "C9999999"
DEFECT_REASONS = np.array([reason for reason, _ in CALL_DEFECTS])
DEFECT_DETAILS = np.array([detail for _, detail in CALL_DEFECTS])


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width))


def _write(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy")
    return table.num_rows


class _Malformed:
    """The record of every injected row: file, row index in the file, reason, detail."""

    def __init__(self) -> None:
        self.parts: list[pa.Table] = []
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, file: str, rows: np.ndarray, reasons: np.ndarray, details: np.ndarray) -> None:
        self.parts.append(pa.table({
            "file": pa.array(np.full(rows.size, file), pa.string()),
            "row": pa.array(rows, pa.int64()),
            "reason": pa.array(reasons, pa.string()),
            "detail": pa.array(details, pa.string()),
        }))
        counts = self.counts.setdefault(file.split("/")[0].removesuffix(".parquet"), {})
        for reason, n in zip(*np.unique(reasons, return_counts=True), strict=True):
            counts[str(reason)] = counts.get(str(reason), 0) + int(n)

    def table(self) -> pa.Table:
        return pa.concat_tables(self.parts)


def _cells(geo: Geography, rng: np.random.Generator, bad: _Malformed) -> pa.Table:
    """The cells, then three unused rows: one id twice (two places) and one outside the box."""
    lat, lon = to_latlon(geo.cell_x, geo.cell_y)
    n = geo.n_cells
    ids = _ids("C", n + 2, 6)
    spare_lat, spare_lon = rng.uniform(31.0, 31.4, 2), rng.uniform(121.2, 121.7, 2)
    table = pa.table({
        "cell_id": np.concatenate([ids[:n], ids[[n, n]], ids[[n + 1]]]),
        "lat": np.concatenate([lat, spare_lat, [29.9]]),
        "lon": np.concatenate([lon, spare_lon, [121.5]]),
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


def _owner_ids(pop: Population, rng: np.random.Generator) -> np.ndarray:
    """Owner ids in a shuffled order, so an id says nothing about the owner's group."""
    return _ids("O", pop.n_owners, 7)[rng.permutation(pop.n_owners)]


def _subscribers(pop: Population, owner_id: np.ndarray, number_str: np.ndarray,
                 bad: _Malformed) -> pa.Table:
    """One row per operator number (attributes masked where missing), then a null number."""
    o = np.arange(pop.n_owners)
    two = o[pop.num2[o] >= 0]
    owner = np.concatenate([o, two])
    num = np.concatenate([pop.num1[o], pop.num2[two]])
    local = np.concatenate([pop.local1[o], pop.local2[two]])
    order = np.lexsort((number_str[num], owner_id[owner]))
    owner, num, local = owner[order], num[order], local[order]
    spare = pop.n_owners  # the malformed row belongs to an owner with no valid number
    owner_col = np.concatenate([owner_id[owner], _ids("O", spare + 1, 7)[[spare]]])
    age = pop.age[owner].astype(np.int32)
    table = pa.table({
        "number": pa.array(np.concatenate([number_str[num], [None]]), pa.string()),
        "owner_id": owner_col,
        "age": pa.array(np.append(age, 30), pa.int32(),
                        mask=np.append(pop.missing_age[owner], False)),
        "sex": pa.array(np.append(np.where(pop.sex[owner] == 1, "M", "F"), "F"), pa.string(),
                        mask=np.append(pop.missing_sex[owner], False)),
        "birth_province": pa.array(np.append(PROVINCES[pop.province[owner]], "Anhui"),
                                   pa.string(), mask=np.append(pop.missing_province[owner], False)),
        "is_local_number": np.append(local, True),
        "user_type": np.append(np.array(USER_TYPES)[pop.user_type[owner]], "regular"),
    })
    bad.add("subscribers.parquet", np.array([owner.size]), np.array(["missing_id"]),
            np.array(["null_number"]))
    return table


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
    }
    return pa.table({k: (v.take(pa.array(order)) if isinstance(v, pa.Array) else v[order])
                     for k, v in columns.items()})


def generate(
    preset: str = "demo",
    seed: int = 20160901,
    out: Path | str | None = None,
    *,
    proportions: Literal["preset", "paper"] = "preset",
    start: date = date(2016, 9, 1),
    end: date = date(2016, 9, 30),
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Generate the synthetic city into ``out`` (default ``work/synthetic/<preset>-<seed>``) and
    return the path of its ``manifest.json``. See ``docs/synthetic_city.md``."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    if end < start + timedelta(17):
        raise ValueError("the synthetic calendar needs at least 18 days (arrivals, departures)")
    params = PRESETS[preset].with_proportions(proportions)
    out = Path(out) if out is not None else Path("work") / "synthetic" / f"{preset}-{seed}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    for stale in (out / "calls").glob("*.parquet"):
        stale.unlink()
    n_days = (end - start).days + 1

    geo = build_geography(rng_for(seed, "geography"), params.n_cells, params.n_estates)
    pop = build_population(rng_for(seed, "population"), params, n_days, geo)
    ties = build_ties(rng_for(seed, "ties"), pop, n_days, params.calls_per_month)
    services = build_services(rng_for(seed, "services"), pop, params, n_days)
    model = CallModel(pop, ties, services, geo.n_cells, seed, start)

    bad = _Malformed()
    owner_id = _owner_ids(pop, rng_for(seed, "owner_ids"))
    number_str = pop.numbers.astype(str)
    rows = {
        "cells.parquet": _write(_cells(geo, rng_for(seed, "cells"), bad), out / "cells.parquet"),
        "estates.parquet": _write(_estates(geo, bad), out / "estates.parquet"),
        "subscribers.parquet": _write(_subscribers(pop, owner_id, number_str, bad),
                                      out / "subscribers.parquet"),
    }
    numbers = pa.array(number_str, pa.string())
    cells = pa.array(np.append(_ids("C", geo.n_cells, 6), UNKNOWN_CELL_ID), pa.string())
    for d in range(n_days):
        day = start + timedelta(d)
        calls, where, defect = inject_calls(
            model.day(d), rng_for(seed, "malformed", d), params.malformed_share, d, geo.n_cells
        )
        name = f"calls/{day.isoformat()}.parquet"
        rows[name] = _write(_calls_table(calls, numbers, cells), out / name)
        bad.add(name, where, DEFECT_REASONS[defect], DEFECT_DETAILS[defect])
        if progress is not None:
            progress(f"{day.isoformat()}: {len(calls)} calls")

    rows["ground_truth/truth.parquet"] = _write(_truth(pop, owner_id, start),
                                                out / "ground_truth" / "truth.parquet")
    rows["ground_truth/malformed.parquet"] = _write(bad.table(),
                                                    out / "ground_truth" / "malformed.parquet")
    manifest = {
        "generator": "migrant_assets.synthetic",
        "generator_version": GENERATOR_VERSION,
        "preset": preset,
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
        "parameters": asdict(params),
        "behaviour": behaviour_table(),
        "counts": pop.summary() | {"ties": int(ties.size)},
        "calls_total": sum(v for k, v in rows.items() if k.startswith("calls/")),
        "rows": rows,
        "malformed": bad.counts,
        "pseudonym_key": "the documented synthetic key, config.SYNTHETIC_KEY",
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path
