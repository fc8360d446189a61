-- The models departure_models fit on some windows with one classifier (departure_models_fitted),
-- for the assets that reuse them instead of fitting again. Unsorted: the caller streams the rows
-- and orders them (an ORDER BY would hold every pickle in DuckDB's memory at once).
SELECT
    window_id,
    split,
    fingerprint,
    n_train,
    n_train_available,
    fitted,
    signature
FROM departure_models_fitted
WHERE list_contains($window_ids, window_id) AND model = $model;
