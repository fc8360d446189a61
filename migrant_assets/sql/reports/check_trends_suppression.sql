-- Check (SPEC §1): every cell of group_feature_trends (judged) either has n >= $min_group_size
-- and is published, or is flagged suppressed with n, mean and se withheld, and no study, window
-- and feature publishes some groups' cells beside a suppressed one (the complement); `bad`
-- counts the cells that are neither, and those published beside a suppressed cell. A cell of
-- a window the calls do not fully cover (uncovered) must have n, mean and se withheld.
SELECT count(*) FILTER (
           WHERE ((suppressed OR uncovered IS NOT NULL)
                  AND (n IS NOT NULL OR mean IS NOT NULL OR se IS NOT NULL))
              OR (NOT suppressed AND uncovered IS NULL
                  AND (n IS NULL OR n < $min_group_size OR beside_suppressed))
       ) AS bad,
       count(*) AS judged
FROM (
    SELECT *,
           bool_or(suppressed) OVER (PARTITION BY study, window_id, feature) AS beside_suppressed
    FROM group_feature_trends
);
