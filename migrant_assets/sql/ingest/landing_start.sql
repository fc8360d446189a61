-- Start the landing step (docs/data_contract.md): the working tables it keeps while it reads
-- the calls files batch by batch. landing_file_ids: each file of $files with its index in the
-- files' order (the file_id of landed_calls and landed_files). landing_numbers and
-- landing_number_ids: each distinct number text seen so far and its pseudonym, hashed once per
-- canonical number (landing_identifiers.sql); landing_cells: each distinct cell text, as stored
-- and as a quarantine record may show it. Temporary: the raw numbers never reach the DuckDB
-- file.
CREATE OR REPLACE TEMP TABLE landing_file_ids AS
SELECT
    CAST(row_number() OVER (ORDER BY file) AS INTEGER) AS file_id,
    file
FROM (SELECT DISTINCT unnest($files) AS file) AS f;
CREATE OR REPLACE TEMP TABLE landing_numbers (
    text VARCHAR, number_id BIGINT, masked BOOLEAN, rounded BOOLEAN
);
CREATE OR REPLACE TEMP TABLE landing_number_ids (number VARCHAR, number_id BIGINT);
CREATE OR REPLACE TEMP TABLE landing_cells (text VARCHAR, cell VARCHAR, shown VARCHAR);
-- landing_codes: the event type, direction and unknown cells of each quarantined row as read
-- (landing.sql), until landing_redact.sql has judged them.
CREATE OR REPLACE TEMP TABLE landing_codes (
    file VARCHAR,
    row_number BIGINT,
    event_type VARCHAR,
    direction VARCHAR,
    caller_cell VARCHAR,
    callee_cell VARCHAR
);
