-- Tables of the graphs stage (docs/data_model.md, SPEC §4). Idempotent schema DDL.
-- duration_s is the exact sum of the known durations of the calls; null when none of them has a
-- duration (missed calls kept as contacts, calls.duration_s null): they still count in n_calls.

-- Daily partition: one row per (call_date, caller, callee) that had at least one call.
CREATE TABLE IF NOT EXISTS daily_contacts (
    call_date DATE NOT NULL,
    caller BIGINT NOT NULL,
    callee BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE
);

-- One table per window family (the asset of the same name), one partition per window: the
-- directed edges src -> dst of G_t with their weights.
CREATE TABLE IF NOT EXISTS integration_week_graph (
    window_id VARCHAR NOT NULL,
    src BIGINT NOT NULL,
    dst BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE
);
CREATE TABLE IF NOT EXISTS departure_week_graph (
    window_id VARCHAR NOT NULL,
    src BIGINT NOT NULL,
    dst BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE
);
CREATE TABLE IF NOT EXISTS first_k_days_graph (
    window_id VARCHAR NOT NULL,
    src BIGINT NOT NULL,
    dst BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE
);
-- Auxiliary table of first_k_days_graph, one row per window: the count and checksum of the
-- parties whose edges the window's graph keeps (graphs.neighbourhood; 'every edge').
CREATE TABLE IF NOT EXISTS first_k_days_graph_neighbourhood (
    window_id VARCHAR NOT NULL,
    neighbourhood VARCHAR NOT NULL
);
-- G_t of the early-warning windows (a migrant's first k days since her arrival day, auxiliary
-- table of the asset features_arrival_days: docs/early_warning.md).
CREATE TABLE IF NOT EXISTS arrival_days_graph (
    window_id VARCHAR NOT NULL,
    src BIGINT NOT NULL,
    dst BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE
);
CREATE TABLE IF NOT EXISTS whole_period_graph (
    window_id VARCHAR NOT NULL,
    src BIGINT NOT NULL,
    dst BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE
);

-- G_t of every window, as every reader knows it.
CREATE OR REPLACE VIEW window_graph AS
SELECT window_id, src, dst, n_calls, duration_s FROM integration_week_graph
UNION ALL
SELECT window_id, src, dst, n_calls, duration_s FROM departure_week_graph
UNION ALL
SELECT window_id, src, dst, n_calls, duration_s FROM first_k_days_graph
UNION ALL
SELECT window_id, src, dst, n_calls, duration_s FROM whole_period_graph
UNION ALL
SELECT window_id, src, dst, n_calls, duration_s FROM arrival_days_graph;

COMMENT ON COLUMN daily_contacts.call_date IS 'Day of the calls (the partition key).';
COMMENT ON COLUMN daily_contacts.caller IS 'Party that called (user id or pseudonymised number).';
COMMENT ON COLUMN daily_contacts.callee IS 'Party that was called.';
COMMENT ON COLUMN daily_contacts.n_calls IS
    'Calls from caller to callee that day, missed ones included.';
COMMENT ON COLUMN daily_contacts.duration_s IS
    'Exact sum of the known durations (s); null when none is known.';
COMMENT ON COLUMN integration_week_graph.window_id IS '<family>:<partition key> of the window.';
COMMENT ON COLUMN integration_week_graph.src IS 'Party that called (edge src -> dst).';
COMMENT ON COLUMN integration_week_graph.dst IS 'Party that was called.';
COMMENT ON COLUMN integration_week_graph.n_calls IS
    'Calls src -> dst in the window, missed ones included.';
COMMENT ON COLUMN integration_week_graph.duration_s IS
    'Exact sum of the known durations (s); null when none is known.';
COMMENT ON COLUMN departure_week_graph.window_id IS '<family>:<partition key> of the window.';
COMMENT ON COLUMN departure_week_graph.src IS 'Party that called (edge src -> dst).';
COMMENT ON COLUMN departure_week_graph.dst IS 'Party that was called.';
COMMENT ON COLUMN departure_week_graph.n_calls IS
    'Calls src -> dst in the window, missed ones included.';
COMMENT ON COLUMN departure_week_graph.duration_s IS
    'Exact sum of the known durations (s); null when none is known.';
COMMENT ON COLUMN first_k_days_graph.window_id IS '<family>:<partition key> of the window.';
COMMENT ON COLUMN first_k_days_graph.src IS 'Party that called (edge src -> dst).';
COMMENT ON COLUMN first_k_days_graph.dst IS 'Party that was called.';
COMMENT ON COLUMN first_k_days_graph.n_calls IS
    'Calls src -> dst in the window, missed ones included.';
COMMENT ON COLUMN first_k_days_graph.duration_s IS
    'Exact sum of the known durations (s); null when none is known.';
COMMENT ON COLUMN whole_period_graph.window_id IS '<family>:<partition key> of the window.';
COMMENT ON COLUMN whole_period_graph.src IS 'Party that called (edge src -> dst).';
COMMENT ON COLUMN whole_period_graph.dst IS 'Party that was called.';
COMMENT ON COLUMN whole_period_graph.n_calls IS
    'Calls src -> dst in the window, missed ones included.';
COMMENT ON COLUMN whole_period_graph.duration_s IS
    'Exact sum of the known durations (s); null when none is known.';
