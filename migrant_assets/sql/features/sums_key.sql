-- What the stored sums of a window over $start..$end (save_sums.sql, and the early warning's
-- daily sums) were computed from, to tell whether they can still be added to
-- (features.sum_window): the calls of its days, counted and, through the versions the lineage
-- recorded for their `calls` partitions (built_from: a day file corrected with as many calls
-- has another version), named; and a checksum of the cells (locations, path lengths), estates
-- (prices of positions) and the subscribers' birth provinces (durations with locals).
-- Bookkeeping, not feature SQL.
SELECT
    (SELECT COUNT(*) FROM calls WHERE call_date BETWEEN $start AND $end) AS n_calls,
    CAST((SELECT SUM(HASH(cell_id, lat, lon)) FROM cells) AS VARCHAR) || ':'
    || CAST((SELECT SUM(HASH(estate_id, lat, lon, price_per_sqm)) FROM estates) AS VARCHAR) || ':'
    || CAST((SELECT SUM(HASH(user_id, birth_province)) FROM subscribers) AS VARCHAR)
    || ':' || CAST((SELECT SUM(HASH(cell_id, price)) FROM cell_prices) AS VARCHAR)
        AS inputs,
    coalesce((
        SELECT md5(string_agg(part || '=' || version, ',' ORDER BY part))
        FROM built_from
        WHERE asset = 'calls'
            AND part BETWEEN CAST($start AS VARCHAR) AND CAST($end AS VARCHAR)
    ), '') AS calls_versions;
