-- The cohort an early-warning window featurises (prepare.sql's population 'cohort'): the new
-- migrants of ew_arrivals who arrived on $arrival_day; no label (the outcome is not known yet).
CREATE OR REPLACE TEMP TABLE feat_cohort AS
SELECT user_id, CAST(NULL AS VARCHAR) AS label
FROM ew_arrivals
WHERE arrival_day = $arrival_day;
