-- A window's additive sums (additive.sql) = the sums of its earlier days plus those of the days
-- just summed (feat_new_*): the first k days from the first k - 1 days and day k, or a window's
-- days summed in passes of at most duckdb.max_calls_per_pass calls (features.sum_window). The
-- earlier sums are those stored for the window $previous_id (the first k - 1 days; $stored_*:
-- identifiers of the family's tables, features.stored_sums_tables; first_k_days_sums.sql) and
-- this window's own feat_places, feat_moments, feat_moves of the passes before (sums_start.sql
-- makes them empty); $previous_id is null for a window built from its own days. Integer counts
-- and fixed-point DECIMAL sums add exactly, so every way of splitting the days gives the same
-- tables, bit for bit.
CREATE OR REPLACE TEMP TABLE feat_places AS
SELECT
    party,
    cell_id,
    CAST(SUM(n) AS BIGINT) AS n,
    CAST(SUM(n_home) AS BIGINT) AS n_home,
    CAST(SUM(n_work) AS BIGINT) AS n_work
FROM (
    SELECT party, cell_id, n, n_home, n_work
    FROM $stored_places
    WHERE window_id = $previous_id
    UNION ALL
    SELECT party, cell_id, n, n_home, n_work
    FROM feat_places
    UNION ALL
    SELECT party, cell_id, n, n_home, n_work
    FROM feat_new_places
) AS p
GROUP BY party, cell_id;

CREATE OR REPLACE TEMP TABLE feat_moments AS
SELECT
    party,
    CAST(SUM(n) AS BIGINT) AS n,
    CAST(SUM(sum_x) AS DECIMAL(38, 6)) AS sum_x,
    CAST(SUM(sum_x2) AS DECIMAL(38, 12)) AS sum_x2,
    CAST(SUM(n_local) AS BIGINT) AS n_local,
    CAST(SUM(sum_local_x) AS DECIMAL(38, 6)) AS sum_local_x,
    CAST(SUM(sum_local_x2) AS DECIMAL(38, 12)) AS sum_local_x2
FROM (
    SELECT party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
    FROM $stored_moments
    WHERE window_id = $previous_id
    UNION ALL
    SELECT party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
    FROM feat_moments
    UNION ALL
    SELECT party, n, sum_x, sum_x2, n_local, sum_local_x, sum_local_x2
    FROM feat_new_moments
) AS m
GROUP BY party;

-- The path of the window: the earlier days' path, then the new days' path, joined by the step
-- from the earlier last cell to the new first cell. The earlier path is the stored one or the
-- passes' before, never both: a window with stored sums adds one day, in one pass.
CREATE OR REPLACE TEMP TABLE feat_moves AS
WITH previous AS (
    SELECT party, first_cell, last_cell, moving_km
    FROM $stored_moves
    WHERE window_id = $previous_id
    UNION ALL
    SELECT party, first_cell, last_cell, moving_km
    FROM feat_moves
)
SELECT
    COALESCE(p.party, n.party) AS party,
    COALESCE(p.first_cell, n.first_cell) AS first_cell,
    COALESCE(n.last_cell, p.last_cell) AS last_cell,
    CAST(
        COALESCE(p.moving_km, 0) + COALESCE(n.moving_km, 0)
        + COALESCE(CAST(HAVERSINE_KM(a.lat, a.lon, b.lat, b.lon) AS DECIMAL(18, 12)), 0)
        AS DECIMAL(38, 12)
    ) AS moving_km
FROM previous AS p
FULL OUTER JOIN feat_new_moves AS n ON n.party = p.party
LEFT JOIN cells AS a ON a.cell_id = p.last_cell
LEFT JOIN cells AS b ON b.cell_id = n.first_cell;
