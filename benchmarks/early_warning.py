"""Benchmark of the daily early-warning step (issue 15): land one day and score it.

    .venv/bin/python benchmarks/early_warning.py [--workdir work/bench] [--preset large]
                                                 [--models DIR] [--repeats 2]
                                                 [--days early late last] [--train]

``--models DIR --train`` first trains the models into DIR (if it holds none) on the city's own
first week of arrivals (``train_models``).

On the city of ``benchmarks/features.prepared_db`` (calls, labels, daily contacts, every window
graph), for an early day (the 3rd day after the first arrivals: 3 cohorts), a late day (the
last first-k-days day: up to 14 cohorts) and the calendar's last day (as many cohorts, with
every day of the month before it), the seconds of the steps a landed day runs after
`landed_calls`:

- ``land``: `calls` of the day (``ingest_calls``) and its `daily_contacts`;
- ``features``: `features_arrival_days` of the day (each cohort's window restricted to its
  neighbourhood, its sums added up from the stored daily sums; the day before is built first,
  untimed, so that only the day's own calls are summed, as on a live feed);
- ``score``: `departure_risk` of the day with the models of ``--models`` (a study's
  ``models/early_warning`` folder); without it the rows are written ``unscored`` and the line
  says so. With models, the day is scored again with the top-feature occlusion as one stacked
  predict of every model (the generic path of ``early_warning.occluded_probabilities``): the
  baseline of the forest's tree-by-tree occlusion, in the same run.

Baseline of the same run: one fixed-calendar k = 14 window (graph and features) from its days.
The machine may be shared: compare the figures of one run. Target: land + features + score
< 30 s on `large`, the same for the late and the last day (the work of a day depends on its
cohorts' windows, not on how many days came before).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from features import open_db, prepared_db  # noqa: E402  (benchmarks/features.py)

from migrant_assets import early_warning, features  # noqa: E402
from migrant_assets.config import StudyConfig  # noqa: E402
from migrant_assets.early_warning import (  # noqa: E402
    build_arrival_features,
    load_models,
    score_day,
    silent_days,
    train_arrivals,
    train_risk_models,
)
from migrant_assets.graphs import build_daily_contacts, build_window_graph  # noqa: E402
from migrant_assets.ingest import ingest_calls  # noqa: E402

TARGET_S = 30.0


def timed(step) -> float:
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def train_models(workdir: Path, preset: str, cfg: StudyConfig, out: Path) -> None:
    """The risk models of the city's own training cohort (``early_warning.train_arrivals``,
    default the first week of arrivals) into ``out``, unless it holds some: its days of
    ``features_arrival_days`` (up to the training cohort's last k = 14 day), then
    ``train_risk_models``, on a copy of the prepared database."""
    if any(out.glob("k*.joblib")):
        return
    out.mkdir(parents=True, exist_ok=True)
    source = prepared_db(workdir, preset, cfg)
    path = source.with_name(f"{source.stem}-train.duckdb")
    shutil.copy(source, path)
    con = open_db(path, cfg)
    features.write_cell_prices(con)
    day = cfg.calendar.month_start + timedelta(silent_days(cfg))
    last = train_arrivals(cfg)[1] + timedelta(cfg.early_warning.horizon_days - 1)
    while day <= last:
        build_arrival_features(con, cfg, day)
        day += timedelta(1)
    models, _ = train_risk_models(con, cfg, out)
    print(f"{preset}: models of k = {', '.join(map(str, models.loc[models.status == 'ok', 'k']))}"
          f" trained into {out}", flush=True)
    con.close()
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("work/bench"))
    parser.add_argument("--preset", default="large")
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--days", nargs="+", choices=("early", "late", "last"),
                        default=["early", "late", "last"], help="which days to time")
    parser.add_argument("--train", action="store_true",
                        help="first train the models into --models (if it holds none)")
    args = parser.parse_args()
    cfg = StudyConfig()
    if args.train:
        if args.models is None:
            parser.error("--train needs --models DIR")
        train_models(args.workdir, args.preset, cfg, args.models)
    if args.models is not None:
        cfg = cfg.model_copy(update={"early_warning": cfg.early_warning.model_copy(
            update={"models_from": args.models})})
    args.workdir.mkdir(parents=True, exist_ok=True)
    source = prepared_db(args.workdir, args.preset, cfg)
    path = source.with_name(f"{source.stem}-early-warning.duckdb")
    shutil.copy(source, path)
    con = open_db(path, cfg)
    features.write_cell_prices(con)
    n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    models = load_models(con, cfg) if args.models is not None else {}
    first = cfg.calendar.month_start + timedelta(silent_days(cfg))
    days = {"early": first + timedelta(2), "late": cfg.calendar.windows("first_k_days")[-1].end,
            "last": cfg.calendar.days[-1]}
    days = {name: day for name, day in days.items() if name in args.days}
    print(f"{args.preset}: {n_calls:,} calls; models: "
          f"{args.models or 'none (rows written unscored)'}", flush=True)
    k14 = cfg.calendar.windows("first_k_days")[-1]
    base = []
    for _ in range(args.repeats):
        base.append(timed(lambda: (build_window_graph(con, k14),
                                   features.build_features(con, cfg, k14, incremental=False))))
    print(f"  baseline, one fixed-calendar k=14 window from its days: "
          f"{statistics.median(base):.1f} s", flush=True)
    for name, day in days.items():
        build_arrival_features(con, cfg, day - timedelta(1))  # the day before, untimed
        rows = {"land": [], "features": [], "score": []}
        cohorts = users = 0
        for _ in range(args.repeats):
            rows["land"].append(timed(lambda day=day: (ingest_calls(con, cfg, day),
                                                       build_daily_contacts(con, day))))
            stats = {}
            rows["features"].append(timed(
                lambda day=day, stats=stats: stats.update(build_arrival_features(con, cfg, day))))
            cohorts, users = stats["windows"], stats["users"]
            rows["score"].append(timed(lambda day=day: score_day(con, cfg, day, models)))
        med = {k: statistics.median(v) for k, v in rows.items()}
        total = sum(med.values())
        print(f"  {name} day {day} ({cohorts} cohorts, {users:,} new migrants): land "
              f"{med['land']:.1f} s + features {med['features']:.1f} s + score "
              f"{med['score']:.1f} s = {total:.1f} s "
              f"({total / statistics.median(base):.1f}x the baseline; target < {TARGET_S:.0f} s:"
              f" {'met' if total < TARGET_S else 'NOT met'})", flush=True)
        if models:  # the same scoring with every model's occlusion as one stacked predict
            by_tree = early_warning._forest_stages
            early_warning._forest_stages = lambda model: None
            try:
                stacked = statistics.median(
                    timed(lambda day=day: score_day(con, cfg, day, models))
                    for _ in range(args.repeats))
            finally:
                early_warning._forest_stages = by_tree
            print(f"    score with the occlusion as one stacked predict per k (baseline of the "
                  f"tree-by-tree occlusion): {stacked:.1f} s", flush=True)
    con.close()
    path.unlink()


if __name__ == "__main__":
    main()
