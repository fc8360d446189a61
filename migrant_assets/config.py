"""Study configuration: calendar (SPEC §2), study city, thresholds, paths and data source.

One YAML file describes a study (`config/study.yaml` is the default, synthetic-city one). Two
values come from the environment, with safe defaults for the synthetic city only:

- ``MIGRANT_ASSETS_DUCKDB``: the DuckDB file (default ``<workdir>/migrant_assets.duckdb``);
- ``MIGRANT_ASSETS_KEY``: the pseudonymisation key (SPEC §1). The synthetic city uses the fixed,
  documented key :data:`SYNTHETIC_KEY`; a study of real files refuses to run without a key.

``MIGRANT_ASSETS_CONFIG`` points at another study file and ``MIGRANT_ASSETS_WORKDIR`` moves the
working directory (synthetic city, DuckDB file, models, report).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = PROJECT_ROOT / "sql"
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "study.yaml"

#: The documented key for the synthetic city (SPEC §1). Never use it for real data.
SYNTHETIC_KEY = "migrant-assets-synthetic-city-key"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Window:
    """One study window: a date range, the Dagster partition key that names it, a paper label."""

    family: Literal["integration_week", "departure_week", "first_k_days"]
    key: str  # Dagster partition key (ISO date: week start, or last day for first-k-days)
    label: str  # the paper's name: W1..W4, A..C, k=3..k=14
    start: date
    end: date  # inclusive

    @property
    def window_id(self) -> str:
        return f"{self.family}:{self.key}"

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(d) for d in range((self.end - self.start).days + 1)]


class Calendar(_Model):
    """SPEC §2. Weeks are 7 days from each listed start; every date is configurable."""

    month_start: date = date(2016, 9, 1)
    month_end: date = date(2016, 9, 30)  # inclusive
    integration_weeks: list[date] = Field(
        default=[date(2016, 9, 3), date(2016, 9, 10), date(2016, 9, 17), date(2016, 9, 24)]
    )
    departure_weeks: list[date] = Field(
        default=[date(2016, 9, 5), date(2016, 9, 12), date(2016, 9, 19)]
    )
    first_k_start: date = date(2016, 9, 5)
    k_min: int = 3
    k_max: int = 14

    @model_validator(mode="after")
    def _check(self) -> Calendar:
        if len(self.integration_weeks) != 4 or len(self.departure_weeks) != 3:
            raise ValueError("the calendar needs 4 integration weeks and 3 departure weeks")
        for w in [*self.integration_weeks, *self.departure_weeks]:
            if not (self.month_start <= w and w + timedelta(6) <= self.month_end):
                raise ValueError(f"week starting {w} is outside the study month")
        if not 1 <= self.k_min <= self.k_max:
            raise ValueError("need 1 <= k_min <= k_max")
        return self

    @property
    def days(self) -> list[date]:
        n = (self.month_end - self.month_start).days + 1
        return [self.month_start + timedelta(d) for d in range(n)]

    @property
    def departure_pre_window(self) -> tuple[date, date]:
        """Days before week A on which a new migrant must be silent (09-01..09-04)."""
        return self.month_start, self.departure_weeks[0] - timedelta(1)

    def windows(self, family: str | None = None) -> list[Window]:
        out: list[Window] = []
        for i, s in enumerate(self.integration_weeks):
            out.append(Window("integration_week", s.isoformat(), f"W{i + 1}", s, s + timedelta(6)))
        for name, s in zip("ABC", self.departure_weeks, strict=True):
            out.append(Window("departure_week", s.isoformat(), name, s, s + timedelta(6)))
        for k in range(self.k_min, self.k_max + 1):
            end = self.first_k_start + timedelta(k - 1)
            out.append(Window("first_k_days", end.isoformat(), f"k={k}", self.first_k_start, end))
        return [w for w in out if family is None or w.family == family]

    def window(self, family: str, key: str) -> Window:
        for w in self.windows(family):
            if w.key == key:
                return w
        raise KeyError(f"no {family} window with partition key {key}")


class City(_Model):
    """The study city: its province name (who is 'local'), bounding box, timezone, centre."""

    province: str = "Shanghai"
    timezone: str = "Asia/Shanghai"
    min_lat: float = 30.65
    max_lat: float = 31.90
    min_lon: float = 120.85
    max_lon: float = 122.00
    center_lat: float = 31.2304
    center_lon: float = 121.4737
    districts_geojson: Path | None = None  # optional outlines for maps (WGS-84)


class Thresholds(_Model):
    max_degree: int = 500  # SPEC §3 service-like filter
    service_user_types: list[str] = Field(default=["delivery", "customer_service", "fraud"])
    min_group_size: int = 10  # SPEC §1 suppression of published aggregates
    quarantine_warn_share: float = 0.02  # asset check warns above this share of rows
    quarantine_error_share: float = 0.20  # and fails above this one
    similar_age_departure: int = 5  # SPEC §5
    similar_age_integration: int = 10


class SyntheticSource(_Model):
    kind: Literal["synthetic"] = "synthetic"
    preset: str = "demo"
    seed: int = 20160901
    proportions: Literal["preset", "paper"] = "preset"


class FilesSource(_Model):
    kind: Literal["files"] = "files"
    mapping: Path  # a data-contract mapping file (see docs/data_contract.md)


class ModelSettings(_Model):
    """SPEC §6 experiments: one seed for every random draw (folds, splits, models, bootstrap)."""

    seed: int = 20161001


class DuckDBSettings(_Model):
    memory_limit: str = "8GB"
    threads: int = 2


class StudyConfig(_Model):
    calendar: Calendar = Calendar()
    city: City = City()
    thresholds: Thresholds = Thresholds()
    source: SyntheticSource | FilesSource = Field(default=SyntheticSource(), discriminator="kind")
    workdir: Path = Path("work")
    duckdb: DuckDBSettings = DuckDBSettings()
    models: ModelSettings = ModelSettings()

    @classmethod
    def load(cls, path: str | Path | None = None) -> StudyConfig:
        """Read a study YAML (default: ``$MIGRANT_ASSETS_CONFIG`` or ``config/study.yaml``)."""
        path = Path(path or os.environ.get("MIGRANT_ASSETS_CONFIG") or DEFAULT_CONFIG)
        data = yaml.safe_load(path.read_text()) or {}
        if "MIGRANT_ASSETS_WORKDIR" in os.environ:
            data["workdir"] = os.environ["MIGRANT_ASSETS_WORKDIR"]
        cfg = cls.model_validate(data)
        base = path.resolve().parent
        updates = {}
        if not cfg.workdir.is_absolute():
            updates["workdir"] = (Path.cwd() / cfg.workdir).resolve()
        if isinstance(cfg.source, FilesSource) and not cfg.source.mapping.is_absolute():
            updates["source"] = cfg.source.model_copy(update={"mapping": base / cfg.source.mapping})
        return cfg.model_copy(update=updates)

    @property
    def duckdb_path(self) -> Path:
        env = os.environ.get("MIGRANT_ASSETS_DUCKDB")
        return Path(env) if env else self.workdir / "migrant_assets.duckdb"

    @property
    def models_dir(self) -> Path:
        """Where fitted models are saved (paths and hashes go to asset metadata)."""
        return self.workdir / "models"

    @property
    def synthetic_dir(self) -> Path:
        """Where the synthetic city of this config is (or will be) generated."""
        assert isinstance(self.source, SyntheticSource)
        return self.workdir / "synthetic" / f"{self.source.preset}-{self.source.seed}"

    @property
    def pseudonym_key(self) -> str:
        key = os.environ.get("MIGRANT_ASSETS_KEY")
        if key:
            return key
        if isinstance(self.source, SyntheticSource):
            return SYNTHETIC_KEY
        raise RuntimeError(
            "MIGRANT_ASSETS_KEY is not set: real data must be pseudonymised with a secret key "
            "(the fixed synthetic-city key is refused for a 'files' source)."
        )
