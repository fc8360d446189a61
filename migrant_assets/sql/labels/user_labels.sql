-- User population and labels of both studies (SPEC §3). Rebuilds user_labels,
-- service_like_users and withheld_labels from subscribers and calls; run inside one
-- transaction.
-- "Active" = at least one call made or received; every date is a parameter from the calendar.

-- Each call seen from both of its ends, restricted to owners with a local number and to the
-- study month, then aggregated per owner: call count and the activity facts that decide the
-- labels; and the whole-month undirected degree: the month's distinct unordered pairs
-- (self-calls apart) counted at each end, two plain group-bys instead of a count(DISTINCT) per
-- owner (the labels stage 26.6 s against 33.6 at 10x the `large` city; docs/scale.md).
CREATE OR REPLACE TEMP TABLE _owner_activity AS
WITH owners AS (
    SELECT user_id FROM subscribers WHERE has_local_number
),
month AS (
    SELECT caller, callee, call_date
    FROM calls
    WHERE call_date BETWEEN $month_start AND $month_end
),
pairs AS (
    SELECT
        least(caller, callee) AS a,
        greatest(caller, callee) AS b
    FROM month
    WHERE caller <> callee
    GROUP BY least(caller, callee), greatest(caller, callee)
),
degrees AS (
    SELECT
        e.user_id,
        count(*) AS degree
    FROM (
        SELECT a AS user_id FROM pairs
        UNION ALL
        SELECT b AS user_id FROM pairs
    ) AS e
    SEMI JOIN owners USING (user_id)
    GROUP BY e.user_id
),
call_ends AS (
    SELECT caller AS user_id, call_date FROM month
    UNION ALL
    SELECT callee AS user_id, call_date FROM month
),
facts AS (
    SELECT
        user_id,
        count(*) AS n_calls,
        min(call_date) AS first_active_day,
        max(call_date) AS last_active_day,
        bool_or(call_date BETWEEN $pre_start AND $pre_end) AS active_pre,
        bool_or(call_date BETWEEN $w1_start AND $w1_end) AS active_w1,
        bool_or(call_date BETWEEN $w2_start AND $w2_end) AS active_w2,
        bool_or(call_date BETWEEN $w3_start AND $w3_end) AS active_w3,
        bool_or(call_date BETWEEN $w4_start AND $w4_end) AS active_w4,
        bool_or(call_date BETWEEN $a_start AND $a_end) AS active_a,
        bool_or(call_date BETWEEN $b_start AND $b_end) AS active_b,
        bool_or(call_date BETWEEN $c_start AND $c_end) AS active_c,
        bool_or(call_date > $c_end) AS active_after_c
    FROM call_ends
    SEMI JOIN owners USING (user_id)
    GROUP BY user_id
)
SELECT
    f.user_id,
    coalesce(d.degree, 0) AS degree,
    f.n_calls,
    f.first_active_day,
    f.last_active_day,
    f.active_pre,
    f.active_w1,
    f.active_w2,
    f.active_w3,
    f.active_w4,
    f.active_a,
    f.active_b,
    f.active_c,
    f.active_after_c
FROM facts AS f
LEFT JOIN degrees AS d ON d.user_id = f.user_id;

