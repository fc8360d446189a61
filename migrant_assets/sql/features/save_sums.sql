-- Store the additive sums of the first-k-days window $window_id (accumulate.sql's feat_places,
-- feat_moves, feat_moments) for the next window, with the province they were summed for and the
-- calls of its days $start..$end. Delete-then-insert; run inside one transaction.
DELETE FROM features_first_k_days_sums WHERE window_id = $window_id;
DELETE FROM features_first_k_days_places WHERE window_id = $window_id;
DELETE FROM features_first_k_days_moves WHERE window_id = $window_id;
DELETE FROM features_first_k_days_moments WHERE window_id = $window_id;

INSERT INTO features_first_k_days_sums (window_id, province, n_calls)
SELECT $window_id, $province, COUNT(*)
FROM calls
WHERE call_date BETWEEN $start AND $end;

INSERT INTO features_first_k_days_places (window_id, party, cell_id, is_home, is_work, n)
SELECT $window_id, party, cell_id, is_home, is_work, n
FROM feat_places;

INSERT INTO features_first_k_days_moves (window_id, party, first_cell, last_cell, moving_km)
SELECT $window_id, party, first_cell, last_cell, moving_km
FROM feat_moves;

INSERT INTO features_first_k_days_moments (
    window_id, party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
)
SELECT $window_id, party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
FROM feat_moments;
