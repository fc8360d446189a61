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

import codecs
import functools
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from migrant_assets.crs import normalise as normalise_crs
from migrant_assets.errors import ConfigError, InputError

#: The checkout (or, once installed, the site-packages directory) holding the package.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# SQL and the default study/instance settings are package data (issue 12), read through
# importlib.resources so a plain `pip install .` works; the top-level `sql/`, `config/study.yaml`
# and `dagster.yaml` of the checkout are symlinks to them. For a package installed as files
# (setuptools wheels always are) these Traversables are pathlib.Paths.
PACKAGE_FILES = resources.files("migrant_assets")
SQL_DIR = PACKAGE_FILES / "sql"
DEFAULT_CONFIG = PACKAGE_FILES / "data" / "study.yaml"
DEFAULT_DAGSTER_YAML = PACKAGE_FILES / "data" / "dagster.yaml"

#: The documented key for the synthetic city (SPEC §1). Never use it for real data.
SYNTHETIC_KEY = "migrant-assets-synthetic-city-key"
#: The shortest key a ``files`` source accepts (issue 11: guessable keys are refused).
MIN_KEY_BYTES = 32


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Window:
    """One study window: a date range, the Dagster partition key that names it, a paper label."""

    family: Literal["integration_week", "departure_week", "first_k_days", "whole_period",
                    "arrival_days"]  # arrival_days: early warning, docs/early_warning.md
    key: str  # Dagster partition key (ISO date: week start, last day for first-k-days, month start)
    label: str  # the paper's name: W1..W4, A..C, k=3..k=14; "whole period"
    start: date
    end: date  # inclusive

    @property
    def window_id(self) -> str:
        return f"{self.family}:{self.key}"

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(d) for d in range((self.end - self.start).days + 1)]


class Calendar(_Model):
    """SPEC §2. Weeks are 7 days from each listed start; every date is configurable.

    :meth:`windows` lists the papers' windows (integration weeks, departure weeks, first k days)
    and, last, the descriptive ``whole_period`` window: the whole study month
    (``month_start`` .. ``month_end``), keyed by ``month_start``.
    """

    month_start: date = date(2016, 9, 1)
    month_end: date = date(2016, 9, 30)  # inclusive
    integration_weeks: list[date] = Field(
        default=[date(2016, 9, 3), date(2016, 9, 10), date(2016, 9, 17), date(2016, 9, 24)]
    )
    departure_weeks: list[date] = Field(
        default=[date(2016, 9, 5), date(2016, 9, 12), date(2016, 9, 19)]
    )
    first_k_start: date = date(2016, 9, 5)  # without it: the first departure week's start
    k_min: int = 3
    k_max: int = 14

    @model_validator(mode="before")
    @classmethod
    def _first_k_from_week_a(cls, data: Any) -> Any:
        """The first-k-days windows start on departure week A's first day (SPEC §2): a
        calendar that moves the departure weeks and not ``first_k_start`` kept 2016-09-05."""
        if isinstance(data, dict) and "first_k_start" not in data \
                and isinstance(data.get("departure_weeks"), list) and data["departure_weeks"]:
            return {**data, "first_k_start": data["departure_weeks"][0]}
        return data

    @model_validator(mode="after")
    def _check(self) -> Calendar:
        month = f"the study month ({self.month_start} .. {self.month_end})"
        if self.month_end < self.month_start:
            raise ValueError(f"calendar.month_end ({self.month_end}) is before month_start "
                             f"({self.month_start}): month_end is the study month's last day")
        if len(self.integration_weeks) != 4 or len(self.departure_weeks) != 3:
            raise ValueError("the calendar needs 4 integration weeks and 3 departure weeks")
        for key in ("integration_weeks", "departure_weeks"):
            for w in getattr(self, key):
                if not (self.month_start <= w and w + timedelta(6) <= self.month_end):
                    given = "" if key in self.model_fields_set else " (the default)"
                    raise ValueError(
                        f"calendar.{key}{given}: the week starting {w} is not inside {month}; "
                        "set integration_weeks (4 week starts), departure_weeks (3) and "
                        "first_k_start to days of your month")
        if self.departure_weeks[0] <= self.month_start:
            raise ValueError(
                f"calendar: no day of {month} comes before departure week A "
                f"({self.departure_weeks[0]}), where a departure new migrant is silent (SPEC "
                "§3: without those days every settled migrant would be new); start "
                "month_start at least a day before week A (with no data on those days the "
                "departure labels are withheld, and the integration study still runs)")
        if not 1 <= self.k_min <= self.k_max:
            raise ValueError("need 1 <= k_min <= k_max")
        last = self.first_k_start + timedelta(self.k_max - 1)
        if not (self.month_start <= self.first_k_start and last <= self.month_end):
            raise ValueError(
                f"calendar.first_k_start: the first-k-days windows ({self.first_k_start} .. "
                f"{last}, k up to k_max = {self.k_max}) are not inside {month}; set "
                "first_k_start to the first day of departure week A")
        week_c = self.departure_weeks[2]
        if last >= week_c:
            raise ValueError(
                f"calendar.k_max: the first-k-days windows reach {last}, into departure week C "
                f"(from {week_c}), whose silence defines a leaving migrant (SPEC §3): its calls "
                "would give the label away to the classifiers; "
                + (f"set k_max to at most {(week_c - self.first_k_start).days} (the paper's is "
                   "14)" if (week_c - self.first_k_start).days >= self.k_min else
                   "set first_k_start to the first day of departure week A"))
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
        out.append(Window("whole_period", self.month_start.isoformat(), "whole period",
                          self.month_start, self.month_end))
        return [w for w in out if family is None or w.family == family]

    def window(self, family: str, key: str) -> Window:
        for w in self.windows(family):
            if w.key == key:
                return w
        raise KeyError(f"no {family} window with partition key {key}")


