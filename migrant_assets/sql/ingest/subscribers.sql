-- Validate, pseudonymise and merge subscribers by owner (SPEC §1, §3). Input: raw_subscribers
-- (contract.read_table: identifiers canonical, null tokens NULL). Output: temp table
-- judged_subscribers (every row with its reason, NULL when accepted). Without an owner_id
-- column ($has_owner false) each number is its own owner. An age or sex given but unreadable
-- (age_unreadable, sex_unreadable) is unknown (NULL) on a row kept: neither decides a label,
-- and the readable_attributes check counts them; an unreadable local flag, which decides the
-- labels, is a bad_attribute.
-- Every owner id and number of the source that no attribute could be (6 characters or more,
-- as the privacy search's identifiers, of letters and digits, or an e-mail: CUST-00123,
-- u_48213, jane.doe@example.com; not a 4G), lower-cased: an attribute equal to one is another
-- person's identifier (a shifted export, an account-holder field mapped).
CREATE OR REPLACE TEMP TABLE source_identifiers AS
SELECT DISTINCT lower(x) AS id
FROM (SELECT unnest([owner_id, number]) AS x FROM raw_subscribers)
WHERE length(x) >= 6
    AND (regexp_matches(x, '[0-9]') AND regexp_matches(x, '[A-Za-z]') OR contains(x, '@'));

