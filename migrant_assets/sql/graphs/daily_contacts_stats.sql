-- Size of one daily_contacts partition: directed (caller, callee) rows and calls.
SELECT count(*) AS n_rows, coalesce(sum(n_calls), 0) AS n_calls
FROM daily_contacts
WHERE call_date = $day;
