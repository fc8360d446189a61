-- Column descriptions of the model tables (sql/models/schema.sql): the assets'
-- dagster/column_schema (migrant_assets.defs.metadata); the views inherit them. Idempotent.

COMMENT ON COLUMN departure_folds.user_id IS 'user (pseudonym) of the reference window (k = k_max)';
COMMENT ON COLUMN departure_folds.label IS 'staying_migrant or leaving_migrant';
COMMENT ON COLUMN departure_folds.fold IS 'cross-validation fold, 0..4 (stratified by label)';
COMMENT ON COLUMN departure_folds.seed IS 'seed of the fold assignment (models.seed)';

COMMENT ON COLUMN departure_models.experiment IS 'leaving_vs_staying';
COMMENT ON COLUMN departure_models."row" IS
    'the paper''s row name: the classifier, or random guess';
COMMENT ON COLUMN departure_models.window_id IS 'first-k-days window (the partition)';
COMMENT ON COLUMN departure_models.window_label IS 'k=<days observed>';
COMMENT ON COLUMN departure_models.model IS 'classifier, or random guess';
COMMENT ON COLUMN departure_models.n_features IS 'feature columns the classifier used';
COMMENT ON COLUMN departure_models."precision" IS
    'precision of the leaving migrants, pooled out of fold';
COMMENT ON COLUMN departure_models.recall IS 'recall of the leaving migrants, pooled out of fold';
COMMENT ON COLUMN departure_models.f1 IS 'F1 of the leaving migrants, pooled out of fold';
COMMENT ON COLUMN departure_models.f1_ci_low IS '95% bootstrap interval of F1 over test users: low';
COMMENT ON COLUMN departure_models.f1_ci_high IS
    '95% bootstrap interval of F1 over test users: high';
COMMENT ON COLUMN departure_models.pr_auc IS
    'area under the precision-recall curve, mean over folds';
COMMENT ON COLUMN departure_models.paper_f1 IS
    'the paper''s F1 (Table 2, its k only); null otherwise';
COMMENT ON COLUMN departure_models.n_users IS 'staying and leaving migrants of the window';
COMMENT ON COLUMN departure_models.n_pos IS 'leaving migrants of the window';
COMMENT ON COLUMN departure_models.prevalence IS 'n_pos / n_users; null when there is no user';
COMMENT ON COLUMN departure_models.seed IS 'seed of folds, models and bootstrap (models.seed)';
COMMENT ON COLUMN departure_models.status IS 'ok, or skipped when the data cannot support the row';
COMMENT ON COLUMN departure_models.skip_reason IS 'why a skipped row could not be computed';
COMMENT ON COLUMN departure_models.dropped_groups IS
    'feature groups left out: every value null (comma-separated)';

COMMENT ON COLUMN departure_tables.experiment IS
    'table1_new_vs_locals_rf or table3_leaving_vs_staying_rf_k14 (the paper''s table)';
COMMENT ON COLUMN departure_tables."row" IS
    'the paper''s row name: all features, a feature group, or random guess';
COMMENT ON COLUMN departure_tables.window_id IS 'the reference window (k = k_max)';
COMMENT ON COLUMN departure_tables.window_label IS 'k=<days observed>';
COMMENT ON COLUMN departure_tables.model IS 'random forest, or random guess';
COMMENT ON COLUMN departure_tables.n_features IS 'feature columns the classifier used';
COMMENT ON COLUMN departure_tables."precision" IS
    'precision of the positive class, pooled out of fold';
COMMENT ON COLUMN departure_tables.recall IS 'recall of the positive class, pooled out of fold';
COMMENT ON COLUMN departure_tables.f1 IS 'F1 of the positive class, pooled out of fold';
COMMENT ON COLUMN departure_tables.f1_ci_low IS '95% bootstrap interval of F1 over test users: low';
COMMENT ON COLUMN departure_tables.f1_ci_high IS
    '95% bootstrap interval of F1 over test users: high';
COMMENT ON COLUMN departure_tables.pr_auc IS
    'area under the precision-recall curve, mean over folds';
