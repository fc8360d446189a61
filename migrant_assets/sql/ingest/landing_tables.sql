-- The tables the landing step writes (docs/data_contract.md), created under the names
-- $landed_calls, $landed_files and $quarantine_landed_calls: the tables themselves (from
-- ingest.prepare), or the staged tables a landing fills batch by batch before it swaps them in
-- (landing_swap.sql). Idempotent.
--
-- Calls read once from the files (the landing step), pseudonymised by number, each with its
-- local day; the daily ingestion takes its day from here.
CREATE TABLE IF NOT EXISTS $landed_calls (
    call_date DATE NOT NULL,
    caller_number BIGINT NOT NULL,
    callee_number BIGINT NOT NULL,
    start_ts TIMESTAMP NOT NULL,
    end_ts TIMESTAMP,
    duration_s DOUBLE,
    caller_cell VARCHAR,
    callee_cell VARCHAR,
    side VARCHAR,
    file_id INTEGER,
    row_number BIGINT
);
-- Written by landed_calls: per input file of calls, its index (landed_calls.file_id), rows
-- read, landed, quarantined, and excluded by the mapping's rules, with the range of days seen
-- (its row accounting).
CREATE TABLE IF NOT EXISTS $landed_files (
    file_id INTEGER,
    file VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_landed BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_not_a_call BIGINT NOT NULL,
    rows_outside_calendar BIGINT NOT NULL,
    rows_far_outside_calendar BIGINT NOT NULL,
    first_day DATE,
    last_day DATE,
    first_day_far_outside DATE,
    last_day_far_outside DATE,
    rows_times_disagree BIGINT NOT NULL
);
-- The landing step's quarantined rows (the view `quarantine` of schema.sql reads them).
CREATE TABLE IF NOT EXISTS $quarantine_landed_calls (
    reason VARCHAR NOT NULL,
    file VARCHAR,
    row_number BIGINT,
    record VARCHAR
);
COMMENT ON COLUMN $landed_calls.call_date IS 'Local day of start_ts.';
COMMENT ON COLUMN $landed_calls.caller_number IS 'Pseudonymised number of the caller.';
COMMENT ON COLUMN $landed_calls.callee_number IS 'Pseudonymised number of the callee.';
COMMENT ON COLUMN $landed_calls.start_ts IS 'Local time of the study city.';
COMMENT ON COLUMN $landed_calls.end_ts IS 'Local time of the study city; null for a missed call.';
COMMENT ON COLUMN $landed_calls.duration_s IS
    'Seconds between the instants (a call across a DST change keeps its length).';
COMMENT ON COLUMN $landed_calls.caller_cell IS
    'A known cell id, or unknown:<keyed hash> for any other text.';
COMMENT ON COLUMN $landed_calls.callee_cell IS
    'A known cell id, or unknown:<keyed hash> for any other text.';
COMMENT ON COLUMN $landed_calls.side IS
    'A per-party export''s record: of the caller''s side (caller) or the callee''s (callee).';
COMMENT ON COLUMN $landed_calls.file_id IS
    'The calls file the row was read from (landed_files.file_id).';
COMMENT ON COLUMN $landed_calls.row_number IS 'CSV: line number in the file; Parquet: row number.';
COMMENT ON COLUMN $landed_files.file_id IS 'Index of the file (landed_calls.file_id).';
COMMENT ON COLUMN $landed_files.file IS 'A calls file read by the landing step.';
COMMENT ON COLUMN $landed_files.rows_read IS 'Rows of the file, rejected CSV lines included.';
COMMENT ON COLUMN $landed_files.rows_landed IS 'Rows kept in landed_calls.';
COMMENT ON COLUMN $landed_files.rows_quarantined IS 'Rows quarantined by the landing step.';
COMMENT ON COLUMN $landed_files.rows_not_a_call IS 'Rows the mapping''s event types leave out.';
COMMENT ON COLUMN $landed_files.rows_outside_calendar IS 'Rows dated outside the study calendar.';
COMMENT ON COLUMN $landed_files.rows_far_outside_calendar IS
    'Rows dated outside the calendar by more than ingest.FAR_OUTSIDE_DAYS days: a misread time.';
COMMENT ON COLUMN $landed_files.first_day IS 'First local day of a landed row.';
COMMENT ON COLUMN $landed_files.last_day IS 'Last local day of a landed row.';
COMMENT ON COLUMN $landed_files.first_day_far_outside IS
    'First local day of a row dated far outside the calendar (rows_far_outside_calendar).';
COMMENT ON COLUMN $landed_files.last_day_far_outside IS
    'Last local day of a row dated far outside the calendar (rows_far_outside_calendar).';
COMMENT ON COLUMN $landed_files.rows_times_disagree IS
    'Landed calls whose end and duration, both in the file, disagree by more than 1 s (60 s '
    'stamped to the minute): the one not read says another length (durations_agree).';
COMMENT ON COLUMN $quarantine_landed_calls.reason IS
    'Why the row was quarantined (docs/data_contract.md).';
COMMENT ON COLUMN $quarantine_landed_calls.file IS 'The file the row was read from.';
COMMENT ON COLUMN $quarantine_landed_calls.row_number IS
    'CSV: line number in the file; Parquet: row number.';
COMMENT ON COLUMN $quarantine_landed_calls.record IS
    'JSON: identifiers pseudonymised, other text only when it cannot be an identifier.';
