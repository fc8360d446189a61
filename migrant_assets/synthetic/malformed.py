"""Malformed rows that exercise the quarantine of SPEC §1 (SPEC §7: the synthetic city ships them).

Each injected row is recorded with the quarantine reason the pipeline uses
(``migrant_assets.ingest.QUARANTINE_REASONS``) and a finer ``detail``. Calls: ``malformed_share``
of a day's rows, the defects taken in turn (a different first one each day) so every defect
appears. Rows are corrupted in place, except ``duplicate_call`` which adds an exact copy right
after its original (the copy is the recorded row).
"""

from __future__ import annotations

import numpy as np

from migrant_assets.synthetic.calls import DayCalls

#: (reason, detail) of each call defect.
CALL_DEFECTS: tuple[tuple[str, str], ...] = (
    ("missing_id", "null_caller"),
    ("missing_id", "null_callee"),
    ("bad_timestamp", "null_start_ts"),
    ("bad_timestamp", "null_end_ts"),
    ("end_before_start", "end_before_start"),
    ("duration_over_24h", "duration_over_24h"),
    ("self_call", "self_call"),
    ("unknown_cell", "unknown_cell"),
    ("duplicate_call", "duplicate_call"),
    ("outside_calendar", "dated_a_year_early"),
)
DUPLICATE = 8


def inject_calls(
    calls: DayCalls, rng: np.random.Generator, share: float, day: int, unknown_cell: int
) -> tuple[DayCalls, np.ndarray, np.ndarray]:
    """Corrupt ``round(share · rows)`` rows and sort by ``start_ts`` (nulls last, stable).

    Returns the day's rows, and for each injected row its position in the returned rows and its
    defect index in :data:`CALL_DEFECTS`.
    """
    c = calls.take(np.arange(len(calls)))
    candidates = np.flatnonzero(~c.protected)
    n_bad = min(round(share * len(c)), candidates.size)
    rows = np.sort(rng.choice(candidates, n_bad, replace=False))
    defect = (np.arange(n_bad) + day) % len(CALL_DEFECTS)

    def rows_of(i: int) -> np.ndarray:
        return rows[defect == i]

    c.caller[rows_of(0)] = -1
    c.callee[rows_of(1)] = -1
    c.start_null[rows_of(2)] = True
    c.end_null[rows_of(3)] = True
    r = rows_of(4)
    c.end[r] = c.start[r] - rng.integers(1, 3600, r.size)
    r = rows_of(5)
    c.end[r] = c.start[r] + 86_400 + rng.integers(1, 7200, r.size)
    r = rows_of(6)
    c.callee[r], c.callee_cell[r] = c.caller[r], c.caller_cell[r]
    r = rows_of(7)
    on_caller = c.caller_cell[r] >= 0
    c.caller_cell[r[on_caller]] = unknown_cell
    c.callee_cell[r[~on_caller]] = unknown_cell
    r = rows_of(9)  # dated outside the study calendar: counted by the landing step, not ingested
    shift = -366 * 86_400 + rng.choice(np.array([-2, -1, 1, 2]), r.size) * 86_400
    c.start[r] += shift
    c.end[r] += shift

    # Order: by start (nulls last); a duplicate right after its original.
    dup = rows_of(DUPLICATE)
    index = np.concatenate([np.arange(len(c)), dup])
    seq = np.concatenate([2 * np.arange(len(c)), 2 * dup + 1])
    out = c.take(index)
    sort_key = np.where(out.start_null, np.iinfo(np.int64).max, out.start)
    order = np.lexsort((seq, sort_key))
    out = out.take(order)
    position = np.empty(order.size, np.int64)
    position[order] = np.arange(order.size)
    bad_index = np.concatenate([rows[defect != DUPLICATE], len(c) + np.arange(dup.size)])
    bad_defect = np.concatenate([defect[defect != DUPLICATE], np.full(dup.size, DUPLICATE)])
    return out, position[bad_index], bad_defect
