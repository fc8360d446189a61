"""The classifiers of SPEC §6 as scikit-learn pipelines, every random draw seeded.

Departure study (positive class: leaving migrants, ≈4%; new migrants vs locals ≈2% in the
paper), class imbalance handled inside each model:

- random forest: median imputation with missing-value indicators; ``models.n_trees`` (100)
  trees, leaves free to grow (paper 000 §4: a plain forest), each on a bootstrap of half the
  training users (``max_samples=0.5``, halves the time); a user is predicted to leave when the
  forest's probability reaches the threshold that maximises F1 on the forest's out-of-bag
  probabilities of the training users, never below the training prevalence
  (:class:`OutOfBagF1Classifier`; docs/models.md, "The random forest's set-up"). Class
  weights (``'balanced_subsample'``) were tried and rejected: the leaves of the trees are
  nearly pure, so the weights hardly change a vote and the forest predicts almost no leaver
  when the signal is weak (small k, and F1 = 0 on noise);
- multilayer perceptron: imputation, ``arcsinh`` (counts, variances and prices are heavy-tailed),
  standard scaling; one hidden layer of 32 (ℓ2 ``alpha=0.01``), at most ``models.mlp_max_iter``
  epochs with early stopping on a 10% validation split (5 epochs without gain); it has no class
  weights, so the positive class is randomly oversampled (seeded) to the size of the negative
  one by :class:`OversampledClassifier`, a step of the pipeline, hence on the training fold only;
- support vector machine: the same scaling, an RBF kernel approximated by
  ``models.svm_components`` (150) Nyström components (seeded) and a linear SVM with
  ``class_weight='balanced'``. An exact RBF ``SVC`` is quadratic in the users and too slow for
  4 classifiers × 12 windows × 6 fits; the decision function gives the PR-AUC;
- logistic regression: the same scaling, ℓ2, ``C=1``, ``class_weight='balanced'``.

Integration study: ℓ2 logistic regression with C chosen from ``models.c_grid`` by 5-fold
stratified CV on the training users (:func:`tuned_logistic_regression`), solved by Newton's
method to ``models.lr_tol`` (an exact optimum: the same tables from features equal to
round-off, docs/spark.md).

Bounded cost (docs/models.md): every cap is a field of the study config's ``models`` section
(:class:`~migrant_assets.config.ModelSettings`); :func:`training_rows` samples the training rows
of a class larger than ``models.max_train_rows_per_class``; fits run under
:func:`one_blas_thread` (the fits run side by side in ``models.n_jobs`` processes).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import cache

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import ThreadpoolController

from migrant_assets.config import ModelSettings

RANDOM_FOREST = "random forest"
MLP = "multilayer perceptron"
SVM = "support vector machine"
LOGISTIC_REGRESSION = "logistic regression"
#: The classifiers of Table 2, in the paper's order.
CLASSIFIERS = (RANDOM_FOREST, MLP, SVM, LOGISTIC_REGRESSION)

#: The caps of the default study config (``models`` section).
DEFAULT_SETTINGS = ModelSettings()
CV_FOLDS = 5


class OversampledClassifier(ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` on the training rows with every smaller class randomly oversampled,
    with replacement and ``random_state``, to the size of the largest class."""

    def __init__(self, estimator, random_state: int | None = None):
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        rng = np.random.default_rng(self.random_state)
        classes, counts = np.unique(y, return_counts=True)
        extra = [
            rng.choice(np.flatnonzero(y == c), counts.max() - n, replace=True)
            for c, n in zip(classes, counts, strict=True)
        ]
        rows = np.concatenate([np.arange(len(y)), *extra])
        self.estimator_ = clone(self.estimator).fit(X[rows], y[rows])
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


class PriorThresholdClassifier(ClassifierMixin, BaseEstimator):
    """A binary classifier that predicts the positive class (the larger label) when its
    predicted probability exceeds the positive class's share of the training rows: the
    cost-balanced decision rule that ``class_weight='balanced'`` aims at."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.threshold_ = float(np.mean(np.asarray(y) == self.classes_[-1]))
        return self

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, -1] > self.threshold_).astype(int)]

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


class OutOfBagF1Classifier(PriorThresholdClassifier):
    """A bagged binary classifier (a random forest) that predicts the positive class when its
    probability reaches the threshold maximising F1 on its out-of-bag probabilities of the
    training rows, among the thresholds above the positive class's training share (so never
    below :class:`PriorThresholdClassifier`'s; with no such threshold, that share). No
    held-out row is used, and nothing is refit: each training row is scored by the trees that
    did not see it. The floor keeps the rule at the balanced one on noise, where the F1-best
    threshold is "everyone positive" (F1 = 2p/(1 + p), above a balanced rule's)."""

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).set_params(oob_score=True).fit(X, y)
        self.classes_ = self.estimator_.classes_
        positive = np.asarray(y) == self.classes_[-1]
        self.threshold_ = f1_threshold(positive, self.estimator_.oob_decision_function_[:, -1],
                                       floor=float(positive.mean()))
        return self