#: What to write instead of a time zone that does not exist.
ZONE_FIX = ("use the IANA name of the place's zone, such as 'Asia/Shanghai' (UTC+8) or "
            "'Europe/Madrid', or 'UTC'; for a clock kept at one offset all year (a switch that "
            "ignores daylight saving time), that offset, such as 'UTC-03:00'")
#: POSIX's fixed-offset zones count their sign the other way: ``Etc/GMT+8`` is UTC-8.
_INVERTED_SIGN = re.compile(r"(?i)etc/gmt([+-])([0-9]{1,2})")
#: A fixed offset as a person writes it: ``UTC-03:00``, ``GMT+8``, ``-03:00``, ``UTC−3``.
_FIXED_OFFSET = re.compile(r"(?i)(?:utc|gmt)?\s*([+\-\u2212])\s*([0-9]{1,2})(?::?([0-9]{2}))?")


def zone_setting(value: str) -> str:
    """A time zone of the study config or the mapping as it is stored: an IANA name (its spaces
    around removed), or a fixed offset of whole hours (``UTC-03:00``: a switch's clock that
    ignores daylight saving time) as ``UTC-03:00``, which DuckDB reads as that offset and
    :func:`zone_info` as the ``Etc/GMT+3`` zone; the same again when read again. ``Etc/GMT+3``
    written by a user is refused: POSIX's sign, which a user writing it would not mean."""
    name = value.strip()
    inverted = _INVERTED_SIGN.fullmatch(name)
    if inverted and int(inverted.group(2)):
        sign, hours = inverted.groups()
        means = f"UTC{'-' if sign == '+' else '+'}{int(hours):02d}:00"
        raise ValueError(
            f"time zone {value!r} is {means} (the Etc/GMT zones count their sign the other way "
            f"round; write {means!r} for that offset all year): {ZONE_FIX}")
    offset = _FIXED_OFFSET.fullmatch(name)
    if offset:
        sign, hours, minutes = offset.groups()
        east = sign == "+"
        if int(minutes or 0) or int(hours) > (14 if east else 12):
            raise ValueError(f"time zone {value!r}: a fixed offset is of whole hours, from "
                             f"UTC-12:00 to UTC+14:00 (India's zone is 'Asia/Kolkata'): "
                             f"{ZONE_FIX}")
        return f"UTC{'+' if east else '-'}{int(hours):02d}:00" if int(hours) else "UTC"
    zone_info(name)
    return name


#: A fixed offset as :func:`zone_setting` stores it.
_STORED_OFFSET = re.compile(r"UTC([+-])([0-9]{2}):00")


@functools.cache
def _duckdb_zones() -> frozenset[str]:
    """The time zones DuckDB converts with (ICU's), which every SQL step uses."""
    import duckdb

    with duckdb.connect() as con:
        return frozenset(n for (n,) in con.execute(
            "SELECT name FROM pg_timezone_names()").fetchall())


