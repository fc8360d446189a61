-- The neighbourhood each early-warning window of $day is restricted to (docs/early_warning.md,
-- "Restricted to the cohort's neighbourhood"): for each cohort of ew_arrivals (arrivals.sql), N1
-- = its new migrants and every party she called or was called by up to $day. A new migrant has
-- no call before her arrival day, so every contact of hers up to $day falls in her window
-- (arrival..$day); $first is the earliest arrival day. Written to the TEMP table ew_members.
CREATE OR REPLACE TEMP TABLE ew_members AS
SELECT a.arrival_day, d.callee AS party
FROM daily_contacts AS d
JOIN ew_arrivals AS a ON a.user_id = d.caller
WHERE d.call_date BETWEEN $first AND $day
UNION
SELECT a.arrival_day, d.caller AS party
FROM daily_contacts AS d
JOIN ew_arrivals AS a ON a.user_id = d.callee
WHERE d.call_date BETWEEN $first AND $day
UNION
SELECT arrival_day, user_id AS party
FROM ew_arrivals;
