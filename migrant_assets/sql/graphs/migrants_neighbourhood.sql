-- The parties whose edges a first-k-days window below k_max keeps (graphs.migrants_only, SPEC §4,
-- §6): the departure study's migrants (user_labels, as prepare.sql's population) and every party
-- in contact with one of them over $first_day..$last_day (the days of the longest such window),
-- as the TEMP table graph_neighbourhood. The same set for every such window, so window k is
-- still window k - 1 plus day k. Read from calls (as user_labels, which reads every day's) by
-- the graphs, their check and their features alike; every $name is a bound value.
CREATE OR REPLACE TEMP TABLE graph_neighbourhood AS
WITH migrants AS (
    SELECT user_id AS party
    FROM user_labels
    WHERE departure_label IS NOT NULL AND departure_label <> 'local'
),
contacts AS (
    SELECT caller, callee
    FROM calls
    WHERE call_date BETWEEN $first_day AND $last_day
)
SELECT party FROM migrants
UNION
SELECT c.callee AS party
FROM contacts AS c
JOIN migrants AS m ON m.party = c.caller
UNION
SELECT c.caller AS party
FROM contacts AS c
JOIN migrants AS m ON m.party = c.callee;
