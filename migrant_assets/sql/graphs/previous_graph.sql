-- Whether the stored graph of window $window_id ($start..$end) can be added to: it holds as many
-- calls as daily_contacts over its days (a re-ingested day changes the count), and has edges
-- or those days have no contact (with $migrants_only: the contacts of graph_neighbourhood's
-- edges, as the stored graph was built). $graph_table: the window's graph table (an identifier).
WITH stored AS (
    SELECT count(*) AS n_edges, coalesce(sum(n_calls), 0) AS n_calls
    FROM $graph_table
    WHERE window_id = $window_id
),
expected AS (
    SELECT count(*) AS n_edges, coalesce(sum(n_calls), 0) AS n_calls
    FROM daily_contacts
    WHERE call_date BETWEEN $start AND $end
        AND (
            NOT $migrants_only
            OR caller IN (SELECT n.party FROM graph_neighbourhood AS n)
            OR callee IN (SELECT n.party FROM graph_neighbourhood AS n)
        )
)
SELECT
    CAST(
        s.n_calls = e.n_calls AND (s.n_edges > 0) = (e.n_edges > 0) AS INTEGER
    ) AS usable
FROM stored AS s
CROSS JOIN expected AS e;
