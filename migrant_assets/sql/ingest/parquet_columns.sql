-- Which of the Parquet files $files hold each of the columns $names (lower case), and with
-- which types, for the reader's schema check: a column added or renamed between deliveries
-- would be silently empty in some files, and one held with types the reader combines into one
-- that loses a value's meaning (integers beside floats, dates beside timestamps) misread.
SELECT
    lower(name) AS column_key,
    list(DISTINCT file_name) AS holding,
    list(DISTINCT duckdb_type ORDER BY duckdb_type) AS types,
    min(file_name) FILTER (WHERE duckdb_type IN ('FLOAT', 'DOUBLE')) AS float_file,
    min(file_name) FILTER (WHERE duckdb_type = 'DATE') AS date_file
FROM parquet_schema($files)
WHERE list_contains($names, lower(name))
GROUP BY lower(name)
ORDER BY column_key;
