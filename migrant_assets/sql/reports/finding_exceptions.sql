-- The findings that do not hold, each with its verdict, statistic, what the test needed and
-- why (report, section "The findings"): reversed and not-significant ones first, then untested.
SELECT finding_id, statement, verdict, compared, z, critical, method, replicates,
       CASE verdict
           WHEN 'untested' THEN reason
           WHEN 'reversed' THEN 'the data show the opposite of the paper, significantly'
           ELSE CASE WHEN z >= 0 THEN 'the paper''s direction, too weak to be established'
                     ELSE 'the opposite direction, not significantly' END
       END AS explanation
FROM findings
WHERE verdict <> 'holds'
ORDER BY verdict = 'untested', finding_order;
