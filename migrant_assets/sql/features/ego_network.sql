-- Ego network and demographics of the featurised users of one window (SPEC §5).
-- Reads feat_users, feat_contacts, feat_directed (prepare.sql) and feat_clustering
-- (clustering.sql).
--
-- Demographic fractions are over contacts whose attribute is known (a `subscribers` row with a
-- non-null value); null when none is, or when v's own attribute is needed and unknown.
CREATE OR REPLACE TEMP TABLE feat_ego_network AS
WITH contacts AS (
    SELECT
        f.user_id,
        COUNT(*) AS degree,
        AVG(CAST(c.degree AS DOUBLE)) AS neighbor_degree,
        CASE WHEN f.age IS NOT NULL AND COUNT(c.age) > 0 THEN
            SUM(CASE WHEN ABS(c.age - f.age) <= $similar_age THEN 1 ELSE 0 END)
            / CAST(COUNT(c.age) AS DOUBLE)
        END AS similar_age,
        CASE WHEN f.sex IS NOT NULL AND COUNT(c.sex) > 0 THEN
            SUM(CASE WHEN c.sex = f.sex THEN 1 ELSE 0 END) / CAST(COUNT(c.sex) AS DOUBLE)
        END AS same_sex,
        CASE WHEN COUNT(c.birth_province) > 0 THEN
            SUM(CASE WHEN c.birth_province = $province THEN 1 ELSE 0 END)
            / CAST(COUNT(c.birth_province) AS DOUBLE)
        END AS local,
        CASE
            WHEN f.birth_province IS NULL OR COUNT(c.birth_province) = 0 THEN NULL
            WHEN f.birth_province = $province THEN 0.0
            ELSE SUM(CASE WHEN c.birth_province = f.birth_province THEN 1 ELSE 0 END)
                / CAST(COUNT(c.birth_province) AS DOUBLE)
        END AS townsman
    FROM feat_users AS f
    JOIN feat_contacts AS c ON c.user_id = f.user_id
    GROUP BY f.user_id, f.age, f.sex, f.birth_province
)
SELECT
    c.user_id,
    c.degree,
    d.in_degree,
    d.out_degree,
    d.in_calls + d.out_calls AS weighted_degree,
    c.neighbor_degree,
    k.clustering,
    c.similar_age,
    c.same_sex,
    c.local,
    c.townsman
FROM contacts AS c
JOIN feat_directed AS d ON d.user_id = c.user_id
JOIN feat_clustering AS k ON k.user_id = c.user_id;
