"""Metrics of the positive class, random guess and percentile bootstrap intervals (SPEC §6).

Counts are plain numpy. The bootstrap resamples test users with replacement (``n_boot``
resamples from ``numpy.random.default_rng(seed)``) and takes the 2.5% and 97.5% percentiles. The
statistics depend on a resample only through how many of its users fall in each outcome (true
positive, false positive, false negative, true negative), so a resample is drawn as those counts
directly: a multinomial draw of n users over the outcomes' shares, the exact distribution of
resampling the rows, in O(n_boot) time and memory whatever the number of users (docs/models.md).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score

N_BOOT = 1000
LEVEL = 0.95


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's ``zero_division=0``)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-row indicators ``(tp, fp, fn)`` of the positive class (label True/1), shape (n, 3)."""
    t, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    return np.column_stack([t & p, ~t & p, t & ~p]).astype(np.int32)


def prf(tp, fp, fn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 from counts (arrays broadcast)."""
    tp = np.asarray(tp, dtype=float)
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)


def bootstrap_sums(values: np.ndarray, seed: int, n_boot: int = N_BOOT) -> np.ndarray:
    """Column sums of ``values`` (n rows = test users, each row one of a few distinct outcomes)
    over ``n_boot`` resamples of the rows with replacement, shape (n_boot, columns): each
    resample counts its users per distinct row (a multinomial draw of n over the rows' shares)."""
    values = np.asarray(values)
    outcomes, counts = np.unique(values, axis=0, return_counts=True)
    draws = np.random.default_rng(seed).multinomial(len(values), counts / len(values),
                                                    size=n_boot)
    return draws @ outcomes


def percentile_interval(stat: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(stat, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(lo), float(hi)


def f1_interval(
    y_true: np.ndarray, y_pred: np.ndarray, seed: int, n_boot: int = N_BOOT
) -> tuple[float, float]:
    """95% percentile bootstrap interval of the positive class's F1 over test users."""
    if len(y_true) == 0:
        return float("nan"), float("nan")
    sums = bootstrap_sums(confusion_counts(y_true, y_pred), seed, n_boot)
    return percentile_interval(prf(sums[:, 0], sums[:, 1], sums[:, 2])[2])


def share_interval(flags: np.ndarray, seed: int, n_boot: int = N_BOOT) -> tuple[float, float]:
    """95% percentile bootstrap interval of the share of true ``flags`` (e.g. the prevalence,
    which is the F1 of random guess, or the share classified as locals)."""
    flags = np.asarray(flags, dtype=np.int32)
    if len(flags) == 0:
        return float("nan"), float("nan")
    return percentile_interval(bootstrap_sums(flags[:, None], seed, n_boot)[:, 0] / len(flags))


def binary_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None = None
) -> dict[str, float]:
    """Precision, recall, F1 of the positive class; PR-AUC (average precision of ``scores``,
    null when a class is missing or no scores); counts of users and positives."""
    y_true = np.asarray(y_true, dtype=bool)
    tp, fp, fn = confusion_counts(y_true, y_pred).sum(axis=0)
    precision, recall, f1 = prf(tp, fp, fn)
    both = 0 < y_true.sum() < len(y_true)
    pr_auc = average_precision_score(y_true, scores) if scores is not None and both else np.nan
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "pr_auc": float(pr_auc),
        "n_users": int(len(y_true)),
        "n_pos": int(y_true.sum()),
    }


def fold_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None = None
) -> dict[str, float]:
    """:func:`binary_metrics` of one fold's test users; precision, recall and F1 are null (not
    0) when the fold has no positive user: there was none to find, and a 0 would enter the
    findings' per-fold tests as a measured failure (probe 31 M1)."""
    m = binary_metrics(y_true, y_pred, scores)
    if m["n_pos"] == 0:
        m |= {"precision": float("nan"), "recall": float("nan"), "f1": float("nan")}
    return m


def random_guess(y_true: np.ndarray, seed: int, n_boot: int = N_BOOT) -> dict[str, float]:
    """Predicting positive with probability equal to the prevalence p: precision = recall = F1
    = p in expectation (SPEC §6), and PR-AUC = p; the interval is the bootstrap one of p."""
    y_true = np.asarray(y_true, dtype=bool)
    p = float(y_true.mean()) if len(y_true) else float("nan")
    lo, hi = share_interval(y_true, seed, n_boot)
    return {
        "precision": p,
        "recall": p,
        "f1": p,
        "f1_ci_low": lo,
        "f1_ci_high": hi,
        "pr_auc": p,
        "n_users": int(len(y_true)),
        "n_pos": int(y_true.sum()),
    }
