-- Partition $window_id of a window family's graph table (SPEC §4): G_t over $start..$end
-- (inclusive), an edge u -> v when u called v at least once, weighted by calls and total
-- duration; with $migrants_only (a first-k-days window below k_max, graphs.migrants_only) only
-- the edges with an end in graph_neighbourhood (migrants_neighbourhood.sql). $graph_table is an
-- identifier (graphs.GRAPH_TABLES, allow-listed and quoted before the statement runs); every
-- other $name is a bound value. Summed from daily_contacts, durations
-- exactly; a day with no known duration adds nothing, so duration_s is the sum of the known
-- durations of the window's calls, null when none is known (daily_contacts.sql).
-- Rows stored in src order: DuckDB then keeps each src's run once (RLE), a window's graph takes
-- about 40% fewer blocks (docs/scale.md, "Disk"). Delete-then-insert; run inside one transaction.
DELETE FROM $graph_table WHERE window_id = $window_id;

INSERT INTO $graph_table
SELECT
    $window_id AS window_id,
    caller AS src,
    callee AS dst,
    sum(n_calls) AS n_calls,
    CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE) AS duration_s
FROM daily_contacts
WHERE call_date BETWEEN $start AND $end
    AND (
        NOT $migrants_only
        OR caller IN (SELECT n.party FROM graph_neighbourhood AS n)
        OR callee IN (SELECT n.party FROM graph_neighbourhood AS n)
    )
GROUP BY caller, callee
ORDER BY src, dst;
