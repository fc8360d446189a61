"""The papers' model findings (000 Section 4, 001 Section 5), each tested on our data (issue 16).

A model finding is a conjunction of **contrasts**, each expected to be positive: a weighted sum
of stored quantities (a classifier's F1 on a fold, a fold forest's Gini importance, a share
classified as locals ...), e.g. F1(random forest) − F1(logistic regression). Two tests:

- ``folds`` — the quantities have one value per cross-validation fold (the same users in every
  fold of a comparison: the departure study's folds are shared by every classifier, feature set
  and k; the integration study's CV folds by every removal candidate). The contrast is computed
  per fold and tested with the **corrected resampled t-test** (Nadeau & Bengio 2003, *Machine
  Learning* 52; Bouckaert & Frank 2004): t = mean / (sd · sqrt(1/K + n_test/n_train)), with
  n_test/n_train = 1/(K − 1) for K folds, K − 1 degrees of freedom. The correction widens the
  naive paired t because the folds' training sets overlap; the naive one rejects far too often.
  Critical value: Student's t at 97.5% with K − 1 df (2.776 for 5 folds). Gini importances of
  fold forests are tested the same way (each forest is fit on the other folds' users).
- ``proportions`` / ``intervals`` — a single estimate per side with a standard error (a share
  classified as locals: binomial se; a three-way F1: se from its 95% bootstrap interval); the
  sides are taken as independent, z = contrast / sqrt(Σ w² se²), critical value 1.96. Where the
  two sides are the same users in two weeks (a trend) they are positively correlated, so this se
  is too large and the test conservative (the per-user predictions are not stored).

A finding holds when every contrast's statistic is at least its critical value; the table
reports the weakest contrast. It is untested (``holds`` null, with the ``reason``) when a value
it needs is missing (its experiment skipped, its asset not materialized, the calendar without the
paper's k), when fewer than ``MIN_REPLICATES`` folds have it, or when the contrast is exactly 0
in every fold (a tie: the data cannot order the two). A log term (``log=True``) compares
relative changes; a non-positive value there leaves the contrast untested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from migrant_assets.config import StudyConfig, Window
from migrant_assets.db import run_sql
from migrant_assets.features import FEATURES
from migrant_assets.models.classifiers import LOGISTIC_REGRESSION, MLP, RANDOM_FOREST, SVM
from migrant_assets.models.data import integration_weeks, reference_window
from migrant_assets.models.departure import (
    ALL_FEATURES,
    FEATURE_IMPORTANCE,
    LEAVING_VS_STAYING,
    TABLE1,
    TABLE1_ROWS,
    TABLE3,
    TABLE3_ROWS,
    TRANSFER,
)
from migrant_assets.models.integration import (
    CLASSIFIED_AS_LOCALS,
    GROUP_ROWS,
    RANDOM_GUESS,
    SETTLED_VS_LOCALS,
    THREE_WAY,
)
from migrant_assets.reports.tables import skipped_experiments, skipped_text, table_problem

Z_CRITICAL = 1.96  # two-sided 5 % level
LEVEL = 0.975  # one side of the two-sided 5 % level
#: The fewest folds a ``folds`` contrast is tested on.
MIN_REPLICATES = 3
#: The paper's k of Figure 8(d): "classifiers trained with only the first 5 days" (000 §4.2).
PAPER_SMALL_K = 5
#: The housing-price features' family (000 Figure 9: two of the top 3).
HOUSING = "housing_price"
DEGREE = "degree"

Test = Literal["folds", "proportions", "intervals"]
#: Where each test's values come from, and what it assumes (the report prints it).
TEST_TEXT = {
    "folds": "corrected resampled t over the CV folds (Nadeau & Bengio), K−1 df",
    "proportions": "two-proportion z (sides independent)",
    "intervals": "z from the bootstrap intervals (sides independent)",
}


@dataclass(frozen=True)
class Term:
    """One stored quantity in a contrast, with its weight (and ``log``: its logarithm)."""

    quantity: str
    weight: float
    log: bool = False


@dataclass(frozen=True)
class Contrast:
    """Side a − side b, each a weighted sum of quantities; the paper says it is positive.
    ``label`` names it."""

    label: str
    a: tuple[Term, ...]
    b: tuple[Term, ...]

    @property
    def terms(self) -> tuple[Term, ...]:
        """Every term, side b's with its weight negated: the contrast is their sum."""
        return self.a + tuple(Term(t.quantity, -t.weight, t.log) for t in self.b)


def a_vs_b(label: str, a: str, b: str) -> Contrast:
    """The contrast a − b (the paper: a > b)."""
    return Contrast(label, (Term(a, 1.0),), (Term(b, 1.0),))


