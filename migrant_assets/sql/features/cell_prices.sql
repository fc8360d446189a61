-- price(l) of every cell (SPEC §5), computed in Python by migrant_assets.features.cell_prices
-- and registered as the relation `cell_prices_new`; written delete-then-insert.
CREATE TABLE IF NOT EXISTS cell_prices (
    cell_id VARCHAR,
    price DOUBLE
);
COMMENT ON COLUMN cell_prices.cell_id IS 'Cell (cells.cell_id).';
COMMENT ON COLUMN cell_prices.price IS
    'price(l), yuan/m²: mean of the estates within 1 km, else of the nearest within 5 km.';
DELETE FROM cell_prices;
INSERT INTO cell_prices (cell_id, price)
SELECT cell_id, price FROM cell_prices_new;
