-- Replace one day's accepted calls and quarantined rows (run inside one transaction).
-- duration_s comes from the landing step (instants, not local clock times).
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
DELETE FROM quarantine WHERE source = 'calls' AND partition_key = $partition_key;
INSERT INTO quarantine
SELECT
    'calls',
    $partition_key,
    reason,
    file,
    row_number,
    CAST(to_json({
        caller: caller, callee: callee, start_ts: CAST(start_ts AS VARCHAR),
        end_ts: CAST(end_ts AS VARCHAR), caller_cell: caller_cell, callee_cell: callee_cell
    }) AS VARCHAR)
FROM judged_calls
WHERE reason IS NOT NULL;
