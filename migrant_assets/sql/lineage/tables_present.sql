-- Which of the tables (or views) $names exist in the study's file: lineage.plan's refusal of
-- an input never materialized.
SELECT table_name AS name
FROM duckdb_tables()
WHERE NOT temporary AND list_contains($names, table_name)
UNION ALL
SELECT view_name AS name
FROM duckdb_views()
WHERE NOT temporary AND list_contains($names, view_name);