@dataclass
class Stored:
    """What the model findings read: per-fold replicates (quantity → values by replicate),
    estimates with a standard error, the backward-removal candidates, why results are missing,
    and the study config."""

    cfg: StudyConfig
    replicates: dict[str, pd.Series] = field(default_factory=dict)
    estimates: dict[str, tuple[float, float]] = field(default_factory=dict)
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: dict[str, str] = field(default_factory=dict)  # source prefix -> why it is absent
    skipped: dict[tuple[str, str, str], str] = field(default_factory=dict)
    #: experiment -> the first line of its skipped rows (reports.tables.skipped_text)
    skipped_lines: dict[str, str] = field(default_factory=dict)
    #: (experiment, window id) -> the line of the skipped rows of that window
    skipped_windows: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the estimates the report suppresses (fewer than min_group_size users: SPEC §1)
    suppressed: set[str] = field(default_factory=set)

    def why(self, prefix: str, otherwise: str) -> str:
        """Why a source (by the prefix of its quantities) gives nothing: absent, or its
        experiment skipped (:data:`_SKIPPED_AS`), else ``otherwise``."""
        return (self.missing.get(prefix) or self.skipped_lines.get(_SKIPPED_AS.get(prefix, ""))
                or otherwise)

    def fold_mean(self, quantity: str) -> float:
        values = self.replicates.get(quantity)
        return float(values.mean()) if values is not None and values.notna().any() else np.nan


#: A finding's contrasts for the stored results, or why the data cannot test it.
Build = Callable[[Stored], "list[Contrast] | str"]


@dataclass(frozen=True)
class ModelFinding:
    """One model statement of a paper, and how its contrasts are built (module docstring)."""

    finding_id: str
    study: Literal["integration", "departure"]
    paper_section: str
    statement: str
    test: Test
    metric: str  # what is compared: f1, precision, gini, cv_f1, share ...
    groups: str  # the ordering stated, as text
    window: str
    build: Build


# -- quantity names (the SQL files' ``quantity`` column) ---------------------------------------

def fold_q(experiment: str, row: str, window: Window, metric: str) -> str:
    return f"fold/{experiment}/{row}/{window.window_id}/{metric}"


def transfer_q(k: Window, t: Window, metric: str = "f1") -> str:
    return f"transfer/{k.window_id}/{t.window_id}/{metric}"


def gini_q(window: Window, feature: str) -> str:
    return f"gini/{window.window_id}/{feature}"


def candidate_q(step: int, removed: str) -> str:
    return f"candidate/{step}/{removed}"


def share_q(label: str, week: Window) -> str:
    return f"share/{GROUP_ROWS[label]}/{week.label}"


def three_way_q(label: str, week: Window) -> str:
    return f"three_way/{GROUP_ROWS[label]}/{week.label}"


# -- the findings --------------------------------------------------------------------------------

def _k_windows(s: Stored) -> list[Window]:
    return s.cfg.calendar.windows("first_k_days")


def _beats(experiment: str, pairs: Sequence[tuple[str, str]],
           window: Callable[[Stored], Window], metric: str = "f1") -> Build:
    """For each pair (a, b), row a beats row b in ``metric`` per fold."""
    def build(s: Stored) -> list[Contrast]:
        w = window(s)
        return [a_vs_b(f"{a} vs {b}", fold_q(experiment, a, w, metric),
                       fold_q(experiment, b, w, metric)) for a, b in pairs]
    return build


def _ranking(experiment: str, rows: Sequence[str], first: str, window: Callable[[Stored], Window],
             metric: str = "f1") -> Build:
    """``first`` beats each of ``rows`` (other than itself) in ``metric`` per fold."""
    return _beats(experiment, [(first, r) for r in rows if r != first], window, metric)


def _pairs(experiment: str, better: Sequence[str], worse: Sequence[str],
           window: Callable[[Stored], Window]) -> Build:
    """Each of ``better`` beats each of ``worse`` in F1 per fold."""
    return _beats(experiment, [(a, b) for a in better for b in worse], window)


def _order(experiment: str, rows: Sequence[str], window: Callable[[Stored], Window]) -> Build:
    """Each of ``rows`` beats the next in F1 per fold (an ordering: adjacent pairs)."""
    return _beats(experiment, list(pairwise(rows)), window)


