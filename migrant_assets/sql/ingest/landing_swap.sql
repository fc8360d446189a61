-- End the landing step (docs/data_contract.md): put the staged tables it filled batch by batch
-- (landing_tables.sql, landing_write.sql; $landed_calls, $landed_files and
-- $quarantine_landed_calls name the staged tables) in place of landed_calls, landed_files and
-- quarantine_landed_calls. Inside one short transaction: a reader sees the old landing or the
-- new one, never a part, and a failed landing leaves the old one as it was. The batches were
-- committed one by one into the staged tables, so no batch's working tables are held until a
-- month-long transaction ends.
DROP TABLE IF EXISTS landed_calls;
ALTER TABLE $landed_calls RENAME TO landed_calls;
DROP TABLE IF EXISTS landed_files;
ALTER TABLE $landed_files RENAME TO landed_files;
DROP TABLE IF EXISTS quarantine_landed_calls;
ALTER TABLE $quarantine_landed_calls RENAME TO quarantine_landed_calls;
