-- Tables of the labels stage (docs/data_model.md, SPEC §3), both written by user_labels.
-- Idempotent.

-- One row per user: an owner with a local number who is not service-like.
CREATE TABLE IF NOT EXISTS user_labels (
    user_id BIGINT NOT NULL,
    birth_province VARCHAR,
    is_local_born BOOLEAN,
    degree BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    first_active_day DATE,
    last_active_day DATE,
    active_pre BOOLEAN NOT NULL,
    active_w1 BOOLEAN NOT NULL,
    active_w2 BOOLEAN NOT NULL,
    active_w3 BOOLEAN NOT NULL,
    active_w4 BOOLEAN NOT NULL,
    active_a BOOLEAN NOT NULL,
    active_b BOOLEAN NOT NULL,
    active_c BOOLEAN NOT NULL,
    active_after_c BOOLEAN NOT NULL,
    integration_label VARCHAR,
    departure_label VARCHAR
);

-- Owners with a local number removed from the user population as service-like numbers; one row
-- per (user_id, reason), so an owner caught by both rules appears twice.
CREATE TABLE IF NOT EXISTS service_like_users (
    user_id BIGINT NOT NULL,
    reason VARCHAR NOT NULL,
    degree BIGINT NOT NULL
);

-- A study whose labels are withheld: a day of a window whose silence decides them lies outside
-- the days the calls cover (no data there, not silence).
CREATE TABLE IF NOT EXISTS withheld_labels (
    study VARCHAR NOT NULL,
    days_not_covered DATE [] NOT NULL,
    first_call_day DATE,
    last_call_day DATE
);

COMMENT ON COLUMN withheld_labels.study IS
    'integration (W1; a whole W2-W4) or departure (before week A, week C; a whole A or B).';
COMMENT ON COLUMN withheld_labels.days_not_covered IS
    'The days of those windows the calls do not cover (uncovered_days.sql).';
COMMENT ON COLUMN withheld_labels.first_call_day IS
    'The month''s first day with a stored call; null when none.';
COMMENT ON COLUMN withheld_labels.last_call_day IS
    'The month''s last day with a stored call; null when none.';
COMMENT ON COLUMN user_labels.user_id IS 'Pseudonymised owner id (subscribers.user_id).';
COMMENT ON COLUMN user_labels.birth_province IS 'Trimmed birth province; null when unknown.';
COMMENT ON COLUMN user_labels.is_local_born IS
    'Birth province is the study city''s province; null when unknown.';
COMMENT ON COLUMN user_labels.degree IS
    'Distinct parties called or called by over the study month (every party counted).';
COMMENT ON COLUMN user_labels.n_calls IS 'Calls made or received over the study month.';
COMMENT ON COLUMN user_labels.first_active_day IS 'First day with a call; null when silent.';
COMMENT ON COLUMN user_labels.last_active_day IS 'Last day with a call; null when silent.';
COMMENT ON COLUMN user_labels.active_pre IS
    'A call before departure week A (calendar.departure_pre_window).';
COMMENT ON COLUMN user_labels.active_w1 IS 'A call in integration week W1.';
COMMENT ON COLUMN user_labels.active_w2 IS 'A call in integration week W2.';
COMMENT ON COLUMN user_labels.active_w3 IS 'A call in integration week W3.';
COMMENT ON COLUMN user_labels.active_w4 IS 'A call in integration week W4.';
COMMENT ON COLUMN user_labels.active_a IS 'A call in departure week A.';
COMMENT ON COLUMN user_labels.active_b IS 'A call in departure week B.';
COMMENT ON COLUMN user_labels.active_c IS 'A call in departure week C.';
COMMENT ON COLUMN user_labels.active_after_c IS
    'A call after week C (ignored by the labels: SPEC §3 needs silence in C only).';
COMMENT ON COLUMN user_labels.integration_label IS
    'local, settled_migrant, new_migrant, or null (SPEC §3).';
COMMENT ON COLUMN user_labels.departure_label IS
    'local, staying_migrant, leaving_migrant, or null (SPEC §3).';
COMMENT ON COLUMN service_like_users.user_id IS
    'Pseudonymised owner with a local number removed from the users.';
COMMENT ON COLUMN service_like_users.reason IS
    'user_type (a service user type) or max_degree (degree above thresholds.max_degree).';
COMMENT ON COLUMN service_like_users.degree IS 'The owner''s degree over the study month.';