COMMENT ON COLUMN departure_tables.paper_f1 IS 'the paper''s F1 (its k only); null otherwise';
COMMENT ON COLUMN departure_tables.n_users IS 'users classified';
COMMENT ON COLUMN departure_tables.n_pos IS 'users of the positive class (new or leaving migrants)';
COMMENT ON COLUMN departure_tables.prevalence IS 'n_pos / n_users; null when there is no user';
COMMENT ON COLUMN departure_tables.seed IS 'seed of folds, models and bootstrap (models.seed)';
COMMENT ON COLUMN departure_tables.status IS 'ok, or skipped when the data cannot support the row';
COMMENT ON COLUMN departure_tables.skip_reason IS 'why a skipped row could not be computed';
COMMENT ON COLUMN departure_tables.dropped_groups IS
    'feature groups left out: every value null (comma-separated)';

COMMENT ON COLUMN departure_models_fold_metrics.experiment IS 'leaving_vs_staying';
COMMENT ON COLUMN departure_models_fold_metrics."row" IS 'the classifier';
COMMENT ON COLUMN departure_models_fold_metrics.window_id IS 'first-k-days window';
COMMENT ON COLUMN departure_models_fold_metrics.model IS 'the classifier';
COMMENT ON COLUMN departure_models_fold_metrics.fold IS 'the fold whose users were tested';
COMMENT ON COLUMN departure_models_fold_metrics."precision" IS
    'precision of the positive class on the fold (null when it has no positive user)';
COMMENT ON COLUMN departure_models_fold_metrics.recall IS
    'recall of the positive class on the fold (null when it has no positive user)';
COMMENT ON COLUMN departure_models_fold_metrics.f1 IS
    'F1 of the positive class on the fold (null when it has no positive user)';
COMMENT ON COLUMN departure_models_fold_metrics.pr_auc IS
    'area under the precision-recall curve on the fold';
COMMENT ON COLUMN departure_models_fold_metrics.n_test IS 'test users of the fold';
COMMENT ON COLUMN departure_models_fold_metrics.n_pos IS 'positive test users of the fold';

COMMENT ON COLUMN departure_tables_fold_metrics.experiment IS
    'table1_new_vs_locals_rf or table3_leaving_vs_staying_rf_k14';
COMMENT ON COLUMN departure_tables_fold_metrics."row" IS 'all features or a feature group';
COMMENT ON COLUMN departure_tables_fold_metrics.window_id IS 'the reference window (k = k_max)';
COMMENT ON COLUMN departure_tables_fold_metrics.model IS 'random forest';
COMMENT ON COLUMN departure_tables_fold_metrics.fold IS 'the fold whose users were tested';
COMMENT ON COLUMN departure_tables_fold_metrics."precision" IS
    'precision of the positive class on the fold (null when it has no positive user)';
COMMENT ON COLUMN departure_tables_fold_metrics.recall IS
    'recall of the positive class on the fold (null when it has no positive user)';
COMMENT ON COLUMN departure_tables_fold_metrics.f1 IS
    'F1 of the positive class on the fold (null when it has no positive user)';
COMMENT ON COLUMN departure_tables_fold_metrics.pr_auc IS
    'area under the precision-recall curve on the fold';
COMMENT ON COLUMN departure_tables_fold_metrics.n_test IS 'test users of the fold';
COMMENT ON COLUMN departure_tables_fold_metrics.n_pos IS 'positive test users of the fold';

COMMENT ON COLUMN departure_curves."row" IS 'the classifier, or random guess';
COMMENT ON COLUMN departure_curves.window_id IS 'first-k-days window';
COMMENT ON COLUMN departure_curves.window_label IS 'k=<days observed>';
COMMENT ON COLUMN departure_curves."precision" IS 'precision of the leaving migrants at this k';
COMMENT ON COLUMN departure_curves.recall IS 'recall of the leaving migrants at this k';
COMMENT ON COLUMN departure_curves.f1 IS 'F1 of the leaving migrants at this k';
COMMENT ON COLUMN departure_curves.f1_ci_low IS '95% bootstrap interval of F1: low';
COMMENT ON COLUMN departure_curves.f1_ci_high IS '95% bootstrap interval of F1: high';
COMMENT ON COLUMN departure_curves.n_users IS 'staying and leaving migrants of the window';
COMMENT ON COLUMN departure_curves.n_pos IS 'leaving migrants of the window';
COMMENT ON COLUMN departure_curves.status IS 'ok, or skipped when the data cannot support the row';
COMMENT ON COLUMN departure_curves.skip_reason IS 'why a skipped row could not be computed';

COMMENT ON COLUMN departure_transfer.train_window IS
    'first-k-days window the classifier was trained on (k)';