def _smallest_k(s: Stored) -> Window | str:
    """The smallest k at which the random forest was evaluated (Figure 8's first point)."""
    quantities = [fold_q(LEAVING_VS_STAYING, RANDOM_FOREST, w, "f1") for w in _k_windows(s)]
    for w, q in zip(_k_windows(s)[:-1], quantities, strict=False):
        if q in s.replicates:
            return w
    if quantities and quantities[-1] not in s.replicates:  # k_max too: its skip says why
        return _why_missing(s, quantities[-1])
    return "the random forest was evaluated at no k below k_max (every smaller k skipped)"


def _against_k(metric: str) -> Build:
    """Figure 8: the random forest's ``metric`` at k_max beats the smallest k evaluated."""
    def build(s: Stored) -> list[Contrast] | str:
        small, big = _smallest_k(s), reference_window(s.cfg)
        if isinstance(small, str):
            return small
        return [a_vs_b(f"{metric} {big.label} vs {small.label}",
                       fold_q(LEAVING_VS_STAYING, RANDOM_FOREST, big, metric),
                       fold_q(LEAVING_VS_STAYING, RANDOM_FOREST, small, metric))]
    return build


def _precision_carries(s: Stored) -> list[Contrast] | str:
    """Figure 8: F1 improves from the smallest k to k_max, and precision grows relatively more
    than recall, ln(P_max / P_min) − ln(R_max / R_min) > 0 ("recall is relatively stable ...
    improvement in precision is the main reason for overall performance improvement": there must
    be an improvement; on the null city the log contrast alone held, t = 4.2, with no
    significant F1 gain)."""
    small, big = _smallest_k(s), reference_window(s.cfg)
    if isinstance(small, str):
        return small
    q = lambda w, m: fold_q(LEAVING_VS_STAYING, RANDOM_FOREST, w, m)  # noqa: E731
    return [a_vs_b(f"f1 {big.label} vs {small.label} (an improvement to explain)",
                   q(big, "f1"), q(small, "f1")),
            Contrast(f"ln gain of precision vs of recall, {small.label} to {big.label}",
                     (Term(q(big, "precision"), 1, True), Term(q(small, "precision"), -1, True)),
                     (Term(q(big, "recall"), 1, True), Term(q(small, "recall"), -1, True)))]


def _beats_guess_early(s: Stored) -> list[Contrast] | str:
    """Figure 8: at the smallest k the random forest beats random guessing: its precision
    exceeds the prevalence of the fold's test users. Precision, not F1: a guess that predicts
    positive at any rate has precision = prevalence, but its F1 grows with the rate (2p/(1+p)
    predicting everyone positive), so "F1 > prevalence" holds for a classifier with no signal
    (docs/models.md, random guess)."""
    small = _smallest_k(s)
    if isinstance(small, str):
        return small
    return [a_vs_b(f"random forest precision vs random guess (prevalence), {small.label}",
                   fold_q(LEAVING_VS_STAYING, RANDOM_FOREST, small, "precision"),
                   fold_q(LEAVING_VS_STAYING, RANDOM_FOREST, small, "prevalence"))]


def _feature_quality(s: Stored) -> list[Contrast] | str:
    """Figure 8(d): the gain from testing a k=5 model on better (k_max) features exceeds the
    gain from training on k_max: [F1(5→max) − F1(5→5)] − [F1(max→max) − F1(5→max)] > 0."""
    windows = {w.label: w for w in _k_windows(s)}
    small, big = windows.get(f"k={PAPER_SMALL_K}"), reference_window(s.cfg)
    if small is None or small == big:
        return (f"the calendar has no first-k-days window k={PAPER_SMALL_K} below k_max "
                "(the paper's small k)")
    return [Contrast(f"F1 gain of testing {small.label}'s model on {big.label} vs of training "
                     f"on {big.label}",
                     (Term(transfer_q(small, big), 1.0), Term(transfer_q(small, small), -1.0)),
                     (Term(transfer_q(big, big), 1.0), Term(transfer_q(small, big), -1.0)))]


def _gini_features(s: Stored) -> list[str]:
    prefix = f"gini/{reference_window(s.cfg).window_id}/"
    return [q.removeprefix(prefix) for q in s.replicates if q.startswith(prefix)]


def _degree_first(s: Stored) -> list[Contrast] | str:
    """Figure 9: degree's Gini importance beats every other feature's, per fold forest."""
    w, features = reference_window(s.cfg), _gini_features(s)
    if DEGREE not in features:
        return s.why("gini", "no Gini importance of degree is stored")
    return [a_vs_b(f"{DEGREE} vs {f}", gini_q(w, DEGREE), gini_q(w, f))
            for f in features if f != DEGREE]


