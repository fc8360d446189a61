-- The columns of each model table of $tables that exists, in their order: the generic writer
-- inserts these.
SELECT
    table_name,
    list(column_name ORDER BY column_index) AS columns
FROM duckdb_columns()
WHERE list_contains($tables, table_name) AND NOT internal
GROUP BY table_name;