COMMENT ON COLUMN departure_transfer.test_window IS 'first-t-days window it was tested on (t)';
COMMENT ON COLUMN departure_transfer.train_label IS 'k=<days observed in training>';
COMMENT ON COLUMN departure_transfer.test_label IS 'k=<days observed in testing>';
COMMENT ON COLUMN departure_transfer.model IS 'the classifier';
COMMENT ON COLUMN departure_transfer."precision" IS
    'precision of the leaving migrants, pooled over folds';
COMMENT ON COLUMN departure_transfer.recall IS 'recall of the leaving migrants, pooled over folds';
COMMENT ON COLUMN departure_transfer.f1 IS 'F1 of the leaving migrants, pooled over folds';
COMMENT ON COLUMN departure_transfer.f1_ci_low IS
    '95% bootstrap interval of F1 over test users: low';
COMMENT ON COLUMN departure_transfer.f1_ci_high IS
    '95% bootstrap interval of F1 over test users: high';
COMMENT ON COLUMN departure_transfer.n_users IS
    'test users (staying and leaving migrants of the t window, sampled: test_rows_cap)';
COMMENT ON COLUMN departure_transfer.n_pos IS 'leaving migrants among the test users';
COMMENT ON COLUMN departure_transfer.status IS
    'ok, or skipped when the k or the t window cannot be classified';
COMMENT ON COLUMN departure_transfer.skip_reason IS 'why a skipped pair could not be computed';

COMMENT ON COLUMN departure_feature_importance.window_id IS 'the reference window (k = k_max)';
COMMENT ON COLUMN departure_feature_importance.feature IS 'feature column';
COMMENT ON COLUMN departure_feature_importance.family IS
    'feature family (the departure study''s group)';
COMMENT ON COLUMN departure_feature_importance.gini IS
    'mean decrease in impurity of the final forest (missing indicator added)';
COMMENT ON COLUMN departure_feature_importance.permutation_mean IS
    'drop in average precision when shuffled, mean over folds and repeats';
COMMENT ON COLUMN departure_feature_importance.permutation_std IS
    'standard deviation of the permutation drop';
COMMENT ON COLUMN departure_feature_importance."rank" IS
    'rank by Gini (1..10 is Figure 9); null when skipped';
COMMENT ON COLUMN departure_feature_importance.status IS
    'ok, or skipped when the data cannot support the feature';
COMMENT ON COLUMN departure_feature_importance.skip_reason IS
    'why a skipped feature has no importance';

COMMENT ON COLUMN integration_models.experiment IS
    'settled_vs_locals_lr, classified_as_locals or three_way';
COMMENT ON COLUMN integration_models."row" IS 'ablation step, group of users, or random guess';
COMMENT ON COLUMN integration_models.target IS
    'positive class: migrant, or the class of a three-way row';
COMMENT ON COLUMN integration_models.step IS 'ablation step (0 = all features)';
COMMENT ON COLUMN integration_models.removed_group IS
    'feature group removed at this step (D, E, C or G)';
COMMENT ON COLUMN integration_models.window_id IS 'test week';
COMMENT ON COLUMN integration_models.week IS 'W2 .. W4';
COMMENT ON COLUMN integration_models."precision" IS
    'precision of the target class on the test users';
COMMENT ON COLUMN integration_models.recall IS 'recall of the target class on the test users';
COMMENT ON COLUMN integration_models.f1 IS 'F1 of the target class on the test users';
COMMENT ON COLUMN integration_models.f1_ci_low IS
    '95% bootstrap interval of F1 over test users: low';
COMMENT ON COLUMN integration_models.f1_ci_high IS
    '95% bootstrap interval of F1 over test users: high';
COMMENT ON COLUMN integration_models.share IS 'share classified as locals (classified_as_locals)';
COMMENT ON COLUMN integration_models.share_ci_low IS '95% bootstrap interval of the share: low';
COMMENT ON COLUMN integration_models.share_ci_high IS '95% bootstrap interval of the share: high';
COMMENT ON COLUMN integration_models.cv_f1 IS 'cross-validated F1 on the training users';
COMMENT ON COLUMN integration_models.c IS 'l2 inverse penalty chosen by 5-fold CV';
COMMENT ON COLUMN integration_models.paper_value IS 'the paper''s F1 or share, where it gives one';
COMMENT ON COLUMN integration_models.n_users IS 'test users of the week';
COMMENT ON COLUMN integration_models.prevalence IS 'share of the target class among the test users';
COMMENT ON COLUMN integration_models.seed IS
    'seed of the split, models and bootstrap (models.seed)';
