"""The null city (issue 16, docs/synthetic_city.md): every studied group draws from the same
behaviour, so the papers' findings (reports/findings.py) hold on it no more often than the tests'
false-positive rate. The cities go through the pipeline's own functions (ingestion, labels,
graphs, features, group trends, findings), without Dagster, for the weeks the findings read."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from migrant_assets.config import StudyConfig, SyntheticSource
from migrant_assets.models.integration import settled_vs_locals, three_way
from migrant_assets.reports.findings import FINDINGS, findings
from migrant_assets.reports.trends import TREND_FAMILY, group_feature_trends
from migrant_assets.synthetic import generate
from migrant_assets.synthetic.population import NULL_BEHAVIOUR, STUDIED
from migrant_assets_tests import background
from migrant_assets_tests.stages import run_stages, through_features

#: Seeds of the null cities; the false-positive rate is pooled over them.
SEEDS = (1, 2, 3)
#: At most this share of the findings may hold on the null cities (issue 16).
MAX_SHARE = 0.05


def city_findings(workdir: Path, seed: int, *, null: bool, preset: str = "tiny",
                  integration_models: bool = False) -> pd.DataFrame:
    """The ``findings`` table of a synthetic city, built by the pipeline's functions for the
    integration and departure weeks only (the group-means findings read nothing else); with
    ``integration_models``, the integration study's classifiers too (settled vs locals with its
    backward removal and the shares classified as locals, the three-way model: what model
    findings IM01–IM07 read)."""
    cfg = StudyConfig(workdir=workdir, source=SyntheticSource(preset=preset, seed=seed, null=null))
    windows = [w for family in TREND_FAMILY.values() for w in cfg.calendar.windows(family)]
    return run_stages(cfg, [
        *through_features(cfg, windows),
        lambda con: group_feature_trends(con, cfg),
        *([lambda con: settled_vs_locals(con, cfg, cfg.models.seed),
           lambda con: three_way(con, cfg, cfg.models.seed)] if integration_models else []),
        lambda con: findings(con, cfg),
    ])


def _null_findings() -> dict[str, pd.DataFrame | list[pd.DataFrame]]:
    """The findings of the null cities of :data:`SEEDS` (``null``) and of the planted city of
    the first seed (``planted``): a background job of the session."""
    return {"null": [city_findings(background.scratch(f"null{seed}"), seed, null=True,
                                   integration_models=True)
                     for seed in SEEDS],
            "planted": city_findings(background.scratch("planted"), SEEDS[0], null=False)}


NULL_CITIES = background.Job("the null cities' findings", _null_findings, isolated=True)


@pytest.fixture(scope="module")
def null_findings() -> list[pd.DataFrame]:
    return NULL_CITIES.result()["null"]


def test_the_null_city_manifest_says_so(tmp_path: Path) -> None:
    manifest = json.loads(generate("tiny", 5, tmp_path, null=True).read_text())
    assert manifest["null"] is True and "null city" in manifest["null_note"]
    expected = dict(vars(NULL_BEHAVIOUR))
    assert all(manifest["behaviour"][group] == expected for group in STUDIED)


def test_the_null_city_calendar_is_on_the_window_edges(tmp_path: Path) -> None:
    truth = pd.read_parquet(
        generate("tiny", 6, tmp_path, null=True).parent / "ground_truth" / "truth.parquet")
    new = truth[truth["group"] == "new_migrant"]
    arrival = pd.to_datetime(new["arrival_day"]).dt.strftime("%m-%d")
    assert set(arrival) == {"09-05", "09-10"} and (arrival == "09-05").sum() > len(new) / 2
    leaving = pd.to_datetime(new.loc[new["will_leave"], "leave_day"]).dt.strftime("%m-%d")
    assert len(leaving) > 0 and set(leaving) == {"09-19"}
    assert truth["quiet_from"].isna().all() and truth["moved_on"].isna().all()
    assert (truth["p_townsman"] == 0).all()


@pytest.mark.background(NULL_CITIES)
def test_few_findings_hold_on_null_cities(null_findings: list[pd.DataFrame]) -> None:
    rows = pd.concat(null_findings)
    tested = rows[rows["kind"] == "group means"]
    assert len(tested) == len(SEEDS) * len(FINDINGS)
    # nearly every finding is tested on every city (a group of a few leavers can be suppressed)
    tested = tested[tested["holds"].notna()]
    assert len(tested) >= 0.95 * len(SEEDS) * len(FINDINGS)
    held = tested.loc[tested["holds"].astype(bool), ["finding_id", "compared", "z"]]
    assert len(held) <= MAX_SHARE * len(tested), held


@pytest.mark.background(NULL_CITIES)
def test_the_same_stages_find_the_planted_city() -> None:
    """The null test has power at this size: on the planted tiny city (same seed, same stages)
    a third of the tested findings hold already (demo: 40 of 42, docs/synthetic_city.md). Of the
    tested, as the null test counts: which comparisons of ~10 leavers are suppressed varies with
    the city (seed 1: 33 tested on generator 3.1, 40 on 3.0; 13 and 17 hold)."""
    planted = NULL_CITIES.result()["planted"]
    planted = planted[(planted["kind"] == "group means") & planted["holds"].notna()]
    assert len(planted) >= len(FINDINGS) / 2
    assert planted["holds"].astype(bool).sum() >= len(planted) / 3


@pytest.mark.background(NULL_CITIES)
def test_few_model_findings_hold_on_null_cities(null_findings: list[pd.DataFrame]) -> None:
    """The model findings of the integration study (IM01–IM07, 001 §5) on the same null cities,
    pooled with the group-means findings (the issue's "at most 5% of findings hold"). The
    departure study's (DM01–DM13) need its four classifiers over every k and the transfer
    matrix (minutes per tiny city): they stay untested here, each with its reason;
    benchmarks/model_findings_null.py tests them on a demo-size null city."""
    rows = pd.concat(null_findings)
    models = rows[rows["kind"] == "model"]
    departure = models[models["finding_id"].str.startswith("DM")]
    assert len(departure) > 0 and departure["holds"].isna().all()
    assert departure["reason"].notna().all()
    # the removal's first step and the shares are tested on every city; its later steps (IM02,
    # IM03) only where the first step removed the paper's group (else untested, with why)
    integration = models[models["finding_id"].str.startswith("IM")]
    first = integration[~integration["finding_id"].isin(["IM02", "IM03"])]
    assert len(first) == 5 * len(SEEDS) and first["holds"].notna().all(), first
    assert integration.loc[integration["holds"].isna(), "reason"].notna().all()
    tested = rows[rows["holds"].notna()]
    held = tested.loc[tested["holds"].astype(bool), ["finding_id", "compared", "z"]]
    assert len(held) <= MAX_SHARE * len(tested), held
