-- Which of the Parquet files $files hold each of the columns $names (lower case), for the
-- reader's schema check: a column added or renamed between deliveries would be silently empty
-- in some files.
SELECT
    lower(name) AS column_key,
    list(DISTINCT file_name) AS holding
FROM parquet_schema($files)
WHERE list_contains($names, lower(name))
GROUP BY lower(name)
ORDER BY column_key;
