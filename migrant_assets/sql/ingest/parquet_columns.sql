-- Which of the Parquet files $files hold each of the columns $names (lower case), which
-- hold it with no type and with which type the others do, for the reader's schema check:
-- DuckDB reads every file as the first file's columns, so a column added or renamed between
-- deliveries is silently empty or ignored in some files.
SELECT
    lower(name) AS column_key,
    list(DISTINCT file_name) AS holding,
    -- files holding it with no type (every value null, as pandas and pyarrow write a column
    -- without a value): DuckDB cannot read the others' values as the first file's NULL type
    list(DISTINCT file_name) FILTER (WHERE duckdb_type = '"NULL"') AS untyped,
    -- each typed file's type: the reader casts every file's values to the first file's
    list({'file': file_name, 'type': duckdb_type}) FILTER (
        WHERE duckdb_type != '"NULL"'
    ) AS typed
FROM parquet_schema($files)
WHERE list_contains($names, lower(name))
GROUP BY lower(name)
ORDER BY column_key;
