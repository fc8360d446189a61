-- Row accounting of one ingestion asset ($source) but calls (row_accounting_calls.sql), read
-- from the stored tables (SPEC §1): per part (a file of landed_calls, else the whole table),
-- the rows the ingestion read and the rows the mapping's rules excluded, as its accounting
-- table recorded them, the rows stored now as accepted and as quarantined, and why the part is
-- empty when it is. The row_accounting check requires read = accepted + quarantined + excluded
-- for every part.
SELECT
    '' AS part,
    a.rows_read,
    0 AS rows_excluded,
    (SELECT count(*) FROM number_owner) AS rows_accepted,
    (SELECT count(*) FROM quarantine_subscribers) AS rows_quarantined,
    a.note
FROM accounting_subscribers AS a
WHERE $source = 'subscribers'
UNION ALL
SELECT
    '' AS part,
    a.rows_read,
    0 AS rows_excluded,
    (SELECT count(*) FROM cells) AS rows_accepted,
    (SELECT count(*) FROM quarantine_cells) AS rows_quarantined,
    a.note
FROM accounting_cells AS a
WHERE $source = 'cells'
UNION ALL
SELECT
    '' AS part,
    a.rows_read,
    0 AS rows_excluded,
    (SELECT count(*) FROM estates) AS rows_accepted,
    (SELECT count(*) FROM quarantine_estates) AS rows_quarantined,
    a.note
FROM accounting_estates AS a
WHERE $source = 'estates'
UNION ALL
SELECT
    f.file AS part,
    f.rows_read,
    f.rows_not_a_call + f.rows_outside_calendar AS rows_excluded,
    coalesce(l.n, 0) AS rows_accepted,
    coalesce(q.n, 0) AS rows_quarantined,
    CAST(NULL AS VARCHAR) AS note
FROM landed_files AS f
LEFT JOIN (
    SELECT file_id, count(*) AS n FROM landed_calls GROUP BY file_id
) AS l ON l.file_id = f.file_id
LEFT JOIN (
    SELECT file, count(*) AS n FROM quarantine_landed_calls GROUP BY file
) AS q ON q.file = f.file
WHERE $source = 'landed_calls'
ORDER BY part;
