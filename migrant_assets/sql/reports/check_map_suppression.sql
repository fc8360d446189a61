-- Check (SPEC §1): every (cell, group) of group_map (judged) either has n >= $min_group_size in a
-- cell of at least $min_group_size users and is published, or is flagged suppressed with n,
-- log_p and log_ratio withheld; `bad` counts the rows that are neither.
SELECT count(*) FILTER (
           WHERE (g.suppressed AND (g.n IS NOT NULL OR g.log_p IS NOT NULL
                                    OR g.log_ratio IS NOT NULL))
              OR (NOT g.suppressed AND (g.n IS NULL OR g.n < $min_group_size
                                        OR a.n IS NULL OR a.n < $min_group_size))
       ) AS bad,
       count(*) AS judged
FROM group_map g
LEFT JOIN group_map a
    ON a.cell_row = g.cell_row AND a.cell_col = g.cell_col AND a.label = 'all';
