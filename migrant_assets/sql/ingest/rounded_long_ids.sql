-- Identifiers of 16 to 20 digits in one file's column of a raw table ($raw, $col: canonical
-- texts) that end in the zeros a spreadsheet writes after its 15 significant digits
-- (310115199003121234 saved as 310115199003121000): one row, the first such file, when half or
-- more of them end so and those endings hold 6 zeros or more (by chance an 18-digit id ends in
-- 000 once in a thousand, a 16-digit one in 0 once in ten). People of one district born on one
-- day then share an id. Counts and the file only, never a value.
WITH long_ids AS (
    SELECT DISTINCT
        _file,
        ltrim($col, '+') AS id
    FROM $raw
    WHERE regexp_full_match(ltrim($col, '+'), '[0-9]{16,20}')
),

endings AS (
    SELECT
        _file,
        length(id) - 15 AS tail,
        ends_with(id, repeat('0', length(id) - 15)) AS zeros_at_end
    FROM long_ids
)

SELECT
    _file,
    count(*) AS long_ids,
    count(*) FILTER (WHERE zeros_at_end) AS rounded_ids
FROM endings
GROUP BY _file
HAVING
    sum(tail) FILTER (WHERE zeros_at_end) >= 6
    AND 2 * count(*) FILTER (WHERE zeros_at_end) >= count(*)
ORDER BY _file
LIMIT 1;
