-- Size and price range of cell_prices (the asset's metadata).
SELECT
    count(*) AS n_cells,
    count(price) AS cells_with_price,
    min(price) AS price_min,
    max(price) AS price_max
FROM cell_prices;
