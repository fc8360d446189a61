-- The daily contacts of the days a first-k-days window can cover (SPEC §2: first_k_start .. the
-- k_max-th day), as the view first_k_days_contacts over daily_contacts and the one-row span
-- table first_k_days_span; the span is written delete-then-insert with bound dates (run inside
-- one transaction). The last statement counts the contacts of $start..$end.
CREATE TABLE IF NOT EXISTS first_k_days_span (
    first_day DATE NOT NULL,
    last_day DATE NOT NULL
);
COMMENT ON COLUMN first_k_days_span.first_day IS 'First day a first-k-days window covers.';
COMMENT ON COLUMN first_k_days_span.last_day IS
    'Last day of the longest first-k-days window (k = k_max).';

CREATE OR REPLACE VIEW first_k_days_contacts AS
SELECT d.call_date, d.caller, d.callee, d.n_calls, d.duration_s
FROM daily_contacts AS d
JOIN first_k_days_span AS s ON d.call_date BETWEEN s.first_day AND s.last_day;

DELETE FROM first_k_days_span;
INSERT INTO first_k_days_span (first_day, last_day) VALUES ($first_day, $last_day);

SELECT count(*) AS n_rows, coalesce(sum(n_calls), 0) AS n_calls
FROM first_k_days_contacts
WHERE call_date BETWEEN $start AND $end;