COMMENT ON COLUMN integration_models.status IS
    'ok, or skipped when the data cannot support the row';
COMMENT ON COLUMN integration_models.skip_reason IS 'why a skipped row could not be computed';
COMMENT ON COLUMN integration_models.dropped_groups IS
    'groups left out: every value null (comma-separated)';

COMMENT ON COLUMN departure_models_splits.experiment IS 'leaving_vs_staying';
COMMENT ON COLUMN departure_models_splits.window_id IS 'the window evaluated';
COMMENT ON COLUMN departure_models_splits.split IS 'fold0 .. fold4';
COMMENT ON COLUMN departure_models_splits.user_id IS 'user (pseudonym)';
COMMENT ON COLUMN departure_models_splits."role" IS 'train or test';

COMMENT ON COLUMN departure_tables_splits.experiment IS
    'table1_new_vs_locals_rf or table3_leaving_vs_staying_rf_k14';
COMMENT ON COLUMN departure_tables_splits.window_id IS 'the window evaluated (k = k_max)';
COMMENT ON COLUMN departure_tables_splits.split IS 'fold0 .. fold4';
COMMENT ON COLUMN departure_tables_splits.user_id IS 'user (pseudonym)';
COMMENT ON COLUMN departure_tables_splits."role" IS 'train or test';

COMMENT ON COLUMN departure_transfer_splits.experiment IS 'transfer';
COMMENT ON COLUMN departure_transfer_splits.window_id IS 'the train window (k)';
COMMENT ON COLUMN departure_transfer_splits.split IS 'fold0 .. fold4';
COMMENT ON COLUMN departure_transfer_splits.user_id IS 'user (pseudonym)';
COMMENT ON COLUMN departure_transfer_splits."role" IS
    'train (in the k window) or test (in any t window)';

COMMENT ON COLUMN integration_models_splits.experiment IS 'settled_vs_locals_lr or three_way';
COMMENT ON COLUMN integration_models_splits.window_id IS 'the week evaluated';
COMMENT ON COLUMN integration_models_splits.split IS 'half';
COMMENT ON COLUMN integration_models_splits.user_id IS 'user (pseudonym)';
COMMENT ON COLUMN integration_models_splits."role" IS 'train or test';

COMMENT ON COLUMN departure_models_fitted.window_id IS 'first-k-days window the model was fit on';
COMMENT ON COLUMN departure_models_fitted.model IS 'the classifier';
COMMENT ON COLUMN departure_models_fitted.split IS
    'fold0..fold4: fit on the other folds'' users; all: fit on every user of the window';
COMMENT ON COLUMN departure_models_fitted.fingerprint IS
    'sha256 of classifier, caps, seed, columns and training users: what the model was fit on';
COMMENT ON COLUMN departure_models_fitted.n_train IS 'training rows the model was fit on';
COMMENT ON COLUMN departure_models_fitted.n_train_available IS
    'training rows available (more than n_train: sampled, models.max_train_rows_per_class)';
COMMENT ON COLUMN departure_models_fitted.fitted IS 'the fitted scikit-learn pipeline, pickled';
COMMENT ON COLUMN departure_models_fitted.signature IS
'HMAC-SHA256 of the pickle keyed by <DuckDB file>.models-key: only a signed model is unpickled';
COMMENT ON COLUMN departure_models.train_rows_cap IS
    'training rows of one class a fit sees (models.max_train_rows_per_class)';
COMMENT ON COLUMN departure_models.n_train IS
    'training rows the models were fit on, summed over the folds';
COMMENT ON COLUMN departure_models.n_train_available IS
    'training rows available, summed over folds (above n_train: sampled)';
COMMENT ON COLUMN departure_models.model_caps IS
    'what else bounds the fit: trees, iterations, kernel components';
COMMENT ON COLUMN departure_models.fitted_in IS
    'the asset that fit the models (departure_models: reused, not fit again)';
COMMENT ON COLUMN departure_tables.train_rows_cap IS
    'training rows of one class a fit sees (models.max_train_rows_per_class)';
COMMENT ON COLUMN departure_tables.n_train IS
    'training rows the models were fit on, summed over the folds';
