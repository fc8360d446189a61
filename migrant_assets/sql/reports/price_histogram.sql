-- Histogram of the estates' price_per_sqm in bins of $bin_width yuan/m² (000 Figure 2).
SELECT floor(price_per_sqm / $bin_width) * $bin_width AS bin_start, count(*) AS n_estates
FROM estates
WHERE price_per_sqm IS NOT NULL
GROUP BY ALL
ORDER BY bin_start;
