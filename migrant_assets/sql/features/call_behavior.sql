-- Call behaviour of the featurised users of one window (SPEC §5).
-- Reads feat_users, feat_contacts, feat_arcs, feat_directed (prepare.sql) and feat_moments (the
-- window's additive sums of durations, accumulate.sql).
--
-- Durations are per call (both sides of every call of the window's dates) and only the known ones
-- count: a missed call (duration_s null) counts in in_calls / out_calls (through window_graph's
-- n_calls) but not in call_duration or the variances, which are null for a user with no call of
-- known duration (n counts known durations). "locals" are contacts born in the study city's
-- province. province_diversity uses the undirected contacts with a known
-- birth province (null when none is known); reciprocal_call and communication_diversity use the
-- directed out-edges of v (window_graph), natural log in the entropy.
-- Sums are exact (prepare.sql): durations are fixed-point to the microsecond (summed per party
-- in additive.sql), and the sample variance is (n sum(x^2) - sum(x)^2) / (n (n - 1)) with an
-- exact numerator; entropy terms are fixed-point to 1e-15.
CREATE OR REPLACE TEMP TABLE feat_call_behavior AS
WITH moments AS (
    SELECT m.party AS user_id, m.n, m.sum_x, m.sum_x2, m.n_local, m.sum_local_x, m.sum_local_x2
    FROM feat_moments AS m
    JOIN feat_users AS f ON f.user_id = m.party
),
durations AS (
    SELECT
        user_id,
        CASE WHEN n >= 1 THEN CAST(sum_x AS DOUBLE) / n END AS call_duration,
        CASE WHEN n >= 2 THEN CAST(n * sum_x2 - sum_x * sum_x AS DOUBLE) / (n * (n - 1.0)) END
            AS duration_variance,
        CASE WHEN n_local >= 1 THEN CAST(sum_local_x AS DOUBLE) / n_local END
            AS local_call_duration,
        CASE WHEN n_local >= 2 THEN
            CAST(n_local * sum_local_x2 - sum_local_x * sum_local_x AS DOUBLE)
            / (n_local * (n_local - 1.0))
        END AS local_duration_variance
    FROM moments
),
provinces AS (
    SELECT user_id, birth_province, COUNT(*) AS n
    FROM feat_contacts
    WHERE birth_province IS NOT NULL
    GROUP BY user_id, birth_province
),
province_diversity AS (
    SELECT
        user_id,
        -CAST(SUM(CAST(p * LOG2(p) AS DECIMAL(18, 15))) AS DOUBLE) AS province_diversity
    FROM (
        SELECT user_id, n / CAST(SUM(n) OVER (PARTITION BY user_id) AS DOUBLE) AS p
        FROM provinces
    ) AS shares
    GROUP BY user_id
),
communication AS (
    SELECT
        a.src AS user_id,
        -CAST(SUM(CAST(
            (a.n_calls / CAST(d.out_calls AS DOUBLE)) * LN(a.n_calls / CAST(d.out_calls AS DOUBLE))
            AS DECIMAL(18, 15)
        )) AS DOUBLE) / LN(d.out_degree) AS communication_diversity
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
