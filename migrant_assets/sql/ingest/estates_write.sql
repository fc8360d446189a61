-- Replace the estates, their quarantined rows and their row accounting (after places.sql and
-- rejected_lines.sql; inside one transaction).
DELETE FROM estates;
INSERT INTO estates
SELECT id, lat_value, lon_value, price_value FROM judged_place WHERE reason IS NULL;
DELETE FROM quarantine_estates;
INSERT INTO quarantine_estates
SELECT reason, _file, _row,
    CAST(to_json({estate_id: safe_text(id), lat: safe_text(lat), lon: safe_text(lon),
                  price_per_sqm: safe_text(price)}) AS VARCHAR)
FROM judged_place
WHERE reason IS NOT NULL;
INSERT INTO quarantine_estates SELECT * FROM rejected_lines;
DELETE FROM accounting_estates;
INSERT INTO accounting_estates VALUES ($rows_read, $note);
