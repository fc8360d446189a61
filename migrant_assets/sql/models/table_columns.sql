-- The columns of the model table $table in their order: the generic writer inserts these.
SELECT column_name
FROM duckdb_columns()
WHERE table_name = $table AND NOT internal
ORDER BY column_index;