def zone_info(name: str) -> ZoneInfo:
    """The time zone ``name`` as stored (:func:`zone_setting`; a fixed offset ``UTC-03:00`` as
    the ``Etc/GMT+3`` zone); a ValueError saying so when it does not exist."""
    if name.strip().lower().startswith(("posix/", "right/")):
        raise ValueError(f"time zone {name!r} is a copy of the database's zone for other "
                         f"software (right/ counts leap seconds), which DuckDB does not know: "
                         f"{ZONE_FIX}")
    if fixed := _STORED_OFFSET.fullmatch(name):
        sign, hours = fixed.groups()
        return ZoneInfo(f"Etc/GMT{'-' if sign == '+' else '+'}{int(hours)}")
    try:
        if name not in _duckdb_zones():  # Python also reads the machine's files (localtime)
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: {ZONE_FIX}") from None


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
    districts_geojson: Path | None = None  # optional outlines for maps
    #: the system of the outlines' coordinates (migrant_assets/crs.py: wgs84, gcj02 for
    #: DataV/AMap outlines, bd09, EPSG:<code>)
    districts_crs: str = "wgs84"
    #: the currency of the estates' prices, for the report's labels (the papers' prices are in
    #: yuan and are shown beside ours only in yuan)
    currency: str = Field(default="yuan", pattern=r"^[^\W\d_][\w .$€£¥-]{0,15}$")

    @field_validator("districts_crs")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        return normalise_crs(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA zone name, or a fixed offset (:func:`zone_setting`), checked when the config
        loads (not when the calls are read)."""
        return zone_setting(value)

    @model_validator(mode="after")
    def _box(self) -> City:
        """The bounding box in WGS-84 degrees, its minimum below its maximum (a box drawn the
        wrong way round would put every cell and estate outside it)."""
        for axis, low, high, limit in (("lat", self.min_lat, self.max_lat, 90),
                                       ("lon", self.min_lon, self.max_lon, 180)):
            if not -limit <= low < high <= limit:
                raise ValueError(f"city.min_{axis} ({low}) must be below city.max_{axis} "
                                 f"({high}), both within ±{limit} degrees (WGS-84)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _centre_of_the_box(cls, data: Any) -> Any:
        """A centre not given is the middle of the bounding box, when the box is given (not
        Shanghai's centre beside another city's box)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for axis in ("lat", "lon"):
            ends = (f"min_{axis}", f"max_{axis}")
            if any(e in data for e in ends) and f"center_{axis}" not in data:
                low, high = (data.get(e, cls.model_fields[e].default) for e in ends)
                if isinstance(low, int | float) and isinstance(high, int | float):
                    data[f"center_{axis}"] = (low + high) / 2
        return data


class Thresholds(_Model):
    max_degree: int = Field(default=500, ge=1)  # SPEC §3 service-like filter
    # subscribers' owner_numbers check warns above this many numbers of one owner (an owner
    # id that stands for no owner, such as -1 for unregistered numbers, makes one user of many)
    max_numbers_per_owner: int = Field(default=20, ge=1)
    service_user_types: list[str] = Field(default=["delivery", "customer_service", "fraud"])
    min_group_size: int = Field(default=10, ge=1)  # SPEC §1 suppression of published aggregates
    # asset check warns above this share of rows, and fails above the error share
    quarantine_warn_share: float = Field(default=0.02, ge=0, le=1)
    quarantine_error_share: float = Field(default=0.20, ge=0, le=1)
    similar_age_departure: int = Field(default=5, ge=0)  # SPEC §5
    similar_age_integration: int = Field(default=10, ge=0)
    # estates below or above are quarantined as bad_price (below 100 a price per m² is in
    # another unit: 6.5 for 65,000 yuan written in 万, 10,000 yuan)
    min_price_per_sqm: float = Field(default=100.0, gt=0)
    max_price_per_sqm: float = Field(default=1_000_000.0, gt=0)
    min_class_size: int = Field(default=10, ge=2)  # SPEC §6: fewest users of a class a run uses
    # a day with fewer calls than min_day_share of the median day's, once that median is
    # dense_day_calls or more, is a day the extract does not cover: missing data, not the
    # silence the labels and the early warning's outcomes read (sql/labels/uncovered_days.sql)
    min_day_share: float = Field(default=0.1, ge=0, le=1)
    dense_day_calls: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _shares(self) -> Thresholds:
        if self.max_price_per_sqm <= self.min_price_per_sqm:
            raise ValueError(f"thresholds.max_price_per_sqm ({self.max_price_per_sqm}) must be "
                             f"above min_price_per_sqm ({self.min_price_per_sqm})")
        if self.quarantine_error_share < self.quarantine_warn_share:
            raise ValueError(f"thresholds.quarantine_error_share ({self.quarantine_error_share})"
                             f" is below quarantine_warn_share ({self.quarantine_warn_share}): "
                             "the check warns above the one and fails above the other")
        return self


#: Default of ``checks.max_null_share``: the largest share of nulls a feature column may have
#: among the users whose data can support a value (each column's support is its
#: ``migrant_assets.features.Feature.support``: every featurised user; those with a contact, and
#: for some columns themselves, of known age / sex / birth province; those with a call of known
#: duration; the operator's subscribers, the only parties with locations). The values follow
#: from the definitions (SPEC §5), not from any data set:
#:
#: - 0 where the definition gives every supported user a value;
#: - 0.5 for the geography of L (centre, radii, moving distance): a subscriber has a null only
#:   without a located call; more than half of them without one means the calls' cells cannot
#:   support the family;
#: - 0.95 where a null also follows from behaviour (a single call, no call made, fewer than two
#:   callees, no call at home or work hours, no call with a local, no estate within 5 km): a
#:   column null for nearly every user carries no information. Such a column fails its check
#:   with WARN (the window's data are thin, as in a first-k-days window of 3 days), a column
#:   of a threshold under :data:`BEHAVIOUR_NULL_SHARE` with ERROR (its nulls mean broken input).
BEHAVIOUR_NULL_SHARE = 0.95
DEFAULT_MAX_NULL_SHARE: dict[str, float] = {
    **dict.fromkeys(
        ["degree", "in_degree", "out_degree", "weighted_degree", "neighbor_degree", "clustering",
         "similar_age", "same_sex", "local", "townsman", "in_calls", "out_calls", "out_minus_in",
         "call_duration", "province_diversity"], 0.0),
    **dict.fromkeys(
        ["center_lat", "center_lon", "avg_radius", "max_radius", "moving_distance",
         "avg_moving_distance"], 0.5),
    **dict.fromkeys(
        ["duration_variance", "local_call_duration", "local_duration_variance",
         "reciprocal_call", "communication_diversity", "home_lat", "home_lon", "work_lat",
         "work_lon", "home_work_distance", "avg_price", "center_price", "home_avg_price",
         "home_center_price", "work_avg_price", "work_center_price", "neighbor_avg_price",
         "neighbor_center_price"], BEHAVIOUR_NULL_SHARE),
}


class Checks(_Model):
    """Thresholds of the feature asset checks (``docs/data_model.md``, "Feature checks").

    - ``max_null_share``: per feature column, the largest share of nulls among the users whose
      data can support a value (exceeded beyond sampling: ``features.above_limit``); a study
      config lists only the columns it changes, the others keep :data:`DEFAULT_MAX_NULL_SHARE`.
    - ``tolerance``: slack of the range checks: a value passes a bound b within
      ``tolerance * (1 + |b|)`` (exact sums keep rounding far below the default).
    - ``leaving_share``: the range of the leaving migrants' share of the departure study's new
      migrants (the paper: about 4%); outside it the labels check fails on the synthetic city
      and warns on real data.
    - ``min_positives``: fewer positive test users than this make an F1 too noisy to compare
      with random guess; such classifier rows are listed, not judged (the `tiny` city has
      about a dozen leavers, the `demo` city about 300).
    """

    max_null_share: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MAX_NULL_SHARE))
    tolerance: float = 1e-9
    leaving_share: tuple[float, float] = (0.02, 0.08)
    min_positives: int = 30

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("max_null_share") is not None:
            given = dict(data["max_null_share"])
            unknown = sorted(set(given) - set(DEFAULT_MAX_NULL_SHARE))
            if unknown:
                raise ValueError(f"checks.max_null_share: unknown feature columns {unknown}")
            data = {**data, "max_null_share": {**DEFAULT_MAX_NULL_SHARE, **given}}
        return data

    @model_validator(mode="after")
    def _check(self) -> Checks:
        bad = sorted(c for c, s in self.max_null_share.items() if not 0.0 <= s <= 1.0)
        if bad:
            raise ValueError(f"checks.max_null_share must lie in [0, 1]: {bad}")
        if self.tolerance < 0:
            raise ValueError("checks.tolerance must be >= 0")
        low, high = self.leaving_share
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError("checks.leaving_share must be [low, high] with 0 <= low <= high <= 1")
        if self.min_positives < 1:
            raise ValueError("checks.min_positives must be >= 1")
        return self


