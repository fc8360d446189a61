-- Mean and standard deviation of the estates' price_per_sqm (000 Section 2.2 reports 54.3K and
-- 29.4K yuan/m²).
SELECT count(price_per_sqm) AS n_estates,
       avg(price_per_sqm) AS mean_price,
       stddev_samp(price_per_sqm) AS sd_price
FROM estates;
