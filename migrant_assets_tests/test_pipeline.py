"""The main job end to end on the `tiny` synthetic city: the demo command, its checks, the
labels against the city's planted ground truth, and idempotent re-materialization."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from migrant_assets.cli import QUIET
from migrant_assets.config import SYNTHETIC_KEY, StudyConfig
from migrant_assets.privacy import pseudonym


def _read(cfg: StudyConfig, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_demo_materializes_everything_and_every_check_passes(tiny: dict) -> None:
    out = tiny["output"]
    assert "FAILED" not in out
    assert "every asset check passed" in out, out[-3000:]
    for table in ("calls", "quarantine", "user_labels", "window_graph", "features"):
        assert f"  {table} " in out
    windows = _read(tiny["cfg"], "SELECT DISTINCT window_id FROM window_graph "
                    "WHERE window_id NOT LIKE 'arrival_days:%'")  # early warning: its own test
    assert len(windows) == len(tiny["cfg"].calendar.windows()) == 20
    featurised = _read(tiny["cfg"], "SELECT DISTINCT window_id FROM features")
    assert len(featurised) == 20


def test_calls_files_and_accounting(tiny: dict) -> None:
    """Every day file is ingested; read = accepted + quarantined against the planted log."""
    cfg = tiny["cfg"]
    city = cfg.synthetic_dir
    assert sorted(p.name for p in (city / "calls").glob("*.parquet")) == [
        f"{d.isoformat()}.parquet" for d in cfg.calendar.days]
    planted = pd.read_parquet(city / "ground_truth" / "malformed.parquet")
    planted = planted[planted["file"].str.startswith("calls/")]
    rows = sum(len(pd.read_parquet(p)) for p in (city / "calls").glob("*.parquet"))
    counts = _read(cfg, "SELECT (SELECT count(*) FROM calls) AS accepted, "
                        "(SELECT count(*) FROM quarantine "
                        "WHERE source IN ('calls', 'landed_calls')) AS quarantined, "
                        "(SELECT sum(rows_outside_calendar) FROM landed_files) AS outside, "
                        "(SELECT sum(rows_read) FROM landed_files) AS landing_read")
    assert counts.landing_read[0] == rows
    assert counts.accepted[0] + counts.quarantined[0] + counts.outside[0] == rows
    by_reason = _read(cfg, "SELECT reason, count(*) AS n FROM quarantine "
                           "WHERE source IN ('calls', 'landed_calls') "
                           "GROUP BY 1").set_index("reason")["n"].to_dict()
    by_reason["outside_calendar"] = int(counts.outside[0])
    assert by_reason == planted["reason"].value_counts().to_dict()


def _labels_with_truth(cfg: StudyConfig) -> pd.DataFrame:
    truth = pd.read_parquet(cfg.synthetic_dir / "ground_truth" / "truth.parquet")
    truth["user_id"] = [pseudonym(SYNTHETIC_KEY, "user", o) for o in truth["owner_id"]]
    labels = _read(cfg, "SELECT user_id, integration_label, departure_label FROM user_labels")
    return truth.merge(labels, on="user_id", how="left")


def _calls_per_owner(cfg: StudyConfig) -> pd.Series:
    """Calls made or received in the month per owner, read from the synthetic city's files."""
    city = cfg.synthetic_dir
    with duckdb.connect() as con:
        return con.execute(
            "WITH ends AS (SELECT caller AS number FROM read_parquet($calls) UNION ALL "
            "SELECT callee FROM read_parquet($calls)) "
            "SELECT s.owner_id, count(*) AS calls FROM ends JOIN read_parquet($subscribers) s "
            "USING (number) GROUP BY s.owner_id",
            {"calls": str(city / "calls" / "*.parquet"),
             "subscribers": str(city / "subscribers.parquet")},
        ).df().set_index("owner_id")["calls"]