class SyntheticSource(_Model):
    kind: Literal["synthetic"] = "synthetic"
    preset: str = "demo"
    seed: int = 20160901
    proportions: Literal["preset", "paper"] = "preset"
    #: Scale knob (``migrant-assets generate --calls N``): the month's social calls; the
    #: population scales with it from the preset's own ratio (None: the preset's size).
    calls: int | None = Field(default=None, ge=1_000)
    #: The null city (``migrant-assets generate --null``, docs/synthetic_city.md): every studied
    #: group draws from the same behaviour, so the papers' findings should not hold on it.
    null: bool = False


class FilesSource(_Model):
    kind: Literal["files"] = "files"
    mapping: Path  # a data-contract mapping file (see docs/data_contract.md)


class ModelSettings(_Model):
    """SPEC §6 experiments: one seed for every random draw (folds, splits, models, bootstrap,
    samples) and the cap of every fit, so that a fit's time and memory are bounded whatever the
    number of users (docs/models.md, "Bounded cost"; the result tables record the caps and the
    rows actually used)."""

    seed: int = 20161001
    #: Training rows of one class a fit sees: a larger class is sampled (seeded) down to this
    #: many; the departure classifiers and the three-way regression cap each class (their
    #: decision rules are class-balanced), the unweighted settled-vs-locals regression samples
    #: every class at the rate of the largest (its class proportions, hence its prior, kept).
    max_train_rows_per_class: int = Field(default=10_000, ge=10)
    #: Trees of each random forest (each grown on half the training rows, leaves free to grow;
    #: docs/models.md, "The random forest's set-up").
    n_trees: int = Field(default=100, ge=1)
    #: Epochs of the multilayer perceptron (it stops earlier when the validation score stalls;
    #: on the demo city 40 epochs halve the time and keep F1 and PR-AUC, docs/models.md).
    mlp_max_iter: int = Field(default=40, ge=1)
    #: Nyström components of the SVM's approximate RBF kernel (150 halve the time of 300 and
    #: keep PR-AUC on the demo city, docs/models.md).
    svm_components: int = Field(default=150, ge=1)
    #: Solver iterations of the logistic regressions and the linear SVM.
    linear_max_iter: int = Field(default=2000, ge=1)
    #: Stopping tolerance of the integration study's logistic regressions: their Newton solver
    #: stops when every component of the gradient of the mean loss is below it (it converges
    #: quadratically: 1e-8 costs one iteration more than 1e-4 and leaves the fit at its optimum
    #: within round-off, so features equal to round-off on DuckDB and Spark give the same
    #: tables; models.classifiers.TunedLogisticRegression, docs/spark.md).
    lr_tol: float = Field(default=1e-8, gt=0)
    #: The ℓ2 inverse penalties C searched by 5-fold CV (integration study).
    c_grid: tuple[float, ...] = Field(
        default=(1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4), min_length=1)
    #: Held-out users per fold on which permutation importance is computed (a seeded sample,
    #: stratified by class), and the shuffles of each feature.
    permutation_rows: int = Field(default=2000, ge=10)
    permutation_repeats: int = Field(default=3, ge=1)
    #: Held-out users per fold of each first-t-days window the transfer matrix (Figure 8(d))
    #: predicts: a seeded sample of about this many (every class at one rate, at least one of
    #: each), the same users for every train window k; its predictions grow with the rows
    #: times the forests' size otherwise.
    transfer_rows: int = Field(default=5000, ge=10, le=2**31 - 1)  # an INTEGER column
    #: Threads of the forests' fits and predictions (BLAS runs on one thread: the matrices are
    #: narrow): the machine's cores; the model assets run one at a time.
    n_jobs: int = Field(default=2, ge=1)


