-- Users that are both trained on and tested in one split (must be none), and how many
-- (experiment, window, split, user) memberships were judged, over the experiments
-- $experiments and windows $window_ids (an empty list: all of them).
SELECT count(*) FILTER (n_roles > 1) AS violations, count(*) AS memberships
FROM (
    SELECT experiment, window_id, split, user_id, count(DISTINCT "role") AS n_roles
    FROM split_membership
    WHERE (len($experiments::VARCHAR[]) = 0 OR list_contains($experiments::VARCHAR[], experiment))
      AND (len($window_ids::VARCHAR[]) = 0 OR list_contains($window_ids::VARCHAR[], window_id))
    GROUP BY ALL
);
