-- Tables written by the ingestion assets (docs/data_model.md, SPEC §1). Idempotent. Each table
-- has one writer: the asset of the same name, or the asset named in its comment.
CREATE TABLE IF NOT EXISTS subscribers (
    user_id BIGINT,
    age INTEGER,
    sex VARCHAR,
    birth_province VARCHAR,
    has_local_number BOOLEAN NOT NULL,
    is_service BOOLEAN NOT NULL,
    n_numbers INTEGER NOT NULL
);
-- Written by subscribers: the accepted rows per user_type as read (lower case, shown as a
-- quarantine record shows a code), for the user_types check.
CREATE TABLE IF NOT EXISTS user_types_subscribers (
    user_type VARCHAR,
    numbers BIGINT NOT NULL,
    is_service BOOLEAN NOT NULL
);
-- Written by subscribers: the ages and sexes given on accepted rows but unreadable (stored as
-- unknown), per value as a quarantine record shows it, for the readable_attributes check.
CREATE TABLE IF NOT EXISTS unreadable_attributes_subscribers (
    attribute VARCHAR NOT NULL,
    value VARCHAR,
    numbers BIGINT NOT NULL
);
-- Written by subscribers: the owners whose numbers' rows give different values of an attribute
-- (the user keeps the first row's in file order), per attribute, for the owner_attributes
-- check.
CREATE TABLE IF NOT EXISTS owner_conflicts_subscribers (
    attribute VARCHAR NOT NULL,
    owners BIGINT NOT NULL
);
-- Written by subscribers.
CREATE TABLE IF NOT EXISTS number_owner (
    number_id BIGINT,
    user_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS cells (
    cell_id VARCHAR,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL
);
-- Written by cells: the ids of cells whose every row was quarantined for its place.
CREATE TABLE IF NOT EXISTS unlocated_cells (
    cell_id VARCHAR,
    reason VARCHAR NOT NULL
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
    end_ts TIMESTAMP,
    duration_s DOUBLE,
    caller_cell VARCHAR,
    callee_cell VARCHAR
);

-- Quarantined rows, one table per ingestion asset (quarantine_<asset>, written by that asset);
-- the view `quarantine` below reads them all.
CREATE TABLE IF NOT EXISTS quarantine_calls (
    partition_key VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    file VARCHAR,
    row_number BIGINT,
    record VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine_subscribers (
    reason VARCHAR NOT NULL,
    file VARCHAR,
    row_number BIGINT,
    record VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine_cells (
    reason VARCHAR NOT NULL,
    file VARCHAR,
    row_number BIGINT,
    record VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine_estates (
    reason VARCHAR NOT NULL,
    file VARCHAR,
    row_number BIGINT,
    record VARCHAR
);

-- Row accounting of one ingestion, one table per asset (accounting_<asset>, written by that
-- asset; landed_calls keeps its own in landed_files): what the ingestion read, so that the
-- row_accounting check can compare it with the rows stored, on its own.
CREATE TABLE IF NOT EXISTS accounting_subscribers (
    rows_read BIGINT NOT NULL,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS accounting_cells (
    rows_read BIGINT NOT NULL,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS accounting_estates (
    rows_read BIGINT NOT NULL,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS accounting_calls (
    partition_key VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    note VARCHAR,
    rows_excluded BIGINT NOT NULL DEFAULT 0,
    records_stamped_apart BIGINT NOT NULL DEFAULT 0,
    partial_records BIGINT NOT NULL DEFAULT 0,
    duplicates_differing BIGINT NOT NULL DEFAULT 0
);

-- The no_raw_identifiers search of an ingestion asset, made in the same pass as the ingestion
-- (while the source's identifiers are in hand, never stored): one row, written by the asset of
-- the name's suffix.
CREATE TABLE IF NOT EXISTS identifier_scan_landed_calls (
    identifiers_searched BIGINT NOT NULL,
    hits VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS identifier_scan_subscribers (
    identifiers_searched BIGINT NOT NULL,
    hits VARCHAR NOT NULL
);

-- The national forms a number of an ingestion asset's files could stand for when it is written
-- with a country code ('+86 139…', '0086139…', or digits longer than most of the file's
-- numbers: '86139…'), as pseudonyms, for the number_forms check (number_forms_write.sql): one
-- row per form, written by the asset of the name's suffix. Pseudonyms and country codes only.
CREATE TABLE IF NOT EXISTS number_forms_landed_calls (
    country_code VARCHAR NOT NULL,
    trunk_prefix VARCHAR,
    national_digits INTEGER NOT NULL,
    national_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS number_forms_subscribers (
    country_code VARCHAR NOT NULL,
    trunk_prefix VARCHAR,
    national_digits INTEGER NOT NULL,
    national_id BIGINT NOT NULL
);

-- Written by synthetic_city: the files of the generated city (sizes and hashes only).
CREATE TABLE IF NOT EXISTS synthetic_city (
    table_name VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    n_rows BIGINT,
    n_bytes BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL
);

-- Every quarantined row of every ingestion asset, in the shape readers have always used.
CREATE OR REPLACE VIEW quarantine AS
SELECT 'landed_calls' AS source, '' AS partition_key, reason, file, row_number, record
FROM quarantine_landed_calls
UNION ALL
SELECT 'calls' AS source, partition_key, reason, file, row_number, record
FROM quarantine_calls
UNION ALL
SELECT 'subscribers' AS source, '' AS partition_key, reason, file, row_number, record
FROM quarantine_subscribers
UNION ALL
SELECT 'cells' AS source, '' AS partition_key, reason, file, row_number, record
FROM quarantine_cells
UNION ALL
SELECT 'estates' AS source, '' AS partition_key, reason, file, row_number, record
FROM quarantine_estates;

COMMENT ON COLUMN subscribers.user_id IS 'Pseudonymised owner id: one user per owner.';
COMMENT ON COLUMN subscribers.age IS 'Age in whole years (0..120); null when not given.';
COMMENT ON COLUMN subscribers.sex IS '''M'' or ''F''; null when not given.';
COMMENT ON COLUMN subscribers.birth_province IS 'Birth province as given; null when unknown.';
COMMENT ON COLUMN subscribers.has_local_number IS 'Any of the owner''s numbers is local.';
COMMENT ON COLUMN subscribers.is_service IS 'Any of the owner''s numbers has a service user_type.';
COMMENT ON COLUMN subscribers.n_numbers IS 'Numbers merged into this user.';
COMMENT ON COLUMN user_types_subscribers.user_type IS
    'A user_type of the subscribers files, lower case (regular when empty).';
COMMENT ON COLUMN user_types_subscribers.numbers IS 'Accepted numbers of that type.';
COMMENT ON COLUMN user_types_subscribers.is_service IS
    'Listed in thresholds.service_user_types: its numbers are service numbers.';
COMMENT ON COLUMN unreadable_attributes_subscribers.attribute IS '''age'' or ''sex''.';
COMMENT ON COLUMN unreadable_attributes_subscribers.value IS
    'The value as given (a birth date: its form; text that may be an identifier: its length).';
COMMENT ON COLUMN unreadable_attributes_subscribers.numbers IS
    'Accepted numbers whose attribute was that value, stored as unknown.';
COMMENT ON COLUMN owner_conflicts_subscribers.attribute IS
    '''age'', ''sex'' or ''birth_province''.';
COMMENT ON COLUMN owner_conflicts_subscribers.owners IS
    'Owners with two numbers or more whose rows give different values of it.';
COMMENT ON COLUMN number_owner.number_id IS 'Pseudonymised phone number of an operator subscriber.';
COMMENT ON COLUMN number_owner.user_id IS 'The owner (subscribers.user_id) of the number.';
COMMENT ON COLUMN cells.cell_id IS 'Cell tower id as given (not an identifier of a person).';
COMMENT ON COLUMN unlocated_cells.cell_id IS
    'A cell of the cells file without a usable place: its calls are kept without it.';
COMMENT ON COLUMN unlocated_cells.reason IS 'bad_coordinates or outside_bbox.';
COMMENT ON COLUMN cells.lat IS 'Latitude in degrees, inside the study area.';
COMMENT ON COLUMN cells.lon IS 'Longitude in degrees, inside the study area.';
COMMENT ON COLUMN estates.estate_id IS 'Housing estate id as given.';
COMMENT ON COLUMN estates.lat IS 'Latitude in degrees, inside the study area.';
COMMENT ON COLUMN estates.lon IS 'Longitude in degrees, inside the study area.';
COMMENT ON COLUMN estates.price_per_sqm IS 'Price per square metre (> 0).';
COMMENT ON COLUMN calls.call_date IS 'Day of start_ts; the partition key.';
COMMENT ON COLUMN calls.caller IS
    'Pseudonymised party: the owner''s user id, or another operator''s number.';
COMMENT ON COLUMN calls.callee IS
    'Pseudonymised party: the owner''s user id, or another operator''s number.';
COMMENT ON COLUMN calls.start_ts IS 'Local time of the study city.';
COMMENT ON COLUMN calls.end_ts IS 'Local time of the study city; null for a missed call.';
COMMENT ON COLUMN calls.duration_s IS
    'end_ts - start_ts in seconds (from the instants); null for a missed call.';
COMMENT ON COLUMN calls.caller_cell IS 'Cell of the caller; null for another operator.';
COMMENT ON COLUMN calls.callee_cell IS 'Cell of the callee; null for another operator.';
COMMENT ON COLUMN quarantine_calls.partition_key IS
    'The day (calls partition) the row was judged in.';
COMMENT ON COLUMN quarantine_calls.reason IS 'Why the row was quarantined (docs/data_contract.md).';
COMMENT ON COLUMN quarantine_calls.file IS 'The file the row was read from.';
COMMENT ON COLUMN quarantine_calls.row_number IS
    'CSV: line number in the file; Parquet: row number.';
COMMENT ON COLUMN quarantine_calls.record IS
    'JSON: identifiers pseudonymised, other text only when it cannot be an identifier.';
COMMENT ON COLUMN quarantine_subscribers.reason IS
    'Why the row was quarantined (docs/data_contract.md).';
COMMENT ON COLUMN quarantine_subscribers.file IS 'The file the row was read from.';
COMMENT ON COLUMN quarantine_subscribers.row_number IS
    'CSV: line number in the file; Parquet: row number.';
COMMENT ON COLUMN quarantine_subscribers.record IS
    'JSON: identifiers pseudonymised, other text only when it cannot be an identifier.';
COMMENT ON COLUMN quarantine_cells.reason IS 'Why the row was quarantined (docs/data_contract.md).';
COMMENT ON COLUMN quarantine_cells.file IS 'The file the row was read from.';
COMMENT ON COLUMN quarantine_cells.row_number IS
    'CSV: line number in the file; Parquet: row number.';
COMMENT ON COLUMN quarantine_cells.record IS
    'JSON: identifiers pseudonymised, other text only when it cannot be an identifier.';
COMMENT ON COLUMN quarantine_estates.reason IS
    'Why the row was quarantined (docs/data_contract.md).';
COMMENT ON COLUMN quarantine_estates.file IS 'The file the row was read from.';
COMMENT ON COLUMN quarantine_estates.row_number IS
    'CSV: line number in the file; Parquet: row number.';
COMMENT ON COLUMN quarantine_estates.record IS
    'JSON: identifiers pseudonymised, other text only when it cannot be an identifier.';
COMMENT ON COLUMN accounting_subscribers.rows_read IS
    'Rows of the subscribers files, rejected CSV lines included.';
COMMENT ON COLUMN accounting_subscribers.note IS 'Why the table is empty, when it is.';
COMMENT ON COLUMN accounting_cells.rows_read IS
    'Rows of the cells files, rejected CSV lines included.';
COMMENT ON COLUMN accounting_cells.note IS
    'Why the table is empty (e.g. the mapping has no cells).';
COMMENT ON COLUMN accounting_estates.rows_read IS
    'Rows of the estates files, rejected CSV lines included.';
COMMENT ON COLUMN accounting_estates.note IS
    'Why the table is empty (e.g. the mapping has no estates).';
COMMENT ON COLUMN accounting_calls.partition_key IS 'The day (calls partition).';
COMMENT ON COLUMN accounting_calls.rows_read IS
    'Rows of landed_calls on that day when it was ingested.';
COMMENT ON COLUMN accounting_calls.note IS 'Why the day is empty, when it is.';
COMMENT ON COLUMN accounting_calls.rows_excluded IS
    'The other party''s records of calls (a per-party export: MOC and MTC of one call) and the '
    'partial records of long calls (calls.partial_records_within_s), counted once.';
COMMENT ON COLUMN accounting_calls.partial_records IS
    'Partial records of a long call made one call with its first record.';
COMMENT ON COLUMN accounting_calls.records_stamped_apart IS
    'Callee records kept as calls with the caller''s record of the pair within 60 s.';
COMMENT ON COLUMN accounting_calls.duplicates_differing IS
    'Duplicate records of a call (duplicate_call) that end at another time than the record '
    'kept, the one that ends last.';
COMMENT ON COLUMN number_forms_landed_calls.country_code IS
    'The 1 to 3 digits after + or 00 (or before the national form) taken as a country code.';
COMMENT ON COLUMN number_forms_landed_calls.trunk_prefix IS
    'The trunk prefix written before the national form (''0''), or null.';
COMMENT ON COLUMN number_forms_landed_calls.national_digits IS 'Digits of the national form.';
COMMENT ON COLUMN number_forms_landed_calls.national_id IS
    'The pseudonym the national form would have (privacy.pseudonym of kind number).';
COMMENT ON COLUMN number_forms_subscribers.country_code IS
    'The 1 to 3 digits after + or 00 (or before the national form) taken as a country code.';
COMMENT ON COLUMN number_forms_subscribers.trunk_prefix IS
    'The trunk prefix written before the national form (''0''), or null.';
COMMENT ON COLUMN number_forms_subscribers.national_digits IS 'Digits of the national form.';
COMMENT ON COLUMN number_forms_subscribers.national_id IS
    'The pseudonym the national form would have (privacy.pseudonym of kind number).';
COMMENT ON COLUMN identifier_scan_landed_calls.identifiers_searched IS
    'Distinct numbers of the calls files (6 characters or more) searched for in every table.';
COMMENT ON COLUMN identifier_scan_landed_calls.hits IS
    'JSON: table.column -> values equal to (or text holding) one of them; {} when none.';
COMMENT ON COLUMN identifier_scan_subscribers.identifiers_searched IS
    'Distinct numbers and owner ids of the subscribers files (6 characters or more) searched for.';
COMMENT ON COLUMN identifier_scan_subscribers.hits IS
    'JSON: table.column -> values equal to (or text holding) one of them; {} when none.';
COMMENT ON COLUMN synthetic_city.table_name IS
    'Contract table the file feeds (calls, subscribers, cells, estates), ground_truth or manifest.';
COMMENT ON COLUMN synthetic_city.path IS 'Path of the file relative to the city''s folder.';
COMMENT ON COLUMN synthetic_city.n_rows IS 'Rows of the file (null for the manifest).';
COMMENT ON COLUMN synthetic_city.n_bytes IS 'Size of the file in bytes.';
COMMENT ON COLUMN synthetic_city.sha256 IS
    'SHA-256 of the file: a seeded city gives the same hashes.';
