-- Drop what no later day reads (auxiliary tables of features_arrival_days): the graphs of the
-- windows ending before $keep_from (a window's graph is built from daily_contacts, never from
-- another window's; the day's own stay for inspection), and the daily sums of the days before
-- $keep_days_from (the first day of the longest window of the day). A day re-run later sums
-- again the days it lacks. Run inside a transaction.
DELETE FROM arrival_days_graph
WHERE window_id IN (SELECT window_id FROM arrival_days_windows WHERE end_day < $keep_from);
DELETE FROM arrival_days_daily_sums WHERE call_date < $keep_days_from;
DELETE FROM arrival_days_daily_places WHERE call_date < $keep_days_from;
DELETE FROM arrival_days_daily_moves WHERE call_date < $keep_days_from;
DELETE FROM arrival_days_daily_moments WHERE call_date < $keep_days_from;
