-- Whether the stored sums of the first-k-days window $previous_id can be added to: stored for
-- the same province, from the same calls and inputs ($n_calls, $inputs: sums_key.sql now).
SELECT COUNT(*) AS usable
FROM features_first_k_days_sums
WHERE window_id = $previous_id
    AND province IS NOT DISTINCT FROM $province
    AND n_calls = $n_calls
    AND inputs IS NOT DISTINCT FROM $inputs;
