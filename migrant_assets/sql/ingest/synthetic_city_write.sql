-- Replace the list of the synthetic city's files (SPEC §7): temp table generated_files, filled
-- by ingest.generate_city from the manifest and the files on disk (sizes and hashes only).
DELETE FROM synthetic_city;
INSERT INTO synthetic_city
SELECT table_name, path, n_rows, n_bytes, sha256 FROM generated_files;
