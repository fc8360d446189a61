"""The classifiers of SPEC §6 as scikit-learn pipelines, every random draw seeded.

Departure study (positive class: leaving migrants, ≈4%; new migrants vs locals ≈2% in the
paper), class imbalance handled inside each model:

- random forest: median imputation with missing-value indicators; 100 trees, each grown on a
  bootstrap of half the training users (``max_samples=0.5``, halves the time) with leaves of at
  least 2% of them (``min_samples_leaf=0.02``, smoother probabilities); a user is predicted to
  leave when the forest's probability exceeds the training prevalence
  (:class:`PriorThresholdClassifier`, the balanced decision rule). Class weights
  (``'balanced_subsample'``) were tried and rejected: the leaves of the trees are nearly pure,
  so the weights hardly change a vote and the forest predicts almost no leaver when the signal
  is weak (small k, and F1 = 0 on noise);
- multilayer perceptron: imputation, ``arcsinh`` (counts, variances and prices are heavy-tailed),
  standard scaling; one hidden layer of 32 (ℓ2 ``alpha=0.01``), early stopping on a 10%
  validation split (5 epochs without gain); it has no class weights, so the
  positive class is randomly oversampled (seeded) to the size of the negative one by
  :class:`OversampledClassifier`, a step of the pipeline, hence on the training fold only;
- support vector machine: the same scaling, an RBF kernel approximated by 300 Nyström
  components (seeded) and a linear SVM with ``class_weight='balanced'``. An exact RBF ``SVC`` is
  quadratic in the users and too slow for 4 classifiers × 12 windows × 6 fits; the decision
  function gives the PR-AUC;
- logistic regression: the same scaling, ℓ2, ``C=1``, ``class_weight='balanced'``.

Integration study: ℓ2 logistic regression with C chosen by 5-fold stratified CV on the training
users (:func:`tuned_logistic_regression`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

RANDOM_FOREST = "random forest"
MLP = "multilayer perceptron"
SVM = "support vector machine"
LOGISTIC_REGRESSION = "logistic regression"
#: The classifiers of Table 2, in the paper's order.
CLASSIFIERS = (RANDOM_FOREST, MLP, SVM, LOGISTIC_REGRESSION)

#: The grid of ℓ2 inverse penalties C searched by cross-validation (integration study).
C_GRID = tuple(np.logspace(-4, 4, 9))
N_TREES = 100
N_JOBS = 2


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


def _imputer() -> SimpleImputer:
    return SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)


def _scaled() -> list[tuple[str, object]]:
    return [
        ("impute", _imputer()),
        ("arcsinh", FunctionTransformer(np.arcsinh, feature_names_out="one-to-one")),
        ("scale", StandardScaler()),
    ]


def make_classifier(name: str, seed: int) -> Pipeline:
    """A fresh, unfitted pipeline for one of :data:`CLASSIFIERS` (module docstring, SPEC §6)."""
    if name == RANDOM_FOREST:
        forest = RandomForestClassifier(
            n_estimators=N_TREES,
            min_samples_leaf=0.02,
            max_samples=0.5,
            n_jobs=N_JOBS,
            random_state=seed,
        )
        return Pipeline([("impute", _imputer()), ("model", PriorThresholdClassifier(forest))])
    if name == MLP:
        mlp = MLPClassifier(
            hidden_layer_sizes=(32,),
            alpha=1e-2,
            early_stopping=True,
            n_iter_no_change=5,
            max_iter=200,
            random_state=seed,
        )
        return Pipeline([*_scaled(), ("model", OversampledClassifier(mlp, random_state=seed))])
    if name == SVM:
        return Pipeline([
            *_scaled(),
            ("kernel", Nystroem(kernel="rbf", n_components=300, random_state=seed)),
            ("model", LinearSVC(class_weight="balanced", random_state=seed)),
        ])
    if name == LOGISTIC_REGRESSION:
        model = LogisticRegression(class_weight="balanced", max_iter=2000)
        return Pipeline([*_scaled(), ("model", model)])
    raise ValueError(f"unknown classifier {name!r}; expected one of {CLASSIFIERS}")


def tuned_logistic_regression(
    seed: int, *, scoring: str, class_weight: str | None = None
) -> GridSearchCV:
    """ℓ2 logistic regression (scaled as above) whose C is chosen from :data:`C_GRID` by
    stratified 5-fold CV (shuffled with ``seed``) on the training users, then refit on all of
    them; ``best_score_`` is the cross-validated score of the chosen C."""
    pipeline = Pipeline([
        *_scaled(),
        ("model", LogisticRegression(class_weight=class_weight, max_iter=2000)),
    ])
    return GridSearchCV(
        pipeline,
        {"model__C": list(C_GRID)},
        scoring=scoring,
        cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=seed),
    )


def positive_scores(model, X: np.ndarray) -> np.ndarray:
    """Scores that rank the positive class (label 1) for PR-AUC: the predicted probability, or
    the decision function of a model without probabilities (the SVM)."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)[:, 1]
    return model.decision_function(X)
