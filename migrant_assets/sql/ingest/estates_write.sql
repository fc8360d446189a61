-- Replace the estates, their quarantined rows and their row accounting (after places.sql and
-- rejected_lines.sql; inside one transaction).
DELETE FROM estates;
INSERT INTO estates
SELECT id, lat_value, lon_value, price_value FROM judged_place WHERE reason IS NULL;
DELETE FROM quarantine_estates;
INSERT INTO quarantine_estates
SELECT reason, _file, _row,
    CAST(json_merge_patch(
        to_json({estate_id: safe_text(id), lat: safe_coordinate(lat), lon: safe_coordinate(lon),
                 price_per_sqm: safe_text(price)}),
        CASE WHEN reason = 'duplicate_id' THEN json_object('differs_from_kept', differs_from_kept)
            ELSE '{}' END
    ) AS VARCHAR)
FROM judged_place
WHERE reason IS NOT NULL;
INSERT INTO quarantine_estates SELECT * FROM rejected_lines;
DELETE FROM accounting_estates;
INSERT INTO accounting_estates VALUES ($rows_read, $note);
