-- Local clustering of the featurised users of one window (SPEC §5): 2 |edges among N(v)| /
-- (d_v (d_v - 1)) on the undirected view, 0 when d_v < 2. Reads feat_degree and feat_users
-- (prepare.sql) and feat_triangles, the number of triangles through each party = |edges among
-- N(v)| (triangles.sql over the whole window, or triangles_added.sql: the stored window k - 1's
-- plus those new on day k).
CREATE OR REPLACE TEMP TABLE feat_clustering AS
SELECT
    f.user_id,
    CASE WHEN d.degree < 2 THEN 0.0
        ELSE 2.0 * COALESCE(t.n_triangles, 0) / (d.degree * (d.degree - 1.0))
    END AS clustering
FROM feat_users AS f
JOIN feat_degree AS d ON d.party = f.user_id
LEFT JOIN feat_triangles AS t ON t.party = f.user_id;
