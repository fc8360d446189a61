-- Auxiliary tables of the asset features_first_k_days (docs/data_model.md): the additive sums of
-- each first-k-days window (additive.sql, accumulate.sql), kept so that window k is built from
-- window k - 1 plus day k ($stored_* are the family's tables: features.stored_sums_tables; the
-- early-warning windows keep daily sums instead, sql/early_warning/schema.sql). Idempotent
-- schema DDL.
CREATE TABLE IF NOT EXISTS $stored_sums (
    window_id VARCHAR NOT NULL,
    province VARCHAR,
    n_calls BIGINT NOT NULL,
    inputs VARCHAR
);
CREATE TABLE IF NOT EXISTS $stored_places (
    window_id VARCHAR NOT NULL,
    party BIGINT NOT NULL,
    cell_id VARCHAR NOT NULL,
    n BIGINT NOT NULL,
    n_home BIGINT NOT NULL,
    n_work BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS $stored_moves (
    window_id VARCHAR NOT NULL,
    party BIGINT NOT NULL,
    first_cell VARCHAR NOT NULL,
    last_cell VARCHAR NOT NULL,
    moving_km DECIMAL(38, 12) NOT NULL
);
CREATE TABLE IF NOT EXISTS $stored_moments (
    window_id VARCHAR NOT NULL,
    party BIGINT NOT NULL,
    n BIGINT NOT NULL,
    sum_x DECIMAL(38, 6),
    sum_x2 DECIMAL(38, 12),
    n_local BIGINT NOT NULL,
    sum_local_x DECIMAL(38, 6),
    sum_local_x2 DECIMAL(38, 12)
);
CREATE TABLE IF NOT EXISTS $stored_positions (
    window_id VARCHAR NOT NULL,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    price DOUBLE
);
COMMENT ON COLUMN $stored_positions.price IS
    'price of the point (centre of L, home or work) at lat, lon; null when it has none.';
COMMENT ON COLUMN $stored_sums.window_id IS 'The window summed.';
COMMENT ON COLUMN $stored_sums.province IS
    'The study province its local durations were summed for (city.province).';
COMMENT ON COLUMN $stored_sums.n_calls IS
    'Calls of the window''s days when it was summed: sums of a window whose calls changed since '
    'are not reused.';
COMMENT ON COLUMN $stored_sums.inputs IS
    'Checksum of cells, estates, cell prices and birth provinces when summed (sums_key.sql), '
    'the versions of its days'' calls, the parts stored and the migrants'' neighbourhood below '
    'k_max (features.stored_sums_key).';
COMMENT ON COLUMN $stored_places.n IS
    'Locations of the party in the cell (n_home at home hours, n_work at work hours).';
COMMENT ON COLUMN $stored_moves.moving_km IS
    'Exact sum of the km between consecutive locations from first_cell to last_cell.';
COMMENT ON COLUMN $stored_moments.n IS 'Known call durations of the party.';
COMMENT ON COLUMN $stored_moments.n_local IS
    'Known call durations with a contact born in the study province.';
CREATE TABLE IF NOT EXISTS $stored_triangles (
    window_id VARCHAR NOT NULL,
    party BIGINT NOT NULL,
    n_triangles BIGINT NOT NULL
);
COMMENT ON COLUMN $stored_triangles.n_triangles IS
    'Triangles through the party in the window''s undirected graph (parties with at least one; '
    'triangles.sql, triangles_added.sql).';
