-- The additive part of one window's call-level features (SPEC §5): per-party sums over the calls
-- of the days $start..$end. Sums over days add up, so the sums of a window are the sums of its
-- days: accumulate.sql adds them to a stored window's (the first k days are the first k - 1
-- days plus day k) and every family reads only the accumulated tables feat_places, feat_moves
-- and feat_moments, never the calls. Connection-local TEMP tables; sums are exact (prepare.sql).
--
-- feat_cell_index: each cell with its rank in cell_id order (the path's order of two locations in
-- the same second, below), so that a location carries a 4-byte integer, not the id and position.
CREATE OR REPLACE TEMP TABLE feat_cell_index AS
SELECT cell_id, lat, lon, CAST(ROW_NUMBER() OVER (ORDER BY cell_id) AS INTEGER) AS idx
FROM cells;

-- feat_new_locations: L over the days, one row per call and side with the party's own cell
-- (caller_cell when it called, callee_cell when it was called) by its rank; calls without a cell,
-- or with a cell unknown to `cells`, give no location. A missed call (no duration) is a
-- location too.
CREATE OR REPLACE TEMP TABLE feat_new_locations AS
SELECT k.party, k.start_ts, c.idx
FROM (
    SELECT caller AS party, start_ts, caller_cell AS cell_id
    FROM calls
    WHERE call_date BETWEEN $start AND $end AND caller_cell IS NOT NULL
    UNION ALL
    SELECT callee AS party, start_ts, callee_cell AS cell_id
    FROM calls
    WHERE call_date BETWEEN $start AND $end AND callee_cell IS NOT NULL
) AS k
JOIN feat_cell_index AS c ON c.cell_id = k.cell_id;

-- feat_new_places: how many locations of each party fall in each cell, and how many of them at
-- home hours (local start time in [20:00, 07:00)) and at work hours ([09:00, 16:00)): the
-- centres, radii and mean prices of L, home and work are weighted sums over these rows.
CREATE OR REPLACE TEMP TABLE feat_new_places AS
SELECT p.party, c.cell_id, p.n, p.n_home, p.n_work
FROM (
    SELECT
        party,
        idx,
        COUNT(*) AS n,
        SUM(CASE WHEN HOUR(start_ts) >= 20 OR HOUR(start_ts) < 7 THEN 1 ELSE 0 END) AS n_home,
        SUM(CASE WHEN HOUR(start_ts) >= 9 AND HOUR(start_ts) < 16 THEN 1 ELSE 0 END) AS n_work
    FROM feat_new_locations
    GROUP BY party, idx
) AS p
JOIN feat_cell_index AS c ON c.idx = p.idx;

-- feat_new_moves: the party's path through L in (start_ts, cell_id) order (calls starting in
-- the same second are taken in cell order: the order of the ranks): its first and last cell and
-- the exact sum of the haversine km between consecutive locations (fixed-point to 1e-12 km). A
-- call's day is the date of its start, so every location of a later day comes after these: a
-- window's path is its days' paths joined end to start (accumulate.sql).
CREATE OR REPLACE TEMP TABLE feat_new_moves AS
WITH ordered AS (
    SELECT
        party,
        idx,
        LAG(idx) OVER (PARTITION BY party ORDER BY start_ts, idx) AS previous_idx,
        ROW_NUMBER() OVER (PARTITION BY party ORDER BY start_ts, idx) AS step,
        LEAD(idx) OVER (PARTITION BY party ORDER BY start_ts, idx) AS next_idx
    FROM feat_new_locations
),
moved AS (
    SELECT
        o.party,
        MAX(CASE WHEN o.step = 1 THEN o.idx END) AS first_idx,
        MAX(CASE WHEN o.next_idx IS NULL THEN o.idx END) AS last_idx,
        CAST(COALESCE(SUM(CAST(HAVERSINE_KM(a.lat, a.lon, b.lat, b.lon) AS DECIMAL(18, 12))), 0)
            AS DECIMAL(38, 12)) AS moving_km
    FROM ordered AS o
    LEFT JOIN feat_cell_index AS a ON a.idx = o.previous_idx
    JOIN feat_cell_index AS b ON b.idx = o.idx
    GROUP BY o.party
)
SELECT m.party, f.cell_id AS first_cell, l.cell_id AS last_cell, m.moving_km
FROM moved AS m
JOIN feat_cell_index AS f ON f.idx = m.first_idx
JOIN feat_cell_index AS l ON l.idx = m.last_idx;

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
SELECT party, start_ts, idx
FROM feat_new_locations
WHERE FALSE;
