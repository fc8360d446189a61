-- Empty the landed calls, the landing's quarantined rows and the per-file accounting before the
-- landing step appends each batch (landing_write.sql), inside the landing's one transaction.
-- Files written before landed_calls held a file index kept the file's path on every row.
ALTER TABLE landed_calls DROP COLUMN IF EXISTS file;
ALTER TABLE landed_calls ADD COLUMN IF NOT EXISTS file_id INTEGER;
ALTER TABLE landed_files ADD COLUMN IF NOT EXISTS file_id INTEGER;
DELETE FROM landed_calls;
DELETE FROM quarantine_landed_calls;
DELETE FROM landed_files;
