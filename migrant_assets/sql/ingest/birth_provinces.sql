-- What the stored subscribers' birth provinces and local flags say about the mapping (SPEC §3:
-- a local is born in the study province $province and holds a local number). One row:
-- - users_with_province, and unnamed_users: those whose province names no province, a word for
--   unknown (未知, Unknown, N/A, Desconocido, Inconnu: unknown_word_users) or text without a
--   letter of any script (a code 340000, '-', '?'): counted as born elsewhere, they become
--   migrants; unnamed: the 5 commonest such values with their users;
-- - born_in_province, and born_local_number: those of them holding a local number (almost all
--   of an operator's subscribers born in its city, unless the flag is read the other way).
WITH users AS (
    SELECT
        birth_province,
        has_local_number,
        birth_province IS NOT NULL AND NOT regexp_matches(birth_province, '\p{L}') AS is_code,
        birth_province IS NOT NULL AND (
            strip_accents(lower(trim(translate(birth_province, 'ı', 'i')))) IN (
                'unknown', 'unk', 'n/a', 'na', 'n/d', 'none', 'null', 'nil', 'other', 'others',
                'not known', 'not available', 'missing', 'unspecified',
                '未知', '不详', '其他', '其它', '无', '空', '未登记', '未填',
                -- Spanish, Portuguese, French, German, Italian
                'desconocido', 'desconocida', 'no especificado', 'no especificada', 'sin dato',
                'sin datos', 'sin informacion', 'no disponible', 'otro', 'otros', 'ninguno',
                's/d', 'desconhecido', 'nao informado', 'nao especificado', 'ignorado',
                'inconnu', 'inconnue', 'non renseigne', 'non renseignee', 'non precise',
                'non specifie', 'autre', 'autres', 'aucun', 'n/c', 'unbekannt',
                'keine angabe', 'k.a.', 'sonstige', 'sconosciuto', 'non specificato', 'altro',
                -- Turkish
                'bilinmiyor', 'bilinmeyen', 'belirtilmemis', 'diger'
            )
            OR NOT regexp_matches(birth_province, '\p{L}')
        ) AS unnamed
    FROM subscribers
    WHERE birth_province IS NOT NULL
),
commonest AS (
    SELECT
        birth_province AS value,
        count(*) AS users
    FROM users
    WHERE unnamed
    GROUP BY birth_province
    ORDER BY users DESC, value ASC
    LIMIT 5
)
SELECT
    (SELECT count(*) FROM users) AS users_with_province,
    (SELECT count(*) FROM users WHERE unnamed) AS unnamed_users,
    (SELECT count(*) FROM users WHERE unnamed AND NOT is_code) AS unknown_word_users,
    (SELECT coalesce(list({'value': value, 'users': users} ORDER BY users DESC, value ASC), [])
     FROM commonest) AS unnamed,
    (SELECT count(*) FROM users WHERE birth_province = $province) AS born_in_province,
    (SELECT count(*) FROM users WHERE birth_province = $province AND has_local_number)
        AS born_local_number;
