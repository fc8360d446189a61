-- Whether a table or view named $name exists (a shared name may be a view over the tables of
-- several assets).
SELECT count(*) > 0 AS found
FROM (
    SELECT table_name AS name FROM duckdb_tables()
    UNION ALL
    SELECT view_name AS name FROM duckdb_views() WHERE NOT internal
)
WHERE name = $name;
