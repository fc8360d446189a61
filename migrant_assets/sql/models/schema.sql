-- Tables of the classifier experiments (SPEC §6, docs/models.md). Idempotent.
--
-- Each model asset owns the table named as the asset and the auxiliary tables <asset>_splits
-- and <asset>_fold_metrics; no other asset writes them. The shared names the report, the summary
-- and the checks read (model_results, model_fold_metrics, split_membership, transfer_f1,
-- feature_importance, integration_results) are views over the owning tables, with the columns
-- they always had.
--
-- An experiment (or one row of it) that the data cannot support is written, not raised (issue 10):
-- status = 'skipped', skip_reason says why (a class under thresholds.min_class_size, one class
-- only, no folds, every feature of a group null), its metrics are null. dropped_groups lists the
-- feature groups left out of a row's feature set because every value of them is null.
-- The caps of each fit and the rows actually used (issue 13; docs/models.md, "Bounded cost") are
-- the last columns of the result tables (train_rows_cap, n_train, n_train_available, ...).
-- Column descriptions: column_comments.sql.

-- departure_folds: the departure study's folds over the reference window's (k = k_max) staying
-- and leaving migrants, stratified 5-fold (seeded); every k and the (k, t) matrix reuse them.
CREATE TABLE IF NOT EXISTS departure_folds (
    user_id BIGINT NOT NULL,
    label VARCHAR NOT NULL,
    fold INTEGER NOT NULL,
    seed BIGINT NOT NULL
);

-- departure_models (one partition per first-k-days window): leaving vs staying migrants, every
-- classifier (Table 2 at k = k_max, Figure 8(a-c)); departure_tables: Tables 1 and 3 at
-- k = k_max. One row per (experiment, row, window, model): pooled out-of-fold metrics of the
-- positive class, a 95% bootstrap interval of F1 over test users, the paper's F1 where it gives
-- one.
CREATE TABLE IF NOT EXISTS departure_models (
    experiment VARCHAR NOT NULL,
    "row" VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    window_label VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    n_features INTEGER,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    f1_ci_low DOUBLE,
    f1_ci_high DOUBLE,
    pr_auc DOUBLE,
    paper_f1 DOUBLE,
    n_users BIGINT NOT NULL,
    n_pos BIGINT NOT NULL,
    prevalence DOUBLE,
    seed BIGINT NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'ok',
    skip_reason VARCHAR,
    dropped_groups VARCHAR,
    train_rows_cap INTEGER,
    n_train BIGINT,
    n_train_available BIGINT,
    model_caps VARCHAR,
    fitted_in VARCHAR
);

CREATE TABLE IF NOT EXISTS departure_tables (
    experiment VARCHAR NOT NULL,
    "row" VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    window_label VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    n_features INTEGER,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    f1_ci_low DOUBLE,
    f1_ci_high DOUBLE,
    pr_auc DOUBLE,
    paper_f1 DOUBLE,
    n_users BIGINT NOT NULL,
    n_pos BIGINT NOT NULL,
    prevalence DOUBLE,
    seed BIGINT NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'ok',
    skip_reason VARCHAR,
    dropped_groups VARCHAR,
    train_rows_cap INTEGER,
    n_train BIGINT,
    n_train_available BIGINT,
    model_caps VARCHAR,
    fitted_in VARCHAR
);

-- Per-fold metrics of the same experiments (test users of one fold).
CREATE TABLE IF NOT EXISTS departure_models_fold_metrics (
    experiment VARCHAR NOT NULL,
    "row" VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    fold INTEGER NOT NULL,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    pr_auc DOUBLE,
    n_test BIGINT NOT NULL,
    n_pos BIGINT NOT NULL,
    n_train BIGINT,
    n_train_available BIGINT
);

CREATE TABLE IF NOT EXISTS departure_tables_fold_metrics (
    experiment VARCHAR NOT NULL,
    "row" VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    fold INTEGER NOT NULL,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    pr_auc DOUBLE,
    n_test BIGINT NOT NULL,
    n_pos BIGINT NOT NULL,
    n_train BIGINT,
    n_train_available BIGINT
);

-- departure_curves: Figure 8(a-c) as shown, one row per (classifier or random guess, k) of
-- departure_models, over whatever k partitions exist.
CREATE TABLE IF NOT EXISTS departure_curves (
    "row" VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    window_label VARCHAR NOT NULL,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    f1_ci_low DOUBLE,
    f1_ci_high DOUBLE,
    n_users BIGINT NOT NULL,
    n_pos BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    skip_reason VARCHAR
);

-- departure_transfer, Figure 8(d): trained on the fold-train users' first-k-days features,
-- tested on the fold-test users' first-t-days features, pooled over the folds.
CREATE TABLE IF NOT EXISTS departure_transfer (
    train_window VARCHAR NOT NULL,
    test_window VARCHAR NOT NULL,
    train_label VARCHAR NOT NULL,
    test_label VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    f1_ci_low DOUBLE,
    f1_ci_high DOUBLE,
    n_users BIGINT NOT NULL,
    n_pos BIGINT NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'ok',
    skip_reason VARCHAR,
    train_rows_cap INTEGER,
    n_train BIGINT,
    n_train_available BIGINT,
    model_caps VARCHAR,
    fitted_in VARCHAR,
    test_rows_cap INTEGER,
    n_users_available BIGINT
);

