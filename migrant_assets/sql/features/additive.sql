-- The additive part of one window's call-level features (SPEC §5): per-party sums over the calls
-- of the days $start..$end. Sums over days add up, so the sums of a window are the sums of its
-- days: accumulate.sql adds them to a stored window's (the first k days are the first k - 1
-- days plus day k) and every family reads only the accumulated tables feat_places, feat_moves
-- and feat_moments, never the calls. Connection-local TEMP tables; sums are exact (prepare.sql).
--
-- feat_new_locations: L over the days, one row per call and side with the party's own cell
-- (caller_cell when it called, callee_cell when it was called); calls without a cell, or with a
-- cell unknown to `cells`, give no location. A missed call (no duration) is a location too.
CREATE OR REPLACE TEMP TABLE feat_new_locations AS
SELECT k.party, k.start_ts, k.cell_id, c.lat, c.lon
FROM (
    SELECT caller AS party, start_ts, caller_cell AS cell_id
    FROM calls
    WHERE call_date BETWEEN $start AND $end AND caller_cell IS NOT NULL
    UNION ALL
    SELECT callee AS party, start_ts, callee_cell AS cell_id
    FROM calls
    WHERE call_date BETWEEN $start AND $end AND callee_cell IS NOT NULL
) AS k
JOIN cells AS c ON c.cell_id = k.cell_id;

-- feat_new_places: how many locations of each party fall in each cell, and how many of them at
-- home hours (local start time in [20:00, 07:00)) and at work hours ([09:00, 16:00)): the
-- centres, radii and mean prices of L, home and work are weighted sums over these rows.
CREATE OR REPLACE TEMP TABLE feat_new_places AS
SELECT
    party,
    cell_id,
    COUNT(*) AS n,
    SUM(CASE WHEN HOUR(start_ts) >= 20 OR HOUR(start_ts) < 7 THEN 1 ELSE 0 END) AS n_home,
    SUM(CASE WHEN HOUR(start_ts) >= 9 AND HOUR(start_ts) < 16 THEN 1 ELSE 0 END) AS n_work
FROM feat_new_locations
GROUP BY party, cell_id;

-- feat_new_moves: the party's path through L in (start_ts, cell_id) order (calls starting in
-- the same second are taken in cell order): its first and last cell and the exact sum of the
-- haversine km between consecutive locations (fixed-point to 1e-12 km). A call's day is the date
-- of its start, so every location of a later day comes after these: a window's path is its days'
-- paths joined end to start (accumulate.sql).
CREATE OR REPLACE TEMP TABLE feat_new_moves AS
WITH ordered AS (
    SELECT
        party,
        cell_id,
        lat,
        lon,
        LAG(lat) OVER (PARTITION BY party ORDER BY start_ts, cell_id) AS prev_lat,
        LAG(lon) OVER (PARTITION BY party ORDER BY start_ts, cell_id) AS prev_lon,
        ROW_NUMBER() OVER (PARTITION BY party ORDER BY start_ts, cell_id) AS step,
        LEAD(cell_id) OVER (PARTITION BY party ORDER BY start_ts, cell_id) AS next_cell
    FROM feat_new_locations
)
SELECT
    party,
    MAX(CASE WHEN step = 1 THEN cell_id END) AS first_cell,
    MAX(CASE WHEN next_cell IS NULL THEN cell_id END) AS last_cell,
    CAST(COALESCE(SUM(CAST(HAVERSINE_KM(prev_lat, prev_lon, lat, lon) AS DECIMAL(18, 12))), 0)
        AS DECIMAL(38, 12)) AS moving_km
FROM ordered
GROUP BY party;

-- feat_new_moments: moments of each party's known call durations (both sides of every call;
-- a missed call has none), and of those with a contact born in $province (a local), exact:
-- fixed-point to the microsecond, squares to 1e-12.
CREATE OR REPLACE TEMP TABLE feat_new_moments AS
WITH sides AS (
    SELECT caller AS party, callee AS contact, CAST(duration_s AS DECIMAL(38, 6)) AS x
    FROM calls
    WHERE call_date BETWEEN $start AND $end AND duration_s IS NOT NULL
    UNION ALL
    SELECT callee AS party, caller AS contact, CAST(duration_s AS DECIMAL(38, 6)) AS x
    FROM calls
    WHERE call_date BETWEEN $start AND $end AND duration_s IS NOT NULL
),
flagged AS (
    SELECT u.party, u.x, CASE WHEN s.birth_province = $province THEN u.x END AS local_x
    FROM sides AS u
    LEFT JOIN subscribers AS s ON s.user_id = u.contact
)
SELECT
    party,
    COUNT(x) AS n,
    CAST(SUM(x) AS DECIMAL(38, 6)) AS sum_x,
    CAST(SUM(x * x) AS DECIMAL(38, 12)) AS sum_x2,
    COUNT(local_x) AS n_local,
    CAST(SUM(local_x) AS DECIMAL(38, 6)) AS sum_local_x,
    CAST(SUM(local_x * local_x) AS DECIMAL(38, 12)) AS sum_local_x2
FROM flagged
GROUP BY party;

-- feat_new_locations is read: emptied here, it would hold one row per call and side of the days
-- until the window is done (the largest table of a window summed from many days).
CREATE OR REPLACE TEMP TABLE feat_new_locations AS
SELECT party, start_ts, cell_id, lat, lon
FROM feat_new_locations
WHERE FALSE;
