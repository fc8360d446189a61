-- Store the additive sums of day $day for every party (additive.sql's feat_new_places,
-- feat_new_moves, feat_new_moments, summed over that day only) with the province, the day's
-- calls and the inputs they were computed from ($n_calls, $inputs: sums_key.sql). Each day's
-- calls are read once; a window adds up its days' sums (window_sums.sql). Delete-then-insert;
-- run inside one transaction.
DELETE FROM arrival_days_daily_sums WHERE call_date = $day;
DELETE FROM arrival_days_daily_places WHERE call_date = $day;
DELETE FROM arrival_days_daily_moves WHERE call_date = $day;
DELETE FROM arrival_days_daily_moments WHERE call_date = $day;

INSERT INTO arrival_days_daily_sums (call_date, province, n_calls, inputs)
VALUES ($day, $province, $n_calls, $inputs);

INSERT INTO arrival_days_daily_places (call_date, party, cell_id, n, n_home, n_work)
SELECT CAST($day AS DATE), party, cell_id, n, n_home, n_work
FROM feat_new_places;

INSERT INTO arrival_days_daily_moves (call_date, party, first_cell, last_cell, moving_km)
SELECT CAST($day AS DATE), party, first_cell, last_cell, moving_km
FROM feat_new_moves;

INSERT INTO arrival_days_daily_moments (
    call_date, party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
)
SELECT CAST($day AS DATE), party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
FROM feat_new_moments;
