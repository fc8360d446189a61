-- Which of the shared names $names (views over the model assets' own tables) are stored as
-- tables: a DuckDB file written before each model asset had its own table.
SELECT table_name FROM duckdb_tables() WHERE list_contains($names, table_name) ORDER BY table_name;
