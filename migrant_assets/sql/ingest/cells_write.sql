-- Replace the cells and their quarantined rows (after places.sql; inside one transaction).
DELETE FROM cells;
INSERT INTO cells SELECT id, lat_value, lon_value FROM judged_place WHERE reason IS NULL;
DELETE FROM quarantine WHERE source = 'cells';
INSERT INTO quarantine
SELECT 'cells', '', reason, _file, _row,
    CAST(to_json({cell_id: safe_text(id), lat: safe_text(lat), lon: safe_text(lon)}) AS VARCHAR)
FROM judged_place
WHERE reason IS NOT NULL;
