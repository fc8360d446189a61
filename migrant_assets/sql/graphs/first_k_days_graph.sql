-- Window $window_id of $graph_table (SPEC §4) from its stored first k - 1 days ($previous_id)
-- plus the daily contacts of day k ($end): each edge's calls and known durations add up. With
-- $migrants_only, G_{k-1} holds the edges of graph_neighbourhood only, and so do day k's.
-- $graph_table is an identifier (the window family's graph table: graphs.graph_table),
-- allow-listed and quoted; every other $name is a bound value.
-- Durations are exact sums (fixed point to the microsecond, daily_contacts.sql), so this
-- gives the same rows as window_graph.sql summing all k days, stored in the same order (src, dst:
-- runs of src compressed). Delete-then-insert; run inside one transaction.
DELETE FROM $graph_table WHERE window_id = $window_id;

INSERT INTO $graph_table
SELECT
    $window_id AS window_id,
    src,
    dst,
    sum(n_calls) AS n_calls,
    CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE) AS duration_s
FROM (
    SELECT src, dst, n_calls, duration_s
    FROM $graph_table
    WHERE window_id = $previous_id
    UNION ALL
    SELECT caller AS src, callee AS dst, n_calls, duration_s
    FROM daily_contacts
    WHERE call_date = $end
        AND (
            NOT $migrants_only
            OR caller IN (SELECT n.party FROM graph_neighbourhood AS n)
            OR callee IN (SELECT n.party FROM graph_neighbourhood AS n)
        )
) AS edges
GROUP BY src, dst
ORDER BY src, dst;