def f1_threshold(positive: np.ndarray, scores: np.ndarray, floor: float) -> float:
    """The threshold ``t`` (a user is positive when score > t) of the highest F1 of ``scores``
    against ``positive`` among those with ``t >= floor``; ``floor`` when none is higher. Rows
    without a score (NaN: never out of bag) are left out."""
    ok = np.isfinite(scores)
    if not positive[ok].any():
        return floor
    precision, recall, cut = precision_recall_curve(positive[ok], scores[ok])
    precision, recall = precision[:-1], recall[:-1]  # the point at cut[i]: score >= cut[i]
    f1 = np.where(precision + recall > 0,
                  2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    f1 = np.where(np.nextafter(cut, -np.inf) >= floor, f1, -1.0)
    best = int(np.argmax(f1))
    return float(np.nextafter(cut[best], -np.inf)) if f1[best] >= 0 else floor


def _imputer() -> SimpleImputer:
    return SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)


def _scaled() -> list[tuple[str, object]]:
    return [
        ("impute", _imputer()),
        ("arcsinh", FunctionTransformer(np.arcsinh, feature_names_out="one-to-one")),
        ("scale", StandardScaler()),
    ]


def make_classifier(name: str, seed: int, settings: ModelSettings = DEFAULT_SETTINGS) -> Pipeline:
    """A fresh, unfitted pipeline for one of :data:`CLASSIFIERS` (module docstring, SPEC §6),
    bounded by the caps of ``settings``."""
    if name == RANDOM_FOREST:
        forest = RandomForestClassifier(
            n_estimators=settings.n_trees,
            max_samples=0.5,
            n_jobs=settings.n_jobs,
            random_state=seed,
        )
        return Pipeline([("impute", _imputer()), ("model", OutOfBagF1Classifier(forest))])
    if name == MLP:
        mlp = MLPClassifier(
            hidden_layer_sizes=(32,),
            alpha=1e-2,
            early_stopping=True,
            n_iter_no_change=5,
            max_iter=settings.mlp_max_iter,
            random_state=seed,
        )
        return Pipeline([*_scaled(), ("model", OversampledClassifier(mlp, random_state=seed))])
    if name == SVM:
        return Pipeline([
            *_scaled(),
            ("kernel", Nystroem(kernel="rbf", n_components=settings.svm_components,
                                random_state=seed)),
            ("model", LinearSVC(class_weight="balanced", max_iter=settings.linear_max_iter,
                                random_state=seed)),
        ])
    if name == LOGISTIC_REGRESSION:
        model = LogisticRegression(class_weight="balanced", max_iter=settings.linear_max_iter)
        return Pipeline([*_scaled(), ("model", model)])
    raise ValueError(f"unknown classifier {name!r}; expected one of {CLASSIFIERS}")


#: What bounds each classifier's fit besides the rows (the ``model_caps`` column).
def model_caps(name: str, settings: ModelSettings) -> str:
    """The caps of classifier ``name`` as written in the result tables."""
    return {
        RANDOM_FOREST: f"trees={settings.n_trees}, max_samples=0.5, leaves free, "
                       "threshold: out-of-bag F1 >= prevalence",
        MLP: f"max_iter={settings.mlp_max_iter}, early stopping",
        SVM: f"nystroem={settings.svm_components}, max_iter={settings.linear_max_iter}",
        LOGISTIC_REGRESSION: f"max_iter={settings.linear_max_iter}",
    }[name]


class TunedLogisticRegression(ClassifierMixin, BaseEstimator):
    """ℓ2 logistic regression (imputed, arcsinh, scaled) whose C is chosen from ``c_grid`` by
    stratified ``CV_FOLDS``-fold CV (shuffled with ``seed``) on the training users, then refit
    on all of them (:class:`~sklearn.linear_model.LogisticRegressionCV`: each fold's path over
    the grid is warm-started). The imputation and scaling are fit once on all training users,
    before the folds: they do not look at the labels. ``best_score_`` is the cross-validated
    score of the chosen C (``fold_scores_``: its score on each CV fold, the replicates the
    findings test), ``best_params_`` holds it as ``model__C``.

    Solver: Newton-Cholesky (``newton-cholesky``: the Hessian of the few tens of coefficients
    is small), run until every gradient component of the mean loss is below ``tol``
    (``models.lr_tol``): it converges quadratically, in ~5 iterations, to the optimum within
    round-off. scikit-learn's default, lbfgs at tol 1e-4, stopped where round-off of the inputs
    led it: on ``tiny``, features equal to 2e-11 (DuckDB vs Spark) moved test users' decision
    scores by 4e-4 (the closest user to the boundary is 2e-3 from it), by 9e-6 at tol 1e-8
    (lbfgs then stops on its fixed relative-decrease test), by 2e-12 with Newton; the
    integration models of ``demo`` take 1.0-1.5x the time (docs/spark.md, "Parity of the
    models")."""

    def __init__(self, seed: int, scoring: str, class_weight: str | None = None,
                 c_grid=DEFAULT_SETTINGS.c_grid, max_iter: int = DEFAULT_SETTINGS.linear_max_iter,
                 tol: float = DEFAULT_SETTINGS.lr_tol):
        self.seed = seed
        self.scoring = scoring
        self.class_weight = class_weight
        self.c_grid = c_grid
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y):
        model = LogisticRegressionCV(
            Cs=list(self.c_grid), l1_ratios=(0.0,), use_legacy_attributes=False,
            cv=StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=self.seed),
            scoring=self.scoring, class_weight=self.class_weight, max_iter=self.max_iter,
            solver="newton-cholesky", tol=self.tol,
        )
        self.best_estimator_ = Pipeline([*_scaled(), ("model", model)]).fit(X, y)
        self.classes_ = self.best_estimator_.classes_
        per_fold = np.asarray(model.scores_).reshape(CV_FOLDS, -1)  # folds x (l1_ratio, C)
        best = int(np.argmax(per_fold.mean(axis=0)))
        self.best_score_ = float(per_fold[:, best].mean())
        self.fold_scores_ = per_fold[:, best]
        self.best_params_ = {"model__C": float(model.C_)}
        return self

    def predict(self, X):
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        return self.best_estimator_.predict_proba(X)


