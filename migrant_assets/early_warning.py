"""Early warning (issue 15, docs/early_warning.md): each newly arrived migrant's risk of leaving
within her first two weeks, scored every day as that day's calls land.

- **Arrival-relative windows.** A new migrant's day 1 is her first day with a call (paper 000:
  "the first 14 days since she moves"); the migrants who arrived on day a form a cohort, and on
  day D their window is a..D (k = D - a + 1). Its features are the SPEC §5 features of
  ``features.py``, run for the cohort only (population ``cohort``), over the graph of all calls
  of a..D restricted to what they read: the edges with an end in the cohort's N1 (its users and
  their contacts; ``sql/early_warning/members.sql``, ``graphs_write.sql``), and the additive
  sums of the N1 parties, added up from each day's stored sums (``day_sums_write.sql``,
  ``window_sums.sql``): each day's calls are read once, and a day's work depends on its
  cohorts' windows (at most ``horizon_days`` days each), not on the days before.
- **Outcome** (``sql/early_warning/outcomes.sql``): the departure study's weeks A, B, C counted
  from her arrival day; leaving = silent in her week C, known once her week C has landed.
- **Risk model per k** (:func:`train_risk_models`): the study's classifier and caps
  (``models/classifiers.py``) inside scikit-learn's ``CalibratedClassifierCV`` (calibrated on
  folds of the training rows), trained on the training cohort (``early_warning.train_arrivals``,
  default week A); out-of-fold calibrated probabilities (5 stratified folds, seeded) give the
  flag threshold (the F1-best) and the hindsight evaluation. A k whose out-of-fold
  probabilities rank the leavers above the others no better than chance (one-sided
  Mann-Whitney test, ``early_warning.flag_alpha``) flags no one (:func:`flag_threshold`).
- **Top features** (:func:`top_features`): for each scored user and feature, her probability
  minus the probability with that feature set to the training median (an occlusion of her own
  row); the three largest changes in absolute value.
- **Evaluation** (:func:`evaluate`): per k precision/recall/F1 at the threshold, precision in
  the top 1% / 5%, Brier score, reliability curve, and the lead time of flagged leavers (days
  from the day she is first flagged to her last call) against random rankings; every cell of
  fewer than ``thresholds.min_group_size`` users suppressed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import joblib
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from migrant_assets.config import EARLY_WARNING_ON_SPARK, EARLY_WARNING_ON_SPARK_FIX, StudyConfig
from migrant_assets.db import registered, run_schema_sql, run_sql, transaction
from migrant_assets.errors import InputError
from migrant_assets.features import build_features, sums_key
from migrant_assets.features import ensure_schema as ensure_feature_schema
from migrant_assets.graphs import arrival_window
from migrant_assets.graphs import ensure_schema as ensure_graph_schema
from migrant_assets.labels import find_uncovered_days
from migrant_assets.models.classifiers import (
    PriorThresholdClassifier,
    capped_fit,
    training_rows,
)
from migrant_assets.models.data import usable_columns
from migrant_assets.models.departure import (
    PendingFit,
    held_out_predictions,
    run_plans_in_turn,
)
from migrant_assets.models.store import save_model
from migrant_assets.models.workers import release_workers

#: Out-of-fold folds of the training cohort (evaluation and threshold).
OUTER_FOLDS = 5
#: Risk bands of ``departure_risk`` (counts by band in the asset metadata).
BANDS = ("high", "elevated", "low", "no_signal", "unscored")
TOP_FEATURES = 3


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the early-warning tables (``sql/early_warning/schema.sql``) and those of the
    graphs and features they extend (and the labels table ``prepare.sql`` names, empty on a
    live feed: a cohort window reads no label)."""
    ensure_graph_schema(con)
    ensure_feature_schema(con)
    run_schema_sql(con, "labels/schema.sql")
    ensure_own_schema(con)


