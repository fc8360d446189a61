-- Facts the checks of one day of calls ($day) judge, from the stored tables (SPEC §1): calls
-- stored, calls with a cell that is not in cells (cells_known), calls with a subscriber at one
-- end (linked_to_subscribers), and the subscribers there are.
SELECT
    count(*) AS calls,
    count(*) FILTER (
        WHERE (c.caller_cell IS NOT NULL AND ca.cell_id IS NULL)
        OR (c.callee_cell IS NOT NULL AND cb.cell_id IS NULL)
    ) AS calls_unknown_cell,
    count(*) FILTER (
        WHERE sa.user_id IS NOT NULL OR sb.user_id IS NOT NULL
    ) AS calls_with_a_subscriber,
    (SELECT count(*) FROM subscribers) AS subscribers
FROM calls AS c
LEFT JOIN cells AS ca ON ca.cell_id = c.caller_cell
LEFT JOIN cells AS cb ON cb.cell_id = c.callee_cell
LEFT JOIN subscribers AS sa ON sa.user_id = c.caller
LEFT JOIN subscribers AS sb ON sb.user_id = c.callee
WHERE c.call_date = $day;
