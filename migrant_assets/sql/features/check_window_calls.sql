-- The calls of a window's days with a party among the users it would featurise (checks.sql's
-- candidates): none means the data hold nothing for the window (a week before the data start,
-- an outage), and one_row_per_active_labelled_user is not judged; some, with no party of them
-- in the window graph, is a graph that lost them.
WITH candidates AS (
    SELECT user_id
    FROM user_labels
    WHERE $population <> 'labelled' OR (
        CASE
            WHEN $study = 'integration' THEN integration_label
            WHEN $study = 'departure' THEN departure_label
            ELSE COALESCE(integration_label, departure_label)
        END
    ) IS NOT NULL
)
SELECT COUNT(*) AS n_calls
FROM calls AS c
WHERE
    c.call_date BETWEEN $start AND $end
    AND (
        c.caller IN (SELECT user_id FROM candidates)
        OR c.callee IN (SELECT user_id FROM candidates)
    );
