-- The stored no_raw_identifiers search of one ingestion asset ($scan_table): identifiers
-- searched and hits (JSON); no row when the asset has not been materialized.
SELECT identifiers_searched, hits FROM $scan_table;
