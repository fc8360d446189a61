-- The subscribers' numbers written two ways (the number_forms check, ingest.number_forms): a
-- number of the subscribers or calls files written with a country code (number_forms_*,
-- number_forms_write.sql) whose national form is a subscriber's number, or is a number of the
-- calls while the subscribers write it with the country code. Either way some calls of one
-- person do not link to their subscriber. Counts, and the country code (with the trunk prefix
-- and national digits) most of them carry, for the fix; no identifier.
WITH subscriber_numbers AS (
    SELECT DISTINCT number_id FROM number_owner
    WHERE number_id IS NOT NULL
),

two_ways AS (
    SELECT f.* FROM number_forms_subscribers AS f
    INNER JOIN subscriber_numbers AS s ON f.national_id = s.number_id
    UNION
    -- landed_calls is the probe side: the few numbers with a country code are the hash table
    SELECT f.* FROM landed_calls AS l
    INNER JOIN number_forms_subscribers AS f ON l.caller_number = f.national_id
    UNION
    SELECT f.* FROM landed_calls AS l
    INNER JOIN number_forms_subscribers AS f ON l.callee_number = f.national_id
    UNION
    SELECT f.* FROM number_forms_landed_calls AS f
    INNER JOIN subscriber_numbers AS s ON f.national_id = s.number_id
),

by_code AS (
    SELECT
        country_code,
        trunk_prefix,
        national_digits,
        count(DISTINCT national_id) AS numbers
    FROM two_ways
    GROUP BY ALL
),

best AS (
    SELECT
        country_code,
        trunk_prefix,
        national_digits
    FROM by_code
    ORDER BY numbers DESC, country_code ASC, trunk_prefix ASC NULLS FIRST, national_digits ASC
    LIMIT 1
)

SELECT
    (SELECT count(*) FROM subscriber_numbers) AS subscriber_numbers,
    (SELECT count(DISTINCT national_id) FROM two_ways) AS written_two_ways,
    best.country_code,
    best.trunk_prefix,
    best.national_digits,
    -- every trunk prefix found with the best country code and length, most numbers first
    -- (044 beside 045: one rule lists them all)
    (
        SELECT list(b.trunk_prefix ORDER BY b.numbers DESC, b.trunk_prefix ASC)
        FROM by_code AS b
        WHERE
            b.trunk_prefix IS NOT NULL
            AND b.country_code = best.country_code
            AND b.national_digits = best.national_digits
    ) AS trunk_prefixes
FROM (SELECT 1) AS one
LEFT JOIN best ON true;
