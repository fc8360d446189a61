-- Replace the cells, the ids of those without a usable place (unlocated_cells: their calls are
-- kept without the cell), their quarantined rows and their row accounting (after places.sql and
-- rejected_lines.sql; inside one transaction).
DELETE FROM cells;
INSERT INTO cells SELECT id, lat_value, lon_value FROM judged_place WHERE reason IS NULL;
DELETE FROM unlocated_cells;
INSERT INTO unlocated_cells
SELECT id, min(reason) FROM judged_place  -- one row per cell, whatever its rows' reasons
WHERE reason IN ('bad_coordinates', 'outside_bbox') AND id NOT IN (SELECT cell_id FROM cells)
GROUP BY id;
DELETE FROM quarantine_cells;
INSERT INTO quarantine_cells
SELECT reason, _file, _row,
    CAST(json_merge_patch(
        to_json({cell_id: safe_text(id), lat: safe_coordinate(lat), lon: safe_coordinate(lon)}),
        CASE WHEN reason = 'duplicate_id' THEN json_object('differs_from_kept', differs_from_kept)
            ELSE '{}' END
    ) AS VARCHAR)
FROM judged_place
WHERE reason IS NOT NULL;
INSERT INTO quarantine_cells SELECT * FROM rejected_lines;
DELETE FROM accounting_cells;
INSERT INTO accounting_cells VALUES ($rows_read, $note);
