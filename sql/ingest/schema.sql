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
    end_ts TIMESTAMP NOT NULL,
    duration_s DOUBLE NOT NULL,
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
