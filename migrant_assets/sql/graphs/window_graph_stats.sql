-- Size and shape of one window graph: nodes (every party), directed and undirected edges,
-- reciprocity = share of directed edges whose reverse edge exists (null without edges),
-- total calls and total duration (an exact sum, daily_contacts.sql).
WITH g AS (
    SELECT src, dst, n_calls, duration_s FROM window_graph WHERE window_id = $window_id
),
nodes AS (
    SELECT src AS node FROM g
    UNION
    SELECT dst AS node FROM g
),
edges AS (
    SELECT g.*, r.src IS NOT NULL AS reciprocated
    FROM g
    LEFT JOIN g AS r ON r.src = g.dst AND r.dst = g.src
)
SELECT
    (SELECT count(*) FROM nodes) AS n_nodes,
    count(*) AS n_edges,
    count(DISTINCT (least(src, dst), greatest(src, dst))) AS n_undirected_edges,
    avg(reciprocated::INTEGER) AS reciprocity,
    coalesce(sum(n_calls), 0) AS n_calls,
    coalesce(CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE), 0) AS duration_s
FROM edges;
