-- The rows of the subscribers file that list a number again with another owner or attribute
-- than the kept row (subscribers.sql marks each duplicate_number record differs_from_kept), for
-- the subscribers' duplicates_agree check: the numbers kept, the duplicate rows, those that
-- differ and those quarantined before it was recorded; counts only, never a number.
SELECT
    (SELECT count(*) FROM number_owner) AS numbers,
    count(*) AS duplicate_rows,
    count(*) FILTER (
        WHERE coalesce(CAST(json_extract(record, '$.differs_from_kept') AS BOOLEAN), false)
    ) AS differing_rows,
    -- quarantined before the comparison was recorded: not judged
    count(*) FILTER (WHERE json_extract(record, '$.differs_from_kept') IS NULL) AS unmarked_rows
FROM quarantine_subscribers
WHERE reason = 'duplicate_number';
