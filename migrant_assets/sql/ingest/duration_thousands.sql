-- The first calls file read into raw_calls whose durations are whole numbers beside values
-- shaped 1.234 (one to three digits, then groups of three after dots) and no other fraction:
-- a European export's '.' between thousands (1.234 is 1,234 s), which the reader would take
-- for 1.234 s. A fraction of another shape (12.5, 0.250) says the dots are decimal points.
-- Counts and the file only, never a value.
WITH shapes AS (
    SELECT
        _file,
        regexp_full_match(duration, '[0-9]+') AS whole,
        regexp_full_match(duration, '[1-9][0-9]{0,2}(\.[0-9]{3})+') AS dotted,
        regexp_full_match(duration, '-?[0-9]*\.[0-9]+') AS fraction
    FROM raw_calls
    WHERE duration IS NOT NULL
)

SELECT
    _file,
    count(*) FILTER (WHERE whole) AS whole_values,
    count(*) FILTER (WHERE dotted) AS dotted_values
FROM shapes
GROUP BY _file
HAVING
    count(*) FILTER (WHERE dotted) > 0
    AND count(*) FILTER (WHERE whole) > 0
    AND count(*) FILTER (WHERE fraction AND NOT dotted) = 0
ORDER BY _file
LIMIT 1;
