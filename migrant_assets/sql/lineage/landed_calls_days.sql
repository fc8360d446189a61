-- The version of each day of landed_calls (lineage.SLICES): a hash of the day's landed rows,
-- which is all `calls` reads of it, so a day landed again unchanged stays up to date. The
-- file's index is left out (a file added for another day renumbers the files).
INSERT INTO built_from
SELECT
    'landed_calls' AS asset,
    CAST(call_date AS VARCHAR) AS part,
    left(sha256(concat_ws(':', count(*), sum(hash(
        caller_number, callee_number, start_ts, end_ts, duration_s, caller_cell, callee_cell,
        side, row_number)))), 16) AS version,
    '{}' AS inputs
FROM landed_calls
GROUP BY call_date;
