-- Owner ids of 16 to 20 digits (raw_subscribers, every file read together) that end in the
-- zeros a spreadsheet writes after its 15 significant digits (an 18-digit ID card number saved
-- with 000 as its last digits), so that people of one district born on one day share one: one
-- row when
-- - 2 or more distinct ids end so, with 6 zeros or more among them, and one of them or more is
--   held by numbers whose sex or age (or birth date) differ: a rounded id merges people only
--   when they collide (one owner's several numbers agree);
-- - they are 5 times or more what chance gives (an 18-digit id ends in 000 once in a thousand,
--   a 16-digit one in 0 once in ten);
-- - and fewer than half of them end in one zero more: a spreadsheet's 15th digit is any digit,
--   while ids that carry zeros of their own (an account number with a 00 suffix, seconds times
--   10^6) end in more.
-- An id written in groups of three digits (310,115,… or with spaces of any kind, dots or
-- apostrophes between them) is read as its digits. Counts and the first such file only,
-- never a value.
WITH long_ids AS (
    SELECT
        id,
        min(_file) AS first_file,
        count(DISTINCT sex) > 1 OR count(DISTINCT coalesce(age, birth_year)) > 1 AS collides
    FROM (
        SELECT
            _file,
            sex,
            age,
            birth_year,
            CASE
                WHEN regexp_full_match(
                    owner_id, '[0-9]{1,3}([,.''\x{2019}\x{FF07}\p{Zs}][0-9]{3})+'
                )
                    THEN regexp_replace(owner_id, '[^0-9]', '', 'g')
                ELSE ltrim(owner_id, '+')
            END AS id
        FROM raw_subscribers
        WHERE owner_id IS NOT NULL
    )
    WHERE regexp_full_match(id, '[0-9]{16,20}')
    GROUP BY id
),

endings AS (
    SELECT
        first_file,
        collides,
        length(id) - 15 AS tail,
        ends_with(id, repeat('0', length(id) - 15)) AS zeros_at_end,
        ends_with(id, repeat('0', length(id) - 14)) AS more_zeros
    FROM long_ids
)

SELECT
    min(first_file) FILTER (WHERE zeros_at_end) AS first_file,
    count(*) AS long_ids,
    count(*) FILTER (WHERE zeros_at_end) AS rounded_ids,
    count(*) FILTER (WHERE zeros_at_end AND collides) AS shared_ids
FROM endings
HAVING
    count(*) FILTER (WHERE zeros_at_end) >= 2
    AND count(*) FILTER (WHERE zeros_at_end AND collides) >= 1
    AND sum(tail) FILTER (WHERE zeros_at_end) >= 6
    AND count(*) FILTER (WHERE zeros_at_end) >= 5 * sum(pow(10, -tail))
    AND 2 * count(*) FILTER (WHERE more_zeros) < count(*) FILTER (WHERE zeros_at_end);
