-- Tables of the early-warning stage (docs/early_warning.md). arrival_days_windows and the daily
-- sums arrival_days_daily_* are auxiliary tables of the asset features_arrival_days (its feature
-- rows are in features_arrival_days, its graphs in arrival_days_graph);
-- early_warning_models and its auxiliary early_warning_predictions belong to the asset
-- early_warning_models; departure_risk and early_warning_evaluation to their assets.
CREATE TABLE IF NOT EXISTS arrival_days_windows (
    window_id VARCHAR NOT NULL,
    arrival_day DATE NOT NULL,
    end_day DATE NOT NULL,
    k INTEGER NOT NULL,
    n_users BIGINT NOT NULL
);
-- The additive sums of each day's calls for every party (additive.sql over one day), kept for the
-- days the current windows cover: a window adds up its days' (window_sums.sql).
CREATE TABLE IF NOT EXISTS arrival_days_daily_sums (
    call_date DATE NOT NULL,
    province VARCHAR,
    n_calls BIGINT NOT NULL,
    inputs VARCHAR
);
CREATE TABLE IF NOT EXISTS arrival_days_daily_places (
    call_date DATE NOT NULL,
    party BIGINT NOT NULL,
    cell_id VARCHAR NOT NULL,
    n BIGINT NOT NULL,
    n_home BIGINT NOT NULL,
    n_work BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS arrival_days_daily_moves (
    call_date DATE NOT NULL,
    party BIGINT NOT NULL,
    first_cell VARCHAR NOT NULL,
    last_cell VARCHAR NOT NULL,
    moving_km DECIMAL(38, 12) NOT NULL
);
CREATE TABLE IF NOT EXISTS arrival_days_daily_moments (
    call_date DATE NOT NULL,
    party BIGINT NOT NULL,
    n BIGINT NOT NULL,
    sum_x DECIMAL(38, 6),
    sum_x2 DECIMAL(38, 12),
    n_local BIGINT NOT NULL,
    sum_local_x DECIMAL(38, 6),
    sum_local_x2 DECIMAL(38, 12)
);
CREATE TABLE IF NOT EXISTS early_warning_models (
    k INTEGER NOT NULL,
    classifier VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR,
    n_train BIGINT NOT NULL,
    n_leaving BIGINT NOT NULL,
    leaving_share DOUBLE,
    threshold DOUBLE,
    features VARCHAR,
    path VARCHAR,
    sha256 VARCHAR
);
CREATE TABLE IF NOT EXISTS early_warning_predictions (
    k INTEGER NOT NULL,
    user_id BIGINT NOT NULL,
    arrival_day DATE NOT NULL,
    last_call_day DATE NOT NULL,
    leaving BOOLEAN NOT NULL,
    fold INTEGER NOT NULL,
    probability DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS departure_risk (
    call_date DATE NOT NULL,
    user_id BIGINT NOT NULL,
    arrival_day DATE NOT NULL,
    k INTEGER NOT NULL,
    probability DOUBLE,
    risk_rank BIGINT,
    risk_band VARCHAR NOT NULL,
    top_features VARCHAR
);
CREATE TABLE IF NOT EXISTS early_warning_evaluation (
    k INTEGER,
    metric VARCHAR NOT NULL,
    bin INTEGER,
    value DOUBLE,
    n BIGINT,
    suppressed BOOLEAN NOT NULL
);
COMMENT ON COLUMN arrival_days_windows.window_id IS
    'arrival_days:<arrival day>/<end day>: the first k days of the migrants who arrived that day.';
COMMENT ON COLUMN arrival_days_windows.arrival_day IS
    'Day 1 of the window: the cohort''s first day with a call.';
COMMENT ON COLUMN arrival_days_windows.end_day IS 'Last day of the window (the partition).';
COMMENT ON COLUMN arrival_days_windows.k IS 'Days since arrival, arrival day included.';
COMMENT ON COLUMN arrival_days_windows.n_users IS 'New migrants of the cohort featurised.';
COMMENT ON COLUMN arrival_days_daily_sums.n_calls IS
    'Calls of the day when it was summed: the sums of a re-ingested day are computed again.';
COMMENT ON COLUMN arrival_days_daily_sums.inputs IS
    'Checksum of cells, estates, prices, provinces; the day''s calls version (built_from).';
COMMENT ON COLUMN arrival_days_daily_places.n IS
    'Locations of the party in the cell that day (n_home at home hours, n_work at work hours).';
COMMENT ON COLUMN arrival_days_daily_moves.moving_km IS
    'Exact km between consecutive locations of the day, from first_cell to last_cell.';
COMMENT ON COLUMN arrival_days_daily_moments.n IS 'Known call durations of the party that day.';
COMMENT ON COLUMN early_warning_models.status IS 'ok, or skipped (with its reason).';
COMMENT ON COLUMN early_warning_models.reason IS
    'Why skipped, or why an ok model flags no one (no signal); also the arrivals left without '
    'outcome (week C not covered).';
COMMENT ON COLUMN early_warning_models.n_train IS
    'Training users: new migrants of the training arrivals with a known outcome.';
COMMENT ON COLUMN early_warning_models.threshold IS
    'Probability above which a user is flagged: the F1-best on the out-of-fold predictions; '
    'null when they rank the leavers no better than chance (reason: no signal).';
COMMENT ON COLUMN early_warning_models.features IS 'Feature columns of the model, comma-separated.';
COMMENT ON COLUMN early_warning_models.path IS 'The fitted calibrated model (joblib).';
COMMENT ON COLUMN early_warning_predictions.probability IS
    'Calibrated probability of leaving from the model of the folds that did not see the user.';
COMMENT ON COLUMN early_warning_predictions.last_call_day IS
    'The user''s last day with a call in the calls landed.';
COMMENT ON COLUMN departure_risk.call_date IS 'The day whose calls just landed (the partition).';
COMMENT ON COLUMN departure_risk.user_id IS 'Pseudonymised new migrant.';
COMMENT ON COLUMN departure_risk.arrival_day IS 'Her first day with a call (her day 1).';
COMMENT ON COLUMN departure_risk.k IS 'Days since her arrival, arrival day included (1..14).';
COMMENT ON COLUMN departure_risk.probability IS
    'Calibrated probability that she leaves within her first 14 days; null when no model of '
    'her k could be trained (risk_band says why).';
COMMENT ON COLUMN departure_risk.risk_rank IS
    'Rank of her probability among the day''s scored migrants (1 = most at risk).';
COMMENT ON COLUMN departure_risk.risk_band IS
    'high (probability >= the model''s threshold), elevated (>= the training leaving share), '
    'low, no_signal (the model of her k ranks no better than chance), or unscored.';
COMMENT ON COLUMN departure_risk.top_features IS
    'The three features that move her probability most (JSON: feature, change).';
COMMENT ON COLUMN early_warning_evaluation.metric IS
    'precision, recall, f1, precision_top_1pct, precision_top_5pct, leaving_share, brier, '
    'reliability_predicted, reliability_observed, median_lead_days, random_median_lead_days.';
COMMENT ON COLUMN early_warning_evaluation.n IS 'Users the value is computed over.';
COMMENT ON COLUMN early_warning_evaluation.suppressed IS
    'True when n < thresholds.min_group_size: value withheld (null).';
