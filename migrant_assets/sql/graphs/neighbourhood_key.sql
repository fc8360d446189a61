-- What graph_neighbourhood holds (migrants_neighbourhood.sql; empty for a window of every
-- party): a count and a checksum of its parties, part of the stored sums' key
-- (features.stored_sums_key): sums stored for other parties are not added to. Bookkeeping.
SELECT
    CAST(COUNT(*) AS VARCHAR) || ':' || COALESCE(CAST(SUM(HASH(party)) AS VARCHAR), '-')
        AS neighbourhood
FROM graph_neighbourhood;
