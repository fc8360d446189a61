-- Triangles through every party of a first-k-days window (feat_triangles, as triangles.sql
-- writes it) from those stored for the first k - 1 days ($stored_triangles, window
-- $previous_id: save_sums.sql) plus the triangles new on day k ($end): a triangle of G_k that is
-- not one of G_{k-1} has at least one edge new on day k (G_{k-1} is a subgraph of G_k), so only
-- the wedges through new edges are searched. Exact integer counts: the same table as counting
-- every triangle of G_k. Reads feat_arcs, feat_pairs, feat_degree (prepare.sql) and
-- daily_contacts. $stored_triangles is an identifier (features.stored_sums_tables).
--
-- feat_new_pairs: the undirected pairs (a < b) of G_k with no call before day k, i.e. whose calls
-- in G_k (both directions, feat_arcs) are all calls of day k.
CREATE OR REPLACE TEMP TABLE feat_new_pairs AS
WITH day_pairs AS (
    SELECT
        LEAST(caller, callee) AS a,
        GREATEST(caller, callee) AS b,
        SUM(n_calls) AS n_calls
    FROM daily_contacts
    WHERE call_date = $end AND caller <> callee
    GROUP BY LEAST(caller, callee), GREATEST(caller, callee)
)
SELECT d.a, d.b
FROM day_pairs AS d
LEFT JOIN feat_arcs AS x ON x.src = d.a AND x.dst = d.b
LEFT JOIN feat_arcs AS y ON y.src = d.b AND y.dst = d.a
WHERE COALESCE(x.n_calls, 0) + COALESCE(y.n_calls, 0) = d.n_calls;

-- A triangle with new edges is counted once, from its smallest new edge in (a, b) order: the
-- wedge of new edge (a, b) through z, from the end p of lower (degree, id) (fewer wedges), closed
-- by the edge (o, z) from the other end o; kept when neither of the other two edges is a new
-- edge smaller than (a, b).
CREATE OR REPLACE TEMP TABLE feat_triangles AS
WITH pivots AS (
    SELECT
        n.a,
        n.b,
        LOWER_END(n.a, da.degree, n.b, db.degree) AS p,
        HIGHER_END(n.a, da.degree, n.b, db.degree) AS o
    FROM feat_new_pairs AS n
    JOIN feat_degree AS da ON da.party = n.a
    JOIN feat_degree AS db ON db.party = n.b
),
wedges AS (
    SELECT v.a, v.b, v.p, v.o, e.b AS z
    FROM pivots AS v
    JOIN feat_pairs AS e ON e.a = v.p
    WHERE e.b <> v.o
    UNION ALL
    SELECT v.a, v.b, v.p, v.o, e.a AS z
    FROM pivots AS v
    JOIN feat_pairs AS e ON e.b = v.p
    WHERE e.a <> v.o
),
closed AS (
    SELECT w.a, w.b, w.p, w.o, w.z
    FROM wedges AS w
    JOIN feat_pairs AS c ON c.a = LEAST(w.o, w.z) AND c.b = GREATEST(w.o, w.z)
),
new_triangles AS (
    SELECT c.a, c.b, c.z
    FROM closed AS c
    LEFT JOIN feat_new_pairs AS pz
        ON pz.a = LEAST(c.p, c.z) AND pz.b = GREATEST(c.p, c.z)
    LEFT JOIN feat_new_pairs AS oz
        ON oz.a = LEAST(c.o, c.z) AND oz.b = GREATEST(c.o, c.z)
    WHERE (pz.a IS NULL OR pz.a > c.a OR (pz.a = c.a AND pz.b > c.b))
        AND (oz.a IS NULL OR oz.a > c.a OR (oz.a = c.a AND oz.b > c.b))
)
SELECT party, CAST(SUM(n_triangles) AS BIGINT) AS n_triangles
FROM (
    SELECT party, n_triangles
    FROM $stored_triangles
    WHERE window_id = $previous_id
    UNION ALL
    SELECT a AS party, 1 AS n_triangles FROM new_triangles
    UNION ALL
    SELECT b AS party, 1 AS n_triangles FROM new_triangles
    UNION ALL
    SELECT z AS party, 1 AS n_triangles FROM new_triangles
) AS t
GROUP BY party;
