-- The early-warning evaluation as the report shows it (early_warning_evaluation: suppressed
-- cells are already null), by k, metric and bin.
SELECT k, metric, bin, value, n, suppressed
FROM early_warning_evaluation
ORDER BY k NULLS FIRST, metric, bin;
