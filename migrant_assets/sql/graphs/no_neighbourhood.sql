-- The TEMP table graph_neighbourhood (migrants_neighbourhood.sql), empty, for a window that keeps
-- every edge: the window graphs' SQL names it (and reads it only with $migrants_only), and the
-- stored sums' key counts its parties (neighbourhood_key.sql): none left from an earlier window.
CREATE OR REPLACE TEMP TABLE graph_neighbourhood (party BIGINT);
