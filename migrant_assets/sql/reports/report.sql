-- The report's parts (asset `report`): one row per section, figure and table of report.html,
-- whether it is shown and, if not, why. Rewritten whole each time the report is rendered.
CREATE OR REPLACE TABLE report AS
SELECT unnest(generate_series(1, len($part_ids))) AS part_order,
       unnest($part_ids) AS part_id,
       unnest($kinds) AS kind,
       unnest($statuses) AS status,
       unnest(CAST($reasons AS VARCHAR [])) AS reason;

COMMENT ON TABLE report IS 'One row per section, figure and table of report.html (SPEC §6).';
COMMENT ON COLUMN report.part_order IS 'Position of the part in the report''s list of parts.';
COMMENT ON COLUMN report.part_id IS
'section-<name>, table-<name> (the HTML table id) or figure-<key> (the HTML figure id).';
COMMENT ON COLUMN report.kind IS 'section | figure | table';
COMMENT ON COLUMN report.status IS 'ok (shown) | unavailable (a line says why instead)';
COMMENT ON COLUMN report.reason IS 'Why the part is unavailable; null when it is shown.';
