-- The neighbourhood key (neighbourhood_key.sql) the stored graph of first-k-days window
-- $window_id was built with (graphs.stored_graph_key). Bookkeeping.
SELECT neighbourhood
FROM first_k_days_graph_neighbourhood
WHERE window_id = $window_id;
