-- A long call the switch wrote as several partial records (3GPP partial CDRs; the mapping's
-- calls.partial_records_within_s, docs/data_contract.md "Partial records"): after calls.sql,
-- the accepted timed records of one caller and callee on the day, in start order, each
-- starting within $within_s seconds after the previous one's end, are one call. The first
-- record is the call (its start and cells, the chain's last end, the records' durations and
-- the gaps between them summed); the others are 'partial_record' (an exclusion, counted per
-- day, never quarantined). Rewrites temp table judged_calls.
CREATE OR REPLACE TEMP TABLE judged_calls AS
WITH timed AS (
    SELECT
        file_id,
        row_number,
        caller,
        callee,
        start_ts,
        end_ts,
        duration_s,
        epoch(start_ts) - epoch(lag(end_ts) OVER pair) AS gap_s
    FROM judged_calls
    WHERE reason IS NULL AND end_ts IS NOT NULL
    WINDOW pair AS (PARTITION BY caller, callee ORDER BY start_ts, file_id, row_number)
),

marked AS (
    SELECT
        *,
        coalesce(gap_s BETWEEN 0 AND $within_s, false) AS continues
    FROM timed
),

chained AS (
    -- a chain: a record that continues nothing, then the records continuing it
    SELECT
        *,
        count(*) FILTER (WHERE NOT continues) OVER (
            PARTITION BY caller, callee ORDER BY start_ts, file_id, row_number
            ROWS UNBOUNDED PRECEDING
        ) AS chain
    FROM marked
),

chains AS (
    SELECT
        caller,
        callee,
        chain,
        max(end_ts) AS end_ts,
        sum(duration_s) + sum(CASE WHEN continues THEN gap_s ELSE 0 END) AS duration_s,
        count(*) AS records
    FROM chained
    GROUP BY caller, callee, chain
),

records AS (
    SELECT
        c.file_id,
        c.row_number,
        c.continues,
        k.end_ts,
        k.duration_s,
        k.records
    FROM chained AS c
    INNER JOIN chains AS k ON c.caller = k.caller AND c.callee = k.callee AND c.chain = k.chain
    WHERE k.records > 1
)

SELECT
    j.file_id,
    j.row_number,
    j.caller,
    j.callee,
    j.start_ts,
    CASE WHEN NOT r.continues THEN r.end_ts ELSE j.end_ts END AS end_ts,
    CASE WHEN NOT r.continues THEN r.duration_s ELSE j.duration_s END AS duration_s,
    j.caller_cell,
    j.callee_cell,
    CASE WHEN r.continues THEN 'partial_record' ELSE j.reason END AS reason,
    j.side,
    j.cell_unlocated,
    j.differs_from_kept
FROM judged_calls AS j
LEFT JOIN records AS r ON j.file_id = r.file_id AND j.row_number = r.row_number;