def test_labels_agree_with_planted_truth(tiny: dict) -> None:
    """Each kind of disagreement has its planted cause (see docs/synthetic_city.md)."""
    cal = tiny["cfg"].calendar
    m = _labels_with_truth(tiny["cfg"])
    w1_end, w2_start = cal.integration_weeks[0] + pd.Timedelta(days=6), cal.integration_weeks[1]
    a_start, b_start = cal.departure_weeks[0], cal.departure_weeks[1]
    arrival = pd.to_datetime(m["arrival_day"]).dt.date
    known = m["birth_province"].notna()
    migrant_labels = {"settled_migrant", "new_migrant", "staying_migrant", "leaving_migrant"}
    # Birth province decides local vs migrant: never crossed.
    locals_ = m[m["group"] == "local"]
    assert not locals_[["integration_label", "departure_label"]].isin(migrant_labels).any().any()
    migrants = m[m["group"].isin(["settled_migrant", "new_migrant"])]
    assert not (migrants[["integration_label", "departure_label"]] == "local").any().any()
    assert (locals_["integration_label"] == "local").mean() > 0.85
    # New migrants who arrived by the end of W1 called in W1 (the arrival call): never 'new'.
    early = m[(m["group"] == "new_migrant") & (arrival <= w1_end)]
    assert not (early["integration_label"] == "new_migrant").any()
    # Staying new migrants arriving in W2 with a known province are labelled new migrants unless
    # silent in W3 or W4 (generator 3.0: sparser new callers, and stayers who share a leaver's
    # few contacts; 13% of them on the tiny city).
    w2 = m[(m["group"] == "new_migrant") & ~m["will_leave"] & (arrival >= w2_start) & known]
    assert len(w2) > 0 and (w2["integration_label"] == "new_migrant").mean() > 0.8
    # Planted leavers (arrived in week A, left in B) are found; few others are.
    leavers = m[m["will_leave"] & known & (arrival >= a_start) & (arrival < b_start)]
    assert len(leavers) >= 5
    assert (leavers["departure_label"] == "leaving_migrant").mean() >= 0.8
    labelled = m[m["departure_label"] == "leaving_migrant"]
    assert labelled["will_leave"].mean() >= 0.6
    # Who else is labelled leaving: visitors, migrants with a planted silent spell, and sparse
    # callers whose calls happened to stop by week C: the bottom quarter of the stayers'
    # planted call volume, activity x ties (generator 3.0: few new contacts is also a leaver's
    # trait that some stayers share, docs/synthetic_city.md).
    # Generator 3.1: or the bottom quarter of the stayers' calls in the city's files (a stayer
    # whose contacts call little, e.g. leavers or other operators' numbers, calls little
    # whatever their own activity).
    others = labelled[~labelled["will_leave"]]
    volume = m["activity"] * (m["initial_ties"] + m["new_ties"])
    staying = m["subgroup"] == "staying"
    calls = m["owner_id"].map(_calls_per_owner(tiny["cfg"])).fillna(0)
    sparse = (volume < volume[staying].quantile(0.25)) | (calls < calls[staying].quantile(0.25))
    # Generator 3.2: or so few calls that, spread at random over the month, all of them miss
    # the days a leaver is silent on (before week A, and week C) with a chance of 1% or more
    # (tiny, seed 20160901: a settled migrant with 8 calls, 2.6%).
    silent_days = (a_start - cal.month_start).days + (b_start - a_start).days
    sparse |= (1 - silent_days / len(cal.days)) ** calls >= 0.01
    explained = others["subgroup"].eq("visitor") | others["quiet_from"].notna() | sparse[
        others.index]
    assert explained.all(), others[["group", "subgroup", "activity"]]


def test_rematerializing_a_day_changes_nothing(tiny: dict) -> None:
    from migrant_assets.defs import defs

    cfg = tiny["cfg"]
    day = "2016-09-12"
    query = (f"SELECT * FROM calls WHERE call_date = DATE '{day}' ORDER BY ALL")
    before = _read(cfg, query)
    quarantine = _read(cfg, f"SELECT * FROM quarantine WHERE partition_key = '{day}' "
                            "ORDER BY ALL")
    os.environ["MIGRANT_ASSETS_CONFIG"] = str(tiny["config_path"])
    try:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            run_config=QUIET, instance=dg.DagsterInstance.ephemeral(), partition_key=day,
            asset_selection=[dg.AssetKey("calls"), dg.AssetKey("daily_contacts")])
    finally:
        os.environ.pop("MIGRANT_ASSETS_CONFIG")
    assert result.success
    pd.testing.assert_frame_equal(_read(cfg, query), before)
    pd.testing.assert_frame_equal(
        _read(cfg, f"SELECT * FROM quarantine WHERE partition_key = '{day}' ORDER BY ALL"),
        quarantine)
    assert date.fromisoformat(day) in cfg.calendar.days


def test_generation_is_skipped_when_the_city_exists(tiny: dict, capsys) -> None:
    manifest = Path(tiny["cfg"].synthetic_dir) / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    from migrant_assets.ingest import generate_city

    files = generate_city(tiny["cfg"])  # what the synthetic_city asset runs
    assert manifest.stat().st_mtime_ns == stamp
    assert "manifest.json" in set(files["path"]) and files["n_bytes"].gt(0).all()
