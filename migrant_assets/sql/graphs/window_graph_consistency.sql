-- Asset check of one window graph (SPEC §4): the stored edges against the edges recomputed
-- straight from calls over $start..$end (with $migrants_only, those with an end in
-- graph_neighbourhood, made from the calls: migrants_neighbourhood.sql), as totals (edges,
-- calls, durations: exact sums, daily_contacts.sql) and as a sketch of each side's rows: the sum of
-- hash(src, dst, n_calls, duration_s) (each column cast to one type: the hash depends on it).
-- The same rows give the same sum; other rows (an edge missing, extra, repeated, or with other
-- weights) give another but with probability 2^-64 (2^-32 on Spark, whose hash is 32-bit). Each
-- side is aggregated alone: the join of two month-sized graphs was most of this check's time
-- and memory at scale (docs/scale.md). With $count_mismatches (graphs.window_graph_consistency
-- sets it when the sketches differ) the two are joined to count the edges that differ; without
-- it the join's filter is false and the optimizer drops it (mismatched_edges 0).
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
        AND (
            NOT $migrants_only
            OR caller IN (SELECT n.party FROM graph_neighbourhood AS n)
            OR callee IN (SELECT n.party FROM graph_neighbourhood AS n)
        )
    GROUP BY caller, callee
),
sides AS (
    SELECT TRUE AS is_stored, src, dst, n_calls, duration_s FROM stored
    UNION ALL
    SELECT FALSE AS is_stored, src, dst, n_calls, duration_s FROM expected
),
totals AS (
    SELECT
        is_stored,
        count(*) AS edges,
        sum(n_calls) AS n_calls,
        CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE) AS duration_s,
        sum(hash(
            CAST(src AS BIGINT), CAST(dst AS BIGINT), CAST(n_calls AS BIGINT),
            CAST(duration_s AS DOUBLE)
        )) AS sketch
    FROM sides
    GROUP BY is_stored
),
mismatched AS (
    SELECT count(*) AS edges
    FROM stored AS s
    FULL OUTER JOIN expected AS e ON s.src = e.src AND s.dst = e.dst
    WHERE $count_mismatches
        AND (s.n_calls IS DISTINCT FROM e.n_calls OR s.duration_s IS DISTINCT FROM e.duration_s)
)
SELECT
    coalesce(s.edges, 0) AS stored_edges,
    coalesce(e.edges, 0) AS expected_edges,
    coalesce(s.n_calls, 0) AS stored_calls,
    coalesce(e.n_calls, 0) AS expected_calls,
    coalesce(s.duration_s, 0) AS stored_duration_s,
    coalesce(e.duration_s, 0) AS expected_duration_s,
    (SELECT m.edges FROM mismatched AS m) AS mismatched_edges,
    coalesce(s.sketch, 0) = coalesce(e.sketch, 0) AS same_rows
-- one row, whichever side has no edge (its totals are then 0)
FROM (SELECT 1 AS one) AS o  -- noqa: ST11
LEFT JOIN totals AS s ON s.is_stored
LEFT JOIN totals AS e ON NOT e.is_stored;
