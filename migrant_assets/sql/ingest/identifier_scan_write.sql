-- Replace the stored result of an ingestion asset's no_raw_identifiers search ($scan_table,
-- identifier_scan_<asset>): how many identifiers were searched and the hits per table.column
-- (JSON). Inside the asset's transaction, so the result is stored with the rows it judged.
DELETE FROM $scan_table;
INSERT INTO $scan_table VALUES ($searched, $hits);
