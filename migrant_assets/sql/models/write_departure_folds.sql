-- The departure study's folds from `new_rows`; delete-then-insert.
DELETE FROM departure_folds;
INSERT INTO departure_folds (user_id, label, fold, seed)
SELECT user_id, label, fold, $seed FROM new_rows;
