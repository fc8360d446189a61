-- What the stored sums of a first-k-days window over $start..$end (save_sums.sql) were computed
-- from, to tell whether they can still be added to (features.sum_window): the calls of its days,
-- and a checksum of the cells (locations, path lengths), estates (prices of positions) and the
-- subscribers' birth provinces (durations with locals). Bookkeeping, not feature SQL.
SELECT
    (SELECT COUNT(*) FROM calls WHERE call_date BETWEEN $start AND $end) AS n_calls,
    CAST((SELECT SUM(HASH(cell_id, lat, lon)) FROM cells) AS VARCHAR) || ':'
    || CAST((SELECT SUM(HASH(estate_id, lat, lon, price_per_sqm)) FROM estates) AS VARCHAR) || ':'
    || CAST((SELECT SUM(HASH(user_id, birth_province)) FROM subscribers) AS VARCHAR)
    || ':' || CAST((SELECT SUM(HASH(cell_id, price)) FROM cell_prices) AS VARCHAR)
        AS inputs;
