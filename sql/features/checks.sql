-- Facts the feature asset checks assert for window $window_id (SPEC §5): rows per labelled
-- active user, and value ranges. Every count below must be 0.
WITH expected AS (
    SELECT l.user_id
    FROM user_labels AS l
    WHERE CASE WHEN $study = 'integration' THEN l.integration_label
               ELSE l.departure_label END IS NOT NULL
        AND l.user_id IN (
            SELECT src FROM window_graph WHERE window_id = $window_id
            UNION
            SELECT dst FROM window_graph WHERE window_id = $window_id
        )
),
rows AS (
    SELECT * FROM features WHERE window_id = $window_id
),
price_range AS (
    SELECT min(price_per_sqm) AS lo, max(price_per_sqm) AS hi FROM estates
)
SELECT
    (SELECT count(*) FROM expected WHERE user_id NOT IN (SELECT user_id FROM rows))
        AS missing_users,
    (SELECT count(*) FROM rows WHERE user_id NOT IN (SELECT user_id FROM expected))
        AS unexpected_users,
    (SELECT count(*) - count(DISTINCT user_id) FROM rows) AS duplicate_rows,
    (
        SELECT count(*) FROM rows
        WHERE clustering NOT BETWEEN 0 AND 1 OR similar_age NOT BETWEEN 0 AND 1
            OR same_sex NOT BETWEEN 0 AND 1 OR local NOT BETWEEN 0 AND 1
            OR townsman NOT BETWEEN 0 AND 1 OR reciprocal_call NOT BETWEEN 0 AND 1
    ) AS fraction_out_of_range,
    (
        SELECT count(*) FROM rows
        WHERE province_diversity < 0 OR communication_diversity < 0
            OR communication_diversity > 1 + 1e-9
    ) AS entropy_out_of_range,
    (
        SELECT count(*) FROM rows
        WHERE avg_radius < 0 OR max_radius < avg_radius - 1e-9 OR moving_distance < 0
            OR home_work_distance < 0
    ) AS radius_out_of_range,
    (
        SELECT count(*) FROM rows, price_range
        WHERE avg_price NOT BETWEEN lo AND hi OR center_price NOT BETWEEN lo AND hi
            OR home_avg_price NOT BETWEEN lo AND hi OR home_center_price NOT BETWEEN lo AND hi
            OR work_avg_price NOT BETWEEN lo AND hi OR work_center_price NOT BETWEEN lo AND hi
            OR neighbor_avg_price NOT BETWEEN lo AND hi
            OR neighbor_center_price NOT BETWEEN lo AND hi
    ) AS price_out_of_range;
