-- Birth provinces of the stored subscribers spelled several ways (SPEC §1: a local is born in
-- the study province, $province, compared as spelled): names equal up to case, accents,
-- spaces, hyphens, dots and apostrophes (Île-de-France, ILE DE FRANCE), a suffix (Province,
-- Shi, City, Zhuang Autonomous Region; 省, 市, 自治区) or the script ('上海市' and 'Shanghai',
-- through the province names
-- $spellings -> $provinces of data/province_names.csv) are one province to a reader but
-- several to the pipeline, so a local spelled '上海市' counts as a migrant and
-- province_diversity counts 'Anhui' and 'Anhui Province' twice.
-- One row: the users born in $province as spelled, the users of any known province, and the
-- groups spelled several ways (spellings by users, most first), plus the study province's group
-- when none of its users spells it as $province.
-- A name up to case, accents, spaces, hyphens, dots and apostrophes; a name with its suffix
-- removed is the same province only when that is a province of data/province_names.csv
-- ('Anhui Province' is Anhui, while 'Mexico City' is not the State of Mexico); a 6-digit code of
-- GB/T 2260 is its province's, and so is a place written after its province (上海市浦东新区) or
-- a one-character abbreviation (沪, 皖). Turkish's dotless ı is an i (strip_accents keeps it:
-- Diyarbakır, DIYARBAKIR).
CREATE OR REPLACE TEMP MACRO province_key(x) AS
lower(strip_accents(translate(regexp_replace(trim(x), '[\s.''’-]+', '', 'g'), 'ı', 'i')));
CREATE OR REPLACE TEMP MACRO province_fold(x) AS regexp_replace(
    province_key(x),
    '(province|shi|city|municipality|(zhuang|hui|uygur|uyghur|uighur)?autonomousregion'
    || '|specialadministrativeregion|sar|省|市'
    || '|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$', ''
);
WITH aliases AS (
    SELECT DISTINCT
        province_fold(spelling) AS alias,
        province_fold(province) AS canonical
    FROM (
        SELECT
            unnest($spellings) AS spelling,
            unnest($provinces) AS province
        UNION ALL
        SELECT
            unnest($provinces),
            unnest($provinces)
    )
),
names AS (
    SELECT
        n.name,
        coalesce(a.canonical, b.canonical, n.key) AS folded,
        n.users
    FROM (
        SELECT
            birth_province AS name,
            province_key(birth_province) AS key,
            province_fold(birth_province) AS fold,
            count(*) AS users
        FROM subscribers
        WHERE birth_province IS NOT NULL
        GROUP BY birth_province
    ) AS n
    -- a county's or city's code of GB/T 2260 (310115, an ID card's first six digits) is its
    -- province's (310000): locals whose birth place is written so are counted as migrants
    LEFT JOIN aliases AS a ON a.alias = CASE
        WHEN regexp_full_match(n.fold, '[1-8][0-9]{5}') THEN left(n.fold, 2) || '0000'
        ELSE n.fold
    END
    -- a place below the province written after it, as an ID card's address gives it
    -- (上海市浦东新区, 安徽省合肥市): its province's
    LEFT JOIN aliases AS b ON b.alias = regexp_extract(
        n.key, '^(.{2,3}?)(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区).+$', 1
    )
),
study AS (
    SELECT coalesce(max(canonical), province_key($province)) AS folded
    FROM aliases
    WHERE alias = province_fold($province)
),
groups AS (
    SELECT
        folded,
        list(name ORDER BY users DESC, name ASC) AS spellings,
        sum(users) AS users,
        folded = (SELECT s.folded FROM study AS s) AS is_study_province
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
