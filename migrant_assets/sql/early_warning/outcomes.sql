-- The outcome of the new migrants of ew_arrivals (arrivals.sql) in hindsight, from
-- daily_contacts up to $day (docs/early_warning.md): the departure study's weeks A, B, C
-- counted from her own arrival day a (a..a+6, a+7..a+13, a+14..a+20): leaving = no call in her
-- week C (she left within her first 14 days), staying = calls in her weeks B and C; silent in B
-- but back in C: no outcome. Known only when her week C is over by $day. A day the calls do
-- not cover (uncovered_days, run before: a missing day file is not silence) from the feed's
-- first day with a call to the end of her week C: no outcome whatever her calls, flagged
-- days_uncovered so that it is counted (to drop only the silent ones would leave the stayers
-- and bias the leaving share). Before her arrival it may hide a call that makes her no new
-- migrant (arrivals.sql: her first call of the feed); in weeks A and B it is read as silence
-- by her first-k features; in B and C by her outcome. Also her last day with a call up to
-- $day.
WITH active AS (
    SELECT DISTINCT d.party, d.call_date
    FROM (
        SELECT caller AS party, call_date FROM daily_contacts
        UNION ALL
        SELECT callee AS party, call_date FROM daily_contacts
    ) AS d
    JOIN ew_arrivals AS a ON a.user_id = d.party
    WHERE d.call_date BETWEEN a.arrival_day AND $day
),
weeks AS (
    SELECT
        a.user_id,
        a.arrival_day,
        max(d.call_date) AS last_call_day,
        count(CASE WHEN d.call_date BETWEEN a.arrival_day + 7 AND a.arrival_day + 13 THEN 1 END)
            AS days_b,
        count(CASE WHEN d.call_date BETWEEN a.arrival_day + 14 AND a.arrival_day + 20 THEN 1 END)
            AS days_c
    FROM ew_arrivals AS a
    JOIN active AS d ON d.party = a.user_id
    WHERE a.arrival_day + 20 <= $day
    GROUP BY a.user_id, a.arrival_day
)
SELECT
    w.user_id,
    w.arrival_day,
    w.last_call_day,
    w.days_c = 0 AS leaving,
    EXISTS (
        SELECT 1 FROM uncovered_days AS u
        WHERE u.day BETWEEN f.first_call_day AND w.arrival_day + 20
    ) AS days_uncovered
FROM weeks AS w
CROSS JOIN (
    SELECT min(call_date) AS first_call_day FROM daily_contacts WHERE call_date >= $month_start
) AS f
WHERE w.days_c = 0 OR w.days_b > 0
ORDER BY w.user_id;
