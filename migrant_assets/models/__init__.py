"""Classifier experiments of SPEC §6 on the ``features`` table: the departure study's Tables 1–3
and Figures 8–9 (:mod:`.departure`) and the integration study's Section 5 (:mod:`.integration`).

Plain functions for the assets: each takes ``(con, cfg, ..., seed)``, writes its result tables
(``sql/models/``, delete-then-insert in one transaction) and returns small frames and the fitted
models. Protocols and choices: ``docs/models.md``.
"""

from migrant_assets.models.classifiers import (
    CLASSIFIERS,
    LOGISTIC_REGRESSION,
    MLP,
    RANDOM_FOREST,
    SVM,
    OversampledClassifier,
    PriorThresholdClassifier,
    make_classifier,
    tuned_logistic_regression,
)
from migrant_assets.models.data import (
    DEPARTURE_GROUPS,
    INTEGRATION_GROUPS,
    assign_departure_folds,
    departure_folds,
    feature_columns,
    first_k_windows,
    integration_split,
    integration_weeks,
    load_matrix,
    reference_window,
)
from migrant_assets.models.departure import (
    FIRST_K,
    TABLE1,
    TABLE3,
    TRANSFER,
    Evaluation,
    cross_validate,
    evaluate_window,
    feature_importance,
    table1_new_vs_locals,
    table3_feature_groups,
    transfer_matrix,
)
from migrant_assets.models.integration import (
    CLASSIFIED_AS_LOCALS,
    SETTLED_VS_LOCALS,
    THREE_WAY,
    IntegrationEvaluation,
    backward_removal,
    settled_vs_locals,
    three_way,
)
from migrant_assets.models.metrics import binary_metrics, f1_interval, random_guess
from migrant_assets.models.reference import PAPER_F1, PAPER_SHARE
from migrant_assets.models.store import (
    beats_random_guess,
    ensure_schema,
    no_user_in_train_and_test,
    save_model,
)

__all__ = [
    "CLASSIFIED_AS_LOCALS",
    "CLASSIFIERS",
    "DEPARTURE_GROUPS",
    "FIRST_K",
    "INTEGRATION_GROUPS",
    "LOGISTIC_REGRESSION",
    "MLP",
    "PAPER_F1",
    "PAPER_SHARE",
    "RANDOM_FOREST",
    "SETTLED_VS_LOCALS",
    "SVM",
    "TABLE1",
    "TABLE3",
    "THREE_WAY",
    "TRANSFER",
    "Evaluation",
    "IntegrationEvaluation",
    "OversampledClassifier",
    "PriorThresholdClassifier",
    "backward_removal",
    "assign_departure_folds",
    "beats_random_guess",
    "binary_metrics",
    "cross_validate",
    "departure_folds",
    "ensure_schema",
    "evaluate_window",
    "f1_interval",
    "feature_columns",
    "feature_importance",
    "first_k_windows",
    "integration_split",
    "integration_weeks",
    "load_matrix",
    "make_classifier",
    "no_user_in_train_and_test",
    "random_guess",
    "reference_window",
    "save_model",
    "settled_vs_locals",
    "table1_new_vs_locals",
    "table3_feature_groups",
    "three_way",
    "transfer_matrix",
    "tuned_logistic_regression",
]
