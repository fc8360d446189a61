-- What each table was built from (migrant_assets/lineage.py): per asset partition ('' when the
-- asset is not partitioned), its version and the versions of everything it was built from
-- (JSON: asset partition or 'settings:<stage>' -> [versions]). Written by every asset about its
-- own partitions. Hashes and asset names only.
CREATE TABLE IF NOT EXISTS built_from (
    asset VARCHAR NOT NULL,
    part VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    inputs VARCHAR NOT NULL
);
-- The source files an ingestion asset read: a keyed hash of each file's path (lineage.path_key),
-- its size, time stamp (ns: the later of its modification and status-change times), SHA-256
-- of its bytes, and the day its path names (calls: a {date} path, cdr_20160905.csv; else
-- null). Never a path, nor a plain hash of one: a file's name may be a subscriber's number.
CREATE TABLE IF NOT EXISTS source_files (
    source VARCHAR NOT NULL,
    path_key VARCHAR NOT NULL,
    bytes BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    day DATE
);
ALTER TABLE source_files ADD COLUMN IF NOT EXISTS day DATE;  -- a file written before it
-- What each settings version of built_from ('settings:<stage>') was made of: a hash of each
-- setting the stage reads (JSON: setting -> hash), so that an out-of-date message names the
-- settings that changed. Hashes only.
CREATE TABLE IF NOT EXISTS settings_versions (
    version VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    settings VARCHAR NOT NULL
);
COMMENT ON TABLE built_from IS 'The version of each asset partition and what it was built from.';
COMMENT ON TABLE source_files IS 'Hashes of the source files each ingestion asset read.';
COMMENT ON TABLE settings_versions IS 'The hash of each setting behind a settings version.';
