-- What graph_neighbourhood holds (migrants_neighbourhood.sql): a count and a checksum of its
-- parties (graphs.neighbourhood), stored with each first-k graph and in the key of the stored
-- sums (features.stored_sums_key): a graph or sums of other parties are not added to, nor
-- featurised. Bookkeeping.
SELECT
    'neighbourhood:' || CAST(COUNT(*) AS VARCHAR) || ':'
    || COALESCE(CAST(SUM(HASH(party)) AS VARCHAR), '-') AS neighbourhood
FROM graph_neighbourhood;
