-- The graphs of the early-warning windows ending on $day (arrival_days_windows), each restricted
-- to the edges of G_t with at least one end in its cohort's N1 (ew_members, members.sql): every
-- edge of a cohort member and of a contact of one, so each contact keeps her full degree and
-- every edge among the contacts (clustering) is there; the other edges of G_t are read by no
-- feature of the cohort (docs/early_warning.md). G_t over arrival..$day, summed from
-- daily_contacts as window_graph.sql does (exact durations); an edge with both ends in N1 is
-- taken once, from its caller's side. Summed by arrival day (a window's key is joined after), and
-- stored in window order, so that a window's reads skip the other windows' row groups (zone
-- maps). Delete-then-insert of the day's windows; run inside one transaction.
DELETE FROM arrival_days_graph
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day = $day);

INSERT INTO arrival_days_graph
WITH days AS (
    SELECT call_date, caller, callee, n_calls, duration_s
    FROM daily_contacts
    WHERE call_date BETWEEN $first AND $day
),
edges AS (
    SELECT m.arrival_day, d.caller, d.callee, d.n_calls, d.duration_s
    FROM days AS d
    JOIN ew_members AS m ON m.party = d.caller AND d.call_date >= m.arrival_day
    UNION ALL
    SELECT m.arrival_day, d.caller, d.callee, d.n_calls, d.duration_s
    FROM days AS d
    JOIN ew_members AS m ON m.party = d.callee AND d.call_date >= m.arrival_day
    LEFT JOIN ew_members AS c ON c.party = d.caller AND c.arrival_day = m.arrival_day
    WHERE c.party IS NULL
)
SELECT
    w.window_id,
    g.src,
    g.dst,
    g.n_calls,
    g.duration_s
FROM (
    SELECT
        arrival_day,
        caller AS src,
        callee AS dst,
        sum(n_calls) AS n_calls,
        CAST(sum(CAST(duration_s AS DECIMAL(18, 6))) AS DOUBLE) AS duration_s
    FROM edges
    GROUP BY arrival_day, caller, callee
) AS g
JOIN arrival_days_windows AS w ON w.arrival_day = g.arrival_day AND w.end_day = $day
ORDER BY g.arrival_day;