-- departure_feature_importance, Figure 9: Gini importance of the final random forest and
-- permutation importance on the held-out folds, every feature, ranked by Gini. A skipped feature
-- (the window was skipped, or every value of its group is null) has null importances and rank.
CREATE TABLE IF NOT EXISTS departure_feature_importance (
    window_id VARCHAR NOT NULL,
    feature VARCHAR NOT NULL,
    family VARCHAR NOT NULL,
    gini DOUBLE,
    permutation_mean DOUBLE,
    permutation_std DOUBLE,
    "rank" INTEGER,
    status VARCHAR NOT NULL DEFAULT 'ok',
    skip_reason VARCHAR,
    n_train BIGINT,
    n_train_available BIGINT,
    permutation_rows INTEGER,
    n_permutation_rows BIGINT,
    permutation_repeats INTEGER
);

-- integration_models (SPEC §6): one row per (experiment, row, target class, test week).
CREATE TABLE IF NOT EXISTS integration_models (
    experiment VARCHAR NOT NULL,
    "row" VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    step INTEGER,
    removed_group VARCHAR,
    window_id VARCHAR NOT NULL,
    week VARCHAR NOT NULL,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    f1_ci_low DOUBLE,
    f1_ci_high DOUBLE,
    share DOUBLE,
    share_ci_low DOUBLE,
    share_ci_high DOUBLE,
    cv_f1 DOUBLE,
    c DOUBLE,
    paper_value DOUBLE,
    n_users BIGINT NOT NULL,
    prevalence DOUBLE,
    seed BIGINT NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'ok',
    skip_reason VARCHAR,
    dropped_groups VARCHAR,
    train_rows_cap INTEGER,
    n_train BIGINT,
    n_train_available BIGINT,
    c_grid_size INTEGER,
    cv_folds INTEGER,
    lr_tol DOUBLE
);

-- Which users trained and which were tested, per split (a fold, or the integration halves), one
-- table per asset that splits users.
CREATE TABLE IF NOT EXISTS departure_models_splits (
    experiment VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    user_id BIGINT NOT NULL,
    "role" VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS departure_tables_splits (
    experiment VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    user_id BIGINT NOT NULL,
    "role" VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS departure_transfer_splits (
    experiment VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    user_id BIGINT NOT NULL,
    "role" VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS integration_models_splits (
    experiment VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    user_id BIGINT NOT NULL,
    "role" VARCHAR NOT NULL
);

-- departure_models_fitted (an auxiliary table of departure_models): every model departure_models
-- fit on one first-k-days window, pickled: each classifier's fold models (split fold0..fold4)
-- and its model of all the window's users (split all). departure_transfer, departure_tables
-- (Table 3's all-features row) and departure_feature_importance reuse them instead of fitting
-- again; fingerprint identifies what a model was fit on (classifier, caps, seed, columns, the
-- training users), so a model is reused only for exactly that fit.
CREATE TABLE IF NOT EXISTS departure_models_fitted (
    window_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    split VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    n_train BIGINT NOT NULL,
    n_train_available BIGINT NOT NULL,
    fitted BLOB NOT NULL,
    -- HMAC-SHA256 of the pickle, keyed by the file beside the DuckDB file (store.signing_key)
    signature BLOB
);

-- Per-fold replicates the findings test (reports/findings.py, docs/models.md "Replicates for
-- the findings"): each is written by the asset of its table, in the same transaction.
-- departure_transfer_fold_metrics (of departure_transfer): Figure 8(d) per fold, the fold's
-- model fit on first-k-days features predicting its test users' first-t-days features.
CREATE TABLE IF NOT EXISTS departure_transfer_fold_metrics (
    train_window VARCHAR NOT NULL,
    test_window VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    fold INTEGER NOT NULL,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    n_test BIGINT NOT NULL,
    n_pos BIGINT NOT NULL
);

-- departure_feature_importance_folds (of departure_feature_importance): the Gini importance of
-- each fold's forest (Figure 9's statistic, per fold), every feature of the ranked window.
CREATE TABLE IF NOT EXISTS departure_feature_importance_folds (
    window_id VARCHAR NOT NULL,
    feature VARCHAR NOT NULL,
    fold INTEGER NOT NULL,
    gini DOUBLE
);

-- integration_models_candidates (of integration_models): each candidate of each step of the
-- greedy backward removal (001 Section 5.1), its cross-validated F1 per CV fold at its chosen C.
CREATE TABLE IF NOT EXISTS integration_models_candidates (
    experiment VARCHAR NOT NULL,
    step INTEGER NOT NULL,
    candidate VARCHAR NOT NULL,
    removed VARCHAR NOT NULL,
    chosen BOOLEAN NOT NULL,
    fold INTEGER NOT NULL,
    cv_f1 DOUBLE
);

-- The shared names, read by the report, the summary and the checks.
CREATE OR REPLACE VIEW model_results AS
SELECT * FROM departure_models
UNION ALL
SELECT * FROM departure_tables;

CREATE OR REPLACE VIEW model_fold_metrics AS
SELECT * FROM departure_models_fold_metrics
UNION ALL
SELECT * FROM departure_tables_fold_metrics;

CREATE OR REPLACE VIEW split_membership AS
SELECT * FROM departure_models_splits
UNION ALL
SELECT * FROM departure_tables_splits
UNION ALL
SELECT * FROM departure_transfer_splits
UNION ALL
SELECT * FROM integration_models_splits;

CREATE OR REPLACE VIEW transfer_f1 AS SELECT * FROM departure_transfer;

CREATE OR REPLACE VIEW feature_importance AS SELECT * FROM departure_feature_importance;

CREATE OR REPLACE VIEW integration_results AS SELECT * FROM integration_models;
