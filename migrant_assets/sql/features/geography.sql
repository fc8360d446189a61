-- Geography of the featurised users of one window (SPEC §5).
-- Reads feat_users, feat_locations, feat_centers (prepare.sql).
--
-- Distances are haversine great-circle km (HAVERSINE_KM, a shared expression) on a sphere of
-- radius 6371.0088 km (the IUGG mean earth radius). L is ordered by (start_ts, cell_id) (through
-- feat_locations.cell_rank): calls starting in the same second are taken in cell order, which
-- makes the moving distance deterministic (two tied calls in the same cell are the same
-- location). A user whose calls have no location has null geography. Sums are exact
-- (prepare.sql): distances are fixed-point to 1e-12 km.
CREATE OR REPLACE TEMP TABLE feat_geography AS
WITH located AS (
    SELECT
        l.party AS user_id,
        l.lat,
        l.lon,
        c.center_lat,
        c.center_lon,
        LAG(l.lat) OVER (PARTITION BY l.party ORDER BY l.start_ts, l.cell_rank) AS prev_lat,
        LAG(l.lon) OVER (PARTITION BY l.party ORDER BY l.start_ts, l.cell_rank) AS prev_lon
    FROM feat_locations AS l
    JOIN feat_users AS f ON f.user_id = l.party
    JOIN feat_centers AS c ON c.party = l.party
),
distances AS (
    SELECT
        user_id,
        HAVERSINE_KM(center_lat, center_lon, lat, lon) AS radius,
        HAVERSINE_KM(prev_lat, prev_lon, lat, lon) AS step
    FROM located
),
spread AS (
    SELECT
        user_id,
        CAST(AVG(CAST(radius AS DECIMAL(18, 12))) AS DOUBLE) AS avg_radius,
        MAX(radius) AS max_radius,
        CAST(COALESCE(SUM(CAST(step AS DECIMAL(18, 12))), 0) AS DOUBLE) AS moving_distance,
        COUNT(*) AS n_locations
    FROM distances
    GROUP BY user_id
)
SELECT
    f.user_id,
    c.center_lat,
    c.center_lon,
    s.avg_radius,
    s.max_radius,
    s.moving_distance,
    s.moving_distance / s.n_locations AS avg_moving_distance,
    c.home_lat,
    c.home_lon,
    c.work_lat,
    c.work_lon,
    HAVERSINE_KM(c.home_lat, c.home_lon, c.work_lat, c.work_lon) AS home_work_distance
FROM feat_users AS f
LEFT JOIN feat_centers AS c ON c.party = f.user_id
LEFT JOIN spread AS s ON s.user_id = f.user_id;
