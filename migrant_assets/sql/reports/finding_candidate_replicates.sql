-- Replicates of the model findings (reports/model_findings.py): the cross-validated F1 per fold
-- of each candidate of the integration study's backward removal (integration_models_candidates;
-- chosen marks the group each step removed). quantity = candidate/<step>/<groups removed>.
SELECT 'candidate/' || step || '/' || removed AS quantity,
       fold AS replicate,
       cv_f1 AS value,
       step,
       candidate,
       removed,
       chosen
FROM integration_models_candidates
ORDER BY step, removed, replicate;