def tuned_logistic_regression(
    seed: int, *, scoring: str, class_weight: str | None = None,
    settings: ModelSettings = DEFAULT_SETTINGS,
) -> TunedLogisticRegression:
    """ℓ2 logistic regression whose C is chosen from ``settings.c_grid`` by stratified 5-fold CV
    on the training users (:class:`TunedLogisticRegression`)."""
    return TunedLogisticRegression(seed, scoring, class_weight, settings.c_grid,
                                   settings.linear_max_iter, settings.lr_tol)


def _sample_classes(y: np.ndarray, sizes, seed: int) -> np.ndarray:
    """Sorted indices: ``sizes[i]`` rows of the i-th class of ``np.unique(y)``, drawn without
    replacement (``default_rng(seed)``), or all of them when a class has no more."""
    rng = np.random.default_rng(seed)
    keep = []
    for c, size in zip(np.unique(y), sizes, strict=True):
        rows = np.flatnonzero(y == c)
        keep.append(rows if size >= len(rows) else rng.choice(rows, size, replace=False))
    return np.sort(np.concatenate(keep)) if keep else np.arange(0)


def training_rows(y: np.ndarray, cap: int, seed: int, *, keep_proportions: bool = False
                  ) -> np.ndarray:
    """Indices (sorted) of the rows a fit is trained on: every row of a class of at most
    ``cap`` rows; a larger class is sampled without replacement (seeded) down to ``cap``. With
    ``keep_proportions`` every class is sampled at the rate of the largest, so the class
    proportions (an unweighted model's prior) are kept."""
    y = np.asarray(y)
    counts = np.unique(y, return_counts=True)[1]
    if counts.size == 0 or counts.max() <= cap:
        return np.arange(len(y))
    rate = cap / counts.max()
    sizes = [max(1, round(n * rate)) if keep_proportions else min(n, cap) for n in counts]
    return _sample_classes(y, sizes, seed)


def stratified_sample(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices (sorted) of a seeded sample of about ``size`` rows, every class at the same rate
    (at least one row of each), or every row when there are no more than ``size``."""
    y = np.asarray(y)
    if len(y) <= size:
        return np.arange(len(y))
    counts = np.unique(y, return_counts=True)[1]
    return _sample_classes(y, [max(1, round(n * size / len(y))) for n in counts], seed)


@contextmanager
def one_blas_thread():
    """Fits and predictions inside run their BLAS and OpenMP calls on one thread: the matrices
    have tens of columns, where a second BLAS thread only adds synchronisation (measured on the
    demo city: logistic regression and MLP fits 2-10x slower with two); the parallel work is
    the fits (``models.n_jobs`` worker processes, ``departure.run_fits``) or a forest's trees,
    so the stage never runs more than ``n_jobs`` busy threads. The thread pools are found once
    per process (finding them scans every loaded library: 6 ms, more than a small fit; every
    library that has one is loaded with this module's imports)."""
    with _thread_pools().limit(limits=1):
        yield


@cache
def _thread_pools() -> ThreadpoolController:
    """The BLAS and OpenMP thread pools of this process (:func:`one_blas_thread`)."""
    return ThreadpoolController()


@contextmanager
def capped_fit():
    """A fit bounded by the ``models`` caps: on one BLAS thread (:func:`one_blas_thread`), and
    without the warning that an iteration cap was reached (the caps are deliberate and written
    in the result tables), nor Nyström's that it has fewer rows than components (it then uses
    every row, as documented by scikit-learn: a small city's folds, one warning per fit)."""
    with one_blas_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="n_components > n_samples",
                                category=UserWarning)
        yield


def positive_scores(model, X: np.ndarray) -> np.ndarray:
    """Scores that rank the positive class (label 1) for PR-AUC: the predicted probability, or
    the decision function of a model without probabilities (the SVM)."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)[:, 1]
    return model.decision_function(X)
