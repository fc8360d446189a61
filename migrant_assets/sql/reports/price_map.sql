-- The departure study's Figure 2 (000 Section 2.2): the mean price_per_sqm of the estates of
-- each grid cell ($dlat x $dlon degrees from $min_lat, $min_lon) inside the study area. Estates
-- are not people, so no suppression applies. The mean is exact (fixed-point to 1e-6 yuan).
SELECT CAST(floor((lat - $min_lat) / $dlat) AS INTEGER) AS cell_row,
       CAST(floor((lon - $min_lon) / $dlon) AS INTEGER) AS cell_col,
       count(*) AS n_estates,
       CAST(avg(CAST(price_per_sqm AS DECIMAL(18, 6))) AS DOUBLE) AS mean_price
FROM estates
WHERE lat >= $min_lat AND lat < $max_lat AND lon >= $min_lon AND lon < $max_lon
  AND price_per_sqm IS NOT NULL
GROUP BY ALL
ORDER BY cell_row, cell_col;
