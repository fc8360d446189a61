-- The edges of one stored window graph (SPEC §4) that disagree with the graph recomputed straight
-- from calls over $start..$end: missing, extra, or with other weights (durations are exact sums,
-- daily_contacts.sql, so they must be equal). Run by graphs.window_graph_consistency only when
-- window_graph_consistency.sql finds the two graphs' rows differ.
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
SELECT count(*) AS mismatched_edges
FROM stored AS s
FULL OUTER JOIN expected AS e ON s.src = e.src AND s.dst = e.dst
WHERE s.n_calls IS DISTINCT FROM e.n_calls
    OR s.duration_s IS DISTINCT FROM e.duration_s;
