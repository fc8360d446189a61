-- Local clustering of the featurised users of one window (SPEC §5): 2 |edges among N(v)| /
-- (d_v (d_v - 1)) on the undirected view, 0 when d_v < 2. Reads feat_pairs, feat_degree and
-- feat_users (prepare.sql).
--
-- |edges among N(v)| is the number of triangles through v. Every edge is oriented from its lower
-- to its higher end in (degree, id) order, so each triangle is found exactly once, from its lowest
-- vertex x, as the wedge of two out-edges x -> y, x -> z (y < z by id) closed by the undirected
-- edge (y, z) of feat_pairs; no vertex has more than sqrt(2 |E|) out-edges, so hubs do not explode
-- the wedge join.
-- The oriented edges are a table of their own: as a CTE, the join planner would pair the wedge's
-- second edge with the closing edge first (27M rows on `large` instead of 2.9M wedges).
CREATE OR REPLACE TEMP TABLE feat_oriented AS
SELECT
    CASE WHEN da.degree < db.degree OR (da.degree = db.degree AND p.a < p.b)
        THEN p.a ELSE p.b END AS x,
    CASE WHEN da.degree < db.degree OR (da.degree = db.degree AND p.a < p.b)
        THEN p.b ELSE p.a END AS y
FROM feat_pairs AS p
JOIN feat_degree AS da ON da.party = p.a
JOIN feat_degree AS db ON db.party = p.b;

CREATE OR REPLACE TEMP TABLE feat_clustering AS
WITH triangles AS (
    SELECT w.x, w.y, w.z
    FROM (
        SELECT a.x, a.y, b.y AS z
        FROM feat_oriented AS a
        JOIN feat_oriented AS b ON b.x = a.x AND a.y < b.y
    ) AS w
    JOIN feat_pairs AS c ON c.a = w.y AND c.b = w.z
),
triangle_count AS (
    SELECT party, COUNT(*) AS n_triangles
    FROM (
        SELECT x AS party FROM triangles
        UNION ALL
        SELECT y AS party FROM triangles
        UNION ALL
        SELECT z AS party FROM triangles
    ) AS t
    GROUP BY party
)
SELECT
    f.user_id,
    CASE WHEN d.degree < 2 THEN 0.0
        ELSE 2.0 * COALESCE(t.n_triangles, 0) / (d.degree * (d.degree - 1.0))
    END AS clustering
FROM feat_users AS f
JOIN feat_degree AS d ON d.party = f.user_id
LEFT JOIN triangle_count AS t ON t.party = f.user_id;
