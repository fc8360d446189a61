-- Size and shape of one window graph: nodes (every party), directed and undirected edges,
-- reciprocity = share of directed edges whose reverse edge exists (a self-call is its own
-- reverse; null without edges), total calls and total duration (an exact sum,
-- daily_contacts.sql). The directed edges of one undirected pair are grouped (two when the pair
-- is reciprocated), so no self-join is needed; the group holds a count only (a self-call is the
-- pair a = b). Each part scans the window's rows itself: a CTE read by several parts would be
-- materialized, a copy of every edge (as long as the grouping on a large window).
WITH pairs AS (
    SELECT
        least(src, dst) AS a,
        greatest(src, dst) AS b,
        count(*) AS n_edges
    FROM window_graph
    WHERE window_id = $window_id
    GROUP BY least(src, dst), greatest(src, dst)
)
SELECT
    (
        SELECT count(*)
        FROM (
            SELECT src AS node FROM window_graph WHERE window_id = $window_id
            UNION
            SELECT dst AS node FROM window_graph WHERE window_id = $window_id
        ) AS nodes
    ) AS n_nodes,
    coalesce(sum(n_edges), 0) AS n_edges,
    count(*) AS n_undirected_edges,
    sum(CASE WHEN n_edges = 2 OR a = b THEN n_edges ELSE 0 END)
    / CAST(sum(n_edges) AS DOUBLE) AS reciprocity,
    (
        SELECT coalesce(sum(n_calls), 0) FROM window_graph WHERE window_id = $window_id
    ) AS n_calls,
    (
        SELECT coalesce(CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE), 0)
        FROM window_graph
        WHERE window_id = $window_id
    ) AS duration_s
FROM pairs;
