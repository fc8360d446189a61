-- The table group_feature_trends (reports/trends.py fills it window by window with
-- group_feature_trends.sql; run inside one transaction).
CREATE OR REPLACE TABLE group_feature_trends (
    study VARCHAR,
    window_family VARCHAR,
    feature VARCHAR,
    feature_family VARCHAR,
    window_id VARCHAR,
    window_label VARCHAR,
    window_order BIGINT,
    label VARCHAR,
    n BIGINT,
    mean DOUBLE,
    se DOUBLE,
    suppressed BOOLEAN,
    uncovered VARCHAR,
    feature_order BIGINT
);

COMMENT ON TABLE group_feature_trends IS
'Group mean and standard error of every feature per window and group (SPEC §6).';
COMMENT ON COLUMN group_feature_trends.study IS 'integration | departure | descriptive';
COMMENT ON COLUMN group_feature_trends.window_family IS
'integration_week | departure_week | first_k_days | whole_period';
COMMENT ON COLUMN group_feature_trends.feature IS 'Feature name (features registry).';
COMMENT ON COLUMN group_feature_trends.feature_family IS
'ego_network | call_behavior | geography | housing_price';
COMMENT ON COLUMN group_feature_trends.window_id IS 'The window (calendar window id).';
COMMENT ON COLUMN group_feature_trends.window_label IS
'The window''s label: W1..W4, A..C, k=<k>, ...';
COMMENT ON COLUMN group_feature_trends.window_order IS 'Position of the window in the calendar.';
COMMENT ON COLUMN group_feature_trends.label IS 'The study group, or all (every featurised user).';
COMMENT ON COLUMN group_feature_trends.n IS
'Users with a value; null when suppressed (fewer than min_group_size).';
COMMENT ON COLUMN group_feature_trends.mean IS
'Mean over the users with a value; null when suppressed.';
COMMENT ON COLUMN group_feature_trends.se IS
'Standard error: sample sd / sqrt(n); null when suppressed.';
COMMENT ON COLUMN group_feature_trends.suppressed IS
'Fewer than min_group_size users: n, mean and se withheld (SPEC §1).';
COMMENT ON COLUMN group_feature_trends.uncovered IS
'Why n, mean and se are withheld for the window: days of it the calls do not cover; or null.';
COMMENT ON COLUMN group_feature_trends.feature_order IS 'Position of the feature in the registry.';
