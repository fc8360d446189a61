-- The neighbourhood key of the graph of first-k-days window $window_id, written with the graph in
-- its transaction (graphs.build_window_graph): its features and window k + 1 read it.
DELETE FROM first_k_days_graph_neighbourhood WHERE window_id = $window_id;
INSERT INTO first_k_days_graph_neighbourhood
SELECT
    $window_id AS window_id,
    $neighbourhood AS neighbourhood;
