-- The columns of the Parquet files $files held as times with a time zone (UTC instants) in some
-- files and as local times without one in others: DuckDB reads every file as the first file's
-- type, converting the others through UTC (a shift by the city's offset). One row per such
-- column: its name (lower case), how many files hold each kind and the first file of each.
SELECT
    lower(name) AS column_key,
    count(*) FILTER (duckdb_type LIKE 'TIMESTAMP WITH TIME ZONE%') AS aware_files,
    count(*) FILTER (
        duckdb_type LIKE 'TIMESTAMP%' AND duckdb_type NOT LIKE 'TIMESTAMP WITH TIME ZONE%'
    ) AS naive_files,
    min(file_name) FILTER (duckdb_type LIKE 'TIMESTAMP WITH TIME ZONE%') AS aware_file,
    min(file_name) FILTER (
        duckdb_type LIKE 'TIMESTAMP%' AND duckdb_type NOT LIKE 'TIMESTAMP WITH TIME ZONE%'
    ) AS naive_file
FROM parquet_schema($files)
GROUP BY lower(name)
HAVING aware_files > 0 AND naive_files > 0
ORDER BY column_key;
