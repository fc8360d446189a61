-- Tables of the graphs stage (docs/data_model.md, SPEC §4). Idempotent.
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

-- One partition per window: the directed edges src -> dst of G_t with their weights.
CREATE TABLE IF NOT EXISTS window_graph (
    window_id VARCHAR NOT NULL,
    src BIGINT NOT NULL,
    dst BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE
);

-- Files written before durations could be missing declared them NOT NULL (a no-op otherwise).
ALTER TABLE daily_contacts ALTER COLUMN duration_s DROP NOT NULL;
ALTER TABLE window_graph ALTER COLUMN duration_s DROP NOT NULL;
