-- Store in $forms_table (number_forms_<asset>, schema.sql) the national forms the numbers of
-- table $numbers (column number: canonical, as the ingestion made them) could stand for when a
-- number is written with a country code, as pseudonyms, for the number_forms check
-- (number_forms.sql). A number is taken as written with one when it
-- - starts with + or 00: the country code is its first 1, 2 or 3 digits after it;
-- - has digits only and 1 to 3 more than the most common length of the source's numbers of
--   digits only ('86139…' beside '139…'): its first 1, 2 or 3 digits;
-- - has digits only and the usual length, while nine in ten of those share their first 2 or 3
--   digits ('86139…', '86150…' beside a few '139…'): those digits.
-- A country code never starts with 0; the national form (6 digits or more) is what follows
-- it, as it is or after a trunk '0'. A number of 7 digits or more whose first is a 0 ('0139…'
-- beside '139…', or a calls file of '06…' beside the subscribers' '6…') stands for the number
-- without it (country code '', trunk prefix '0'); one 2 or 3 digits longer than the usual
-- length of the numbers not starting with 0, for the number without those first digits (a
-- dialled prefix: Mexico's 044, 045 and 01, however many numbers of the file carry one); one
-- 4 or 5 digits longer and not starting with 0, for the number without them (China's IP long
-- distance prefixes 17951, 12593).
-- Inside the asset's transaction; no number is stored.
DELETE FROM $forms_table;

INSERT INTO $forms_table
WITH numbers AS (
    SELECT
        regexp_full_match(n.number, '([+]|00)[0-9]+') AS international,
        regexp_replace(n.number, '^([+]|00)', '') AS digits
    FROM (SELECT DISTINCT number FROM $numbers) AS n
    WHERE regexp_full_match(n.number, '([+]|00)?[0-9]+')
),

usual AS (
    -- the most common length of the numbers of digits only (the longest of equals), and of
    -- those not starting with 0 (the national numbers of a file whose numbers are mostly
    -- dialled with a prefix: 044 55…)
    SELECT
        arg_max(lengths.len, (lengths.n, lengths.len)) AS len,
        arg_max(lengths.len, (lengths.unprefixed, lengths.len))
            FILTER (WHERE lengths.unprefixed > 0) AS unprefixed_len
    FROM (
        SELECT
            length(digits) AS len,
            count(*) AS n,
            count(*) FILTER (WHERE NOT starts_with(digits, '0')) AS unprefixed
        FROM numbers
        WHERE NOT international
        GROUP BY ALL
    ) AS lengths
),

usual_numbers AS (
    SELECT numbers.digits
    FROM numbers
    CROSS JOIN usual
    WHERE NOT numbers.international AND length(numbers.digits) = usual.len
),

shared_prefix AS (
    -- the first 2 or 3 digits nine in ten of the usual numbers share (a country code)
    SELECT
        p.k,
        p.prefix
    FROM (
        SELECT
            k.k,
            left(u.digits, k.k) AS prefix,
            count(*) AS n
        FROM usual_numbers AS u
        CROSS JOIN range(2, 4) AS k (k)
        GROUP BY k.k, left(u.digits, k.k)
    ) AS p
    CROSS JOIN (SELECT count(*) AS total FROM usual_numbers) AS all_usual
    WHERE p.n >= 0.9 * all_usual.total AND NOT starts_with(p.prefix, '0')
),

coded AS (
    -- numbers written with a country code, with the code's possible lengths k
    SELECT
        n.digits,
        k.k
    FROM numbers AS n
    CROSS JOIN usual
    CROSS JOIN range(1, 4) AS k (k)
    WHERE
        n.international
        OR length(n.digits) BETWEEN usual.len + 1 AND usual.len + 3
    UNION ALL
    SELECT
        u.digits,
        p.k
    FROM usual_numbers AS u
    INNER JOIN shared_prefix AS p ON starts_with(u.digits, p.prefix)
),

forms AS (
    -- the national form, bare or after a trunk '0'
    SELECT
        left(c.digits, c.k) AS country_code,
        t.trunk_prefix,
        substr(c.digits, c.k + 1) AS national,
        t.trunk_prefix || substr(c.digits, c.k + 1) AS form
    FROM coded AS c
    CROSS JOIN (SELECT '' AS trunk_prefix UNION ALL SELECT '0' AS trunk_prefix) AS t
    WHERE NOT starts_with(c.digits, '0') AND length(c.digits) - c.k >= 6
    UNION ALL
    -- the first digit a 0: a trunk prefix, whether the other numbers of the file are without
    -- it or not (a calls file of 06… beside subscribers' +33 6…)
    SELECT
        '' AS country_code,
        '0' AS trunk_prefix,
        substr(n.digits, 2) AS national,
        substr(n.digits, 2) AS form
    FROM numbers AS n
    WHERE
        NOT n.international
        AND starts_with(n.digits, '0')
        AND length(n.digits) >= 7
    UNION ALL
    -- a dialled prefix before a number of the usual length of those without one: of 2 or 3
    -- digits starting with 0, or of 4 or 5 not starting with 0 (China's IP long distance:
    -- 17951, 12593 before a mobile number)
    SELECT
        '' AS country_code,
        left(n.digits, length(n.digits) - u.unprefixed_len) AS trunk_prefix,
        right(n.digits, u.unprefixed_len) AS national,
        right(n.digits, u.unprefixed_len) AS form
    FROM numbers AS n
    CROSS JOIN usual AS u
    WHERE
        NOT n.international
        AND u.unprefixed_len >= 6
        AND CASE
            WHEN starts_with(n.digits, '00') THEN false
            WHEN starts_with(n.digits, '0') THEN length(n.digits) - u.unprefixed_len IN (2, 3)
            ELSE length(n.digits) - u.unprefixed_len IN (4, 5)
        END
)

SELECT DISTINCT
    country_code,
    nullif(trunk_prefix, '') AS trunk_prefix,
    length(national) AS national_digits,
    pseudonym('number', form) AS national_id
FROM forms;
