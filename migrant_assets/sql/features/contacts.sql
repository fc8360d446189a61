-- Contacts of the featurised users (SPEC §5), read by the ego network, call behaviour and housing
-- price families (features.REQUIRES); reads feat_pairs, feat_users and feat_degree (prepare.sql).
-- A step of its own, run after the triangles and clustering: the largest TEMP table of a window
-- is not held while the triangles are counted (docs/scale.md, "Spill"). Both orientations of
-- every undirected edge with a featurised end, with the contact's degree and attributes (null
-- when it has no `subscribers` row).
CREATE OR REPLACE TEMP TABLE feat_contacts AS
SELECT e.user_id, e.contact, d.degree, s.age, s.sex, s.birth_province
FROM (
    SELECT a AS user_id, b AS contact FROM feat_pairs
    UNION ALL
    SELECT b AS user_id, a AS contact FROM feat_pairs
) AS e
JOIN feat_users AS f ON f.user_id = e.user_id
JOIN feat_degree AS d ON d.party = e.contact
LEFT JOIN subscribers AS s ON s.user_id = e.contact;
