-- Daily partition of daily_contacts (SPEC §4): who called whom on $day, how often, how long.
-- Every party is kept, subscriber or not. n_calls counts every call, missed calls (null duration)
-- included; duration_s sums the known durations only (null when no call of the pair has one),
-- exactly, as fixed-point to the microsecond, so the sum does not depend on row order.
-- Rows stored in caller order: DuckDB then keeps each caller's run once (RLE), a third less
-- space for the column (docs/scale.md, "Disk"). Delete-then-insert; run inside one transaction.
DELETE FROM daily_contacts WHERE call_date = $day;

INSERT INTO daily_contacts
SELECT
    call_date,
    caller,
    callee,
    count(*) AS n_calls,
    CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE) AS duration_s
FROM calls
WHERE call_date = $day
GROUP BY call_date, caller, callee
ORDER BY caller, callee;
