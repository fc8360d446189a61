-- price(l) of every cell (SPEC §5), computed in Python by migrant_assets.features.cell_prices
-- and registered as the relation `cell_prices_new`; written delete-then-insert.
CREATE TABLE IF NOT EXISTS cell_prices (
    cell_id VARCHAR,
    price DOUBLE
);
DELETE FROM cell_prices;
INSERT INTO cell_prices (cell_id, price)
SELECT cell_id, price FROM cell_prices_new;
