-- The findings that do not hold, each with its verdict, statistic, what the test needed and
-- why (report, section "The findings"): reversed, wrong-sign and too-weak ones first, then the
-- untested ones with their reason.
SELECT finding_id, statement, verdict, compared, z, critical, method, replicates,
       CASE verdict
           WHEN 'untested' THEN reason
           WHEN 'reversed' THEN 'the data show the opposite of the paper, significantly'
           WHEN 'wrong sign' THEN 'the opposite of the paper, but not significantly'
           ELSE 'the paper''s direction, too weak to be established at this size'
       END AS explanation
FROM findings
WHERE verdict <> 'holds'
ORDER BY verdict = 'untested', finding_order;
