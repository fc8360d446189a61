-- Tables of the graphs stage (docs/data_model.md, SPEC §4). Idempotent.

-- Daily partition: one row per (call_date, caller, callee) that had at least one call.
CREATE TABLE IF NOT EXISTS daily_contacts (
    call_date DATE NOT NULL,
    caller BIGINT NOT NULL,
    callee BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE NOT NULL
);

-- One partition per window: the directed edges src -> dst of G_t with their weights.
CREATE TABLE IF NOT EXISTS window_graph (
    window_id VARCHAR NOT NULL,
    src BIGINT NOT NULL,
    dst BIGINT NOT NULL,
    n_calls BIGINT NOT NULL,
    duration_s DOUBLE NOT NULL
);
