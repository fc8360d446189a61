-- Shared preparation of one window's features (SPEC §4-§5), read by every feature family.
-- Connection-local TEMP tables; the SELECT bodies stay in the SQL shared by DuckDB and Spark.
--
-- feat_edges: the undirected simple view of G_t, both orientations (u, v) and (v, u) of every
-- edge; every party appears, subscriber or not. window_graph is already aggregated per directed
-- pair, so the undirected view is one DISTINCT over (least, greatest).
CREATE OR REPLACE TEMP TABLE feat_edges AS
WITH pairs AS (
    SELECT DISTINCT LEAST(src, dst) AS a, GREATEST(src, dst) AS b
    FROM window_graph
    WHERE window_id = $window_id AND src <> dst
)
SELECT a AS u, b AS v FROM pairs
UNION ALL
SELECT b AS u, a AS v FROM pairs;

-- d_v of every party of the window (undirected view).
CREATE OR REPLACE TEMP TABLE feat_degree AS
SELECT u AS party, COUNT(*) AS degree
FROM feat_edges
GROUP BY u;

-- The featurised users: labelled for the window's study and active in the window (a party of
-- G_t, i.e. at least one call made or received in its dates), with their own attributes.
CREATE OR REPLACE TEMP TABLE feat_users AS
SELECT l.user_id, l.label, s.age, s.sex, s.birth_province
FROM (
    SELECT
        user_id,
        CASE WHEN $study = 'integration' THEN integration_label ELSE departure_label END AS label
    FROM user_labels
) AS l
JOIN feat_degree AS d ON d.party = l.user_id
LEFT JOIN subscribers AS s ON s.user_id = l.user_id
WHERE l.label IS NOT NULL;

-- L_v^t of every party with a location: one row per call and side, the cell of the party's own
-- side (caller_cell when it called, callee_cell when it was called); calls without a cell skipped.
-- home = local start time in [20:00, 07:00), work = [09:00, 16:00).
CREATE OR REPLACE TEMP TABLE feat_locations AS
SELECT
    k.party,
    k.start_ts,
    k.cell_id,
    c.lat,
    c.lon,
    (HOUR(k.start_ts) >= 20 OR HOUR(k.start_ts) < 7) AS is_home,
    (HOUR(k.start_ts) >= 9 AND HOUR(k.start_ts) < 16) AS is_work
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

-- Centres of mass of every party with a location: all of L, its home part and its work part
-- (null when that part is empty).
CREATE OR REPLACE TEMP TABLE feat_centers AS
SELECT
    party,
    AVG(lat) AS center_lat,
    AVG(lon) AS center_lon,
    AVG(CASE WHEN is_home THEN lat END) AS home_lat,
    AVG(CASE WHEN is_home THEN lon END) AS home_lon,
    AVG(CASE WHEN is_work THEN lat END) AS work_lat,
    AVG(CASE WHEN is_work THEN lon END) AS work_lon
FROM feat_locations
GROUP BY party;
