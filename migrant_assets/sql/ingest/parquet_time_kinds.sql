-- How the Parquet files $files hold their times, per column holding times in any of them (name
-- in lower case): in how many files with a time zone (UTC instants) and without one (local
-- times), with the first file of each kind, and the first file holding it as INT96 (the legacy
-- type Spark and Impala write, read as local times: Spark's are UTC instants, Impala's and
-- Hive's local times). DuckDB reads every file as the first file's type, converting the others
-- through UTC: a column of both kinds would be shifted by the city's offset in some files.
-- Instants are TIMESTAMP WITH TIME ZONE, or TIMESTAMPTZ_NS (pandas' nanoseconds).
SELECT
    lower(name) AS column_key,
    count(*) FILTER (
        duckdb_type LIKE 'TIMESTAMP WITH TIME ZONE%' OR duckdb_type LIKE 'TIMESTAMPTZ%'
    ) AS aware_files,
    count(*) FILTER (
        duckdb_type LIKE 'TIMESTAMP%' AND duckdb_type NOT LIKE 'TIMESTAMP WITH TIME ZONE%'
        AND duckdb_type NOT LIKE 'TIMESTAMPTZ%'
    ) AS naive_files,
    min(file_name) FILTER (
        duckdb_type LIKE 'TIMESTAMP WITH TIME ZONE%' OR duckdb_type LIKE 'TIMESTAMPTZ%'
    ) AS aware_file,
    min(file_name) FILTER (
        duckdb_type LIKE 'TIMESTAMP%' AND duckdb_type NOT LIKE 'TIMESTAMP WITH TIME ZONE%'
        AND duckdb_type NOT LIKE 'TIMESTAMPTZ%'
    ) AS naive_file,
    min(file_name) FILTER (type = 'INT96') AS int96_file
FROM parquet_schema($files)
WHERE duckdb_type LIKE 'TIMESTAMP%' OR type = 'INT96'
GROUP BY lower(name)
ORDER BY column_key;
