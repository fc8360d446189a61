-- Mean and standard deviation of the estates' price_per_sqm (000 Section 2.2 reports 54.3K and
-- 29.4K yuan/m²).
-- Exact two-pass sums, as in group_feature_trends.sql.
WITH m AS (
    SELECT count(price_per_sqm) AS n,
           CAST(avg(CAST(price_per_sqm AS DECIMAL(18, 6))) AS DOUBLE) AS mean
    FROM estates
)
SELECT any_value(m.n) AS n_estates,
       any_value(m.mean) AS mean_price,
       sqrt(CAST(sum(CAST((e.price_per_sqm - m.mean) ^ 2 AS DECIMAL(38, 6))) AS DOUBLE)
            / nullif(any_value(m.n) - 1, 0)) AS sd_price
FROM m
LEFT JOIN estates e ON true;
