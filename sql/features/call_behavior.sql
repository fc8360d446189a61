-- Call behaviour of the featurised users of one window (SPEC §5).
-- Reads feat_users, feat_contacts, feat_arcs, feat_directed (prepare.sql), calls and subscribers.
--
-- Durations are per call (both sides of every call of the window's dates); "locals" are contacts
-- born in the study city's province. province_diversity uses the undirected contacts with a known
-- birth province (null when none is known); reciprocal_call and communication_diversity use the
-- directed out-edges of v (window_graph), natural log in the entropy.
CREATE OR REPLACE TEMP TABLE feat_call_behavior AS
WITH user_calls AS (
    SELECT c.caller AS user_id, c.callee AS contact, c.duration_s
    FROM calls AS c
    JOIN feat_users AS f ON f.user_id = c.caller
    WHERE c.call_date BETWEEN $start AND $end
    UNION ALL
    SELECT c.callee AS user_id, c.caller AS contact, c.duration_s
    FROM calls AS c
    JOIN feat_users AS f ON f.user_id = c.callee
    WHERE c.call_date BETWEEN $start AND $end
),
durations AS (
    SELECT
        u.user_id,
        AVG(u.duration_s) AS call_duration,
        VAR_SAMP(u.duration_s) AS duration_variance,
        AVG(CASE WHEN s.birth_province = $province THEN u.duration_s END) AS local_call_duration,
        VAR_SAMP(CASE WHEN s.birth_province = $province THEN u.duration_s END)
            AS local_duration_variance
    FROM user_calls AS u
    LEFT JOIN subscribers AS s ON s.user_id = u.contact
    GROUP BY u.user_id
),
provinces AS (
    SELECT user_id, birth_province, COUNT(*) AS n
    FROM feat_contacts
    WHERE birth_province IS NOT NULL
    GROUP BY user_id, birth_province
),
province_diversity AS (
    SELECT user_id, -SUM(p * LOG2(p)) AS province_diversity
    FROM (
        SELECT user_id, n / CAST(SUM(n) OVER (PARTITION BY user_id) AS DOUBLE) AS p
        FROM provinces
    ) AS shares
    GROUP BY user_id
),
communication AS (
    SELECT
        a.src AS user_id,
        -SUM(
            (a.n_calls / CAST(d.out_calls AS DOUBLE)) * LN(a.n_calls / CAST(d.out_calls AS DOUBLE))
        ) / LN(d.out_degree) AS communication_diversity
    FROM feat_arcs AS a
    JOIN feat_directed AS d ON d.user_id = a.src
    WHERE d.out_degree >= 2
    GROUP BY a.src, d.out_degree
)
SELECT
    f.user_id,
    d.in_calls,
    d.out_calls,
    d.out_calls - d.in_calls AS out_minus_in,
    u.call_duration,
    u.duration_variance,
    u.local_call_duration,
    u.local_duration_variance,
    p.province_diversity,
    CASE WHEN d.out_degree > 0 THEN d.n_reciprocal / CAST(d.out_degree AS DOUBLE) END
        AS reciprocal_call,
    m.communication_diversity
FROM feat_users AS f
JOIN feat_directed AS d ON d.user_id = f.user_id
LEFT JOIN durations AS u ON u.user_id = f.user_id
LEFT JOIN province_diversity AS p ON p.user_id = f.user_id
LEFT JOIN communication AS m ON m.user_id = f.user_id;
