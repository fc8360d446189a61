-- Check (SPEC §1): every cell of group_feature_trends (judged) either has n >= $min_group_size
-- and is published, or is flagged suppressed with n, mean and se withheld; `bad` counts the
-- cells that are neither.
SELECT count(*) FILTER (
           WHERE (suppressed AND (n IS NOT NULL OR mean IS NOT NULL OR se IS NOT NULL))
              OR (NOT suppressed AND (n IS NULL OR n < $min_group_size))
       ) AS bad,
       count(*) AS judged
FROM group_feature_trends;
