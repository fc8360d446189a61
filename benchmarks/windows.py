"""Benchmark of the incremental first-k-days windows (SPEC §2, §4-§5; issue 13, item 3).

    .venv/bin/python benchmarks/windows.py [--workdir work/bench] [--presets demo large]
                                           [--db FILE ...] [--repeats 3]

On each city, the seconds of building the graphs and features of the 12 first-k-days windows
(k = 3..14, in order) two ways, against one k = 14 window built from its raw days:

- ``incremental``: window k from the stored window k - 1 plus day k (graph, additive sums), as
  the assets do (``build_window_graph(con, w, previous_window(...))``, ``build_features``);
- ``from scratch``: every window summed from all its days (``incremental=False``), the way
  every window was built before;
- ``one k=14``: the k = 14 window alone, from scratch (the target: 12 windows <= 3x this, in
  CPU seconds: wall seconds of a shared machine also count the waits for a core).

The three are alternated (A B C A B C ...) and the medians printed with CPU seconds beside wall
seconds; the machine may be shared, so compare the figures of one run. ``--profile N`` adds, for
the last round, the N statements of most CPU seconds of the incremental build beside the same
statements of the one k = 14 window (what makes the ratio). The city's DuckDB file
(calls, labels, daily contacts, cell prices) comes from ``benchmarks/features.prepared_db`` and
is re-used; each measured build first drops the first-k-days graphs, features and stored sums.
``--db FILE`` measures a study's DuckDB file instead (one kept by ``scale.py --keep``, e.g. a
city of the papers' shape: ``--preset paper``); the file is changed (its first-k tables), so
give it a copy.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))

from features import open_db, prepared_db  # noqa: E402  (benchmarks/features.py)

from migrant_assets import db, features  # noqa: E402
from migrant_assets.config import StudyConfig  # noqa: E402
from migrant_assets.db import quote  # noqa: E402
from migrant_assets.graphs import (  # noqa: E402
    build_window_graph,
    neighbourhood_once,
    previous_window,
)

TARGET_RATIO = 3.0  # 12 first-k windows <= 3x one k = 14 window
FIRST_K_TABLES = ("first_k_days_graph", "features_first_k_days", "features_first_k_days_sums",
                  "features_first_k_days_positions", "features_first_k_days_triangles",
                  "features_first_k_days_places", "features_first_k_days_moves",
                  "features_first_k_days_moments", "first_k_days_graph_neighbourhood")


def clear(con) -> None:
    for table in FIRST_K_TABLES:
        con.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (allow-listed names)
    con.execute("CHECKPOINT")


#: (wall, CPU) seconds of each statement run while profiling, by "file #n table"
PROFILE: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])


def profiled_run_text(con, text, params=None, where="the SQL"):
    """``db.run_text``, adding each statement's wall and CPU seconds to :data:`PROFILE`."""
    params = dict(params or {})
    result = con
    for i, stmt in enumerate(duckdb.extract_statements(text)):
        target = re.search(r"(?:TEMP TABLE|INSERT INTO|DELETE FROM)\s+(\S+)", stmt.query)
        key = f"{where.removeprefix('sql/')} #{i} {target.group(1) if target else ''}"
        wall, cpu = time.perf_counter(), time.process_time()
        result = con.execute(stmt, {k: params[k] for k in stmt.named_parameters})
        PROFILE[key][0] += time.perf_counter() - wall
        PROFILE[key][1] += time.process_time() - cpu
    return result


