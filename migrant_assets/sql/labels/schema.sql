-- Tables of the labels stage (docs/data_model.md, SPEC §3). Idempotent.

-- One row per user: an owner with a local number who is not service-like.
CREATE TABLE IF NOT EXISTS user_labels (
    user_id BIGINT NOT NULL,
    birth_province VARCHAR,          -- null when unknown
    is_local_born BOOLEAN,           -- null when the birth province is unknown
    degree BIGINT NOT NULL,          -- distinct parties called or called by, whole month
    n_calls BIGINT NOT NULL,         -- calls made or received, whole month
    first_active_day DATE,           -- null when the user made or received no call
    last_active_day DATE,
    active_pre BOOLEAN NOT NULL,     -- a call before departure week A (09-01..09-04)
    active_w1 BOOLEAN NOT NULL,      -- integration weeks W1..W4
    active_w2 BOOLEAN NOT NULL,
    active_w3 BOOLEAN NOT NULL,
    active_w4 BOOLEAN NOT NULL,
    active_a BOOLEAN NOT NULL,       -- departure weeks A..C
    active_b BOOLEAN NOT NULL,
    active_c BOOLEAN NOT NULL,
    active_after_c BOOLEAN NOT NULL, -- a call after week C (09-26..09-30, ignored by the labels)
    integration_label VARCHAR,       -- local | settled_migrant | new_migrant | null
    departure_label VARCHAR          -- local | staying_migrant | leaving_migrant | null
);

-- Owners with a local number removed from the user population as service-like numbers; one row
-- per (user_id, reason), so an owner caught by both rules appears twice.
CREATE TABLE IF NOT EXISTS service_like_users (
    user_id BIGINT NOT NULL,
    reason VARCHAR NOT NULL,         -- user_type | max_degree
    degree BIGINT NOT NULL
);
