-- Validate and pseudonymise one day of calls (SPEC §1). Input: temp table raw_calls (contract
-- columns as text, _file, _row). Output: temp tables judged_calls (every row, reason NULL when
-- accepted). The first failing rule, in the order below, is the row's reason.

-- Each distinct number is hashed once; operator numbers become their owner's user id.
CREATE OR REPLACE TEMP TABLE call_numbers AS
SELECT n AS number, pseudonym('number', n) AS number_id
FROM (
    SELECT trim(caller) AS n FROM raw_calls
    UNION
    SELECT trim(callee) FROM raw_calls
)
WHERE n IS NOT NULL AND n <> '';

CREATE OR REPLACE TEMP TABLE typed_calls AS
SELECT
    r._file,
    r._row,
    coalesce(oa.user_id, na.number_id) AS caller,
    coalesce(ob.user_id, nb.number_id) AS callee,
    TRY_CAST(r.start_ts AS TIMESTAMP) AS start_ts,
    TRY_CAST(r.end_ts AS TIMESTAMP) AS end_ts,
    r.start_ts AS start_text,
    r.end_ts AS end_text,
    nullif(trim(r.caller_cell), '') AS caller_cell,
    nullif(trim(r.callee_cell), '') AS callee_cell
FROM raw_calls AS r
LEFT JOIN call_numbers AS na ON na.number = trim(r.caller)
LEFT JOIN number_owner AS oa ON oa.number_id = na.number_id
LEFT JOIN call_numbers AS nb ON nb.number = trim(r.callee)
LEFT JOIN number_owner AS ob ON ob.number_id = nb.number_id;

CREATE OR REPLACE TEMP TABLE ruled_calls AS
SELECT
    t.*,
    CASE
        WHEN t.caller IS NULL OR t.callee IS NULL THEN 'missing_id'
        WHEN t.start_ts IS NULL OR t.end_ts IS NULL THEN 'bad_timestamp'
        WHEN t.end_ts < t.start_ts THEN 'end_before_start'
        WHEN t.end_ts - t.start_ts > INTERVAL 24 HOUR THEN 'duration_over_24h'
        WHEN CAST(t.start_ts AS DATE) <> $day THEN 'start_outside_day'
        WHEN t.caller = t.callee THEN 'self_call'
        WHEN (t.caller_cell IS NOT NULL AND ca.cell_id IS NULL)
            OR (t.callee_cell IS NOT NULL AND cb.cell_id IS NULL) THEN 'unknown_cell'
    END AS reason
FROM typed_calls AS t
LEFT JOIN cells AS ca ON ca.cell_id = t.caller_cell
LEFT JOIN cells AS cb ON cb.cell_id = t.callee_cell;

-- A duplicate call is a second valid row with the same caller, callee and start time.
CREATE OR REPLACE TEMP TABLE judged_calls AS
SELECT
    * EXCLUDE (reason),
    CASE
        WHEN reason IS NOT NULL THEN reason
        WHEN row_number() OVER (
            PARTITION BY caller, callee, start_ts, reason IS NULL
            ORDER BY end_ts, caller_cell, callee_cell, _file, _row
        ) > 1 THEN 'duplicate_call'
    END AS reason
FROM ruled_calls;

DROP TABLE ruled_calls;
DROP TABLE typed_calls;
DROP TABLE call_numbers;
