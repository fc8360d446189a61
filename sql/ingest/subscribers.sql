-- Validate, pseudonymise and merge subscribers by owner (SPEC §1, §3). Input: raw_subscribers.
-- Output: temp table judged_subscribers (every row with its reason, NULL when accepted).
CREATE OR REPLACE TEMP TABLE typed_subscribers AS
SELECT
    _file,
    _row,
    CASE WHEN nullif(trim(number), '') IS NOT NULL
        THEN pseudonym('number', trim(number)) END AS number_id,
    CASE WHEN nullif(trim(owner_id), '') IS NOT NULL
        THEN pseudonym('user', trim(owner_id)) END AS user_id,
    TRY_CAST(age AS INTEGER) AS age,
    CASE upper(trim(sex)) WHEN 'M' THEN 'M' WHEN 'MALE' THEN 'M' WHEN 'F' THEN 'F'
        WHEN 'FEMALE' THEN 'F' END AS sex,
    nullif(trim(birth_province), '') AS birth_province,
    TRY_CAST(is_local_number AS BOOLEAN) AS is_local_number,
    coalesce(nullif(lower(trim(user_type)), ''), 'regular') AS user_type,
    age AS age_text,
    sex AS sex_text,
    is_local_number AS local_text
FROM raw_subscribers;

CREATE OR REPLACE TEMP TABLE judged_subscribers AS
SELECT
    * EXCLUDE (reason),
    CASE
        WHEN reason IS NOT NULL THEN reason
        WHEN row_number() OVER (PARTITION BY number_id, reason IS NULL ORDER BY _file, _row) > 1
            THEN 'duplicate_number'
    END AS reason
FROM (
    SELECT
        *,
        CASE
            WHEN number_id IS NULL OR user_id IS NULL THEN 'missing_id'
            WHEN (age_text IS NOT NULL AND trim(age_text) <> ''
                    AND (age IS NULL OR age NOT BETWEEN 0 AND 120))
                OR (sex_text IS NOT NULL AND trim(sex_text) <> '' AND sex IS NULL)
                OR is_local_number IS NULL THEN 'bad_attribute'
        END AS reason
    FROM typed_subscribers
);
DROP TABLE typed_subscribers;