-- The labels rest on silence (SPEC §3): a departure new migrant is silent before week A and a
-- leaving one in week C, an integration new migrant in W1. A day of those windows that the
-- calls do not cover (uncovered_days.sql, run before: outside the month's first to last day
-- with a call, or far fewer calls than a usual day's) is missing data, not silence (an extract
-- that starts on week A, ends inside week C, or lacks a day's file): the study's labels are
-- then withheld, with those days (withheld_labels), never read from it. So are they when a
-- whole week where every user must call (W2, W3, W4; week A, B) is not covered: no one could
-- be active in it, and the groups would be empty for the data, not for the users.
DELETE FROM withheld_labels;

INSERT INTO withheld_labels
WITH span AS (
    SELECT
        min(call_date) AS first_day,
        max(call_date) AS last_day
    FROM calls
    WHERE call_date BETWEEN $month_start AND $month_end
),
windows AS (
    -- silence: a day not covered withholds; activity (every user must call): a whole week
    SELECT
        w.study,
        w.week,
        w.kind,
        CAST(unnest(generate_series(
            CAST(w.first_day AS DATE), CAST(w.last_day AS DATE), INTERVAL 1 DAY
        )) AS DATE) AS day
    FROM (
        VALUES
        ('departure', 'pre', 'silence', $pre_start, $pre_end),
        ('departure', 'C', 'silence', $c_start, $c_end),
        ('integration', 'W1', 'silence', $w1_start, $w1_end),
        ('integration', 'W2', 'activity', $w2_start, $w2_end),
        ('integration', 'W3', 'activity', $w3_start, $w3_end),
        ('integration', 'W4', 'activity', $w4_start, $w4_end),
        ('departure', 'A', 'activity', $a_start, $a_end),
        ('departure', 'B', 'activity', $b_start, $b_end)
    ) AS w (study, week, kind, first_day, last_day)
),
judged AS (
    SELECT
        *,
        day IN (SELECT u.day FROM uncovered_days AS u) AS uncovered
    FROM windows
),
withholding_weeks AS (
    SELECT study, week
    FROM judged
    GROUP BY study, week, kind
    HAVING (kind = 'silence' AND bool_or(uncovered)) OR bool_and(uncovered)
),
missing AS (
    SELECT j.study, j.day
    FROM judged AS j
    SEMI JOIN withholding_weeks AS w ON w.study = j.study AND w.week = j.week
    WHERE j.uncovered
)
SELECT
    m.study,
    list(DISTINCT m.day ORDER BY m.day) AS days_not_covered,
    any_value(p.first_day) AS first_call_day,
    any_value(p.last_day) AS last_call_day
FROM missing AS m
CROSS JOIN span AS p
GROUP BY m.study;

-- Service-like owners: flagged by user_type, or whole-month degree above max_degree.
DELETE FROM service_like_users;

INSERT INTO service_like_users
WITH owners AS (
    SELECT s.user_id, s.is_service, coalesce(a.degree, 0) AS degree
    FROM subscribers AS s
    LEFT JOIN _owner_activity AS a USING (user_id)
    WHERE s.has_local_number
)
SELECT user_id, 'user_type' AS reason, degree FROM owners WHERE is_service
UNION ALL
SELECT user_id, 'max_degree' AS reason, degree FROM owners WHERE degree > $max_degree;

-- Users: owners with a local number that are not service-like, silent ones included.
DELETE FROM user_labels;

INSERT INTO user_labels
WITH users AS (
    SELECT
        s.user_id,
        nullif(trim(s.birth_province), '') AS birth_province,
        coalesce(a.degree, 0) AS degree,
        coalesce(a.n_calls, 0) AS n_calls,
        a.first_active_day,
        a.last_active_day,
        coalesce(a.active_pre, false) AS active_pre,
        coalesce(a.active_w1, false) AS active_w1,
        coalesce(a.active_w2, false) AS active_w2,
        coalesce(a.active_w3, false) AS active_w3,
        coalesce(a.active_w4, false) AS active_w4,
        coalesce(a.active_a, false) AS active_a,
        coalesce(a.active_b, false) AS active_b,
        coalesce(a.active_c, false) AS active_c,
        coalesce(a.active_after_c, false) AS active_after_c
    FROM subscribers AS s
    LEFT JOIN _owner_activity AS a USING (user_id)
    ANTI JOIN service_like_users AS r ON r.user_id = s.user_id
    WHERE s.has_local_number
),
born AS (
    -- Unknown birth province => is_local_born null => no label in either study.
    SELECT
        *,
        birth_province = $province AS is_local_born,
        'integration' IN (SELECT study FROM withheld_labels) AS integration_withheld,
        'departure' IN (SELECT study FROM withheld_labels) AS departure_withheld
    FROM users
)
SELECT
    user_id, birth_province, is_local_born, degree, n_calls, first_active_day, last_active_day,
    active_pre, active_w1, active_w2, active_w3, active_w4, active_a, active_b, active_c,
    active_after_c,
    CASE
        WHEN integration_withheld OR NOT (active_w2 AND active_w3 AND active_w4) THEN NULL
        WHEN is_local_born AND active_w1 THEN 'local'
        WHEN NOT is_local_born AND active_w1 THEN 'settled_migrant'
        WHEN NOT is_local_born AND NOT active_w1 THEN 'new_migrant'
    END AS integration_label,
    CASE
        WHEN departure_withheld OR NOT (active_a AND active_b) THEN NULL
        WHEN is_local_born AND active_c THEN 'local'
        -- New migrants: born elsewhere and silent before week A. A leaving migrant only needs
        -- silence in week C (SPEC §3 literally): calls after week C do not matter.
        WHEN NOT is_local_born AND NOT active_pre AND active_c THEN 'staying_migrant'
        WHEN NOT is_local_born AND NOT active_pre AND NOT active_c THEN 'leaving_migrant'
    END AS departure_label
FROM born;

DROP TABLE _owner_activity;
