-- Whether the stored sums ($stored_sums: the family's table) of the window $previous_id can be
-- added to: stored for the same province, from the same calls and inputs ($n_calls, $inputs:
-- sums_key.sql now).
SELECT COUNT(*) AS usable
FROM $stored_sums
WHERE window_id = $previous_id
    AND province IS NOT DISTINCT FROM $province
    AND n_calls = $n_calls
    AND inputs IS NOT DISTINCT FROM $inputs;