#: Why the early warning refuses ``engine: spark`` (the config, ``demo --early-warning`` and its
#: assets), and what to do.
EARLY_WARNING_ON_SPARK = (
    "the early warning runs on the DuckDB engine only: its arrivals and outcomes read "
    "daily_contacts, which engine: spark keeps in the Spark warehouse")
EARLY_WARNING_ON_SPARK_FIX = (
    "run the early warning from a study config of its own with engine: duckdb (the default), "
    "or set early_warning.enabled: false")


class EarlyWarningSettings(_Model):
    """Early warning (issue 15, docs/early_warning.md): each new migrant's risk of leaving
    within her first ``horizon_days`` days, scored each day from her first k days since arrival.

    - ``enabled``: the main job (``migrant-assets demo``) runs the early-warning assets only when
      true (``demo --early-warning``): their arrival-relative windows cost several times the rest
      of the job (docs/early_warning.md, "Cost"). In the Dagster UI they are there either way.

    - ``horizon_days``: the windows k = 1..horizon_days (the paper's "sooner than two weeks").
    - ``min_silent_days``: a new migrant's first call is at least this many days after the
      feed's first day (default: the days of the departure study's pre-window, 09-01..09-04).
    - ``train_arrivals``: the arrival days of the training cohort (default: week A, the departure
      study's first week); users whose outcome is not known yet are left out.
    - ``classifier``: one of ``models.classifiers.CLASSIFIERS`` (its caps: ``models``).
    - ``calibration``: ``CalibratedClassifierCV`` method, fitted on ``calibration_folds`` folds
      of the training rows; ``sigmoid`` suits a few dozen leavers, ``isotonic`` needs more.
    - ``models_from``: score with the models another study trained (the ``early_warning`` folder
      of its ``models`` directory), e.g. last month's; None: this study's own.
    - ``reliability_bins``, ``random_rankings``: bins of the reliability curve; random rankings
      drawn (seeded) for the lead time of random flags.
    - ``flag_alpha``: a k's model flags anyone only when its out-of-fold probabilities rank the
      leavers above the others better than chance at this level (one-sided Mann-Whitney test;
      ``early_warning.flag_threshold``); else its migrants are in the band ``no_signal``.
    """

    enabled: bool = False
    horizon_days: int = Field(default=14, ge=1, le=60)
    min_silent_days: int | None = Field(default=None, ge=0)
    train_arrivals: tuple[date, date] | None = None
    classifier: str = "random forest"
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    calibration_folds: int = Field(default=3, ge=2)
    models_from: Path | None = None
    reliability_bins: int = Field(default=10, ge=2)
    random_rankings: int = Field(default=200, ge=1)
    flag_alpha: float = Field(default=0.05, gt=0, le=1)

    @field_validator("classifier")
    @classmethod
    def _classifier(cls, v: str) -> str:
        from migrant_assets.models.classifiers import CLASSIFIERS  # scikit-learn: when set

        if v not in CLASSIFIERS:
            raise ValueError(f"early_warning.classifier must be one of "
                             f"{', '.join(repr(c) for c in CLASSIFIERS)}")
        return v

    @field_validator("train_arrivals")
    @classmethod
    def _ordered(cls, v: tuple[date, date] | None) -> tuple[date, date] | None:
        if v is not None and v[0] > v[1]:
            raise ValueError(f"early_warning.train_arrivals must be [first day, last day] in "
                             f"order: {v[0]} comes after {v[1]}")
        return v


