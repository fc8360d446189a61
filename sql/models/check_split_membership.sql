-- Users that are both trained on and tested in one split (must be none).
SELECT count(*) AS violations
FROM (
    SELECT experiment, window_id, split, user_id
    FROM split_membership
    GROUP BY ALL
    HAVING count(DISTINCT "role") > 1
);
