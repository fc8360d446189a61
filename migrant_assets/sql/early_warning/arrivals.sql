-- The new migrants who arrived on $first..$last as seen on $day (docs/early_warning.md): users
-- (subscribers with a local number, not flagged as a service, of known birth province other
-- than $province) whose first day with a call in the landed calls (daily_contacts from
-- $month_start up to $day) is in $first..$last and at least $silent_days days after the feed's
-- first day with a call (a new migrant is silent on the feed's first days, as the departure
-- study's are on 09-01..09-04; a feed that starts late has no day before to be silent on, so
-- everyone's first day would read as an arrival). Her arrival day is her day 1. Written to the
-- TEMP table ew_arrivals.
CREATE OR REPLACE TEMP TABLE ew_arrivals AS
WITH first_day AS (
    SELECT party, min(call_date) AS arrival_day
    FROM (
        SELECT caller AS party, call_date
        FROM daily_contacts
        WHERE call_date BETWEEN $month_start AND $day
        UNION ALL
        SELECT callee AS party, call_date
        FROM daily_contacts
        WHERE call_date BETWEEN $month_start AND $day
    ) AS active
    GROUP BY party
),
feed AS (
    SELECT min(arrival_day) AS first_call_day FROM first_day
)
SELECT s.user_id, f.arrival_day
FROM first_day AS f
CROSS JOIN feed AS d
JOIN subscribers AS s ON s.user_id = f.party
WHERE f.arrival_day BETWEEN $first AND $last
    AND f.arrival_day >= d.first_call_day + $silent_days
    AND s.has_local_number
    AND NOT s.is_service
    AND nullif(trim(s.birth_province), '') IS NOT NULL
    AND trim(s.birth_province) <> $province;
