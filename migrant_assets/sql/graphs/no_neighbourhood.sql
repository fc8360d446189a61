-- The TEMP table graph_neighbourhood (migrants_neighbourhood.sql), empty, for a window that keeps
-- every edge: the window graphs' SQL names it (and reads it only with $migrants_only); replaced,
-- so no party of an earlier window is left in it.
CREATE OR REPLACE TEMP TABLE graph_neighbourhood (party BIGINT);
