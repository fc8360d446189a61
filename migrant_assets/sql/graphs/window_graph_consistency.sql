-- Asset check of one window graph (SPEC §4): the stored edges against the edges recomputed
-- straight from calls over $start..$end, as totals (edges, calls, durations) and as a sketch of
-- their rows: the sum of hash(src, dst, n_calls, duration_s) over the rows of each side (the
-- columns cast to one type each, which the hash depends on). The same
-- rows give the same sum; other rows (an edge missing, extra, repeated, or with other weights)
-- give another but with probability 2^-64 (2^-32 on Spark, whose hash is 32-bit). Both sides are
-- aggregates, without joining them: the join of two month-sized graphs was most of this check's
-- time and memory at scale (docs/scale.md). window_graph_mismatches.sql counts the edges that
-- differ when the sketches do.
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
),
stored_totals AS (
    SELECT
        count(*) AS edges,
        coalesce(sum(n_calls), 0) AS n_calls,
        coalesce(CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE), 0) AS duration_s,
        coalesce(sum(hash(
            CAST(src AS BIGINT), CAST(dst AS BIGINT), CAST(n_calls AS BIGINT),
            CAST(duration_s AS DOUBLE)
        )), 0) AS sketch
    FROM stored
),
expected_totals AS (
    SELECT
        count(*) AS edges,
        coalesce(sum(n_calls), 0) AS n_calls,
        coalesce(CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE), 0) AS duration_s,
        coalesce(sum(hash(
            CAST(src AS BIGINT), CAST(dst AS BIGINT), CAST(n_calls AS BIGINT),
            CAST(duration_s AS DOUBLE)
        )), 0) AS sketch
    FROM expected
)
SELECT
    s.edges AS stored_edges,
    e.edges AS expected_edges,
    s.n_calls AS stored_calls,
    e.n_calls AS expected_calls,
    s.duration_s AS stored_duration_s,
    e.duration_s AS expected_duration_s,
    s.sketch = e.sketch AS same_rows
FROM stored_totals AS s
CROSS JOIN expected_totals AS e;
