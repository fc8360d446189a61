-- The models departure_models fit on one window with one classifier (departure_models_fitted),
-- for the assets that reuse them instead of fitting again.
SELECT
    split,
    fingerprint,
    n_train,
    n_train_available,
    fitted,
    signature
FROM departure_models_fitted
WHERE window_id = $window_id AND model = $model
ORDER BY split;
