-- The days of $lo..$hi that the calls do not cover: missing data, never silence (SPEC §3's
-- labels and the early warning's outcomes rest on silence). A day is not covered when it lies
-- outside the first to last day with a call of $lo..$hi (an extract that starts late or ends
-- early), or when it holds fewer calls than $min_day_share of the median day's, that median
-- being $dense_day_calls calls or more (a day file missing inside the extract, a day cut
-- short; at a median of 20 calls, 2 or fewer by chance have a probability of 5e-7). Written
-- to the TEMP table uncovered_days (day).
CREATE OR REPLACE TEMP TABLE uncovered_days AS
WITH per_day AS (
    SELECT
        call_date AS day,
        count(*) AS calls
    FROM calls
    WHERE call_date BETWEEN $lo AND $hi
    GROUP BY call_date
),
typical AS (
    SELECT
        min(day) AS first_day,
        max(day) AS last_day,
        median(calls) AS median_calls
    FROM per_day
),
days AS (
    SELECT
        CAST(unnest(generate_series(
            CAST($lo AS DATE), CAST($hi AS DATE), INTERVAL 1 DAY
        )) AS DATE) AS day
)
SELECT d.day
FROM days AS d
CROSS JOIN typical AS t
LEFT JOIN per_day AS p ON p.day = d.day
WHERE
    t.first_day IS NULL
    OR d.day NOT BETWEEN t.first_day AND t.last_day
    OR (
        t.median_calls >= $dense_day_calls
        AND coalesce(p.calls, 0) < $min_day_share * t.median_calls
    )
ORDER BY d.day;