def ensure_own_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the early-warning tables only (what the evaluation and the report read)."""
    run_schema_sql(con, "early_warning/schema.sql")


def silent_days(cfg: StudyConfig) -> int:
    """The days a new migrant is silent after the feed's first day with a call before she can
    arrive: ``min_silent_days`` (default: the departure pre-window's days)."""
    silent = cfg.early_warning.min_silent_days
    if silent is None:
        start, end = cfg.calendar.departure_pre_window
        silent = (end - start).days + 1
    return silent


def train_arrivals(cfg: StudyConfig) -> tuple[date, date]:
    """The training cohort's arrival days (default: the departure study's week A)."""
    given = cfg.early_warning.train_arrivals
    if given is not None:
        return given
    a = cfg.calendar.departure_weeks[0]
    return a, a + timedelta(6)


def _arrivals(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, day: date, first: date,
              last: date) -> None:
    """The TEMP table ``ew_arrivals``: new migrants arrived on first..last, seen on ``day``."""
    run_sql(con, "early_warning/arrivals.sql", {
        "month_start": cfg.calendar.month_start, "day": day, "first": first, "last": last,
        "silent_days": silent_days(cfg), "province": cfg.city.province})


# ------------------------------------------------------------------- arrival-relative windows
def _sum_days(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, first: date, day: date) -> int:
    """Store the additive sums of every day of first..day whose stored sums are missing or stale
    (``sql/early_warning/day_sums_status.sql``: another province, number or version of the
    day's calls, or inputs),
    each from that day's calls (``sql/features/additive.sql``); returns how many were summed."""
    province = cfg.city.province
    inputs = sums_key(con, arrival_window(first, day))["inputs"]
    stale = run_sql(con, "early_warning/day_sums_status.sql", {
        "first": first, "day": day, "province": province, "inputs": inputs}).fetchall()
    run_sql(con, "features/macros.sql")
    for call_date, n_calls, day_inputs in stale:
        run_sql(con, "features/additive.sql",
                {"start": call_date, "end": call_date, "province": province})
        with transaction(con):
            run_sql(con, "early_warning/day_sums_write.sql", {
                "day": call_date, "province": province, "n_calls": n_calls,
                "inputs": day_inputs})
    return len(stale)


def build_arrival_features(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, day: date
                           ) -> dict[str, Any]:
    """Partition ``day`` of ``features_arrival_days``: for each cohort of the last
    ``horizon_days`` days (new migrants by arrival day), the SPEC §5 features of its users over
    arrival..day, from the window's graph restricted to the cohort's N1 (``arrival_days_graph``)
    and the N1 parties' sums of the window's days (stored daily sums; a day's calls are summed
    once). Drops the graphs of earlier days and the daily sums no window of ``day`` reads
    (prune.sql). Returns ``windows``, ``users`` and ``days_summed`` (days whose calls were
    read)."""
    ensure_schema(con)
    horizon = cfg.early_warning.horizon_days
    first = day - timedelta(horizon - 1)
    _arrivals(con, cfg, day, first, day)
    with transaction(con):
        run_sql(con, "early_warning/stale_windows.sql", {"day": day})
        run_sql(con, "early_warning/windows_write.sql", {"day": day})
    arrivals = [a for (a,) in con.execute(
        "SELECT DISTINCT arrival_day FROM ew_arrivals ORDER BY arrival_day").fetchall()]
    summed = 0
    if arrivals:
        summed = _sum_days(con, cfg, arrivals[0], day)
        span = {"first": arrivals[0], "day": day}
        run_sql(con, "early_warning/members.sql", span)
        with transaction(con):
            run_sql(con, "early_warning/graphs_write.sql", span)
        run_sql(con, "early_warning/window_sums.sql", {"day": day})
    for arrival in arrivals:
        run_sql(con, "early_warning/cohort.sql", {"arrival_day": arrival})
        build_features(con, cfg, arrival_window(arrival, day), summed=True)
    with transaction(con):
        run_sql(con, "early_warning/prune.sql", {"keep_from": day, "keep_days_from": first})
    users = con.execute("SELECT count(*) FROM ew_arrivals").fetchone()[0]
    return {"windows": len(arrivals), "users": users, "days_summed": summed}


# --------------------------------------------------------------------------------- the model
@dataclass
class RiskModel:
    """The fitted calibrated model of k days, its feature columns, the training medians (for
    :func:`top_features`) and the flag threshold (infinite: its out-of-fold ranking was no
    better than chance, :func:`flag_threshold`, so it bands no one)."""

    k: int
    model: Any
    columns: list[str]
    medians: np.ndarray
    threshold: float
    leaving_share: float


def flag_threshold(y: np.ndarray, p: np.ndarray, alpha: float) -> tuple[float, str | None]:
    """The flag threshold of out-of-fold probabilities ``p`` of outcomes ``y``: the F1-best
    (:func:`best_f1_threshold`) when ``p`` ranks the leavers above the others better than
    chance (one-sided Mann-Whitney U test, p-value < ``alpha``); else infinity, flagging no
    one, with the reason. Without signal the F1-best threshold flags (nearly) everyone: F1 of
    flagging all, 2s/(1+s) for a leaving share s, beats any subset a random ranking gives."""
    test = stats.mannwhitneyu(p[y], p[~y], alternative="greater")
    auc = test.statistic / (int(y.sum()) * int((~y).sum()))
    if test.pvalue < alpha:
        return best_f1_threshold(y, p), None
    return float("inf"), (
        f"no signal: the out-of-fold probabilities rank the leavers above the others no better "
        f"than chance (AUC {auc:.3f}, one-sided Mann-Whitney p = {test.pvalue:.3g}, not below "
        f"early_warning.flag_alpha = {alpha:g}): no one is flagged at this k, and every "
        "migrant scored with it is in the band no_signal")


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability threshold (flag when p >= it) of the highest F1 on (y, p); ties: the
    highest threshold."""
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order].astype(int), p[order]
    tp = np.cumsum(ys)
    flagged = np.arange(1, len(ys) + 1)
    f1 = 2 * tp / (flagged + ys.sum())
    last_of_value = np.r_[ps[1:] != ps[:-1], True]  # a threshold flags every tie at once
    f1 = np.where(last_of_value, f1, -1.0)
    return float(ps[int(np.argmax(f1))])


def _training_matrix(con: duckdb.DuckDBPyConnection, k: int) -> pd.DataFrame:
    return run_sql(con, "early_warning/training.sql", {"k": k}).df()


def _risk_fits(cfg: StudyConfig, k: int, X: np.ndarray, y: np.ndarray) -> list[PendingFit]:
    """The fits of the risk model of k: one per outer fold (seed + fold, predicting the fold's
    held-out rows) and the final model on every row (seed), each the study's classifier inside
    ``CalibratedClassifierCV`` on at most ``models.max_train_rows_per_class`` rows of a class."""
    ew, settings, seed = cfg.early_warning, cfg.models, cfg.models.seed
    calibration = (ew.calibration, ew.calibration_folds)
    split = StratifiedKFold(OUTER_FOLDS, shuffle=True, random_state=seed)
    fits = []
    for i, (train, test) in enumerate(split.split(X, y)):
        rows = train[training_rows(y[train], settings.max_train_rows_per_class, seed + i)]
        held_out = np.zeros(len(y), bool)
        held_out[test] = True
        fits.append(PendingFit({"k": k, "fold": i}, ew.classifier, X, y, rows, held_out,
                               seed + i, settings, calibration))
    rows = training_rows(y, settings.max_train_rows_per_class, seed)
    fits.append(PendingFit({"k": k, "fold": None}, ew.classifier, X, y, rows, None, seed,
                           settings, calibration))
    return fits


def require_duckdb(cfg: StudyConfig) -> None:
    """An :class:`InputError` on ``engine: spark``: the early warning's SQL reads
    ``daily_contacts`` in the DuckDB file, which Spark keeps in its warehouse (an asset
    materialized from the UI; the config refuses ``early_warning.enabled`` there)."""
    if cfg.engine.kind == "spark":
        raise InputError(EARLY_WARNING_ON_SPARK, "engine", EARLY_WARNING_ON_SPARK_FIX)


def train_risk_models(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, out_dir: Path
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit the risk model of every k = 1..horizon on the training cohort with a known outcome
    and save it (joblib) under ``out_dir``; returns the model rows (``early_warning_models``)
    and the out-of-fold predictions (``early_warning_predictions``). A k whose training users
    have fewer than ``thresholds.min_class_size`` of a class is skipped with its reason. The
    fits of a k run in ``models.n_jobs`` worker processes (``departure.run_plans_in_turn``)
    while the next k's matrix is read; every fit is seeded, so the models do not depend on
    where they were fit."""
    ensure_schema(con)
    first, last = train_arrivals(cfg)
    latest = con.execute("SELECT max(call_date) FROM daily_contacts").fetchone()[0]
    ew = cfg.early_warning
    if latest is None:
        _drop_other_models(out_dir, [])
        return _model_rows([{"k": k, "status": "skipped", "reason": "no calls landed"}
                            for k in range(1, ew.horizon_days + 1)], ew.classifier), \
            pd.DataFrame()
    _arrivals(con, cfg, latest, first, last)
    find_uncovered_days(con, cfg, cfg.calendar.month_start, latest)
    outcomes = run_sql(con, "early_warning/outcomes.sql", {
        "day": latest, "month_start": cfg.calendar.month_start}).df()
    uncovered = outcomes.pop("days_uncovered").to_numpy(bool)
    unknown = _training_notes(con, cfg, int(uncovered.sum()), first)
    outcomes = outcomes[~uncovered]
    with registered(con, ew_outcome_frame=outcomes):
        con.execute("CREATE OR REPLACE TEMP TABLE ew_outcomes AS SELECT * FROM ew_outcome_frame")
    plans = (_risk_plan(con, cfg, k, first, last) for k in range(1, ew.horizon_days + 1))
    try:
        rows, predictions = _risk_models(
            run_plans_in_turn(plans, lambda plan: plan.get("fits", []), cfg.models), out_dir)
    finally:
        release_workers()  # idle, they would hold their memory through the next assets
    if unknown:  # what every k's training left out, beside a skip's own reason
        rows = [{**r, "reason": f"{r['reason']}; {unknown}" if r.get("reason") else unknown}
                for r in rows]
    _drop_other_models(out_dir, [r["path"] for r in rows if r.get("path")])
    preds = pd.concat(predictions, ignore_index=True) if predictions else pd.DataFrame()
    return _model_rows(rows, ew.classifier), preds


def _drop_other_models(out_dir: Path, written: list[str]) -> None:
    """Remove the model files of ``out_dir`` this training did not write: an earlier training's
    k beyond a shorter horizon, or a k skipped now, which a study scoring with these models
    (``models_from``, :func:`load_models`) would load beside the new ones (probe 36 H2)."""
    keep = {Path(p) for p in written}
    for old in Path(out_dir).glob("k*.joblib"):
        if old not in keep:
            old.unlink()


def _training_notes(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, uncovered: int,
                    first: date) -> str | None:
    """What the training cohort (arrivals from ``first``) lacks for missing data, not for the
    users' behaviour: ``uncovered`` arrivals whose week C is over have no outcome, the days from
    the feed's first to the end of their week C holding days the calls do not cover
    (``uncovered_days``: outcomes.sql); and, when the calls begin
    after the month's first day, the arrivals before that day plus the silent days cannot be
    told from users already there (none is counted). None when it lacks nothing."""
    notes = []
    [(begin,)] = con.execute("SELECT min(call_date) FROM daily_contacts WHERE call_date >= ?",
                             [cfg.calendar.month_start]).fetchall()
    earliest = begin + timedelta(silent_days(cfg)) if begin is not None else None
    if begin is not None and begin > cfg.calendar.month_start and earliest > first:
        notes.append(f"the calls begin on {begin}, after the month's first day: arrivals before "
                     f"{earliest} ({silent_days(cfg)} silent days later, "
                     "early_warning.min_silent_days) cannot be told from users already there "
                     "and none is counted")
    if uncovered:
        shown = _shown_days([d for (d,) in con.execute(
            "SELECT day FROM uncovered_days ORDER BY day").fetchall()])
        notes.append(f"{uncovered} arrivals of the training cohort have no outcome: the days "
                     f"from the feed's first to the end of their week C hold days without "
                     f"calls, or with far fewer than a usual day's ({shown}), where silence "
                     "cannot be told from missing data (before an arrival, in her first-k "
                     "features, in her outcome); deliver the files of those days")
    return "; ".join(notes) or None


def _shown_days(days: list[date]) -> str:
    """The first five of ``days`` for a message, then ``...``."""
    return ", ".join(str(d) for d in days[:5]) + (", ..." if len(days) > 5 else "")


def without_signal(models: pd.DataFrame) -> list[int]:
    """The k whose model was trained but flags no one (its ranking no better than chance:
    :func:`flag_threshold`)."""
    return [int(k) for k in models.loc[(models["status"] == "ok")
                                       & models["threshold"].isna(), "k"]]


def _risk_models(plans: Iterator[dict[str, Any]], out_dir: Path
                 ) -> tuple[list[dict], list[pd.DataFrame]]:
    """The model rows and out-of-fold predictions of each k's plan (:func:`_risk_plan`) as its
    fits are done (:func:`train_risk_models`); each ok model saved under ``out_dir``."""
    rows, predictions = [], []
    for plan in plans:
        if "fits" not in plan:
            rows.append(plan["row"])
            continue
        row, data, X, y, fits = plan["row"], plan["data"], plan["X"], plan["y"], plan["fits"]
        folds, oof = np.zeros(len(y), int), np.zeros(len(y))
        for p in fits[:-1]:
            test = p.held_out
            folds[test] = p.fit["fold"]
            oof[test] = (p.fit.get("held_out")
                         or held_out_predictions(p.fit["model"], X[test]))[1]
        threshold, no_signal = flag_threshold(y, oof, plan["flag_alpha"])
        model = RiskModel(row["k"], fits[-1].fit["model"], plan["columns"],
                          training_medians(X),
                          threshold, row["n_leaving"] / len(y))
        path = out_dir / f"k{row['k']:02d}.joblib"
        sha = save_model(model, path)
        rows.append({**row, "status": "ok", "reason": no_signal,
                     "threshold": None if no_signal else threshold,
                     "features": ",".join(plan["columns"]), "path": str(path), "sha256": sha})
        predictions.append(pd.DataFrame({
            "k": row["k"], "user_id": data["user_id"].to_numpy(),
            "arrival_day": data["arrival_day"], "last_call_day": data["last_call_day"],
            "leaving": y, "fold": folds, "probability": oof}))
    return rows, predictions


def _risk_plan(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, k: int, first: date,
               last: date) -> dict[str, Any]:
    """The training matrix of k and its fits (:func:`_risk_fits`), or only its row when k is
    skipped (too few users of a class, or no usable feature) with the reason."""
    data = _training_matrix(con, k)
    y = data["leaving"].to_numpy(bool) if len(data) else np.zeros(0, bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    row = {"k": k, "n_train": len(y), "n_leaving": n_pos,
           "leaving_share": n_pos / len(y) if len(y) else None}
    if not len(y):  # probe 35 L3: said "fewer than 10 leaving migrants" of an empty cohort
        return {"row": {**row, "status": "skipped", "reason": (
            f"no new migrant with a known outcome arrived on {first}..{last} (early_warning."
            "train_arrivals): the study has no arrival to train on")}}
    if min(n_pos, n_neg) < cfg.thresholds.min_class_size:  # no count under it (SPEC §1)
        return {"row": {**row, "status": "skipped", "reason": (
            f"fewer than {cfg.thresholds.min_class_size} "
            f"{'leaving' if n_pos < cfg.thresholds.min_class_size else 'staying'} migrants "
            f"(thresholds.min_class_size) with a known outcome among the arrivals of "
            f"{first}..{last}")}}
    columns, _, reason = usable_columns(data, "departure", with_locals=False)
    if reason:
        return {"row": {**row, "status": "skipped", "reason": reason}}
    X = data[columns].to_numpy(float)
    return {"row": row, "data": data, "columns": columns, "X": X, "y": y,
            "fits": _risk_fits(cfg, k, X, y), "flag_alpha": cfg.early_warning.flag_alpha}


def _model_rows(rows: list[dict], classifier: str) -> pd.DataFrame:
    cols = ["k", "classifier", "status", "reason", "n_train", "n_leaving", "leaving_share",
            "threshold", "features", "path", "sha256"]
    frame = pd.DataFrame([{"classifier": classifier, "n_train": 0, "n_leaving": 0, **r}
                          for r in rows])
    return frame.reindex(columns=cols)


def write_models(con: duckdb.DuckDBPyConnection, models: pd.DataFrame,
                 predictions: pd.DataFrame) -> None:
    """Replace ``early_warning_models`` and ``early_warning_predictions`` (one transaction)."""
    ensure_schema(con)
    with transaction(con), registered(con, ew_models=models):
        con.execute("DELETE FROM early_warning_models")
        con.execute("INSERT INTO early_warning_models BY NAME SELECT * FROM ew_models")
        con.execute("DELETE FROM early_warning_predictions")
        if len(predictions):
            with registered(con, ew_predictions=predictions):
                con.execute("INSERT INTO early_warning_predictions BY NAME "
                            "SELECT * FROM ew_predictions")


def load_models(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> dict[int, RiskModel]:
    """The fitted risk models by k: those of ``early_warning_models``, each file's sha256 checked
    against the one stored when it was saved (an edited pickle is refused, never loaded); or,
    when ``early_warning.models_from`` is set, every ``k*.joblib`` of that folder (another
    study's ``models/early_warning``: a pickle is code, so only a folder you trust)."""
    if cfg.early_warning.models_from is not None:
        paths = sorted(Path(cfg.early_warning.models_from).glob("k*.joblib"))
        if not paths:
            raise FileNotFoundError(
                f"early_warning.models_from: no k*.joblib model in {cfg.early_warning.models_from}")
        return {m.k: m for m in map(joblib.load, paths)}
    ensure_schema(con)
    models = {}
    for path, sha in con.execute("SELECT path, sha256 FROM early_warning_models "
                                 "WHERE status = 'ok' ORDER BY k").fetchall():
        if hashlib.sha256(Path(path).read_bytes()).hexdigest() != sha:
            raise ValueError(f"{path} is not the model early_warning_models saved (sha256 "
                             "differs): not loaded; materialize early_warning_models again")
        model = joblib.load(path)
        models[model.k] = model
    return models


def no_model_reason(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why ``early_warning_models`` holds no trained risk model (the reason of its first k,
    every k skipped), so that what reads them says so; None when one was trained or none was
    tried. The table exists (:func:`ensure_schema`)."""
    rows = con.execute("SELECT k, status, reason FROM early_warning_models ORDER BY k"
                       ).fetchall()
    if not rows or any(status == "ok" for _, status, _ in rows):
        return None
    k, _, reason = rows[0]
    return f"no risk model could be trained (early_warning_models, k = {k}: {reason})"


# ---------------------------------------------------------------------------------- scoring
#: Users occluded at once by :func:`top_features` (bounds the stacked matrices: users x
#: features rows of the model's inputs).
OCCLUSION_BATCH = 2048


def training_medians(X: np.ndarray) -> np.ndarray:
    """The median of each column's finite values; NaN for a column with none (a feature no
    training user has: occluding it changes nothing), without numpy's all-NaN warning in the
    run's log."""
    finite = np.isfinite(X)
    return np.array([np.median(X[finite[:, j], j]) if finite[:, j].any() else np.nan
                     for j in range(X.shape[1])])


def occluded_probabilities(model: RiskModel, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The calibrated probability of each row of ``X`` (n,) and of each row with feature j set
    to the training median (n, m): the occlusion of :func:`top_features`. A calibrated forest
    (:func:`_forest_stages`) is evaluated tree by tree, re-running a tree only on the occluded
    rows whose path in it tests an input the occlusion changed (:func:`_occluded_forest`); any
    other model predicts the stacked occluded rows. Both are the model's own predictions (a
    test compares them; a forest's trees added in their order, where scikit-learn's threads add
    them in any order: equal to 1e-15); ``OCCLUSION_BATCH`` users at a time."""
    n, m = X.shape
    p, q = np.zeros(n), np.zeros((n, m))
    stages = _forest_stages(model.model)
    for lo in range(0, n, OCCLUSION_BATCH):
        rows = slice(lo, min(n, lo + OCCLUSION_BATCH))
        occluded = np.repeat(X[rows, None, :], m, axis=1)  # row i with feature j replaced
        occluded[:, np.arange(m), np.arange(m)] = model.medians
        if stages is None:
            stacked = np.concatenate([X[rows], occluded.reshape(-1, m)])
            with capped_fit():
                out = model.model.predict_proba(stacked)[:, 1]
            k = len(out) - occluded.shape[0] * m
            p[rows], q[rows] = out[:k], out[k:].reshape(-1, m)
            continue
        for pre, forest, calibrator in stages:  # CalibratedClassifierCV.predict_proba's mean
            raw0, raw = _occluded_forest(pre, forest, X[rows], occluded)
            p[rows] += calibrator.predict(raw0)
            q[rows] += calibrator.predict(raw.ravel()).reshape(raw.shape)
    if stages is not None:
        p /= len(stages)
        q /= len(stages)
    return p, q


def _forest_stages(model: Any) -> list[tuple[Any, Any, Any]] | None:
    """(preprocessing, forest, calibrator) of each calibrated classifier of a
    ``CalibratedClassifierCV`` (binary, sigmoid or isotonic) over a pipeline ending in a random
    forest (bare or in a ``PriorThresholdClassifier`` such as ``OutOfBagF1Classifier``, whose
    probabilities are the forest's), as :func:`train_risk_models` fits the default classifier;
    None for any other model."""
    if not isinstance(model, CalibratedClassifierCV) or model.method not in ("sigmoid",
                                                                             "isotonic"):
        return None
    stages = []
    for cc in model.calibrated_classifiers_:
        pipe = cc.estimator
        if not isinstance(pipe, Pipeline) or len(cc.classes) != 2 or len(cc.calibrators) != 1:
            return None
        final = pipe[-1]
        forest = final.estimator_ if isinstance(final, PriorThresholdClassifier) else final
        if type(forest) is not RandomForestClassifier or hasattr(final, "decision_function"):
            return None
        stages.append((pipe[:-1] if len(pipe) > 1 else None, forest, cc.calibrators[0]))
    return stages


def _model_input(pre: Any, X: np.ndarray) -> np.ndarray:
    """The forest's input: the pipeline's preprocessing, in the trees' float32."""
    Z = X if pre is None else pre.transform(X)
    return np.ascontiguousarray(Z, dtype=np.float32)


def _path_tests(tree: Any, width: int) -> np.ndarray:
    """(nodes, width) bool: the inputs tested on the path from the root to each node of a
    fitted tree (a leaf's row: every test a row reaching it went through; a node's row is its
    parent's and the parent's test). A tree of few nodes per level is walked node by node, a
    bushier one level by level (leaves free to grow: 0.86 ms a tree against 4.3 at 1,737
    nodes, 0.47 against 0.67 at 268; at 33 nodes node by node is 2x faster)."""
    t = tree.tree_
    if t.node_count < 10 * (t.max_depth + 1):
        return _path_tests_by_node(t, width)
    return _path_tests_by_level(t, width)


def _path_tests_by_node(t: Any, width: int) -> np.ndarray:
    """:func:`_path_tests` of the ``tree_`` ``t``, one node at a time (scikit-learn numbers a
    node after its parent)."""
    tests = np.zeros((t.node_count, width), bool)
    for node in np.flatnonzero(t.children_left >= 0):
        row = tests[node].copy()
        row[t.feature[node]] = True
        for child in (t.children_left[node], t.children_right[node]):
            if child <= node:
                raise ValueError("a tree node numbered before its parent")
            tests[child] = row
    return tests


def _path_tests_by_level(t: Any, width: int) -> np.ndarray:
    """:func:`_path_tests` of the ``tree_`` ``t``, the children of one level at a time."""
    left, right, feature = t.children_left, t.children_right, t.feature
    tests = np.zeros((t.node_count, width), bool)
    level = np.zeros(1, np.intp)
    while level.size:
        inner = level[left[level] >= 0]
        parents = np.concatenate([inner, inner])
        children = np.concatenate([left[inner], right[inner]])
        if (children <= parents).any():
            raise ValueError("a tree node numbered before its parent")
        rows = tests[parents]
        rows[np.arange(parents.size), feature[parents]] = True
        tests[children] = rows
        level = children
    return tests


def _occluded_forest(pre: Any, forest: Any, X: np.ndarray, occluded: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The forest's positive-class probability of the rows ``X`` (n,) and of their occluded
    copies ``occluded`` (n, m, m) as (n, m), as ``predict_proba`` computes it (each tree's leaf
    frequencies, normalised, added up over the trees, divided by their number). An occluded row
    reaches the same leaf as its original in every tree whose path to that leaf tests no input
    the occlusion changes (after the preprocessing: the feature and its missing indicator);
    only the others go down the tree again."""
    n, m = occluded.shape[:2]
    Z0 = _model_input(pre, X)
    Zo = _model_input(pre, occluded.reshape(n * m, m))  # row i * m + j: row i, j occluded
    c = Z0.shape[1]
    changed = (Zo.reshape(n, m, c) != Z0[:, None, :]).any(axis=0)  # (m, c): what j changes
    touched = [np.flatnonzero(changed[j]) for j in range(m)]
    cols = np.full((m, max(1, *map(len, touched))), c)  # c: a column no tree tests
    for j, t in enumerate(touched):
        cols[j, :len(t)] = t
    acc0, corr = np.zeros(n), np.zeros(n * m)
    for tree in forest.estimators_:
        t = tree.tree_
        value = t.value[:, 0, :tree.n_classes_]
        norm = value.sum(axis=1)
        norm[norm == 0.0] = 1.0
        leaf_p = value[:, 1] / norm
        again = _path_tests(tree, c + 1)[:, cols].any(axis=2)  # (nodes, m)
        leaf0 = t.apply(Z0)
        ii, jj = np.nonzero(again[leaf0])
        p0 = leaf_p[leaf0]
        acc0 += p0
        corr[ii * m + jj] += leaf_p[t.apply(np.take(Zo, ii * m + jj, axis=0))] - p0[ii]
    trees = len(forest.estimators_)
    return acc0 / trees, (acc0[:, None] + corr.reshape(n, m)) / trees


def top_features(model: RiskModel, p: np.ndarray, q: np.ndarray) -> list[str]:
    """For each row, the :data:`TOP_FEATURES` features whose replacement by the training median
    changes her probability most, from her probability ``p`` and the occluded ones ``q``
    (:func:`occluded_probabilities`): JSON list of [feature, probability minus probability with
    the median]; a feature already at the median moves nothing."""
    delta = p[:, None] - q
    order = np.argsort(-np.abs(delta), axis=1, kind="stable")[:, :TOP_FEATURES]
    return [json.dumps([[model.columns[j], round(float(delta[i, j]), 4)] for j in order[i]])
            for i in range(len(p))]


def score_day(con: duckdb.DuckDBPyConnection, cfg: StudyConfig, day: date,
              models: dict[int, RiskModel]) -> dict[str, Any]:
    """Partition ``day`` of ``departure_risk``: every new migrant of the windows ending on
    ``day`` with her k, calibrated probability, rank among the day's migrants, risk band and top
    features; a k without a model gives the band ``unscored``, one without signal
    (:func:`flag_threshold`) ``no_signal``. A day is not scored (no row)
    when a day the calls do not cover (:func:`labels.find_uncovered_days`: after the feed's
    last day with calls, or far fewer calls than a usual day's) lies between the feed's first
    day with a call and it: the day's windows would read missing data as the silence of a
    leaver, and before an arrival it may hide a call that makes her no new migrant (as the
    training's outcomes, outcomes.sql). Delete-then-insert in one transaction. Returns counts
    by band and by k, and ``not_scored``, the reason a day has no row, or None."""
    ensure_schema(con)
    find_uncovered_days(con, cfg, cfg.calendar.month_start, day)
    gaps = [d for (d,) in con.execute(
        "SELECT day FROM uncovered_days WHERE day >= (SELECT min(call_date) FROM calls "
        "WHERE call_date BETWEEN ? AND ?) OR day = ? ORDER BY day",
        [cfg.calendar.month_start, day, day]).fetchall()]
    not_scored = None
    if day in gaps:
        not_scored = (f"no data for {day}: the calls do not cover it (after the last day with "
                      "calls, or far fewer calls than a usual day's); it is scored once its "
                      "files land")
    elif gaps:
        not_scored = (f"the calls do not cover {_shown_days(gaps)} (no calls, or far fewer "
                      f"than a usual day's), between the feed's first day and {day}: its "
                      "windows would read missing data as silence; materialize this day again "
                      "once those files land")
    data = pd.DataFrame(columns=["k"]) if not_scored else run_sql(
        con, "early_warning/features.sql", {"day": day}).df()
    frames = []
    for k, part in data.groupby("k", sort=True):
        model = models.get(int(k))
        out = part[["user_id", "arrival_day", "k"]].copy()
        if model is None:
            out["probability"], out["top_features"], out["risk_band"] = np.nan, None, "unscored"
        else:
            X = part.reindex(columns=model.columns).to_numpy(float)
            p, q = occluded_probabilities(model, X)  # p: the model's predict_proba
            out["probability"] = p
            out["top_features"] = top_features(model, p, q)
            out["risk_band"] = "no_signal" if np.isinf(model.threshold) else np.where(
                p >= model.threshold, "high",
                np.where(p >= model.leaving_share, "elevated", "low"))
        frames.append(out)
    cols = ["user_id", "arrival_day", "k", "probability", "risk_rank", "risk_band",
            "top_features"]
    scores = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    scores["risk_rank"] = scores["probability"].rank(ascending=False, method="min").astype(
        "Int64")
    scores = scores.reindex(columns=cols).sort_values(["user_id"], kind="stable")
    with transaction(con), registered(con, ew_scores=scores):
        run_sql(con, "early_warning/risk_write.sql", {"day": day})
    bands = scores["risk_band"].value_counts()
    return {"users": len(scores), "by_band": {b: int(bands.get(b, 0)) for b in BANDS},
            "by_k": {int(k): int(n) for k, n in scores["k"].value_counts().sort_index().items()},
            "not_scored": not_scored}


def risk_counts(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, Any]:
    """The stored partition's counts by risk band (asset metadata: never an identifier)."""
    got = dict(con.execute("SELECT risk_band, count(*) FROM departure_risk WHERE call_date = ? "
                           "GROUP BY risk_band", [day]).fetchall())
    return {b: int(got.get(b, 0)) for b in BANDS}


# ------------------------------------------------------------------------------- evaluation
def _cell(k: int | None, metric: str, value: float | None, n: int, min_size: int,
          bin_: int | None = None) -> dict[str, Any]:
    suppressed = n < min_size
    return {"k": k, "metric": metric, "bin": bin_, "n": n, "suppressed": suppressed,
            "value": None if suppressed or value is None or not np.isfinite(value)
            else float(value)}


def _lead_days(preds: pd.DataFrame, flagged: pd.Series) -> pd.Series:
    """Per leaver flagged at some k: days from the day of her first flag (arrival + k - 1) to
    her last call."""
    first = preds[flagged & preds["leaving"]].groupby("user_id").agg(
        k=("k", "min"), arrival_day=("arrival_day", "first"),
        last_call_day=("last_call_day", "first"))
    flag_day = pd.to_datetime(first["arrival_day"]) + pd.to_timedelta(first["k"] - 1, unit="D")
    return (pd.to_datetime(first["last_call_day"]) - flag_day).dt.days


def evaluate(predictions: pd.DataFrame, models: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """``early_warning_evaluation`` from the out-of-fold predictions (module docstring). Lead
    time over every k: a leaver is flagged on the first day her probability reaches her k's
    threshold; the random baseline flags, at each k, as many users as the model does, drawn
    at random (``early_warning.random_rankings`` seeded draws; the median of their medians)."""
    min_size, cells = cfg.thresholds.min_group_size, []
    if predictions.empty:
        return pd.DataFrame(cells, columns=["k", "metric", "bin", "value", "n", "suppressed"])
    thresholds = models.set_index("k")["threshold"]
    preds = predictions.copy()
    preds["flagged"] = preds["probability"] >= preds["k"].map(thresholds)
    bins = cfg.early_warning.reliability_bins
    for k, part in preds.groupby("k", sort=True):
        y, p, f = part["leaving"].to_numpy(bool), part["probability"].to_numpy(), \
            part["flagged"].to_numpy(bool)
        tp, n_flag, n_pos = int((y & f).sum()), int(f.sum()), int(y.sum())
        precision = tp / n_flag if n_flag else None
        recall = tp / n_pos if n_pos else None
        f1 = 2 * tp / (n_flag + n_pos) if n_flag + n_pos else None
        k = int(k)
        cells += [_cell(k, "precision", precision, n_flag, min_size),
                  _cell(k, "recall", recall, n_pos, min_size),
                  _cell(k, "f1", f1, min(n_flag, n_pos), min_size),
                  _cell(k, "leaving_share", n_pos / len(y), len(y), min_size),
                  _cell(k, "brier", brier_score_loss(y, p), len(y), min_size)]
        order = np.argsort(-p, kind="stable")
        for share, name in ((0.01, "precision_top_1pct"), (0.05, "precision_top_5pct")):
            top = order[:max(1, int(np.ceil(share * len(y))))]
            cells.append(_cell(k, name, y[top].mean(), len(top), min_size))
        edges = np.linspace(0, 1, bins + 1)
        which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
        for b in range(bins):
            inside = which == b
            if inside.any():
                cells += [_cell(k, "reliability_predicted", p[inside].mean(), int(inside.sum()),
                                min_size, b),
                          _cell(k, "reliability_observed", y[inside].mean(), int(inside.sum()),
                                min_size, b)]
    lead = _lead_days(preds, preds["flagged"])
    cells.append(_cell(None, "median_lead_days", float(lead.median()) if len(lead) else None,
                       len(lead), min_size))
    rng = np.random.default_rng(cfg.models.seed)
    medians, sizes = [], []
    for _ in range(cfg.early_warning.random_rankings):
        flags = pd.Series(False, index=preds.index)
        for _k, idx in preds.groupby("k").groups.items():
            n = int(preds.loc[idx, "flagged"].sum())
            flags.loc[rng.choice(np.asarray(idx), n, replace=False)] = True
        random_lead = _lead_days(preds, flags)
        sizes.append(len(random_lead))
        if len(random_lead):
            medians.append(float(random_lead.median()))
    cells.append(_cell(None, "random_median_lead_days",
                       float(np.median(medians)) if medians else None,
                       int(np.median(sizes)), min_size))
    return pd.DataFrame(cells, columns=["k", "metric", "bin", "value", "n", "suppressed"])


def write_evaluation(con: duckdb.DuckDBPyConnection, cells: pd.DataFrame) -> None:
    """Replace ``early_warning_evaluation`` (one transaction)."""
    ensure_own_schema(con)
    with transaction(con), registered(con, ew_cells=cells):
        con.execute("DELETE FROM early_warning_evaluation")
        con.execute("INSERT INTO early_warning_evaluation BY NAME SELECT * FROM ew_cells")


def headline(con: duckdb.DuckDBPyConnection, horizon: int = 14) -> dict[str, Any]:
    """The demo's line: precision in the top 5% at k = 7 and at the last k (``horizon``, the
    study's ``early_warning.horizon_days``: 14 in the paper; probe 36 L2) beside the leaving
    share, and the median lead time (model and random), from ``early_warning_evaluation``."""
    ensure_own_schema(con)
    got = con.execute("SELECT k, metric, value FROM early_warning_evaluation WHERE bin IS NULL"
                      ).fetchall()
    table = {(k, m): v for k, m, v in got}
    short = min(7, horizon)
    return {"k_short": short, "k_last": horizon,
            "top5_k_short": table.get((short, "precision_top_5pct")),
            "top5_k_last": table.get((horizon, "precision_top_5pct")),
            "share_k_short": table.get((short, "leaving_share")),
            "share_k_last": table.get((horizon, "leaving_share")),
            "lead": table.get((None, "median_lead_days")),
            "random_lead": table.get((None, "random_median_lead_days"))}

