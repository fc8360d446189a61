-- The widest line of one CSV file, before the parser reads it (contract.guard_wide_lines):
-- every line read whole as one column. A line shorter than $max_fields bytes cannot have more
-- fields, so only the longer ones are counted by each candidate delimiter, and numbered in
-- file order (a streaming row_number, with insertion order preserved).
-- DuckDB's parser writes one reject row per extra field, so a line of a few hundred thousand
-- fields would take hours; this scan takes one pass at the speed of reading the file.
WITH lines AS (
    SELECT
        line,
        row_number() OVER () AS line_number
    FROM read_csv(
        $file, columns = {'line': 'VARCHAR'}, delim = E'\x1f\x1e', quote = '', escape = '',
        header = false, auto_detect = false, encoding = $encoding,
        max_line_size = $max_line_size
    )
),

long_lines AS (
    SELECT
        line_number,
        list_max(list_transform(
            $delimiters,
            lambda d: (length(line) - length(replace(line, d, ''))) // length(d)
        )) + 1 AS fields
    FROM lines
    WHERE length(line) >= $max_fields
)

SELECT
    max(fields) AS fields,
    arg_max(line_number, fields) AS line_number
FROM long_lines
HAVING max(fields) > $max_fields;
