-- The additive sums (places, moves, moments: additive.sql) of every early-warning window ending
-- on $day, added up from the stored daily sums of its days arrival..$day (day_sums_write.sql),
-- exactly as accumulate.sql adds a stored window's sums to a day's: integer counts and
-- fixed-point DECIMAL sums, so the same tables bit for bit. Places for the parties of the
-- cohort's N1 (ew_members: the centres and prices of her contacts), moves and moments for the
-- new migrants only (ew_arrivals: only her own geography and durations are read). The path of a
-- window is its days' paths joined end to start: the km of each day plus the step from one
-- day's last cell to the next active day's first cell. TEMP tables ew_places, ew_moments,
-- ew_moves (one row per arrival day and party), in arrival-day order: cohort.sql reads one
-- arrival day at a time and skips the others' row groups.
CREATE OR REPLACE TEMP TABLE ew_places AS
SELECT
    m.arrival_day,
    p.party,
    p.cell_id,
    CAST(sum(p.n) AS BIGINT) AS n,
    CAST(sum(p.n_home) AS BIGINT) AS n_home,
    CAST(sum(p.n_work) AS BIGINT) AS n_work
FROM arrival_days_daily_places AS p
JOIN ew_members AS m ON m.party = p.party AND p.call_date BETWEEN m.arrival_day AND $day
GROUP BY m.arrival_day, p.party, p.cell_id
ORDER BY m.arrival_day;

CREATE OR REPLACE TEMP TABLE ew_moments AS
SELECT
    m.arrival_day,
    s.party,
    CAST(sum(s.n) AS BIGINT) AS n,
    CAST(sum(s.sum_x) AS DECIMAL(38, 6)) AS sum_x,
    CAST(sum(s.sum_x2) AS DECIMAL(38, 12)) AS sum_x2,
    CAST(sum(s.n_local) AS BIGINT) AS n_local,
    CAST(sum(s.sum_local_x) AS DECIMAL(38, 6)) AS sum_local_x,
    CAST(sum(s.sum_local_x2) AS DECIMAL(38, 12)) AS sum_local_x2
FROM arrival_days_daily_moments AS s
JOIN ew_arrivals AS m ON m.user_id = s.party AND s.call_date BETWEEN m.arrival_day AND $day
GROUP BY m.arrival_day, s.party
ORDER BY m.arrival_day;

CREATE OR REPLACE TEMP TABLE ew_moves AS
WITH days AS (
    SELECT
        m.arrival_day,
        v.party,
        v.call_date,
        v.first_cell,
        v.last_cell,
        v.moving_km,
        lag(v.last_cell) OVER (
            PARTITION BY m.arrival_day, v.party ORDER BY v.call_date
        ) AS previous_cell
    FROM arrival_days_daily_moves AS v
    JOIN ew_arrivals AS m ON m.user_id = v.party AND v.call_date BETWEEN m.arrival_day AND $day
)
SELECT
    d.arrival_day,
    d.party,
    arg_min(d.first_cell, d.call_date) AS first_cell,
    arg_max(d.last_cell, d.call_date) AS last_cell,
    CAST(
        sum(d.moving_km)
        + coalesce(sum(CAST(HAVERSINE_KM(a.lat, a.lon, b.lat, b.lon) AS DECIMAL(18, 12))), 0)
        AS DECIMAL(38, 12)
    ) AS moving_km
FROM days AS d
LEFT JOIN cells AS a ON a.cell_id = d.previous_cell
LEFT JOIN cells AS b ON b.cell_id = d.first_cell
GROUP BY d.arrival_day, d.party
ORDER BY d.arrival_day;
