-- The integration study's Figure 1 (001): each labelled user placed at the mean of their weekly
-- centres of mass over $window_ids (W2..W4, the weeks all three groups are active; an exact
-- mean, as in the features), counted on a grid of cells of $dlat x $dlon degrees from
-- ($min_lat, $min_lon). Per cell: group 'all' with
-- log_p = ln P_all (share of all placed users in the cell), and each group with
-- log_p = ln P_group and log_ratio = ln P_group - ln P_all. A (cell, group) of fewer than
-- $min_group_size users, or in a cell of fewer than $min_group_size users, is suppressed
-- (n, log_p, log_ratio null) (SPEC §1). Cells with no user have no row.
CREATE OR REPLACE TABLE group_map AS
WITH people AS (
    SELECT user_id, any_value(label) AS label,
           CAST(avg(CAST(center_lat AS DECIMAL(18, 15))) AS DOUBLE) AS lat,
           CAST(avg(CAST(center_lon AS DECIMAL(18, 15))) AS DOUBLE) AS lon
    FROM features
    WHERE study = 'integration' AND list_contains($window_ids, window_id)
      AND center_lat IS NOT NULL AND center_lon IS NOT NULL AND label IS NOT NULL
    GROUP BY user_id
),
placed AS (
    SELECT label,
           CAST(floor((lat - $min_lat) / $dlat) AS INTEGER) AS cell_row,
           CAST(floor((lon - $min_lon) / $dlon) AS INTEGER) AS cell_col
    FROM people
    WHERE lat >= $min_lat AND lat < $max_lat AND lon >= $min_lon AND lon < $max_lon
),
counts AS (
    SELECT cell_row, cell_col, coalesce(label, 'all') AS grp, count(*) AS n
    FROM placed
    GROUP BY GROUPING SETS ((cell_row, cell_col), (cell_row, cell_col, label))
),
totals AS (
    SELECT coalesce(label, 'all') AS grp, count(*) AS total
    FROM placed
    GROUP BY GROUPING SETS ((), (label))
),
shares AS (
    SELECT c.cell_row, c.cell_col, c.grp AS label, c.n, a.n AS n_all,
           ln(c.n / t.total) AS log_p,
           ln(a.n / ta.total) AS log_p_all
    FROM counts c
    JOIN totals t USING (grp)
    JOIN counts a ON a.cell_row = c.cell_row AND a.cell_col = c.cell_col AND a.grp = 'all'
    CROSS JOIN (SELECT total FROM totals WHERE grp = 'all') ta
)
SELECT cell_row, cell_col,
       $min_lat + cell_row * $dlat AS lat_min, $min_lat + (cell_row + 1) * $dlat AS lat_max,
       $min_lon + cell_col * $dlon AS lon_min, $min_lon + (cell_col + 1) * $dlon AS lon_max,
       label,
       CASE WHEN NOT suppressed THEN n END AS n,
       CASE WHEN NOT suppressed THEN log_p END AS log_p,
       CASE WHEN NOT suppressed AND label <> 'all' THEN log_p - log_p_all END AS log_ratio,
       suppressed
FROM (SELECT *, n < $min_group_size OR n_all < $min_group_size AS suppressed FROM shares);

COMMENT ON TABLE group_map IS
'Integration Figure 1: users per grid cell and group (001 Figure 1).';
COMMENT ON COLUMN group_map.cell_row IS 'Grid row from the south edge of the study area.';
COMMENT ON COLUMN group_map.cell_col IS 'Grid column from the west edge of the study area.';
COMMENT ON COLUMN group_map.lat_min IS 'South edge of the cell (degrees).';
COMMENT ON COLUMN group_map.lat_max IS 'North edge of the cell (degrees).';
COMMENT ON COLUMN group_map.lon_min IS 'West edge of the cell (degrees).';
COMMENT ON COLUMN group_map.lon_max IS 'East edge of the cell (degrees).';
COMMENT ON COLUMN group_map.label IS 'all, or an integration group.';
COMMENT ON COLUMN group_map.n IS 'Users of the group in the cell; null when suppressed.';
COMMENT ON COLUMN group_map.log_p IS 'ln of the share of the group''s users in the cell.';
COMMENT ON COLUMN group_map.log_ratio IS 'ln P_group - ln P_all; null for all and when suppressed.';
COMMENT ON COLUMN group_map.suppressed IS
'The group or the cell has fewer than min_group_size users (SPEC §1).';

SELECT * FROM group_map ORDER BY label, cell_row, cell_col;