COMMENT ON COLUMN departure_tables.n_train_available IS
    'training rows available, summed over folds (above n_train: sampled)';
COMMENT ON COLUMN departure_tables.model_caps IS
    'what else bounds the fit: trees, iterations, kernel components';
COMMENT ON COLUMN departure_tables.fitted_in IS
    'the asset that fit the models (departure_models: reused, not fit again)';
COMMENT ON COLUMN departure_transfer.train_rows_cap IS
    'training rows of one class a fit sees (models.max_train_rows_per_class)';
COMMENT ON COLUMN departure_transfer.n_train IS
    'training rows the models were fit on, summed over the folds';
COMMENT ON COLUMN departure_transfer.n_train_available IS
    'training rows available, summed over folds (above n_train: sampled)';
COMMENT ON COLUMN departure_transfer.model_caps IS
    'what else bounds the fit: trees, iterations, kernel components';
COMMENT ON COLUMN departure_transfer.fitted_in IS
    'the asset that fit the models (departure_models: reused, not fit again)';
COMMENT ON COLUMN departure_transfer.test_rows_cap IS
    'held-out users per fold of the t window predicted (models.transfer_rows)';
COMMENT ON COLUMN departure_transfer.n_users_available IS
    'staying and leaving migrants of the t window (above n_users: a sample was tested)';
COMMENT ON COLUMN departure_models_fold_metrics.n_train IS
    'training rows the fold''s model was fit on';
COMMENT ON COLUMN departure_models_fold_metrics.n_train_available IS
    'training rows of the fold available (more than n_train: sampled)';
COMMENT ON COLUMN departure_tables_fold_metrics.n_train IS
    'training rows the fold''s model was fit on';
COMMENT ON COLUMN departure_tables_fold_metrics.n_train_available IS
    'training rows of the fold available (more than n_train: sampled)';
COMMENT ON COLUMN departure_feature_importance.n_train IS
    'training rows of the final forest (Gini importance)';
COMMENT ON COLUMN departure_feature_importance.n_train_available IS
    'users of the window (more than n_train: sampled, models.max_train_rows_per_class)';
COMMENT ON COLUMN departure_feature_importance.permutation_rows IS
    'held-out users per fold permutation importance is computed on (models.permutation_rows)';
COMMENT ON COLUMN departure_feature_importance.n_permutation_rows IS
    'held-out users permutation importance was computed on, summed over the folds';
COMMENT ON COLUMN departure_feature_importance.permutation_repeats IS
    'shuffles of each feature (models.permutation_repeats)';
COMMENT ON COLUMN integration_models.train_rows_cap IS
    'training rows of one class a fit sees (models.max_train_rows_per_class)';
COMMENT ON COLUMN integration_models.n_train IS
    'training rows (W2, training half) the model was fit on';
COMMENT ON COLUMN integration_models.n_train_available IS
    'training rows available (more than n_train: sampled)';
COMMENT ON COLUMN integration_models.c_grid_size IS
    'values of C searched by cross-validation (models.c_grid)';
COMMENT ON COLUMN integration_models.cv_folds IS 'cross-validation folds that chose C';
COMMENT ON COLUMN integration_models.lr_tol IS
    'stopping tolerance of the logistic regression solver (models.lr_tol)';
COMMENT ON COLUMN departure_transfer_fold_metrics.train_window IS 'k: window of the fit';
COMMENT ON COLUMN departure_transfer_fold_metrics.test_window IS 't: window tested on';
COMMENT ON COLUMN departure_transfer_fold_metrics.fold IS 'the fold whose users are tested';
COMMENT ON COLUMN departure_transfer_fold_metrics.n_test IS 'test users of the fold';
COMMENT ON COLUMN departure_feature_importance_folds.fold IS 'fold of the forest (fit without it)';
COMMENT ON COLUMN departure_feature_importance_folds.gini IS 'Gini importance in that forest';
COMMENT ON COLUMN integration_models_candidates.step IS 'removal step (1: first group removed)';
COMMENT ON COLUMN integration_models_candidates.candidate IS 'the group it removes at the step';
COMMENT ON COLUMN integration_models_candidates.removed IS 'every group removed, e.g. GD';
COMMENT ON COLUMN integration_models_candidates.chosen IS 'the step removed this group';
COMMENT ON COLUMN integration_models_candidates.cv_f1 IS 'CV F1 on the fold, at the chosen C';