def _housing_in_top3(s: Stored) -> list[Contrast] | str:
    """Figure 9: two of the top 3 features are housing-price ones, i.e. the second most
    important housing-price feature beats the second most important other feature (by mean
    Gini over the fold forests; selecting both on the same data makes the test conservative
    when there are more other features than housing ones)."""
    w, features = reference_window(s.cfg), _gini_features(s)
    by_gini = sorted(features, key=lambda f: (-s.fold_mean(gini_q(w, f)), f))
    housing = [f for f in by_gini if FEATURES[f].departure_group == HOUSING]
    other = [f for f in by_gini if FEATURES[f].departure_group != HOUSING]
    if len(housing) < 2 or len(other) < 2:
        return s.why("gini", "fewer than two housing-price (or other) features have a "
                             "Gini importance")
    return [a_vs_b(f"{housing[1]} (2nd housing) vs {other[1]} (2nd other)",
                   gini_q(w, housing[1]), gini_q(w, other[1]))]


def _ablation_step(step: int, paper_removed: str) -> Build:
    """001 §5.1: at ``step`` of the backward removal, removing the paper's group (the last
    letter of ``paper_removed``) lowers the CV F1 more than removing any other remaining group,
    given that the earlier steps removed the paper's earlier groups."""
    def build(s: Stored) -> list[Contrast] | str:
        c = s.candidates
        if c.empty:
            return s.why("candidate", "no backward-removal candidates are stored")
        at = c[c["step"] == step]
        earlier = paper_removed[:-1]
        done = "".join(c[(c["step"] < step) & c["chosen"]].drop_duplicates("step")
                       .sort_values("step")["candidate"])
        if done != earlier:
            return (f"the removal took {done or 'nothing'} before step {step}, not the paper's "
                    f"{earlier}: the paper's step {step} is not reached")
        if paper_removed not in set(at["removed"]):
            return f"no candidate removes {paper_removed} at step {step}"
        return [a_vs_b(f"CV F1 of -{r} vs -{paper_removed}", candidate_q(step, r),
                       candidate_q(step, paper_removed))
                for r in sorted(set(at["removed"])) if r != paper_removed]
    return build


def _share_trend(label: str, rise: bool) -> Build:
    """001 §5.1: ``label``'s share classified as locals rises (``rise``) or falls from W2 to W4
    *more than the locals' own share does*: [share W4 − share W2] − [locals W4 − locals W2]
    (sign flipped for a fall). The locals' share (their specificity) moves with any drift of
    the W2-trained classifier common to every group; on shuffled labels that drift alone moved
    every group's share by several points (docs/report.md), which a group's raw trend would
    report as a finding."""
    def build(s: Stored) -> list[Contrast] | str:
        weeks = _weeks(s)
        if "W2" not in weeks or "W4" not in weeks:
            return "the calendar has no integration week W2 or W4"
        w2, w4 = weeks["W2"], weeks["W4"]
        first, last = (w2, w4) if rise else (w4, w2)
        change = "rise" if rise else "fall"
        return [Contrast(f"{GROUP_ROWS[label]}' {change} W2→W4 vs the locals' own",
                         (Term(share_q(label, last), 1.0), Term(share_q(label, first), -1.0)),
                         (Term(share_q(LOCAL, last), 1.0), Term(share_q(LOCAL, first), -1.0)))]
    return build


def _weeks(s: Stored) -> dict[str, Window]:
    return {w.label: w for w in integration_weeks(s.cfg)}


def _estimate_pair(make: Callable[[str, Window], str], a: tuple[str, str],
                   b: tuple[str, str], what: str) -> Build:
    """One estimate beats another: (label, week) of each side."""
    def build(s: Stored) -> list[Contrast] | str:
        weeks = _weeks(s)
        if a[1] not in weeks or b[1] not in weeks:
            return f"the calendar has no integration week {a[1]} or {b[1]}"
        return [a_vs_b(f"{what}: {GROUP_ROWS[a[0]]} {a[1]} vs {GROUP_ROWS[b[0]]} {b[1]}",
                       make(a[0], weeks[a[1]]), make(b[0], weeks[b[1]]))]
    return build


_D41, _D42 = "000 §4.1", "000 §4.2"
_I51, _I52 = "001 §5.1", "001 §5.2"


def _K_MAX(s: Stored) -> Window:  # noqa: N802 -- read like a constant in the table below
    return reference_window(s.cfg)


_ROWS1 = list(TABLE1_ROWS.values())
_ROWS3 = list(TABLE3_ROWS.values())
#: Table 1's single sets after the ego network, in the order of the paper's F1 (SPEC §6; a test
#: holds it equal to the order of ``data/paper_reference.csv``).
_TABLE1_AFTER_EGO = [TABLE1_ROWS["call_behavior"], TABLE1_ROWS["geography"],
                     TABLE1_ROWS["housing_price"]]
