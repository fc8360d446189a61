-- Triangles through every party of one window's undirected view (SPEC §5, the numerator of the
-- local clustering, clustering.sql), counted over the whole of G_t. Reads feat_pairs and
-- feat_degree (prepare.sql); writes feat_triangles (party, n_triangles), parties with at least
-- one triangle. A first-k-days window whose stored sums are added to counts only the triangles
-- new on day k instead (triangles_added.sql).
--
-- Every edge is oriented from its lower to its higher end in (degree, id) order, so each triangle
-- is found exactly once, from its lowest vertex x, as the wedge of two out-edges x -> y, x -> z
-- (y < z by id) closed by the undirected edge (y, z) of feat_pairs; no vertex has more than
-- sqrt(2 |E|) out-edges, so hubs do not explode the wedge join.
-- The oriented edges are a table of their own: as a CTE, the join planner would pair the wedge's
-- second edge with the closing edge first (27M rows on `large` instead of 2.9M wedges).
CREATE OR REPLACE TEMP TABLE feat_oriented AS
SELECT
    LOWER_END(p.a, da.degree, p.b, db.degree) AS x,
    HIGHER_END(p.a, da.degree, p.b, db.degree) AS y
FROM feat_pairs AS p
JOIN feat_degree AS da ON da.party = p.a
JOIN feat_degree AS db ON db.party = p.b;

CREATE OR REPLACE TEMP TABLE feat_triangles AS
WITH triangles AS (
    SELECT w.x, w.y, w.z
    FROM (
        SELECT a.x, a.y, b.y AS z
        FROM feat_oriented AS a
        JOIN feat_oriented AS b ON b.x = a.x AND a.y < b.y
    ) AS w
    JOIN feat_pairs AS c ON c.a = w.y AND c.b = w.z
)
SELECT party, COUNT(*) AS n_triangles
FROM (
    SELECT x AS party FROM triangles
    UNION ALL
    SELECT y AS party FROM triangles
    UNION ALL
    SELECT z AS party FROM triangles
) AS t
GROUP BY party;
