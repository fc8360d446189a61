-- Asset check of one window graph (SPEC §4): the stored edges against edges recomputed straight
-- from calls over $start..$end. Mismatched edges = missing, extra, or with other weights; durations
-- are exact sums (daily_contacts.sql), so they must be equal.
WITH stored AS (
    SELECT src, dst, n_calls, duration_s FROM window_graph WHERE window_id = $window_id
),
expected AS (
    SELECT
        caller AS src,
        callee AS dst,
        count(*) AS n_calls,
        CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE) AS duration_s
    FROM calls
    WHERE call_date BETWEEN $start AND $end
    GROUP BY caller, callee
)
SELECT
    (SELECT count(*) FROM stored) AS stored_edges,
    (SELECT count(*) FROM expected) AS expected_edges,
    (SELECT coalesce(sum(n_calls), 0) FROM stored) AS stored_calls,
    (SELECT coalesce(sum(n_calls), 0) FROM expected) AS expected_calls,
    (SELECT coalesce(CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE), 0) FROM stored)
        AS stored_duration_s,
    (SELECT coalesce(CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE), 0) FROM expected)
        AS expected_duration_s,
    (SELECT count(*)
     FROM stored AS s
     FULL OUTER JOIN expected AS e ON s.src = e.src AND s.dst = e.dst
     WHERE s.n_calls IS DISTINCT FROM e.n_calls
        OR s.duration_s IS DISTINCT FROM e.duration_s
    ) AS mismatched_edges;
