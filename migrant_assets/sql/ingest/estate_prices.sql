-- The stored estates' prices per m² for the estates.price_scale check: how many, their median,
-- and how many lie below a tenth of it (a few rows in another unit among the others).
SELECT
    count(*) AS estates,
    median(price_per_sqm) AS median_price,
    count(*) FILTER (WHERE price_per_sqm < median_price / 10) AS far_below_median
FROM (
    SELECT
        price_per_sqm,
        median(price_per_sqm) OVER () AS median_price
    FROM estates
);
