-- Birth provinces of the stored subscribers spelled several ways (SPEC §1: a local is born in
-- the study province, $province, compared as spelled): names equal up to case and runs of
-- spaces are one province to a reader but several to the pipeline, so a local spelled
-- 'SHANGHAI' counts as a migrant and province_diversity counts 'Anhui' and 'ANHUI' twice.
-- One row: the users born in $province as spelled, the users of any known province, and the
-- groups spelled several ways (spellings by users, most first), plus the study province's group
-- when none of its users spells it as $province.
WITH names AS (
    SELECT
        birth_province AS name,
        lower(regexp_replace(trim(birth_province), '\s+', ' ', 'g')) AS folded,
        count(*) AS users
    FROM subscribers
    WHERE birth_province IS NOT NULL
    GROUP BY birth_province
),
groups AS (
    SELECT
        folded,
        list(name ORDER BY users DESC, name ASC) AS spellings,
        sum(users) AS users,
        folded = lower(regexp_replace(trim($province), '\s+', ' ', 'g')) AS is_study_province
    FROM names
    GROUP BY folded
)
SELECT
    (SELECT coalesce(CAST(sum(users) AS BIGINT), 0) FROM names WHERE name = $province)
        AS users_in_province,
    (SELECT coalesce(CAST(sum(users) AS BIGINT), 0) FROM names) AS users_with_province,
    (SELECT coalesce(list({'spellings': spellings, 'users': CAST(users AS BIGINT),
                           'is_study_province': is_study_province}
                          ORDER BY users DESC, folded ASC), [])
     FROM groups
     WHERE len(spellings) > 1 OR (is_study_province AND NOT list_contains(spellings, $province))
    ) AS variants;
