-- The TEMP table graph_neighbourhood (migrants_neighbourhood.sql) for a window that keeps every
-- edge: the window graphs' SQL names it, and reads it only with $migrants_only.
CREATE TEMP TABLE IF NOT EXISTS graph_neighbourhood (party BIGINT);