LOCAL, SETTLED, NEW = "local", "settled_migrant", "new_migrant"

#: The model findings tested, in the papers' order.
MODEL_FINDINGS: tuple[ModelFinding, ...] = (
    ModelFinding("DM01", "departure", f"{_D42} Overall performance (Table 2)",
                 "Random forest provides the best performance (F1) in distinguishing leaving "
                 "from staying migrants.", "folds", "f1",
                 f"{RANDOM_FOREST} > {MLP}, {SVM}, {LOGISTIC_REGRESSION}", "k_max",
                 _ranking(LEAVING_VS_STAYING, [RANDOM_FOREST, MLP, SVM, LOGISTIC_REGRESSION],
                          RANDOM_FOREST, _K_MAX)),
    ModelFinding("DM02", "departure", f"{_D42} Overall performance (Table 2)",
                 "Random forest and MLP outperform the others in F1: non-linearity is "
                 "important.", "folds", "f1",
                 f"{RANDOM_FOREST}, {MLP} > {SVM}, {LOGISTIC_REGRESSION}", "k_max",
                 _pairs(LEAVING_VS_STAYING, [RANDOM_FOREST, MLP], [SVM, LOGISTIC_REGRESSION],
                        _K_MAX)),
    ModelFinding("DM03", "departure", f"{_D41} New migrants vs locals (Table 1)",
                 "Ego network properties perform the best of the single feature sets.",
                 "folds", "f1", f"{TABLE1_ROWS['ego_network']} > the other sets", "k_max",
                 _ranking(TABLE1, _ROWS1, TABLE1_ROWS["ego_network"], _K_MAX)),
    ModelFinding("DM04", "departure", f"{_D41} New migrants vs locals (Table 1)",
                 "After ego network properties the single feature sets rank as Table 1 has "
                 "them: call behavior, geographical patterns, housing price (the text's "
                 "'followed by geographical patterns' contradicts its own Table 1, F1 0.182 for "
                 "call behavior against 0.143; SPEC §6 gives the table's numbers).",
                 "folds", "f1", " > ".join(_TABLE1_AFTER_EGO), "k_max",
                 _order(TABLE1, _TABLE1_AFTER_EGO, _K_MAX)),
    ModelFinding("DM05", "departure", f"{_D42} Overall performance (Table 3)",
                 "Again, ego network properties perform the best of the single feature sets "
                 "(leaving vs staying migrants).", "folds", "f1",
                 f"{TABLE3_ROWS['ego_network']} > the other sets", "k_max",
                 _ranking(TABLE3, _ROWS3, TABLE3_ROWS["ego_network"], _K_MAX)),
    ModelFinding("DM06", "departure", f"{_D42} Overall performance (Table 3)",
                 "Housing price features achieve a better F1-score than geographical "
                 "patterns.", "folds", "f1",
                 f"{TABLE3_ROWS['housing_price']} > {TABLE3_ROWS['geography']}", "k_max",
                 _pairs(TABLE3, [TABLE3_ROWS["housing_price"]], [TABLE3_ROWS["geography"]],
                        _K_MAX)),
    ModelFinding("DM07", "departure", f"{_D42} Early detection (Fig. 8(c))",
                 "Knowing a person's behaviour for longer (as k increases) allows us to "
                 "better predict her decision: F1 grows with k (random forest).", "folds", "f1",
                 RANDOM_FOREST, "k_max > smallest k", _against_k("f1")),
    ModelFinding("DM08", "departure", f"{_D42} Early detection (Fig. 8(a))",
                 "Precision follows the same trend as F1: it grows with k.", "folds",
                 "precision", RANDOM_FOREST, "k_max > smallest k", _against_k("precision")),
    ModelFinding("DM09", "departure", f"{_D42} Early detection (Fig. 8(a-b))",
                 "Recall is relatively stable over k, whereas improvement in precision is the "
                 "main reason for the overall improvement.", "folds", "ln precision − ln recall",
                 RANDOM_FOREST, "k_max vs smallest k", _precision_carries),
    ModelFinding("DM10", "departure", f"{_D42} Early detection (Fig. 8(c))",
                 "Even when observing only 3 days, the classifier can outperform random "
                 "guessing.", "folds", "precision", f"{RANDOM_FOREST} > {RANDOM_GUESS}",
                 "smallest k",
                 _beats_guess_early),
    ModelFinding("DM11", "departure", f"{_D42} Why does the performance improve? (Fig. 8(d))",
                 "Classifiers trained on the first 5 days perform as well as those trained on "
                 "14 days when tested on 14 days' features: the improvement is mainly due to "
                 "feature quality.", "folds", "f1", "feature quality > classifier quality",
                 f"k={PAPER_SMALL_K}, k_max", _feature_quality),
    ModelFinding("DM12", "departure", f"{_D42} Feature importance (Fig. 9)",
                 "Degree (#contacts) ranks first in Gini importance.", "folds", "gini",
                 f"{DEGREE} > every other feature", "k_max", _degree_first),
    ModelFinding("DM13", "departure", f"{_D42} Feature importance (Fig. 9)",
                 "Two of the top 3 features are relevant to housing price.", "folds", "gini",
                 "2nd housing-price feature > 2nd other feature", "k_max", _housing_in_top3),
    ModelFinding("IM01", "integration", f"{_I51} Prediction performance (Fig. 4(a))",
                 "Geographical features are the most influential set: F1 drops the most when "
                 "they are removed (-G).", "folds", "cv_f1", "-D, -E, -C > -G", "W2",
                 _ablation_step(1, "G")),
    ModelFinding("IM02", "integration", f"{_I51} Prediction performance (Fig. 4(a))",
                 "Demographics is the most important in the second step (-GD).", "folds",
                 "cv_f1", "-GE, -GC > -GD", "W2", _ablation_step(2, "GD")),
    ModelFinding("IM03", "integration", f"{_I51} Prediction performance (Fig. 4(a))",
                 "In the third step ego-network features are removed, leaving call behaviour "
                 "(-GDE).", "folds", "cv_f1", "-GDC > -GDE", "W2", _ablation_step(3, "GDE")),
    ModelFinding("IM04", "integration", f"{_I51} Integration of new migrants (Fig. 4(b))",
                 "Settled migrants are more likely to be misclassified as locals than new "
                 "migrants (15.2% vs 13.6% in week 2).", "proportions", "share",
                 "settled migrants > new migrants", "W2",
                 _estimate_pair(share_q, (SETTLED, "W2"), (NEW, "W2"), "share as locals")),
    ModelFinding("IM05", "integration", f"{_I51} Integration of new migrants (Fig. 4(b))",
                 "An increasing fraction of new migrants is classified as locals over the "
                 "weeks (13.6% in week 2, 14.4% in week 3).", "proportions", "share",
                 "new migrants' rise > locals' own", "W2 → W4", _share_trend(NEW, rise=True)),
    ModelFinding("IM06", "integration", f"{_I51} Integration of new migrants (Fig. 4(b))",
                 "The fraction of settled migrants misclassified as locals slightly decreases "
                 "over time.", "proportions", "share", "settled migrants' fall > locals' own",
                 "W2 → W4", _share_trend(SETTLED, rise=False)),
    ModelFinding("IM07", "integration", f"{_I52} Identifying new migrants (Fig. 4(c))",
                 "The three-way F1 on new migrants (0.1) drops over time.", "intervals", "f1",
                 "new migrants", "W2 > W4",
                 _estimate_pair(three_way_q, (NEW, "W2"), (NEW, "W4"), "three-way F1")),
)


