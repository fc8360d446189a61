"""The synthetic city (SPEC §7): layout, determinism, calibration, planted malformed rows, and
streaming by blocks (the ``calls`` knob, bounded blocks, the same bytes with or without workers)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from migrant_assets.config import City
from migrant_assets.synthetic import PRESETS, generate
from migrant_assets.synthetic.geography import bearings
from migrant_assets.synthetic.population import BEHAVIOUR, HOME_FOCUS
from migrant_assets.synthetic.presets import BLOCK_CALLS as BLOCK_SIZE
from migrant_assets.synthetic.presets import COUNTS, MAX_BLOCK_PERSONS, plan_blocks
from migrant_assets.synthetic.seeding import permute
from migrant_assets.synthetic.writer import BlockJob, base_pages, build_block

SEED = 20160901
CITY = City()
REAL_ESTATES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "shanghai_xiaoqu_price_lianjia_2018"
)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    generate("tiny", SEED, out)
    return out


def _day_frames(city: Path) -> pd.DataFrame:
    """Every call of the city's day files, with its file and row index in the file."""
    frames = []
    for path in sorted((city / "calls").glob("*.parquet")):
        frame = pd.read_parquet(path)
        frame["file"] = f"calls/{path.name}"
        frame["row"] = np.arange(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def calls(city) -> pd.DataFrame:
    return _day_frames(city)


@pytest.fixture(scope="module")
def malformed(city) -> pd.DataFrame:
    return pd.read_parquet(city / "ground_truth" / "malformed.parquet")


def _distance_km(lat, lon) -> np.ndarray:
    dy = (np.asarray(lat) - CITY.center_lat) * 110.574
    dx = (np.asarray(lon) - CITY.center_lon) * 111.320 * np.cos(np.radians(CITY.center_lat))
    return np.hypot(dx, dy)


def _inside(frame: pd.DataFrame) -> pd.Series:
    return frame.lat.between(CITY.min_lat, CITY.max_lat) & frame.lon.between(
        CITY.min_lon, CITY.max_lon
    )


def test_one_file_per_day_named_by_date(city):
    names = sorted(p.name for p in (city / "calls").glob("*.parquet"))
    days = [date(2016, 9, 1) + timedelta(d) for d in range(30)]
    assert names == [f"{d.isoformat()}.parquet" for d in days]
    for name in ["subscribers", "cells", "estates", "ground_truth/truth", "ground_truth/malformed"]:
        assert (city / f"{name}.parquet").exists()
    manifest = json.loads((city / "manifest.json").read_text())
    assert manifest["preset"] == "tiny" and manifest["proportions"] == "preset"
    assert manifest["calls_total"] == sum(v for k, v in manifest["rows"].items() if "calls/" in k)


def test_schema(city, calls):
    assert list(calls.columns[:6]) == [
        "caller", "callee", "start_ts", "end_ts", "caller_cell", "callee_cell"
    ]
    schema = pq.read_schema(city / "calls" / "2016-09-01.parquet")
    # Parquet has no second unit: timestamp[s] is stored as naive milliseconds, whole seconds.
    assert schema.field("start_ts").type in (pa.timestamp("s"), pa.timestamp("ms"))
    assert (calls.start_ts.dropna().dt.microsecond == 0).all()
    assert schema.field("caller").type == pa.string()
    subs = pd.read_parquet(city / "subscribers.parquet")
    assert list(subs.columns) == [
        "number", "owner_id", "age", "sex", "birth_province", "is_local_number", "user_type"
    ]
    valid = subs.number.dropna()
    assert valid.str.fullmatch(r"1\d{10}").all()
    assert set(subs.sex.dropna()) == {"M", "F"}
    assert set(subs.user_type) == {"regular", "delivery", "customer_service", "fraud"}
    assert subs.age.isna().any() and subs.sex.isna().any() and subs.birth_province.isna().any()
    assert subs.birth_province.nunique() >= 25
    top = subs.birth_province[subs.birth_province != "Shanghai"].value_counts().index
    assert set(top[:2]) == {"Anhui", "Jiangsu"} and "Zhejiang" in top[:4]  # weights .22 .17 .10
    two = subs.dropna(subset=["number"]).groupby("owner_id").number.nunique()
    used = set(calls.caller) | set(calls.callee)
    second = subs[subs.owner_id.isin(two[two == 2].index)].number
    assert len(second) > 0 and second.isin(used).mean() > 0.8
    assert (~subs.is_local_number).any()
    assert len(used - set(subs.number)) > 100  # other operators' parties


def test_same_seed_same_bytes_other_seed_other_calls(city, tmp_path):
    generate("tiny", SEED, tmp_path / "again")
    for path in sorted(city.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "again" / path.relative_to(city)).read_bytes()
    generate("tiny", SEED + 1, tmp_path / "other")
    day = "calls/2016-09-10.parquet"
    assert (city / day).read_bytes() != (tmp_path / "other" / day).read_bytes()


def test_rows_sorted_by_start(city):
    for path in sorted((city / "calls").glob("*.parquet")):
        start = pd.read_parquet(path, columns=["start_ts"]).start_ts
        assert start.dropna().is_monotonic_increasing
        assert start.isna().sum() == 0 or start.tail(start.isna().sum()).isna().all()


def test_groups_and_leavers(city):
    truth = pd.read_parquet(city / "ground_truth" / "truth.parquet")
    new = truth[truth.group == "new_migrant"]
    assert len(new) >= 30
    assert new.will_leave.sum() >= 8
    assert 0.02 <= new.will_leave.mean() <= 0.08
    assert new.arrival_day.between(date(2016, 9, 5), date(2016, 9, 16)).all()
    leavers = new[new.will_leave]
    assert leavers.leave_day.between(date(2016, 9, 13), date(2016, 9, 19)).all()
    assert truth.leave_day.notna().sum() == len(leavers)
    assert truth.quiet_from.notna().any()
    assert (truth.n_numbers == 2).any()


def test_arrivals_and_departures_are_planted_in_calls(city, calls, malformed):
    truth = pd.read_parquet(city / "ground_truth" / "truth.parquet")
    subs = pd.read_parquet(city / "subscribers.parquet").dropna(subset=["number"])
    merged = calls.merge(malformed[["file", "row"]], how="left", indicator=True)
    good = calls[(merged["_merge"] == "left_only").to_numpy()]
    days = pd.concat([
        good[["caller", "start_ts"]].set_axis(["number", "ts"], axis=1),
        good[["callee", "start_ts"]].set_axis(["number", "ts"], axis=1),
    ]).merge(subs[["number", "owner_id"]])
    span = days.groupby("owner_id").ts.agg(["min", "max"]).merge(truth, on="owner_id")
    new = span[span.group == "new_migrant"]
    assert (new["min"].dt.date == new.arrival_day).all()
    leavers = new[new.will_leave]
    assert (leavers["max"].dt.date + timedelta(1) == leavers.leave_day).all()


def _quarter_turn_share(focus: float) -> float:
    """P(|bearing - mean| < pi / 2) under the wrapped Cauchy law of concentration ``focus``."""
    return 2 / np.pi * np.arctan((1 + focus) / (1 - focus))


def test_bearings_without_focus_are_the_uniform_draws_themselves():
    u = np.random.default_rng(3).random(10_000)
    # bit for bit what rng.uniform(0, 2 pi) gives: groups without a focus keep their city
    assert np.array_equal(bearings(u), np.random.default_rng(3).uniform(0, 2 * np.pi, 10_000))


@pytest.mark.parametrize("focus", [0.3, 0.85])
def test_bearings_follow_the_wrapped_cauchy_law(focus):
    theta = bearings(np.random.default_rng(4).random(400_000), np.pi, focus)
    # the wrapped Cauchy law's mean resultant length is its concentration, round its mean ...
    resultant = np.mean(np.exp(1j * (theta - np.pi)))
    assert abs(resultant.real - focus) < 0.005 and abs(resultant.imag) < 0.005
    # ... and P(|theta - mean| < pi / 2) = (2 / pi) atan((1 + focus) / (1 - focus))
    near = np.abs(np.angle(np.exp(1j * (theta - np.pi)))) < np.pi / 2
    assert abs(near.mean() - _quarter_turn_share(focus)) < 0.005


def test_locals_live_east_of_the_centre_migrants_west(city):
    truth = pd.read_parquet(city / "ground_truth" / "truth.parquet")
    east = truth["home_lon"] > CITY.center_lon
    # the share of homes on a side is at least that of bearings within a quarter turn of it
    # (the bounding box redraws a few), less sampling error
    side = _quarter_turn_share(HOME_FOCUS)
    assert BEHAVIOUR["local"].home_bearing == 0 and BEHAVIOUR["settled_migrant"].home_bearing > 3
    assert east[truth.group == "local"].mean() > side - 0.05
    for group in ("settled_migrant", "new_migrant"):
        assert (~east[truth.group == group]).mean() > side - 0.05


def test_estate_prices_calibrated_and_fall_with_distance(city):
    estates = pd.read_parquet(city / "estates.parquet")
    valid = estates[(estates.price_per_sqm > 0) & _inside(estates)]
    assert abs(valid.price_per_sqm.mean() - 54_300) < 1_500
    assert abs(valid.price_per_sqm.std() - 29_400) < 1_500
    r = _distance_km(valid.lat, valid.lon)
    assert valid.price_per_sqm[r < 3].mean() > 100_000
    assert pd.Series(r).corr(valid.price_per_sqm.reset_index(drop=True), "spearman") < -0.5


def test_cells_denser_near_the_centre(city):
    cells = pd.read_parquet(city / "cells.parquet")
    r = _distance_km(cells.lat, cells.lon)
    density = [((r >= a) & (r < b)).sum() / (np.pi * (b * b - a * a))
               for a, b in [(0, 5), (5, 15), (15, 40)]]
    assert density[0] > density[1] > density[2]


def test_coordinates_inside_bbox_except_planted(city, malformed):
    for table in ["cells", "estates"]:
        frame = pd.read_parquet(city / f"{table}.parquet")
        outside = set(np.flatnonzero(~_inside(frame).to_numpy()))
        planted = malformed[(malformed.file == f"{table}.parquet")
                            & (malformed.reason == "outside_bbox")].row
        assert outside == set(planted) and len(outside) == 1


def test_malformed_rows_match_the_files(city, calls, malformed):
    manifest = json.loads((city / "manifest.json").read_text())
    counts = malformed.groupby(malformed.file.str.split("/").str[0].str.removesuffix(".parquet"))
    assert {k: g.reason.value_counts().to_dict() for k, g in counts} == manifest["malformed"]
    bad_calls = malformed[malformed.file.str.startswith("calls/")]
    assert 0.002 < len(bad_calls) / len(calls) < 0.005
    assert bad_calls.detail.nunique() == 10
    rows = calls.merge(bad_calls, on=["file", "row"])
    assert len(rows) == len(bad_calls)
    cell_ids = set(pd.read_parquet(city / "cells.parquet").cell_id)
    checks = {
        "null_caller": lambda f: f.caller.isna(),
        "null_callee": lambda f: f.callee.isna(),
        "null_start_ts": lambda f: f.start_ts.isna(),
        "null_end_ts": lambda f: f.end_ts.isna(),
        "end_before_start": lambda f: f.end_ts < f.start_ts,
        "duration_over_24h": lambda f: (f.end_ts - f.start_ts) > pd.Timedelta(hours=24),
        "self_call": lambda f: f.caller == f.callee,
        "unknown_cell": lambda f: ~(f.caller_cell.isin(cell_ids | {None})
                                    & f.callee_cell.isin(cell_ids | {None})),
        "dated_a_year_early": lambda f: f.start_ts.dt.year == f.file.str[6:10].astype(int) - 1,
    }
    for detail, check in checks.items():
        subset = rows[rows.detail == detail]
        assert len(subset) > 0 and check(subset).all(), detail
    dup = rows[rows.detail == "duplicate_call"]
    cols = ["caller", "callee", "start_ts", "end_ts", "caller_cell", "callee_cell"]
    for _, r in dup.head(5).iterrows():
        prev = calls[(calls.file == r.file) & (calls.row == r.row - 1)].iloc[0]
        assert all(prev[c] == r[c] or (pd.isna(prev[c]) and pd.isna(r[c])) for c in cols)
    # Outside the recorded rows the calls are clean.
    clean = calls.merge(bad_calls[["file", "row"]], how="left", indicator=True)
    clean = calls[(clean["_merge"] == "left_only").to_numpy()]
    assert clean[cols[:4]].notna().all().all()
    assert (clean.caller != clean.callee).all()
    assert (clean.end_ts >= clean.start_ts).all()
    assert not clean.duplicated(cols).any()
    assert (clean.start_ts.dt.strftime("%Y-%m-%d") == clean.file.str[6:16]).all()


def test_static_malformed_rows(city, malformed):
    subs = pd.read_parquet(city / "subscribers.parquet")
    row = malformed[malformed.file == "subscribers.parquet"].row.tolist()
    assert row == np.flatnonzero(subs.number.isna()).tolist()
    estates = pd.read_parquet(city / "estates.parquet")
    bad_price = malformed[(malformed.file == "estates.parquet") & (malformed.reason == "bad_price")]
    assert bad_price.row.tolist() == np.flatnonzero(estates.price_per_sqm <= 0).tolist()
    cells = pd.read_parquet(city / "cells.parquet")
    dup = malformed[(malformed.file == "cells.parquet") & (malformed.reason == "duplicate_id")]
    assert sorted(dup.row) == np.flatnonzero(cells.cell_id.duplicated(keep=False)).tolist()


def test_unflagged_high_degree_number(city, calls):
    subs = pd.read_parquet(city / "subscribers.parquet").dropna(subset=["number"])
    pairs = calls[["caller", "callee"]].dropna()
    pairs = pairs[pairs.caller != pairs.callee]
    undirected = pd.concat([pairs, pairs.set_axis(["callee", "caller"], axis=1)])
    degree = undirected.groupby("caller").callee.nunique()
    regular = set(subs[subs.user_type == "regular"].number)
    assert (degree[degree.index.isin(regular)] > 500).any()


def test_paper_proportions(tmp_path):
    manifest = json.loads(generate("tiny", SEED, tmp_path, proportions="paper").read_text())
    counts = manifest["counts"]
    p = PRESETS["tiny"]
    total = p.n_local + p.n_settled + p.n_new
    assert counts["local"] + counts["settled_migrant"] + counts["new_migrant"] == total
    assert counts["local"] / counts["settled_migrant"] == pytest.approx(1.7, rel=0.02)
    assert manifest["proportions"] == "paper"


@pytest.mark.skipif(not REAL_ESTATES.exists(), reason="shared/data is not available")
def test_prices_resemble_real_shanghai_estates(city):
    real = pd.read_csv(REAL_ESTATES / "xiaoqu_price_2018_geocoded.csv")
    real = real[real.price_per_m2 > 0]
    synthetic = pd.read_parquet(city / "estates.parquet")
    synthetic = synthetic[(synthetic.price_per_sqm > 0) & _inside(synthetic)]
    assert 0.85 < synthetic.price_per_sqm.median() / real.price_per_m2.median() < 1.15
    bands = [0, 5, 15, 100]
    r_real = pd.cut(_distance_km(real.lat_wgs84, real.lon_wgs84), bands)
    r_syn = pd.cut(_distance_km(synthetic.lat, synthetic.lon), bands)
    real_means = real.price_per_m2.groupby(r_real, observed=True).mean().to_numpy()
    syn_means = synthetic.price_per_sqm.groupby(r_syn, observed=True).mean().to_numpy()
    assert (np.diff(real_means) < 0).all() and (np.diff(syn_means) < 0).all()
    assert np.all(np.abs(syn_means / real_means - 1) < 0.35)


# ------------------------------------------------------------------ streaming by blocks

BLOCK_CALLS = 15_000  # tiny (45K social calls) in three blocks


@pytest.fixture(scope="module")
def blocked(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny_blocks")
    generate("tiny", SEED, out, block_calls=BLOCK_CALLS, workers=1)
    return out


def test_permute_is_a_bijection():
    for domain in (1, 2, 7, 64, 1000, 12_345):
        image = permute(np.arange(domain), domain, SEED, "test")
        assert sorted(image.tolist()) == list(range(domain))
    assert not np.array_equal(permute(np.arange(1000), 1000, SEED, "test"), np.arange(1000))
    with pytest.raises(ValueError):
        permute(np.array([5]), 5, SEED, "test")


def test_block_plan_shares_add_up_and_stay_bounded():
    for city in (PRESETS["paper"], PRESETS["large"].scaled(400_000_000), PRESETS["tiny"]):
        blocks = plan_blocks(city)
        assert len(blocks) == max(1, -(-city.calls_per_month // BLOCK_SIZE))
        for field in COUNTS:
            assert sum(getattr(b.params, field) for b in blocks) == getattr(city, field), field
        for b in blocks:
            assert b.params.calls_per_month <= BLOCK_SIZE
            assert b.params.n_owners + b.params.n_external <= MAX_BLOCK_PERSONS
        owners = np.cumsum([0] + [b.params.n_owners for b in blocks])
        assert [b.owner_offset for b in blocks] == owners[:-1].tolist()


def test_a_block_holds_only_its_share_whatever_the_city_size():
    """The memory of a block is set by the block size: block 1 of a city of 2 blocks and of
    one of 6 blocks hold the same number of people, about the same ties and social calls."""
    sizes = []
    for calls in (30_000, 90_000):
        city = PRESETS["tiny"].scaled(calls)
        blocks = plan_blocks(city, BLOCK_CALLS)
        owners = sum(b.params.n_owners for b in blocks)
        out = build_block(BlockJob(SEED, blocks[1], owners, date(2016, 9, 1), 30))
        assert len(out.calls) == 30
        sizes.append((out.truth.num_rows, out.counts["ties"], len(blocks),
                      out.counts["social_calls"]))
    (owners_a, ties_a, n_a, social_a), (owners_b, ties_b, n_b, social_b) = sizes
    assert (n_a, n_b) == (2, 6)
    assert abs(owners_a / owners_b - 1) < 0.02  # the same share, up to rounding
    assert abs(ties_a / ties_b - 1) < 0.1
    assert abs(social_a / BLOCK_CALLS - 1) < 0.05 and abs(social_b / BLOCK_CALLS - 1) < 0.05


@pytest.mark.parametrize("calls", [20_000, 90_000])
def test_calls_knob_scales_calls_and_people(tmp_path, calls):
    manifest = json.loads(generate("tiny", SEED, tmp_path, calls=calls).read_text())
    counts = manifest["counts"]
    assert manifest["calls"] == calls and manifest["parameters"]["calls_per_month"] == calls
    assert abs(counts["social_calls"] / calls - 1) < 0.03  # the stated tolerance (docs)
    f = calls / PRESETS["tiny"].calls_per_month
    for group, n in [("local", 1000), ("settled_migrant", 700), ("new_migrant", 300)]:
        assert counts[group] == round(n * f)
    assert counts["external_parties"] == round(1800 * f)


def test_blocks_same_bytes_with_or_without_workers(blocked, tmp_path):
    generate("tiny", SEED, tmp_path, block_calls=BLOCK_CALLS, workers=2)
    files = sorted(p.relative_to(blocked) for p in blocked.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for path in files:
        assert (blocked / path).read_bytes() == (tmp_path / path).read_bytes(), path
    assert json.loads((blocked / "manifest.json").read_text())["blocks"] == 3


def test_blocks_one_sorted_row_group_each(blocked):
    for path in sorted((blocked / "calls").glob("*.parquet")):
        day = pq.ParquetFile(path)
        assert day.metadata.num_row_groups == 3
        for g in range(3):
            start = day.read_row_group(g, columns=["start_ts"]).column(0).to_pandas()
            n_null = int(start.isna().sum())
            assert start.dropna().is_monotonic_increasing
            assert n_null == 0 or start.tail(n_null).isna().all()


def test_blocks_keep_numbers_ids_and_planted_rows(blocked):
    subs = pd.read_parquet(blocked / "subscribers.parquet")
    truth = pd.read_parquet(blocked / "ground_truth" / "truth.parquet")
    valid = subs.dropna(subset=["number"])
    assert valid.number.is_unique and truth.owner_id.is_unique
    assert set(valid.owner_id) == set(truth.owner_id)
    calls = _day_frames(blocked)
    bad = pd.read_parquet(blocked / "ground_truth" / "malformed.parquet")
    bad_calls = bad[bad.file.str.startswith("calls/")]
    rows = calls.merge(bad_calls, on=["file", "row"])
    assert len(rows) == len(bad_calls) and bad_calls.detail.nunique() == 10
    assert rows[rows.detail == "null_caller"].caller.isna().all()
    assert rows[rows.detail == "self_call"].eval("caller == callee").all()
    clean = calls.merge(bad_calls[["file", "row"]], how="left", indicator=True)
    clean = calls[(clean["_merge"] == "left_only").to_numpy()]
    assert not clean.duplicated(["caller", "callee", "start_ts", "end_ts", "caller_cell",
                                 "callee_cell"]).any()
    # The planted calendar, from the calls of every block.
    days = pd.concat([clean[["caller", "start_ts"]].set_axis(["number", "ts"], axis=1),
                      clean[["callee", "start_ts"]].set_axis(["number", "ts"], axis=1)])
    span = days.merge(valid[["number", "owner_id"]]).groupby("owner_id").ts.agg(["min", "max"])
    new = span.merge(truth, on="owner_id").query("group == 'new_migrant'")
    assert len(new) == 300 and (new["min"].dt.date == new.arrival_day).all()
    leavers = new[new.will_leave]
    assert len(leavers) >= 6 and (leavers["max"].dt.date + timedelta(1) == leavers.leave_day).all()


def test_base_pages_turns_numpy_huge_pages_off_and_back(monkeypatch):
    """The generator's arrays go on base pages (writer.base_pages): NumPy's own flag is off
    inside and as it was after, and left alone when NUMPY_MADVISE_HUGEPAGE says otherwise."""
    switch = np._core.multiarray._set_madvise_hugepage  # returns the flag it replaces

    def flag() -> bool:
        value = switch(False)
        switch(value)
        return value

    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    before = switch(True)
    try:
        with base_pages():
            inside = flag()
        assert (inside, flag()) == (False, True)
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
        with base_pages():
            assert flag() is True
    finally:
        switch(before)
