-- Result tables of the classifier experiments (SPEC §6, docs/models.md). Idempotent.
--
-- An experiment (or one row of it) that the data cannot support is written, not raised (issue 10):
-- status = 'skipped', skip_reason says why (a class under thresholds.min_class_size, one class
-- only, no folds, every feature of a group null), its metrics are null. dropped_groups lists the
-- feature groups left out of a row's feature set because every value of them is null.

-- One row per (experiment, row, window, model): pooled out-of-fold metrics of the positive class,
-- a 95% bootstrap interval of F1 over test users, and the paper's F1 where it gives one.
CREATE TABLE IF NOT EXISTS model_results (
    experiment VARCHAR NOT NULL,     -- table1_new_vs_locals_rf | leaving_vs_staying | table3_...
    "row" VARCHAR NOT NULL,          -- the paper's row name (classifier or feature set)
    window_id VARCHAR NOT NULL,
    window_label VARCHAR NOT NULL,   -- k=3 .. k=14
    model VARCHAR NOT NULL,          -- classifier, or 'random guess'
    n_features INTEGER,
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    f1_ci_low DOUBLE,
    f1_ci_high DOUBLE,
    pr_auc DOUBLE,
    paper_f1 DOUBLE,                 -- null where the paper gives no number
    n_users BIGINT NOT NULL,
    n_pos BIGINT NOT NULL,
    prevalence DOUBLE,               -- null when there is no user
    seed BIGINT NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'ok',  -- ok | skipped
    skip_reason VARCHAR,             -- why a skipped row could not be computed
    dropped_groups VARCHAR           -- feature groups left out: every value null (comma-separated)
);

-- Per-fold metrics of the same experiments (test users of one fold).
CREATE TABLE IF NOT EXISTS model_fold_metrics (
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
    n_pos BIGINT NOT NULL
);

-- Figure 8(d): trained on the fold-train users' first-k-days features, tested on the fold-test
-- users' first-t-days features, pooled over the folds.
CREATE TABLE IF NOT EXISTS transfer_f1 (
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
    status VARCHAR NOT NULL DEFAULT 'ok',  -- skipped when the train or the test window is
    skip_reason VARCHAR
);

-- Figure 9: Gini importance of the final random forest and permutation importance on the
-- held-out folds, every feature, ranked by Gini. A skipped feature (the window was skipped, or
-- every value of its group is null) has null importances and rank.
CREATE TABLE IF NOT EXISTS feature_importance (
    window_id VARCHAR NOT NULL,
    feature VARCHAR NOT NULL,
    family VARCHAR NOT NULL,
    gini DOUBLE,
    permutation_mean DOUBLE,
    permutation_std DOUBLE,
    "rank" INTEGER,
    status VARCHAR NOT NULL DEFAULT 'ok',
    skip_reason VARCHAR
);

-- Integration study (SPEC §6): one row per (experiment, row, target class, test week).
CREATE TABLE IF NOT EXISTS integration_results (
    experiment VARCHAR NOT NULL,     -- settled_vs_locals_lr | classified_as_locals | three_way
    "row" VARCHAR NOT NULL,          -- ablation step, group of users, or 'random guess'
    target VARCHAR NOT NULL,         -- positive class: migrant, or the class of a three-way row
    step INTEGER,                    -- ablation step (0 = all features)
    removed_group VARCHAR,           -- group removed at this step (D, E, C or G)
    window_id VARCHAR NOT NULL,      -- test week
    week VARCHAR NOT NULL,           -- W2 .. W4
    "precision" DOUBLE,
    recall DOUBLE,
    f1 DOUBLE,
    f1_ci_low DOUBLE,
    f1_ci_high DOUBLE,
    share DOUBLE,                    -- share classified as locals (classified_as_locals)
    share_ci_low DOUBLE,
    share_ci_high DOUBLE,
    cv_f1 DOUBLE,                    -- cross-validated F1 on the training users
    c DOUBLE,                        -- l2 inverse penalty chosen by 5-fold CV
    paper_value DOUBLE,              -- the paper's F1 or share, where it gives one
    n_users BIGINT NOT NULL,
    prevalence DOUBLE,
    seed BIGINT NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'ok',  -- ok | skipped
    skip_reason VARCHAR,
    dropped_groups VARCHAR           -- groups left out: every value null (comma-separated)
);

-- Which users trained and which were tested, per split (a fold, or the integration halves).
CREATE TABLE IF NOT EXISTS split_membership (
    experiment VARCHAR NOT NULL,
    window_id VARCHAR NOT NULL,      -- the window evaluated (train window for transfer)
    split VARCHAR NOT NULL,          -- fold0 .. fold4, or half
    user_id BIGINT NOT NULL,
    "role" VARCHAR NOT NULL          -- train | test
);

-- The departure study's folds: the k = 14 staying and leaving migrants, stratified 5-fold
-- (seeded); every k and the (k, t) matrix reuse them (SPEC §6).
CREATE TABLE IF NOT EXISTS departure_folds (
    user_id BIGINT NOT NULL,
    label VARCHAR NOT NULL,
    fold INTEGER NOT NULL,
    seed BIGINT NOT NULL
);

-- Tables written before skipped experiments were recorded (issue 10) gain the new columns.
ALTER TABLE model_results ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'ok';
ALTER TABLE model_results ADD COLUMN IF NOT EXISTS skip_reason VARCHAR;
ALTER TABLE model_results ADD COLUMN IF NOT EXISTS dropped_groups VARCHAR;
ALTER TABLE model_results ALTER COLUMN prevalence DROP NOT NULL;
ALTER TABLE transfer_f1 ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'ok';
ALTER TABLE transfer_f1 ADD COLUMN IF NOT EXISTS skip_reason VARCHAR;
ALTER TABLE feature_importance ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'ok';
ALTER TABLE feature_importance ADD COLUMN IF NOT EXISTS skip_reason VARCHAR;
ALTER TABLE feature_importance ALTER COLUMN gini DROP NOT NULL;
ALTER TABLE feature_importance ALTER COLUMN permutation_mean DROP NOT NULL;
ALTER TABLE feature_importance ALTER COLUMN permutation_std DROP NOT NULL;
ALTER TABLE feature_importance ALTER COLUMN "rank" DROP NOT NULL;
ALTER TABLE integration_results ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'ok';
ALTER TABLE integration_results ADD COLUMN IF NOT EXISTS skip_reason VARCHAR;
ALTER TABLE integration_results ADD COLUMN IF NOT EXISTS dropped_groups VARCHAR;