# -- reading the stored results ------------------------------------------------------------------

#: Each replicate source: its table (or view), SQL file, parameters and what writes it.
_SOURCES = (
    ("fold", "model_fold_metrics", "reports/finding_fold_replicates.sql", {}),
    ("transfer", "departure_transfer_fold_metrics", "reports/finding_transfer_replicates.sql",
     {"model": RANDOM_FOREST}),
    ("gini", "departure_feature_importance_folds", "reports/finding_gini_replicates.sql", {}),
)


def load_stored(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> Stored:
    """The replicates, estimates and candidates of the stored model results (small tables);
    a missing or empty source is recorded with why."""
    s = Stored(cfg)
    for prefix, table, sql, params in _SOURCES:
        problem = table_problem(con, table)
        if problem:
            s.missing[prefix] = problem
            continue
        df = run_sql(con, sql, params).df()
        s.replicates.update({q: g.set_index("replicate")["value"]
                             for q, g in df.groupby("quantity", sort=False)})
    problem = table_problem(con, "integration_models_candidates")
    if problem:
        s.missing["candidate"] = problem
    else:
        s.candidates = run_sql(con, "reports/finding_candidate_replicates.sql").df()
        s.replicates.update({q: g.set_index("replicate")["value"]
                             for q, g in s.candidates.groupby("quantity", sort=False)})
    problem = table_problem(con, "integration_results")
    if problem:
        s.missing["share"] = s.missing["three_way"] = problem
    else:
        run_sql(con, "reports/macros.sql")
        df = run_sql(con, "reports/finding_estimates.sql", {
            "classified_as_locals": CLASSIFIED_AS_LOCALS, "three_way": THREE_WAY,
            "random_guess": RANDOM_GUESS, "z_critical": Z_CRITICAL,
            "settled_vs_locals": SETTLED_VS_LOCALS, "all_features": ALL_FEATURES,
            "locals": GROUP_ROWS[LOCAL], "min_group_size": cfg.thresholds.min_group_size}).df()
        s.estimates = {r.quantity: (r.value, r.se) for r in df.itertuples() if r.published}
        s.suppressed = {r.quantity for r in df.itertuples() if not r.published}
    if "fold" not in s.missing:
        s.skipped = {(r.experiment, r.row, r.window_id): r.skip_reason
                     for r in run_sql(con, "reports/finding_skipped.sql").df().itertuples()}
    for rec in skipped_experiments(con).to_dict("records"):
        s.skipped_lines.setdefault(rec["experiment"], skipped_text(rec))
        for window_id in rec["window_ids"] if isinstance(rec["window_ids"], list | np.ndarray) \
                else ():
            s.skipped_windows.setdefault((rec["experiment"], window_id), skipped_text(rec))
    for prefix in s.missing:  # an empty source of a skipped experiment: the skip's reason
        s.missing[prefix] = s.skipped_lines.get(_SKIPPED_AS.get(prefix, ""), s.missing[prefix])
    return s


#: The experiment whose skipped rows say why a source of the model findings (by the prefix of
#: its quantities) has no value.
_SKIPPED_AS = {"candidate": SETTLED_VS_LOCALS, "share": CLASSIFIED_AS_LOCALS,
               "three_way": THREE_WAY, "transfer": TRANSFER, "gini": FEATURE_IMPORTANCE}


def _why_missing(s: Stored, quantity: str) -> str:
    """Why a quantity has no value: its experiment was skipped (the skipped rows' reason, as
    the report lists them), or its source is absent."""
    prefix = quantity.split("/", 1)[0]
    if quantity in s.suppressed:
        return (f"{quantity} rests on fewer than {s.cfg.thresholds.min_group_size} users "
                "(thresholds.min_group_size): suppressed, as in the report (SPEC §1)")
    if prefix == "transfer" and prefix not in s.missing:  # the line of the windows it needs
        _, train, test, _metric = quantity.split("/")
        for window_id in (train, test):
            if (TRANSFER, window_id) in s.skipped_windows:
                return s.skipped_windows[TRANSFER, window_id]
    if prefix == "fold" and prefix in s.missing:  # no fold at all: its experiment's skip
        experiment = quantity.split("/")[1]
        if experiment in s.skipped_lines:
            return s.skipped_lines[experiment]
    if prefix in s.missing or prefix in _SKIPPED_AS:
        return s.why(prefix, f"no stored value of {quantity}")
    if prefix == "fold":
        _, experiment, row, window_id, _metric = quantity.split("/")
        reason = s.skipped.get((experiment, row, window_id))
        if reason:
            return f"{experiment} / {row} at {window_id} was skipped: {reason}"
    return f"no stored value of {quantity}"


# -- the statistics ------------------------------------------------------------------------------

def corrected_t(per_fold: np.ndarray) -> tuple[float, float, float, int]:
    """Mean, corrected standard error, t and degrees of freedom of a contrast's per-fold values
    (the corrected resampled t-test of K-fold CV: var · (1/K + 1/(K − 1)), K − 1 df)."""
    k = len(per_fold)
    mean = float(np.mean(per_fold))
    se = float(np.std(per_fold, ddof=1) * np.sqrt(1 / k + 1 / (k - 1)))
    t = mean / se if se > 0 else (np.inf * np.sign(mean) if mean else np.nan)
    return mean, se, t, k - 1


def _sides(values: dict[str, float], contrast: Contrast) -> tuple[float, float]:
    """The two sides of a contrast at the quantities' means ``values``."""
    return (float(sum(t.weight * values[t.quantity] for t in contrast.a)),
            float(sum(t.weight * values[t.quantity] for t in contrast.b)))


def _transform(x, log: bool):
    if not log:
        return x
    x = np.asarray(x, dtype=float)
    return np.log(np.where(x > 0, x, np.nan))


def fold_test(s: Stored, contrast: Contrast) -> dict:
    """The corrected resampled t of one contrast over the folds every term has."""
    missing = [t.quantity for t in contrast.terms if t.quantity not in s.replicates]
    if missing:
        return {"reason": _why_missing(s, missing[0])}
    frame = pd.DataFrame({t.quantity: s.replicates[t.quantity] for t in contrast.terms})
    frame = frame.dropna()
    per_fold = sum(t.weight * _transform(frame[t.quantity].to_numpy(), t.log)
                   for t in contrast.terms)
    if np.isnan(per_fold).any():  # dropping the fold would drop the classifier's worst one
        zero = sorted({t.quantity for t in contrast.terms if t.log
                       and (frame[t.quantity] <= 0).any()})
        return {"reason": f"{', '.join(zero)} is 0 in a fold and {contrast.label} compares "
                          "logarithms: no logarithm of 0, and leaving that fold out would "
                          "leave out the classifier's worst"}
    if len(per_fold) < MIN_REPLICATES:
        return {"reason": f"fewer than {MIN_REPLICATES} folds have every value of "
                          f"{contrast.label}"}
    means = {t.quantity: float(np.nanmean(_transform(frame[t.quantity].to_numpy(), t.log)))
             for t in contrast.terms}  # a quantity is logged in every term or in none
    value_a, value_b = _sides(means, contrast)
    mean, se, t, df = corrected_t(np.asarray(per_fold, dtype=float))
    if se == 0 and mean == 0:
        return {"value_a": value_a, "value_b": value_b, "difference": 0.0, "se": 0.0,
                "replicates": len(per_fold),
                "reason": f"a tie: {contrast.label} is 0 in every fold"}
    return {"value_a": value_a, "value_b": value_b, "difference": mean, "se": se, "z": t,
            "critical": float(stats.t.ppf(LEVEL, df)), "replicates": len(per_fold)}


def estimate_test(s: Stored, contrast: Contrast) -> dict:
    """z of one contrast of independent estimates with standard errors."""
    missing = [t.quantity for t in contrast.terms if t.quantity not in s.estimates]
    if missing:
        return {"reason": _why_missing(s, missing[0])}
    values = {t.quantity: s.estimates[t.quantity][0] for t in contrast.terms}
    value_a, value_b = _sides(values, contrast)
    difference = value_a - value_b
    se = float(np.sqrt(sum(t.weight ** 2 * s.estimates[t.quantity][1] ** 2
                           for t in contrast.terms)))
    if not np.isfinite(se):
        return {"reason": f"no standard error for {contrast.label}"}
    if se == 0:
        return {"value_a": value_a, "value_b": value_b, "difference": difference, "se": se,
                "reason": f"a tie: no variation in {contrast.label}" if difference == 0 else None,
                "z": None if difference == 0 else np.inf * np.sign(difference),
                "critical": Z_CRITICAL}
    return {"value_a": value_a, "value_b": value_b, "difference": difference, "se": se,
            "z": difference / se, "critical": Z_CRITICAL}


def evaluate(finding: ModelFinding, s: Stored) -> dict:
    """The verdict of one model finding: its weakest contrast, ``holds`` (null with a
    ``reason`` when untested)."""
    base = {"finding_id": finding.finding_id, "study": finding.study,
            "paper_section": finding.paper_section, "statement": finding.statement,
            "test": finding.test, "feature": finding.metric, "groups": finding.groups,
            "window": finding.window, "kind": "model", "method": TEST_TEXT[finding.test]}
    contrasts = finding.build(s)
    if isinstance(contrasts, str):
        return {**base, "holds": None, "reason": contrasts}
    if not contrasts:
        return {**base, "holds": None, "reason": "nothing to compare"}
    run = fold_test if finding.test == "folds" else estimate_test
    results = [{"compared": c.label, **run(s, c)} for c in contrasts]
    untested = [r for r in results if r.get("z") is None or pd.isna(r.get("z"))]
    if untested:
        return {**base, **untested[0], "holds": None}
    weakest = min(results, key=lambda r: r["z"] - r["critical"])
    holds = all(r["z"] >= r["critical"] for r in results)
    return {**base, **weakest, "holds": holds, "reason": None}


def model_findings(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> pd.DataFrame:
    """Every model finding of :data:`MODEL_FINDINGS` tested on the stored results, in order."""
    s = load_stored(con, cfg)
    rows = [evaluate(f, s) for f in MODEL_FINDINGS]
    for r in rows:
        if r["window"] in ("k_max",):
            r["window"] = reference_window(cfg).label
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


MODEL_COLUMNS = ["finding_id", "study", "paper_section", "statement", "test", "feature",
                 "groups", "window", "compared", "value_a", "value_b", "difference", "se", "z",
                 "holds", "kind", "method", "critical", "replicates", "reason"]
