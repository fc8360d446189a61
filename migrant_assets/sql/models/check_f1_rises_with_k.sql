-- The F1 of classifier $model at each k it was evaluated at (skipped windows left out), from the
-- curves departure_curves shows, smallest k first.
SELECT
    window_label,
    f1,
    n_pos
FROM departure_curves
WHERE "row" = $model AND status = 'ok'
ORDER BY window_id;
