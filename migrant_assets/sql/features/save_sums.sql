-- Store the additive sums of the first-k-days window $window_id (accumulate.sql's feat_places,
-- feat_moves, feat_moments) and its priced positions (housing_price.sql) for the next window,
-- with the province they were summed for and what they were computed from ($n_calls, $inputs:
-- sums_key.sql). Delete-then-insert; run inside one transaction.
DELETE FROM features_first_k_days_sums WHERE window_id = $window_id;
DELETE FROM features_first_k_days_places WHERE window_id = $window_id;
DELETE FROM features_first_k_days_moves WHERE window_id = $window_id;
DELETE FROM features_first_k_days_moments WHERE window_id = $window_id;
DELETE FROM features_first_k_days_positions WHERE window_id = $window_id;

INSERT INTO features_first_k_days_sums (window_id, province, n_calls, inputs)
VALUES ($window_id, $province, $n_calls, $inputs);

INSERT INTO features_first_k_days_places (window_id, party, cell_id, n, n_home, n_work)
SELECT $window_id, party, cell_id, n, n_home, n_work
FROM feat_places;

INSERT INTO features_first_k_days_moves (window_id, party, first_cell, last_cell, moving_km)
SELECT $window_id, party, first_cell, last_cell, moving_km
FROM feat_moves;

INSERT INTO features_first_k_days_moments (
    window_id, party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
)
SELECT $window_id, party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
FROM feat_moments;

INSERT INTO features_first_k_days_positions (window_id, lat, lon, price)
SELECT $window_id, lat, lon, price
FROM feat_position_prices;
