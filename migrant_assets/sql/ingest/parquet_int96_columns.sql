-- The columns of the Parquet files $files stored as INT96 (the legacy timestamp type Spark and
-- Impala write, which holds no time zone: Spark's are UTC instants, Impala's and Hive's local
-- times), lower case, with the first file holding each.
SELECT
    lower(name) AS column_key,
    min(file_name) AS first_file
FROM parquet_schema($files)
WHERE type = 'INT96'
GROUP BY lower(name)
ORDER BY column_key;