class DuckDBSettings(_Model):
    """DuckDB sized for the run (docs/scale.md): ``preserve_insertion_order`` is always off."""

    memory_limit: str = "8GB"  # a size such as 8GB, 512MiB or 75%
    threads: int = Field(default=2, ge=1, le=1024)
    #: Where DuckDB spills what does not fit in ``memory_limit`` (None: ``tmp`` beside the
    #: DuckDB file).
    temp_directory: Path | None = None
    #: The most calls one pass of a window's additive sums reads (``features.sum_window``): the
    #: days of a longer window are summed in runs of whole days (a day with more calls is one
    #: pass by itself). None: ``memory_limit`` / ``features.BYTES_PER_CALL_IN_A_PASS`` (6GB:
    #: about 60M calls), sized so that a pass adds no spill (docs/scale.md).
    max_calls_per_pass: int | None = Field(default=None, ge=1)
    #: DuckDB's cap in the model assets and their checks (the lower of it and ``memory_limit``;
    #: None: ``memory_limit``). They read a window's matrix and write small result tables,
    #: while the fits' worker processes run beside them; under the full limit the blocks they
    #: scanned stayed cached: at 10x the main process grew from 1.7 to 6 GB during
    #: `departure_models` (docs/scale.md).
    models_memory_limit: str | None = "1GB"

    @field_validator("memory_limit", "models_memory_limit")
    @classmethod
    def _size(cls, v: str | None, info) -> str | None:
        if v is None:
            return None
        if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)?", v.strip()):
            raise ValueError(f"duckdb.{info.field_name} must be a size such as '8GB', '512MiB' "
                             "or '75%'")
        return v.strip()


