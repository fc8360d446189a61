-- Drop the stored graphs and sums of the early-warning windows ending before $keep_from (the
-- auxiliary tables of features_arrival_days): window k is built from window k - 1 of the day
-- before, so only the last days' are read again (a day re-run later sums its own days).
-- $stored_* are the stored-sums tables (features.stored_sums_tables). Run inside a transaction.
DELETE FROM arrival_days_graph
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day < $keep_from);
DELETE FROM $stored_sums
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day < $keep_from);
DELETE FROM $stored_places
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day < $keep_from);
DELETE FROM $stored_moves
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day < $keep_from);
DELETE FROM $stored_moments
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day < $keep_from);
DELETE FROM $stored_positions
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day < $keep_from);
