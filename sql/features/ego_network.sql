-- Ego network and demographics of the featurised users of one window (SPEC §5).
-- Reads feat_edges, feat_degree, feat_users (prepare.sql), window_graph and subscribers.
--
-- Clustering counts triangles on the undirected simple graph with every edge oriented from the
-- lower to the higher (degree, id): each triangle is found once, from its lowest vertex, and no
-- vertex has more than sqrt(2|E|) out-edges, so hubs do not explode the wedge join.
-- Demographic fractions are over contacts whose attribute is known (a `subscribers` row with a
-- non-null value); null when none is, or when v's own attribute is needed and unknown.
CREATE OR REPLACE TEMP TABLE feat_ego_network AS
WITH oriented AS (
    SELECT e.u AS x, e.v AS y, dv.degree AS dy
    FROM feat_edges AS e
    JOIN feat_degree AS du ON du.party = e.u
    JOIN feat_degree AS dv ON dv.party = e.v
    WHERE du.degree < dv.degree OR (du.degree = dv.degree AND e.u < e.v)
),
triangles AS (
    -- x < y < z in (degree, id): wedges x->y, x->z closed by the edge y->z
    SELECT a.x, a.y, b.y AS z
    FROM oriented AS a
    JOIN oriented AS b
        ON b.x = a.x AND (a.dy < b.dy OR (a.dy = b.dy AND a.y < b.y))
    JOIN oriented AS c ON c.x = a.y AND c.y = b.y
),
triangle_count AS (
    SELECT t.party, COUNT(*) AS n_triangles
    FROM (
        SELECT x AS party FROM triangles
        UNION ALL
        SELECT y AS party FROM triangles
        UNION ALL
        SELECT z AS party FROM triangles
    ) AS t
    JOIN feat_users AS f ON f.user_id = t.party
    GROUP BY t.party
),
contacts AS (
    SELECT
        f.user_id,
        COUNT(*) AS degree,
        AVG(CAST(d.degree AS DOUBLE)) AS neighbor_degree,
        CASE WHEN f.age IS NOT NULL AND COUNT(s.age) > 0 THEN
            SUM(CASE WHEN ABS(s.age - f.age) <= $similar_age THEN 1 ELSE 0 END)
            / CAST(COUNT(s.age) AS DOUBLE)
        END AS similar_age,
        CASE WHEN f.sex IS NOT NULL AND COUNT(s.sex) > 0 THEN
            SUM(CASE WHEN s.sex = f.sex THEN 1 ELSE 0 END) / CAST(COUNT(s.sex) AS DOUBLE)
        END AS same_sex,
        CASE WHEN COUNT(s.birth_province) > 0 THEN
            SUM(CASE WHEN s.birth_province = $province THEN 1 ELSE 0 END)
            / CAST(COUNT(s.birth_province) AS DOUBLE)
        END AS local,
        CASE
            WHEN f.birth_province IS NULL OR COUNT(s.birth_province) = 0 THEN NULL
            WHEN f.birth_province = $province THEN 0.0
            ELSE SUM(CASE WHEN s.birth_province = f.birth_province THEN 1 ELSE 0 END)
                / CAST(COUNT(s.birth_province) AS DOUBLE)
        END AS townsman
    FROM feat_users AS f
    JOIN feat_edges AS e ON e.u = f.user_id
    JOIN feat_degree AS d ON d.party = e.v
    LEFT JOIN subscribers AS s ON s.user_id = e.v
    GROUP BY f.user_id, f.age, f.sex, f.birth_province
),
out_edges AS (
    SELECT g.src AS user_id, COUNT(*) AS out_degree, SUM(g.n_calls) AS out_calls
    FROM window_graph AS g
    JOIN feat_users AS f ON f.user_id = g.src
    WHERE g.window_id = $window_id
    GROUP BY g.src
),
in_edges AS (
    SELECT g.dst AS user_id, COUNT(*) AS in_degree, SUM(g.n_calls) AS in_calls
    FROM window_graph AS g
    JOIN feat_users AS f ON f.user_id = g.dst
    WHERE g.window_id = $window_id
    GROUP BY g.dst
)
SELECT
    c.user_id,
    c.degree,
    COALESCE(i.in_degree, 0) AS in_degree,
    COALESCE(o.out_degree, 0) AS out_degree,
    COALESCE(i.in_calls, 0) + COALESCE(o.out_calls, 0) AS weighted_degree,
    c.neighbor_degree,
    CASE WHEN c.degree < 2 THEN 0.0
        ELSE 2.0 * COALESCE(t.n_triangles, 0) / (c.degree * (c.degree - 1.0))
    END AS clustering,
    c.similar_age,
    c.same_sex,
    c.local,
    c.townsman
FROM contacts AS c
LEFT JOIN triangle_count AS t ON t.party = c.user_id
LEFT JOIN out_edges AS o ON o.user_id = c.user_id
LEFT JOIN in_edges AS i ON i.user_id = c.user_id;