def profile(con, cfg: StudyConfig, top: int) -> None:
    """Print the ``top`` statements of most CPU seconds of the 12 windows built incrementally
    or from scratch: CPU seconds of each way and of one k = 14 window, and the incremental
    seconds over the one window's ("-": a statement the one window does not run)."""
    real = db.run_text, features.run_text
    db.run_text = features.run_text = profiled_run_text
    ways = ("incremental", "from scratch", "one k=14")
    try:
        spent = {}
        for how in ways:
            PROFILE.clear()
            build(con, cfg, how)
            spent[how] = dict(PROFILE)
    finally:
        db.run_text, features.run_text = real
    print("statements of most CPU s, 12 windows incremental | 12 from scratch | one k=14 | ratio")
    keys = sorted(spent["incremental"].keys() | spent["from scratch"].keys(), key=lambda k: -max(
        spent[w].get(k, [0.0, 0.0])[1] for w in ways[:2]))[:top]
    for key in keys:
        cpu, scratch, one = (spent[w].get(key, [0.0, 0.0])[1] for w in ways)
        ratio = f"{cpu / one:6.1f}" if one else "     -"
        print(f"  {key:58.58} {cpu:7.2f} {scratch:7.2f} {one:7.2f} {ratio}")
    for how in ways:
        print(f"  total {how}: {sum(c for _, c in spent[how].values()):.2f} CPU s in SQL")


def build(con, cfg: StudyConfig, how: str) -> tuple[float, float]:
    """Wall and CPU seconds of one way of building the windows (after :func:`clear`)."""
    windows = cfg.calendar.windows("first_k_days")
    if how == "one k=14":
        windows = windows[-1:]
    clear(con)
    wall, cpu = time.perf_counter(), time.process_time()
    with neighbourhood_once():  # as the assets: below k_max, one neighbourhood for the run
        for w in windows:
            previous = previous_window(cfg.calendar, w) if how == "incremental" else None
            build_window_graph(con, w, previous, cfg)
            features.build_features(con, cfg, w, incremental=how == "incremental")
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("work/bench"))
    parser.add_argument("--presets", nargs="+", default=["demo"])
    parser.add_argument("--db", nargs="+", type=Path, default=[],
                        help="study DuckDB files to measure instead of the presets (copies: "
                             "their first-k tables are rewritten)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N statements of most CPU seconds (after the rounds)")
    args = parser.parse_args()
    cfg = StudyConfig()
    cities = ([(path.name, path) for path in args.db] if args.db
              else [(preset, None) for preset in args.presets])
    for preset, path in cities:
        if path is None:
            args.workdir.mkdir(parents=True, exist_ok=True)
        con = open_db(path or prepared_db(args.workdir, preset, cfg), cfg)
        features.write_cell_prices(con)
        features.ensure_schema(con)
        n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
        ways = ("incremental", "from scratch", "one k=14")
        times: dict[str, list[tuple[float, float]]] = {w: [] for w in ways}
        for _ in range(args.repeats):
            for way in ways:
                times[way].append(build(con, cfg, way))
        if args.profile:
            print(f"\n{preset}: ", end="")
            profile(con, cfg, args.profile)
        con.close()
        med = {w: (statistics.median(t[0] for t in times[w]),
                   statistics.median(t[1] for t in times[w])) for w in ways}
        base_wall, base_cpu = med["one k=14"]
        print(f"\n{preset} ({n_calls:,} calls), medians of {args.repeats} (A B C alternated)")
        print(f"{'':28} {'wall s':>8} {'CPU s':>8} {'x k=14 wall':>12} {'x k=14 CPU':>11}")
        for way, label in (("incremental", "12 windows, incremental"),
                           ("from scratch", "12 windows, from scratch"),
                           ("one k=14", "one k=14 window, scratch")):
            wall, cpu = med[way]
            print(f"{label:28} {wall:8.2f} {cpu:8.2f} {wall / base_wall:12.2f} "
                  f"{cpu / base_cpu:11.2f}")
        ratio = med["incremental"][1] / base_cpu
        print(f"incremental / from scratch: {med['incremental'][0] / med['from scratch'][0]:.2f} "
              f"wall, {med['incremental'][1] / med['from scratch'][1]:.2f} CPU; target 12 "
              f"windows <= {TARGET_RATIO:g}x one k=14 in CPU seconds: "
              f"{'met' if ratio <= TARGET_RATIO else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
