-- The version of each day of landed_calls (lineage.SLICES): a hash of the day's landed rows and
-- the name of the file each came from (landed_files.file, which calls copies into its
-- quarantine rows), which is all `calls` reads of it, so a day landed again unchanged stays up
-- to date and a day whose file was renamed is built again. The file's index is left out (a file
-- added for another day renumbers the files).
INSERT INTO built_from
SELECT
    'landed_calls' AS asset,
    CAST(c.call_date AS VARCHAR) AS part,
    left(sha256(concat_ws(':', count(*), sum(hash(
        c.caller_number, c.callee_number, c.start_ts, c.end_ts, c.duration_s, c.caller_cell,
        c.callee_cell, c.side, c.row_number, f.file
    )))), 16) AS version,
    '{}' AS inputs
FROM landed_calls AS c
LEFT JOIN landed_files AS f ON c.file_id = f.file_id
GROUP BY c.call_date;
