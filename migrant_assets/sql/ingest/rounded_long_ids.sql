-- Identifiers of 16 to 20 digits in one column of a raw table ($raw, $col: canonical texts, of
-- every file read together) that end in the zeros a spreadsheet writes after its 15 significant
-- digits (an 18-digit ID card number saved with 000 as its last digits): people of one district
-- born on one day then share an id. One row when
-- - 2 or more distinct ids end so, with 6 zeros or more among them;
-- - they are 5 times or more what chance gives (an 18-digit id ends in 000 once in a thousand,
--   a 16-digit one in 0 once in ten);
-- - and fewer than half of them end in one zero more: a spreadsheet's 15th digit is any digit,
--   while ids that carry zeros of their own (an account number with a 00 suffix, seconds times
--   10^6) end in more.
-- A number written with commas between thousands is read as its digits. Counts and the first
-- such file only, never a value.
WITH long_ids AS (
    SELECT
        id,
        min(_file) AS first_file
    FROM (
        SELECT
            _file,
            replace(ltrim($col, '+'), ',', '') AS id
        FROM $raw
        WHERE $col IS NOT NULL
    )
    WHERE regexp_full_match(id, '[0-9]{16,20}')
    GROUP BY id
),

endings AS (
    SELECT
        first_file,
        length(id) - 15 AS tail,
        ends_with(id, repeat('0', length(id) - 15)) AS zeros_at_end,
        ends_with(id, repeat('0', length(id) - 14)) AS more_zeros
    FROM long_ids
)

SELECT
    min(first_file) FILTER (WHERE zeros_at_end) AS first_file,
    count(*) AS long_ids,
    count(*) FILTER (WHERE zeros_at_end) AS rounded_ids
FROM endings
HAVING
    count(*) FILTER (WHERE zeros_at_end) >= 2
    AND sum(tail) FILTER (WHERE zeros_at_end) >= 6
    AND count(*) FILTER (WHERE zeros_at_end) >= 5 * sum(pow(10, -tail))
    AND 2 * count(*) FILTER (WHERE more_zeros) < count(*) FILTER (WHERE zeros_at_end);
