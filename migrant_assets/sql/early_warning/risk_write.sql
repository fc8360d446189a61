-- Partition $day of departure_risk from the registered frame ew_scores (early_warning.py).
-- Delete-then-insert; run inside one transaction.
DELETE FROM departure_risk WHERE call_date = $day;

INSERT INTO departure_risk (
    call_date, user_id, arrival_day, k, probability, risk_rank, risk_band, top_features
)
SELECT
    CAST($day AS DATE),
    user_id,
    arrival_day,
    k,
    probability,
    risk_rank,
    risk_band,
    top_features
FROM ew_scores;
