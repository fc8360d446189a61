-- Validate one day of landed calls against the reference tables (SPEC §1). Input: landed_calls
-- of day $day (numbers already pseudonymised by the landing step). Output: temp table
-- judged_calls (every row, reason NULL when accepted, a per-party record's side, and whether a
-- duplicate_call ends at another time than the record kept: differs_from_kept). Operator
-- numbers become their owner's user id; the first failing rule, in the order below, is the
-- row's reason ('other_party_record' is an exclusion, not a quarantine).
CREATE OR REPLACE TEMP TABLE judged_calls AS
WITH typed AS (
    SELECT
        l.file_id,
        l.row_number,
        coalesce(oa.user_id, l.caller_number) AS caller,
        coalesce(ob.user_id, l.callee_number) AS callee,
        l.start_ts,
        l.end_ts,
        l.duration_s,
        -- a cell the cells file holds without a usable place (unlocated_cells): the call is
        -- kept, that side without its cell
        CASE WHEN ua.cell_id IS NULL THEN l.caller_cell END AS caller_cell,
        CASE WHEN ub.cell_id IS NULL THEN l.callee_cell END AS callee_cell,
        ua.cell_id IS NOT NULL OR ub.cell_id IS NOT NULL AS cell_unlocated,
        l.side
    FROM landed_calls AS l
    LEFT JOIN unlocated_cells AS ua ON ua.cell_id = l.caller_cell
    LEFT JOIN unlocated_cells AS ub ON ub.cell_id = l.callee_cell
    LEFT JOIN number_owner AS oa ON oa.number_id = l.caller_number
    LEFT JOIN number_owner AS ob ON ob.number_id = l.callee_number
    WHERE l.call_date = $day
),
-- A file stamped to the second (a start of the day off the whole minute): two records of a pair
-- starting in one second are one call, however they end (a corrected record delivered again).
stamped_to_second AS (
    SELECT file_id
    FROM typed
    GROUP BY file_id
    HAVING bool_or(start_ts <> date_trunc('minute', start_ts))
),
judged AS (
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
),
-- The rows that may be records of one call: the valid ones, and a per-party export's record
-- naming an unknown cell, which quarantines its call whole (as a one-row export's call is),
-- the other party's record excluded with it, not standing as the call without that cell.
ruled AS (
    SELECT
        *,
        reason IS NULL OR (reason = 'unknown_cell' AND side IS NOT NULL) AS matchable
    FROM judged
),
-- A per-party export's callee record is matched to the caller record of the same two parties
-- nearest to it within $match_within_s seconds (on a tie, the one at or before it, then the
-- earlier); of the callee starts matched to one caller record, the nearest (then the earlier)
-- takes its start, with every callee record of that start (a record delivered twice is then a
-- duplicate of the call, not a call of its own): switches may stamp the two records of a call
-- a second apart. Both sides are bucketed by $match_within_s seconds, so each record meets only
-- its neighbours.
caller_starts AS (
    SELECT DISTINCT
        caller,
        callee,
        start_ts,
        CAST(floor(epoch(start_ts) / greatest($match_within_s, 1)) AS BIGINT) AS bucket
    FROM ruled
    WHERE matchable AND side = 'caller' AND $match_within_s > 0
),
callee_starts AS (
    SELECT DISTINCT
        caller,
        callee,
        start_ts,
        CAST(floor(epoch(start_ts) / greatest($match_within_s, 1)) AS BIGINT)
        + unnest([-1, 0, 1]) AS bucket
    FROM ruled
    WHERE matchable AND side = 'callee' AND $match_within_s > 0
),
candidates AS (
    SELECT
        r.caller,
        r.callee,
        r.start_ts,
        c.start_ts AS caller_start,
        abs(epoch(c.start_ts) - epoch(r.start_ts)) AS gap
    FROM callee_starts AS r
    INNER JOIN caller_starts AS c
        ON r.caller = c.caller AND r.callee = c.callee AND r.bucket = c.bucket
    WHERE abs(epoch(c.start_ts) - epoch(r.start_ts)) <= $match_within_s
),
nearest_start AS (
    SELECT *
    FROM candidates
    QUALIFY row_number() OVER (
        PARTITION BY caller, callee, start_ts
        ORDER BY gap, caller_start > start_ts, caller_start
    ) = 1
),
matched AS (
    SELECT *
    FROM nearest_start
    QUALIFY row_number() OVER (
        PARTITION BY caller, callee, caller_start
        ORDER BY gap, start_ts
    ) = 1
),
snapped AS (
    SELECT
        r.* REPLACE (coalesce(n.caller_start, r.start_ts) AS start_ts),
        -- in a per-call file stamped to the minute the records of one call end together too:
        -- two calls of a pair in one minute are two calls (a per-party export's two records may
        -- end a second apart; a file stamped to the second starts two calls in two seconds)
        CASE WHEN r.side IS NULL AND s.file_id IS NULL THEN r.end_ts END AS end_key
    FROM ruled AS r
    LEFT JOIN matched AS n
        ON r.side = 'callee' AND r.matchable AND n.caller = r.caller
        AND n.callee = r.callee AND n.start_ts = r.start_ts
    LEFT JOIN stamped_to_second AS s ON s.file_id = r.file_id
),
-- The records of one call are the matchable rows with the same caller, callee and start time (and
-- end, without sides: end_key): the
-- first (a per-party export's caller record, then in the order below) is the call, with each
-- cell taken from the first record that has it. A per-party export's first record of the other
-- side is that party's record of the call ('other_party_record', excluded); any other is a
-- 'duplicate_call'. Of one side's records, the one that ends last is kept, as the most
-- complete (a copy cut at the end of an earlier file of overlapping deliveries ends earlier; a
-- correction that shortens a call is not told apart); a duplicate_call that ends at another
-- time than the kept record differs_from_kept (the calls check duplicates_agree). Only the
-- valid rows of a repeated key are ranked (the others cannot be records of one call).
repeated AS (
    SELECT caller, callee, start_ts, end_key
    FROM snapped
    WHERE matchable
    GROUP BY caller, callee, start_ts, end_key
    HAVING count(*) > 1
),
flagged AS (
    SELECT
        r.*,
        k.caller IS NOT NULL AS is_repeated
    FROM snapped AS r
    LEFT JOIN repeated AS k
        ON r.matchable AND k.caller = r.caller AND k.callee = r.callee
        AND k.start_ts = r.start_ts AND k.end_key IS NOT DISTINCT FROM r.end_key
),
ranked AS (
    SELECT
        *,
        row_number() OVER side_records AS side_rank,
        first_value(end_ts) OVER side_records AS kept_end_ts
    FROM flagged
    WHERE is_repeated
    WINDOW side_records AS (
        PARTITION BY caller, callee, start_ts, end_key, side
        ORDER BY
            end_ts DESC NULLS LAST, caller_cell ASC, callee_cell ASC, file_id ASC, row_number ASC
    )
),
-- a side's first record naming an unknown cell quarantines the call (a further copy of a side
-- is a duplicate_call whatever it names); the first such record is the call's quarantine row
records AS (
    SELECT
        *,
        coalesce(first_value(side) OVER call_records, '') AS first_side,
        CASE WHEN reason = 'unknown_cell' AND side_rank = 1 THEN row_number() OVER (
            PARTITION BY caller, callee, start_ts, end_key,
            reason = 'unknown_cell' AND side_rank = 1
            ORDER BY
                side = 'callee' ASC, end_ts DESC NULLS LAST, caller_cell ASC, callee_cell ASC,
                file_id ASC, row_number ASC
        ) END AS unknown_rank,
        bool_or(reason = 'unknown_cell' AND side_rank = 1) OVER call_records
            AS call_unknown_cell,
        first_value(caller_cell IGNORE NULLS) OVER call_records AS call_caller_cell,
        first_value(callee_cell IGNORE NULLS) OVER call_records AS call_callee_cell
    FROM ranked
    WINDOW call_records AS (
        PARTITION BY caller, callee, start_ts, end_key
        ORDER BY
            side = 'callee' ASC, end_ts DESC NULLS LAST, caller_cell ASC, callee_cell ASC,
            file_id ASC, row_number ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    )
)
SELECT
    file_id, row_number, caller, callee, start_ts, end_ts, duration_s, caller_cell,
    callee_cell, reason, side, cell_unlocated, false AS differs_from_kept
FROM flagged
WHERE NOT is_repeated
UNION ALL
SELECT
    file_id, row_number, caller, callee, start_ts, end_ts, duration_s,
    CASE WHEN side_rank = 1 AND coalesce(side, '') = first_side
        THEN call_caller_cell ELSE caller_cell END AS caller_cell,
    CASE WHEN side_rank = 1 AND coalesce(side, '') = first_side
        THEN call_callee_cell ELSE callee_cell END AS callee_cell,
    CASE
        WHEN unknown_rank = 1 THEN 'unknown_cell'
        WHEN side_rank > 1 THEN 'duplicate_call'
        WHEN coalesce(side, '') <> first_side OR call_unknown_cell THEN 'other_party_record'
    END AS reason,
    side,
    cell_unlocated,
    (side_rank > 1 AND end_ts IS DISTINCT FROM kept_end_ts) AS differs_from_kept
FROM records;
