-- Tables written by the ingestion assets (docs/data_model.md, SPEC §1). Idempotent.
CREATE TABLE IF NOT EXISTS subscribers (
    user_id BIGINT,
    age INTEGER,
    sex VARCHAR,
    birth_province VARCHAR,
    has_local_number BOOLEAN NOT NULL,
    is_service BOOLEAN NOT NULL,
    n_numbers INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS number_owner (
    number_id BIGINT,
    user_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS cells (
    cell_id VARCHAR,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS estates (
    estate_id VARCHAR,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    price_per_sqm DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    call_date DATE NOT NULL,
    caller BIGINT NOT NULL,
    callee BIGINT NOT NULL,
    start_ts TIMESTAMP NOT NULL,
    end_ts TIMESTAMP,  -- null for a missed call kept as a contact
    duration_s DOUBLE,  -- end_ts - start_ts in seconds; null for a missed call
    caller_cell VARCHAR,
    callee_cell VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine (
    source VARCHAR NOT NULL,
    partition_key VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    file VARCHAR,
    row_number BIGINT,
    record VARCHAR
);
-- Calls read once from the files (the landing step), pseudonymised by number, each with its
-- local day; the daily ingestion takes its day from here.
CREATE TABLE IF NOT EXISTS landed_calls (
    call_date DATE NOT NULL,
    caller_number BIGINT NOT NULL,
    callee_number BIGINT NOT NULL,
    start_ts TIMESTAMP NOT NULL,
    end_ts TIMESTAMP,
    duration_s DOUBLE,  -- from the instants (a call across a DST change keeps its length)
    caller_cell VARCHAR,
    callee_cell VARCHAR,
    file VARCHAR,
    row_number BIGINT
);
-- Per input file of calls: rows read, landed, quarantined, and excluded by the mapping's rules
-- (not a call; dated outside the study calendar), with the range of days seen.
CREATE TABLE IF NOT EXISTS landed_files (
    file VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_landed BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_not_a_call BIGINT NOT NULL,
    rows_outside_calendar BIGINT NOT NULL,
    first_day DATE,
    last_day DATE
);
-- Files written before missed calls were kept as contacts had these columns NOT NULL.
ALTER TABLE calls ALTER COLUMN end_ts DROP NOT NULL;
ALTER TABLE calls ALTER COLUMN duration_s DROP NOT NULL;
