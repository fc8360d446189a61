-- Geography of the featurised users of one window (SPEC §5).
-- Reads feat_users, feat_cells, feat_centers (prepare.sql), feat_places and feat_moves (the
-- window's additive sums, accumulate.sql).
--
-- Distances are haversine great-circle km (HAVERSINE_KM, a shared expression) on a sphere of
-- radius 6371.0088 km (the IUGG mean earth radius). The radii are around the window's centre, so
-- they are recomputed for each window, over the user's cells weighted by their locations
-- (feat_places); the moving distance, in L's (start_ts, cell_id) order (calls starting in the
-- same second are taken in cell order, which makes it deterministic), adds up day by day
-- (feat_moves). A user whose calls have no location has null geography. Sums are exact
-- (prepare.sql): distances are fixed-point to 1e-12 km.
CREATE OR REPLACE TEMP TABLE feat_geography AS
WITH distances AS (
    SELECT
        p.party AS user_id,
        p.n,
        HAVERSINE_KM(c.center_lat, c.center_lon, l.lat, l.lon) AS radius
    FROM feat_places AS p
    JOIN feat_users AS f ON f.user_id = p.party
    JOIN feat_centers AS c ON c.party = p.party
    JOIN feat_cells AS l ON l.cell_id = p.cell_id
),
spread AS (
    SELECT
        user_id,
        CAST(SUM(CAST(radius AS DECIMAL(18, 12)) * n) AS DOUBLE) / SUM(n) AS avg_radius,
        MAX(radius) AS max_radius,
        SUM(n) AS n_locations
    FROM distances
    GROUP BY user_id
)
SELECT
    f.user_id,
    c.center_lat,
    c.center_lon,
    s.avg_radius,
    s.max_radius,
    CAST(m.moving_km AS DOUBLE) AS moving_distance,
    CAST(m.moving_km AS DOUBLE) / s.n_locations AS avg_moving_distance,
    c.home_lat,
    c.home_lon,
    c.work_lat,
    c.work_lon,
    HAVERSINE_KM(c.home_lat, c.home_lon, c.work_lat, c.work_lon) AS home_work_distance
FROM feat_users AS f
LEFT JOIN feat_centers AS c ON c.party = f.user_id
LEFT JOIN spread AS s ON s.user_id = f.user_id
LEFT JOIN feat_moves AS m ON m.party = f.user_id;
