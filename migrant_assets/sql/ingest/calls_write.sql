-- Replace one day's accepted calls, quarantined rows and row accounting (run inside one
-- transaction): the other party's records of a call are counted as excluded. duration_s comes
-- from the landing step (instants, not local clock times).

-- Files written before per-party exports had no rows_excluded, nor records_stamped_apart.
ALTER TABLE accounting_calls ADD COLUMN IF NOT EXISTS rows_excluded BIGINT DEFAULT 0;
ALTER TABLE accounting_calls ADD COLUMN IF NOT EXISTS records_stamped_apart BIGINT DEFAULT 0;
ALTER TABLE accounting_calls ADD COLUMN IF NOT EXISTS partial_records BIGINT DEFAULT 0;
-- (null on the days written before it: the duplicates_agree check asks for them again)
ALTER TABLE accounting_calls ADD COLUMN IF NOT EXISTS duplicates_differing BIGINT;
-- Files written before missed calls were kept as contacts had these columns NOT NULL.
ALTER TABLE calls ALTER COLUMN end_ts DROP NOT NULL;
ALTER TABLE calls ALTER COLUMN duration_s DROP NOT NULL;

DELETE FROM calls WHERE call_date = $day;
INSERT INTO calls
SELECT
    $day,
    caller,
    callee,
    start_ts,
    end_ts,
    duration_s,
    caller_cell,
    callee_cell
FROM judged_calls
WHERE reason IS NULL;
DELETE FROM quarantine_calls WHERE partition_key = $partition_key;
INSERT INTO quarantine_calls
SELECT
    $partition_key,
    j.reason,
    f.file,
    j.row_number,
    CAST(CASE
        WHEN j.reason = 'duplicate_call' AND j.differs_from_kept THEN to_json({
            caller: j.caller, callee: j.callee, start_ts: CAST(j.start_ts AS VARCHAR),
            end_ts: CAST(j.end_ts AS VARCHAR), caller_cell: j.caller_cell,
            callee_cell: j.callee_cell, differs_from_kept: true
        })
        ELSE to_json({
            caller: j.caller, callee: j.callee, start_ts: CAST(j.start_ts AS VARCHAR),
            end_ts: CAST(j.end_ts AS VARCHAR), caller_cell: j.caller_cell,
            callee_cell: j.callee_cell
        })
    END AS VARCHAR)
FROM judged_calls AS j
LEFT JOIN landed_files AS f ON f.file_id = j.file_id
WHERE j.reason NOT IN ('other_party_record', 'partial_record');
DELETE FROM accounting_calls WHERE partition_key = $partition_key;
-- records_stamped_apart: a per-party export's callee records kept as calls while the caller's
-- record of the same two parties, kept too, starts within 60 s (a switch stamping the two
-- records of a call apart: each such call counted twice; directions.match_within_s).
-- rows_excluded: the other party's records and the partial records (calls_partial_records.sql)
-- of calls counted once; partial_records: the latter. duplicates_differing: the duplicate_calls
-- that end at another time than the record kept (calls.sql).
INSERT INTO accounting_calls BY NAME
SELECT
    $partition_key AS partition_key,
    count(*) AS rows_read,
    CASE WHEN count(*) = 0 THEN 'no calls landed on this day' END AS note,
    count(*) FILTER (reason IN ('other_party_record', 'partial_record')) AS rows_excluded,
    count(*) FILTER (reason = 'partial_record') AS partial_records,
    count(*) FILTER (reason = 'duplicate_call' AND differs_from_kept) AS duplicates_differing,
    (
        SELECT count(*) FROM judged_calls AS r
        WHERE
            r.reason IS NULL AND r.side = 'callee'
            AND EXISTS (
                SELECT 1 FROM judged_calls AS c
                WHERE
                    c.reason IS NULL AND c.side = 'caller'
                    AND c.caller = r.caller AND c.callee = r.callee
                    AND c.start_ts <> r.start_ts
                    AND abs(epoch(c.start_ts) - epoch(r.start_ts)) <= 60
            )
    ) AS records_stamped_apart
FROM judged_calls;
