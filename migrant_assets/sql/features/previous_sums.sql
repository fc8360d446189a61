-- Whether the stored sums of the first-k-days window $previous_id can be reused: stored for the
-- same province, and its days $start..$end still hold the calls they were summed from.
SELECT COUNT(*) AS usable
FROM features_first_k_days_sums
WHERE window_id = $previous_id
    AND province IS NOT DISTINCT FROM $province
    AND n_calls = (SELECT COUNT(*) FROM calls WHERE call_date BETWEEN $start AND $end);
