-- Validate one day of landed calls against the reference tables (SPEC §1). Input: landed_calls
-- of day $day (numbers already pseudonymised by the landing step). Output: temp table
-- judged_calls (every row, reason NULL when accepted). Operator numbers become their owner's
-- user id; the first failing rule, in the order below, is the row's reason.
CREATE OR REPLACE TEMP TABLE judged_calls AS
WITH typed AS (
    SELECT
        l.file,
        l.row_number,
        coalesce(oa.user_id, l.caller_number) AS caller,
        coalesce(ob.user_id, l.callee_number) AS callee,
        l.start_ts,
        l.end_ts,
        l.duration_s,
        l.caller_cell,
        l.callee_cell
    FROM landed_calls AS l
    LEFT JOIN number_owner AS oa ON oa.number_id = l.caller_number
    LEFT JOIN number_owner AS ob ON ob.number_id = l.callee_number
    WHERE l.call_date = $day
),
ruled AS (
    SELECT
        t.*,
        CASE
            WHEN t.caller = t.callee THEN 'self_call'
            WHEN (t.caller_cell IS NOT NULL AND ca.cell_id IS NULL)
                OR (t.callee_cell IS NOT NULL AND cb.cell_id IS NULL) THEN 'unknown_cell'
        END AS reason
    FROM typed AS t
    LEFT JOIN cells AS ca ON ca.cell_id = t.caller_cell
    LEFT JOIN cells AS cb ON cb.cell_id = t.callee_cell
)
-- A duplicate call is a second valid row with the same caller, callee and start time.
SELECT
    * EXCLUDE (reason),
    CASE
        WHEN reason IS NOT NULL THEN reason
        WHEN row_number() OVER (
            PARTITION BY caller, callee, start_ts, reason IS NULL
            ORDER BY end_ts, caller_cell, callee_cell, file, row_number
        ) > 1 THEN 'duplicate_call'
    END AS reason
FROM ruled;
