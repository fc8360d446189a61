-- Size and shape of one window graph: nodes (every party), directed and undirected edges,
-- reciprocity = share of directed edges whose reverse edge exists (a self-call is its own
-- reverse; null without edges), total calls and total duration (an exact sum,
-- daily_contacts.sql). The directed edges of one undirected pair are grouped (two when the pair
-- is reciprocated), so no self-join is needed.
WITH g AS (
    SELECT src, dst, n_calls, duration_s FROM window_graph WHERE window_id = $window_id
),
nodes AS (
    SELECT src AS node FROM g
    UNION
    SELECT dst AS node FROM g
),
pairs AS (
    SELECT
        count(*) AS n_edges,
        max(CASE WHEN src = dst THEN 1 ELSE 0 END) AS is_loop,
        sum(n_calls) AS n_calls,
        sum(CAST(duration_s AS DECIMAL(18, 6))) AS duration_s
    FROM g
    GROUP BY least(src, dst), greatest(src, dst)
)
SELECT
    (SELECT count(*) FROM nodes) AS n_nodes,
    coalesce(sum(n_edges), 0) AS n_edges,
    count(*) AS n_undirected_edges,
    sum(CASE WHEN n_edges = 2 OR is_loop = 1 THEN n_edges ELSE 0 END)
    / CAST(sum(n_edges) AS DOUBLE) AS reciprocity,
    coalesce(sum(n_calls), 0) AS n_calls,
    coalesce(CAST(sum(duration_s) AS DOUBLE), 0) AS duration_s
FROM pairs;
