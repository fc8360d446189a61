-- Replace the estates and their quarantined rows (after places.sql; inside one transaction).
DELETE FROM estates;
INSERT INTO estates
SELECT id, lat_value, lon_value, price_value FROM judged_place WHERE reason IS NULL;
DELETE FROM quarantine WHERE source = 'estates';
INSERT INTO quarantine
SELECT 'estates', '', reason, _file, _row,
    CAST(to_json({estate_id: safe_text(id), lat: safe_text(lat), lon: safe_text(lon),
                  price_per_sqm: safe_text(price)}) AS VARCHAR)
FROM judged_place
WHERE reason IS NOT NULL;
