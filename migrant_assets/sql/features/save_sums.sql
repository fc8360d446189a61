-- Store, in its family's tables ($stored_*: features.stored_sums_tables), the additive sums of
-- the window $window_id (accumulate.sql's feat_places, feat_moves, feat_moments), its priced
-- positions (housing_price.sql) and its parties' triangles (feat_triangles) for the next window,
-- with the province they were summed for and what they were computed from ($n_calls, $inputs:
-- sums_key.sql). Only the window stored last is kept: window k reads window k - 1's sums only,
-- and a window whose predecessor's sums are gone is summed from its days (features.sum_window),
-- so the tables hold one window, not twelve. Run inside one transaction, after the window's
-- sums were read (they are in the connection's TEMP tables).
DELETE FROM $stored_sums;
DELETE FROM $stored_places;
DELETE FROM $stored_moves;
DELETE FROM $stored_moments;
DELETE FROM $stored_positions;
DELETE FROM $stored_triangles;

INSERT INTO $stored_sums (window_id, province, n_calls, inputs)
VALUES ($window_id, $province, $n_calls, $inputs);

INSERT INTO $stored_places (window_id, party, cell_id, n, n_home, n_work)
SELECT $window_id, party, cell_id, n, n_home, n_work
FROM feat_places;

INSERT INTO $stored_moves (window_id, party, first_cell, last_cell, moving_km)
SELECT $window_id, party, first_cell, last_cell, moving_km
FROM feat_moves;

INSERT INTO $stored_moments (
    window_id, party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
)
SELECT $window_id, party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
FROM feat_moments;

INSERT INTO $stored_positions (window_id, lat, lon, price)
SELECT $window_id, lat, lon, price
FROM feat_position_prices;

INSERT INTO $stored_triangles (window_id, party, n_triangles)
SELECT $window_id, party, n_triangles
FROM feat_triangles;
