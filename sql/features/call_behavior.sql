-- Call behaviour of the featurised users of one window (SPEC §5).
-- Reads feat_edges, feat_users (prepare.sql), window_graph, calls and subscribers.
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
    SELECT e.u AS user_id, s.birth_province, COUNT(*) AS n
    FROM feat_edges AS e
    JOIN feat_users AS f ON f.user_id = e.u
    JOIN subscribers AS s ON s.user_id = e.v
    WHERE s.birth_province IS NOT NULL
    GROUP BY e.u, s.birth_province
),
province_totals AS (
    SELECT user_id, SUM(n) AS total
    FROM provinces
    GROUP BY user_id
),
province_diversity AS (
    SELECT p.user_id, -SUM((p.n / CAST(t.total AS DOUBLE)) * LOG2(p.n / CAST(t.total AS DOUBLE)))
        AS province_diversity
    FROM provinces AS p
    JOIN province_totals AS t ON t.user_id = p.user_id
    GROUP BY p.user_id
),
out_edges AS (
    SELECT g.src AS user_id, g.n_calls, r.src IS NOT NULL AS is_reciprocal
    FROM window_graph AS g
    JOIN feat_users AS f ON f.user_id = g.src
    LEFT JOIN window_graph AS r
        ON r.window_id = $window_id AND r.src = g.dst AND r.dst = g.src
    WHERE g.window_id = $window_id
),
out_totals AS (
    SELECT
        user_id,
        COUNT(*) AS out_degree,
        SUM(n_calls) AS out_calls,
        SUM(CASE WHEN is_reciprocal THEN 1 ELSE 0 END) AS n_reciprocal
    FROM out_edges
    GROUP BY user_id
),
communication AS (
    SELECT
        o.user_id,
        -SUM((o.n_calls / CAST(t.out_calls AS DOUBLE)) * LN(o.n_calls / CAST(t.out_calls AS DOUBLE)))
            / LN(t.out_degree) AS communication_diversity
    FROM out_edges AS o
    JOIN out_totals AS t ON t.user_id = o.user_id
    WHERE t.out_degree >= 2
    GROUP BY o.user_id, t.out_degree
),
in_totals AS (
    SELECT g.dst AS user_id, SUM(g.n_calls) AS in_calls
    FROM window_graph AS g
    JOIN feat_users AS f ON f.user_id = g.dst
    WHERE g.window_id = $window_id
    GROUP BY g.dst
)
SELECT
    f.user_id,
    COALESCE(i.in_calls, 0) AS in_calls,
    COALESCE(o.out_calls, 0) AS out_calls,
    COALESCE(o.out_calls, 0) - COALESCE(i.in_calls, 0) AS out_minus_in,
    d.call_duration,
    d.duration_variance,
    d.local_call_duration,
    d.local_duration_variance,
    p.province_diversity,
    o.n_reciprocal / CAST(o.out_degree AS DOUBLE) AS reciprocal_call,
    m.communication_diversity
FROM feat_users AS f
LEFT JOIN durations AS d ON d.user_id = f.user_id
LEFT JOIN province_diversity AS p ON p.user_id = f.user_id
LEFT JOIN out_totals AS o ON o.user_id = f.user_id
LEFT JOIN communication AS m ON m.user_id = f.user_id
LEFT JOIN in_totals AS i ON i.user_id = f.user_id;
