-- The departure study's Figure 2 (000 Section 2.2): the mean price_per_sqm of the estates of
-- each grid cell ($dlat x $dlon degrees from $min_lat, $min_lon) inside the study area. Estates
-- are not people, so no suppression applies.
SELECT CAST(floor((lat - $min_lat) / $dlat) AS INTEGER) AS cell_row,
       CAST(floor((lon - $min_lon) / $dlon) AS INTEGER) AS cell_col,
       count(*) AS n_estates,
       avg(price_per_sqm) AS mean_price
FROM estates
WHERE lat >= $min_lat AND lat < $max_lat AND lon >= $min_lon AND lon < $max_lon
  AND price_per_sqm IS NOT NULL
GROUP BY ALL
ORDER BY cell_row, cell_col;
