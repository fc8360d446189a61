-- What the landing made of the calls files (landed_files): files read, rows read, rows landed
-- and quarantined, and what the mapping's rules left out: rows that are not calls, rows dated
-- outside the study calendar; and the other party's records and the partial records of calls
-- already counted that the days left out (accounting_calls).
SELECT count(*) AS files,
       coalesce(sum(rows_read), 0) AS rows_read,
       coalesce(sum(rows_landed), 0) AS rows_landed,
       coalesce(sum(rows_quarantined), 0) AS rows_quarantined,
       coalesce(sum(rows_not_a_call), 0) AS rows_not_a_call,
       coalesce(sum(rows_outside_calendar), 0) AS rows_outside_calendar,
       (SELECT coalesce(sum(rows_excluded - partial_records), 0) FROM accounting_calls)
           AS rows_other_party_record,
       (SELECT coalesce(sum(partial_records), 0) FROM accounting_calls) AS rows_partial_record
FROM landed_files;
