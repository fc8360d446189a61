-- The cohort an early-warning window featurises (prepare.sql's population 'cohort'): the new
-- migrants of ew_arrivals who arrived on $arrival_day, no label (the outcome is not known yet);
-- and the window's additive sums (window_sums.sql) as the feature SQL reads them (feat_places,
-- feat_moments, feat_moves: accumulate.sql's tables), with no position priced before
-- (feat_known_prices empty: housing_price.sql prices each).
CREATE OR REPLACE TEMP TABLE feat_cohort AS
SELECT user_id, CAST(NULL AS VARCHAR) AS label
FROM ew_arrivals
WHERE arrival_day = $arrival_day;

CREATE OR REPLACE TEMP TABLE feat_places AS
SELECT party, cell_id, n, n_home, n_work
FROM ew_places
WHERE arrival_day = $arrival_day;

CREATE OR REPLACE TEMP TABLE feat_moments AS
SELECT party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
FROM ew_moments
WHERE arrival_day = $arrival_day;

CREATE OR REPLACE TEMP TABLE feat_moves AS
SELECT party, first_cell, last_cell, moving_km
FROM ew_moves
WHERE arrival_day = $arrival_day;

CREATE OR REPLACE TEMP TABLE feat_known_prices AS
SELECT CAST(NULL AS DOUBLE) AS lat, CAST(NULL AS DOUBLE) AS lon, CAST(NULL AS DOUBLE) AS price
WHERE FALSE;