CREATE OR REPLACE TEMP TABLE typed_subscribers AS
SELECT
    _file,
    _row,
    CASE WHEN number IS NOT NULL THEN pseudonym('number', number) END AS number_id,
    CASE
        WHEN $has_owner AND owner_id IS NOT NULL THEN pseudonym('user', owner_id)
        WHEN NOT $has_owner AND number IS NOT NULL THEN pseudonym('user', number)
    END AS user_id,
    -- an age is a whole number of years: '35.5' is unreadable, never rounded; or the whole
    -- years from a birth year (1986) or birth date (1986-03-12, 19860312, 1986/03/12; a
    -- Parquet timestamp at midnight) to the study month's first day ($month_start)
    CASE
        WHEN regexp_full_match(age, '[0-9]{1,3}(\.0*)?')
            THEN CAST(CAST(age AS DOUBLE) AS INTEGER)
        WHEN regexp_full_match(birth_year, '[0-9]{4}(\.0*)?')
            THEN year($month_start) - CAST(CAST(birth_year AS DOUBLE) AS INTEGER)
        WHEN regexp_full_match(birth_year, '[0-9]{4}[-/]?[0-9]{2}[-/]?[0-9]{2}( 00:00:00)?')
            THEN year($month_start) - year(birth_date) - CASE
                WHEN month(birth_date) * 100 + day(birth_date)
                    > month($month_start) * 100 + day($month_start) THEN 1 ELSE 0
            END
    END AS age,
    -- the words of the studies' likely countries too (Spanish, Portuguese, French, German,
    -- Turkish); a single letter only as M and F (Spanish H/M is the recode's to say)
    CASE
        WHEN upper(sex) IN ('M', 'MALE', '男', '男性') THEN 'M'
        WHEN upper(sex) IN ('F', 'FEMALE', '女', '女性') THEN 'F'
        WHEN strip_accents(lower(translate(sex, 'ı', 'i'))) IN (
            'masculino', 'homme', 'masculin', 'mannlich', 'erkek'
        ) THEN 'M'
        WHEN strip_accents(lower(translate(sex, 'ı', 'i'))) IN (
            'feminino', 'femenino', 'femme', 'feminin', 'weiblich', 'kadin'
        ) THEN 'F'
    END AS sex,
    birth_province,
    CASE
        WHEN strip_accents(lower(translate(is_local_number, 'ı', 'i'))) IN (
            'true', 't', '1', 'yes', 'y', '是', 'si', 'sim', 'oui', 'ja', 'evet',
            'verdadero', 'verdadeiro', 'vrai', 'wahr', 'vero', 'dogru'
        ) THEN true
        WHEN strip_accents(lower(translate(is_local_number, 'ı', 'i'))) IN (
            'false', 'f', '0', 'no', 'n', '否', 'nao', 'non', 'nein', 'hayir',
            'falso', 'faux', 'falsch', 'yanlis'
        ) THEN false
    END AS is_local_number,
    coalesce(lower(user_type), 'regular') AS user_type,
    age AS age_text,
    birth_year AS birth_text,
    -- a birth date is personal data: only its form is ever shown (1986-03-12 as 9999-99-99,
    -- 12 March 1986 as 99 aaaaa 9999)
    left(regexp_replace(regexp_replace(birth_year, '[0-9]', '9', 'g'), '[^9 /.:-]', 'a', 'g'),
        64) AS birth_form,
    sex AS sex_text,
    is_local_number AS local_text,
    -- an identifier a spreadsheet rounded (canonical.sql marks it '~'): rounded_id
    starts_with(number, '~') OR starts_with(owner_id, '~') AS rounded,
    -- a number or owner id with digits hidden (an ID card 340104********1234): masked_id, never
    -- the one user of everyone it stands for
    coalesce(masked(number) OR masked(owner_id), false) AS masked,
    -- an attribute column that holds the row's own owner id or number, or another's of
    -- source_identifiers (a column mapped by mistake, an account field): bad_attribute, and
    -- never stored or shown
    coalesce(lower(trim(birth_province)) IN (lower(owner_id), lower(number))
        OR lower(trim(birth_province)) IN (SELECT id FROM source_identifiers), false)
        AS province_is_id,
    coalesce(lower(trim(user_type)) IN (lower(owner_id), lower(number))
        OR lower(trim(user_type)) IN (SELECT id FROM source_identifiers), false) AS type_is_id,
    coalesce(lower(trim(age)) IN (lower(owner_id), lower(number))
        OR lower(trim(sex)) IN (lower(owner_id), lower(number))
        OR lower(trim(age)) IN (SELECT id FROM source_identifiers)
        OR lower(trim(sex)) IN (SELECT id FROM source_identifiers), false) AS demographic_is_id
FROM (
    SELECT
        *,
        CAST(try_strptime(
            birth_year, ['%Y-%m-%d', '%Y%m%d', '%Y/%m/%d', '%Y-%m-%d %H:%M:%S']
        ) AS DATE) AS birth_date
    FROM raw_subscribers
);

-- A number listed again is duplicate_number, the first valid row in file order kept (the last
-- with the mapping's subscribers.keep: last, $keep_last: a history appended over time);
-- differs_from_kept: the row gives another owner or attribute than the kept one (the
-- duplicates_agree check counts them: a birth province and the local flag decide who is local).
CREATE OR REPLACE TEMP TABLE judged_subscribers AS
SELECT
    * EXCLUDE (reason, age, row_values),
    CASE WHEN NOT age_unreadable THEN age END AS age,
    CASE
        WHEN reason IS NOT NULL THEN reason
        WHEN row_number() OVER number_rows > 1 THEN 'duplicate_number'
    END AS reason,
    reason IS NULL AND (
        row_values IS DISTINCT FROM first_value(row_values) OVER number_rows
    ) AS differs_from_kept
FROM (
    SELECT
        *,
        -- an unreadable age is unknown on the row kept, as it is stored
        row(
            user_id, birth_province, is_local_number, CASE WHEN age BETWEEN 0 AND 120 THEN age END,
            sex, user_type
        ) AS row_values,
        coalesce(age_text, birth_text) IS NOT NULL AND coalesce(age NOT BETWEEN 0 AND 120, true)
            AS age_unreadable,
        sex_text IS NOT NULL AND sex IS NULL AS sex_unreadable,
        CASE
            WHEN number_id IS NULL OR user_id IS NULL THEN 'missing_id'
            WHEN rounded THEN 'rounded_id'
            WHEN masked THEN 'masked_id'
            WHEN is_local_number IS NULL
                -- a number in the province column mapped by mistake (7 or more digits): the
                -- province is stored, so it is never one
                OR length(regexp_replace(coalesce(birth_province, ''), '[^0-9]', '', 'g')) >= 7
                OR province_is_id OR type_is_id OR demographic_is_id
                THEN 'bad_attribute'
        END AS reason
    FROM typed_subscribers
)
WINDOW number_rows AS (
    PARTITION BY number_id, reason IS NULL
    ORDER BY
        CASE WHEN $keep_last THEN NULL ELSE _file END ASC,
        CASE WHEN $keep_last THEN NULL ELSE _row END ASC,
        CASE WHEN $keep_last THEN _file END DESC,
        CASE WHEN $keep_last THEN _row END DESC
);
DROP TABLE typed_subscribers;
DROP TABLE source_identifiers;