class EngineSettings(_Model):
    """Where the feature stage (window graphs and features) runs (docs/spark.md): ``duckdb``
    (the default, embedded in the study's DuckDB file) or ``spark`` (the same SQL files on
    Apache Spark through ``migrant_assets.engines``; needs the ``spark`` extra and Java). A
    plain ``engine: spark`` in the YAML is short for ``engine: {kind: spark}``."""

    kind: Literal["duckdb", "spark"] = "duckdb"
    #: The Spark master: ``local[N]`` (N threads of this machine), ``spark://host:7077``,
    #: ``yarn``, ``k8s://...``; under spark-submit / Databricks / EMR the session they start
    #: wins (docs/spark.md).
    master: str = "local[2]"
    app_name: str = "migrant_assets"
    #: The Parquet warehouse: inputs and outputs partitioned by day / window (None:
    #: ``<workdir>/spark_warehouse``); any Hadoop path (``s3a://``, ``hdfs://``) on a cluster.
    warehouse: str | None = None
    #: Extra Spark settings (``spark.executor.memory``, ...), over the engine's defaults
    #: (``engines.SPARK_DEFAULTS``).
    conf: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _plain_name(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value


#: The problem of a YAML mapping with a key written twice (the line is the error's mark).
DUPLICATE_KEY = "a key is written a second time in one mapping"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with every key as written: a key written twice in one mapping is
    refused (YAML keeps the last one silently: a second ``thresholds:`` block dropped the
    first's values), and a plain key is its text (YAML 1.1 reads a recode's ``01:`` as 1 and
    ``010:`` as 8, ``yes:`` as true, which no file's code is)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)
        written = set()  # the keys written in this mapping, not merged into it
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self._key(key_node, deep)
            if key in written:
                raise yaml.constructor.ConstructorError(
                    None, None, DUPLICATE_KEY,  # not the key: a data file may be read as YAML
                    key_node.start_mark)
            written.add(key)
        # merge keys (<<) first, as SafeLoader does: a merged key is overridden by one written
        self.flatten_mapping(node)
        return {self._key(key_node, deep): self.construct_object(value_node, deep=deep)
                for key_node, value_node in node.value}

    def _key(self, key_node: yaml.Node, deep: bool) -> Any:
        return key_node.value if isinstance(key_node, yaml.ScalarNode) else \
            self.construct_object(key_node, deep=deep)


def yaml_text(path: Path, error: type[InputError], what: str) -> str:
    """The text of YAML file ``path`` (``what`` it is, for the ``error``): UTF-8, with or
    without a byte order mark, or UTF-16 with one (Windows Notepad's "Unicode"), whatever the
    system's locale (a GBK locale read a UTF-8 mapping's Chinese column names as mojibake)."""
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise error(f"{what} is not UTF-8 text (byte {e.start + 1:,} is not)", str(path),
                    "save it as UTF-8 (in an editor's 'Save as', encoding UTF-8)") from None


def load_yaml(text: str) -> Any:
    """A study config's or a mapping's YAML (:class:`_UniqueKeyLoader`)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 -- a SafeLoader


class StudyConfig(_Model):
    calendar: Calendar = Calendar()
    city: City = City()
    thresholds: Thresholds = Thresholds()
    #: Who gets a feature row in a window, hence who the group trends describe (window graphs
    #: always hold every party; see docs/data_model.md): ``labelled`` (the papers) = the users
    #: with the window study's label (the descriptive ``whole_period`` window: either label);
    #: ``subscribers`` = every user of ``user_labels`` (non-service owners with a local number),
    #: labelled or not; ``all_active`` = every party of the window graph, subscriber or not.
    #: Only users active in the window get a row; ``label`` is null for those without one, and
    #: group trends add an ``all`` group.
    population: Literal["labelled", "subscribers", "all_active"] = "labelled"
    checks: Checks = Checks()
    source: SyntheticSource | FilesSource = Field(default=SyntheticSource(), discriminator="kind")
    workdir: Path = Path("work")
    duckdb: DuckDBSettings = DuckDBSettings()
    models: ModelSettings = ModelSettings()
    early_warning: EarlyWarningSettings = EarlyWarningSettings()
    engine: EngineSettings = EngineSettings()

    @model_validator(mode="after")
    def _early_warning_on_duckdb(self) -> StudyConfig:
        """The early warning runs on DuckDB only (:data:`EARLY_WARNING_ON_SPARK`)."""
        if self.early_warning.enabled and self.engine.kind == "spark":
            raise ValueError(f"{EARLY_WARNING_ON_SPARK}; {EARLY_WARNING_ON_SPARK_FIX}")
        return self

    @model_validator(mode="after")
    def _training_cohort_in_the_month(self) -> StudyConfig:
        """The early warning's training arrivals lie in the study month (its calls)."""
        arrivals, cal = self.early_warning.train_arrivals, self.calendar
        if arrivals is not None and not (cal.month_start <= arrivals[0]
                                         and arrivals[1] <= cal.month_end):
            raise ValueError(f"early_warning.train_arrivals ({arrivals[0]} .. {arrivals[1]}) "
                             f"must lie inside the study month ({cal.month_start} .. "
                             f"{cal.month_end}, calendar)")
        return self

    @model_validator(mode="after")
    def _city_of_the_files(self) -> StudyConfig:
        """A ``files`` source names its city's time zone and province: the defaults are the
        synthetic city's (Shanghai), and a study elsewhere read in Shanghai's time would shift
        every call by hours, with every check passing."""
        if isinstance(self.source, FilesSource):
            missing = [f"city.{k}" for k in ("timezone", "province")
                       if "city" not in self.model_fields_set
                       or k not in self.city.model_fields_set]
            if missing:
                raise ValueError(
                    f"a study of your own files must set {' and '.join(missing)} (the defaults "
                    "are the synthetic city's, Shanghai), e.g. city: {province: Shanghai, "
                    "timezone: Asia/Shanghai, min_lat: 30.65, max_lat: 31.90, min_lon: 120.85, "
                    "max_lon: 122.0} (the bounding box too, when the city is another)")
        return self

    @classmethod
    def load(cls, path: str | Path | None = None) -> StudyConfig:
        """Read a study YAML (default: ``$MIGRANT_ASSETS_CONFIG`` or ``config/study.yaml``).
        The file is read each time; a text read before (with the same
        ``MIGRANT_ASSETS_WORKDIR``) is not parsed again (:func:`_parsed_config`: every asset
        step and check reads it, 7 ms a parse). Relative paths are resolved here, each time:
        the workdir from the working directory, the mapping from the config's folder."""
        path = config_path(path)
        cfg = _parsed_config(cls, yaml_text(path, ConfigError, "the study config"),
                             os.environ.get("MIGRANT_ASSETS_WORKDIR"))
        base = path.resolve().parent
        updates = {}
        if not cfg.workdir.is_absolute():
            updates["workdir"] = (Path.cwd() / cfg.workdir).resolve()
        if isinstance(cfg.source, FilesSource) and not cfg.source.mapping.is_absolute():
            updates["source"] = cfg.source.model_copy(update={"mapping": base / cfg.source.mapping})
        return cfg.model_copy(update=updates) if updates else cfg

    @classmethod
    def parse(cls, text: str, workdir: str | None = None) -> StudyConfig:
        """The config of study YAML ``text``, its paths as written (:meth:`load` resolves
        them); ``workdir`` replaces the workdir when given."""
        data = load_yaml(text) or {}
        if workdir is not None:
            data["workdir"] = workdir
        return cls.model_validate(data)

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
        size = "" if self.source.calls is None else f"-{self.source.calls}"
        null = "-null" if self.source.null else ""
        return self.workdir / "synthetic" / f"{self.source.preset}{size}{null}-{self.source.seed}"

    @property
    def pseudonym_key(self) -> str:
        """The pseudonymisation key (SPEC §1). A ``files`` source needs a key of its own of at
        least :data:`MIN_KEY_BYTES` bytes: the documented synthetic key and short keys are
        refused."""
        key = os.environ.get("MIGRANT_ASSETS_KEY")
        if isinstance(self.source, SyntheticSource):
            return key or SYNTHETIC_KEY
        fix = ("export MIGRANT_ASSETS_KEY to a secret of at least 32 bytes, e.g. the output of "
               "`python -c 'import secrets; print(secrets.token_hex(32))'`, and keep it: the "
               "same key gives the same pseudonyms")
        if not key:
            raise ConfigError("MIGRANT_ASSETS_KEY is not set: real data must be pseudonymised "
                              "with a secret key", "the environment", fix)
        if key == SYNTHETIC_KEY:
            raise ConfigError("MIGRANT_ASSETS_KEY is the public synthetic-city key, which is "
                              "refused for a 'files' source", "the environment", fix)
        if len(key.encode()) < MIN_KEY_BYTES:
            raise ConfigError(f"MIGRANT_ASSETS_KEY is shorter than {MIN_KEY_BYTES} bytes",
                              "the environment", fix)
        return key


def config_path(path: str | Path | None = None) -> Path:
    """The study config to read: ``path``, else ``$MIGRANT_ASSETS_CONFIG``, else the packaged
    ``config/study.yaml``."""
    return Path(path or os.environ.get("MIGRANT_ASSETS_CONFIG") or DEFAULT_CONFIG)


def validation_problems(error: ValidationError, limit: int | None = None) -> str:
    """The problems of a config or mapping, by key (never the values): a text expected where
    YAML read an unquoted ``NULL``, ``~``, ``yes``, ``no``, ``on`` or ``off`` as no value or as
    true or false says to quote it."""
    problems = []
    for e in error.errors()[:limit]:
        # a rule of several keys (a model's validator) has no key: its message names them
        msg = e["msg"].removeprefix("Value error, ")
        problem = f"{'.'.join(str(p) for p in e['loc'])}: {msg}" if e["loc"] else msg
        if e["type"] == "string_type" and (e.get("input") is None or
                                           isinstance(e.get("input"), (bool, int, float))):
            problem += (" (YAML reads NULL, ~, yes, no, on, off and numbers written without "
                        "quotes as no value, true or false, or a number: write it in quotes, "
                        "e.g. 'NULL', '-1')")
        problems.append(problem)
    return "; ".join(problems)


def config_error(error: Exception, path: Path) -> InputError:
    """A study config that cannot be read or validated, as one paragraph (never the values)."""
    if isinstance(error, InputError):
        return error
    where = str(path)
    if isinstance(error, ValidationError):
        problems = validation_problems(error, limit=5)
        return ConfigError(f"the study config is invalid ({problems})", where,
                           "correct these keys; config/study.yaml shows every key with its "
                           "default")
    if isinstance(error, yaml.YAMLError):
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        duplicate = getattr(error, "problem", None) == DUPLICATE_KEY
        return ConfigError("the study config is not valid YAML"
                           + (f" ({DUPLICATE_KEY})" if duplicate else ""), where + line,
                           "fix the YAML at that line (each key written once)")
    if isinstance(error, FileNotFoundError):
        return ConfigError("the study config file does not exist", where,
                           "pass --config with the path of a study YAML file")
    return ConfigError(f"the study config cannot be read ({type(error).__name__})", where)


@functools.lru_cache(maxsize=16)
def _parsed_config(cls: type[StudyConfig], text: str, workdir: str | None) -> StudyConfig:
    """:meth:`StudyConfig.parse`, once per distinct text and workdir (:meth:`StudyConfig.load`;
    configs are frozen, so the parsed one is shared)."""
    return cls.parse(text, workdir)
