-- The start of a window's additive sums (features.sum_window): feat_places, feat_moments and
-- feat_moves empty, with the stored tables' types ($stored_*: the family's tables,
-- features.stored_sums_tables), so that each pass of accumulate.sql adds its days to them; and
-- the positions priced for the stored window $previous_id whose sums the window adds to
-- (housing_price.sql does not price them again; empty when $previous_id is null).
CREATE OR REPLACE TEMP TABLE feat_places AS
SELECT party, cell_id, n, n_home, n_work
FROM $stored_places
WHERE FALSE;

CREATE OR REPLACE TEMP TABLE feat_moments AS
SELECT party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
FROM $stored_moments
WHERE FALSE;

CREATE OR REPLACE TEMP TABLE feat_moves AS
SELECT party, first_cell, last_cell, moving_km
FROM $stored_moves
WHERE FALSE;

CREATE OR REPLACE TEMP TABLE feat_known_prices AS
SELECT lat, lon, price
FROM $stored_positions
WHERE window_id = $previous_id;
