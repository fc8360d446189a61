-- Facts the feature asset checks judge for window $window_id (SPEC §5; features.feature_checks),
-- computed from the stored tables (user_labels, window_graph, features, cells, estates), not from
-- the feature SQL's working tables.
--
-- Who has a row: the window's population ($population, as in prepare.sql) active in it (a party
-- of window_graph). n_candidates counts the population before activity (the users of user_labels
-- who would get a row if active: with the study's label for 'labelled', but for the locals when
-- $with_locals is false, all of them otherwise).
-- Every missing / unexpected / duplicate / wrong count must be 0.
--
-- Ranges: each *_values counts the non-null values judged, each *_out_of_range the rows with a
-- value outside its range; a range over zero values proves nothing (the check is not judged). A
-- value passes a bound b with a slack of $tolerance * (1 + |b|). Distances are bounded by the
-- cells' extent: no two points of the cells' bounding box are further apart than a path along a
-- meridian across it and then along its parallel nearest the equator (haversine km, R =
-- 6371.0088); centres are means of cell positions, hence inside that box.
WITH labels AS (
    SELECT
        user_id,
        CASE
            WHEN $study = 'integration' THEN integration_label
            WHEN $study = 'departure' THEN departure_label
            ELSE COALESCE(integration_label, departure_label)
        END AS label
    FROM user_labels
),
candidates AS (
    SELECT user_id, label
    FROM labels
    WHERE $population <> 'labelled' OR (label IS NOT NULL AND ($with_locals OR label <> 'local'))
),
parties AS (
    SELECT src AS party FROM window_graph WHERE window_id = $window_id
    UNION
    SELECT dst AS party FROM window_graph WHERE window_id = $window_id
),
expected AS (
    SELECT c.user_id, c.label
    FROM candidates AS c
    JOIN parties AS p ON p.party = c.user_id
    WHERE $population <> 'all_active'
    UNION ALL
    SELECT p.party AS user_id, l.label
    FROM parties AS p
    LEFT JOIN labels AS l ON l.user_id = p.party
    WHERE $population = 'all_active'
),
rows AS (
    SELECT * FROM features WHERE window_id = $window_id
),
box AS (
    SELECT
        COUNT(*) AS n_cells,
        MIN(lat) AS min_lat,
        MAX(lat) AS max_lat,
        MIN(lon) AS min_lon,
        MAX(lon) AS max_lon
    FROM cells
),
extent AS (
    SELECT
        b.*,
        EARTH_RADIUS_KM() * (
            RADIANS(b.max_lat - b.min_lat)
            + RADIANS(b.max_lon - b.min_lon) * CASE
                WHEN b.min_lat <= 0 AND b.max_lat >= 0 THEN 1.0
                ELSE COS(RADIANS(LEAST(ABS(b.min_lat), ABS(b.max_lat))))
            END
        ) AS max_km
    FROM box AS b
),
price_range AS (
    SELECT COUNT(*) AS n_estates, MIN(price_per_sqm) AS lo, MAX(price_per_sqm) AS hi
    FROM estates
)
SELECT
    (SELECT COUNT(*) FROM rows) AS n_rows,
    (SELECT COUNT(*) FROM expected) AS n_expected,
    (SELECT COUNT(*) FROM candidates) AS n_candidates,
    (SELECT COUNT(*) FROM expected WHERE user_id NOT IN (SELECT user_id FROM rows))
        AS missing_users,
    (SELECT COUNT(*) FROM rows WHERE user_id NOT IN (SELECT user_id FROM expected))
        AS unexpected_users,
    (SELECT COUNT(*) - COUNT(DISTINCT user_id) FROM rows) AS duplicate_rows,
    (
        SELECT COUNT(*)
        FROM rows AS r
        JOIN expected AS e ON e.user_id = r.user_id
        WHERE r.label IS DISTINCT FROM e.label OR r.study <> $study
    ) AS wrong_labels,
    (
        SELECT COUNT(clustering) + COUNT(similar_age) + COUNT(same_sex) + COUNT(local)
            + COUNT(townsman) + COUNT(reciprocal_call)
        FROM rows
    ) AS fraction_values,
    (
        SELECT COUNT(*) FROM rows
        WHERE clustering NOT BETWEEN -$tolerance AND 1 + 2 * $tolerance
            OR similar_age NOT BETWEEN -$tolerance AND 1 + 2 * $tolerance
            OR same_sex NOT BETWEEN -$tolerance AND 1 + 2 * $tolerance
            OR local NOT BETWEEN -$tolerance AND 1 + 2 * $tolerance
            OR townsman NOT BETWEEN -$tolerance AND 1 + 2 * $tolerance
            OR reciprocal_call NOT BETWEEN -$tolerance AND 1 + 2 * $tolerance
    ) AS fraction_out_of_range,
    (SELECT COUNT(province_diversity) + COUNT(communication_diversity) FROM rows)
        AS entropy_values,
    (
        SELECT COUNT(*) FROM rows
        WHERE province_diversity < -$tolerance
            OR communication_diversity NOT BETWEEN -$tolerance AND 1 + 2 * $tolerance
    ) AS entropy_out_of_range,
    (SELECT n_cells FROM box) AS n_cells,
    (
        SELECT COUNT(center_lat) + COUNT(center_lon) + COUNT(avg_radius) + COUNT(max_radius)
            + COUNT(moving_distance) + COUNT(avg_moving_distance) + COUNT(home_lat)
            + COUNT(home_lon) + COUNT(work_lat) + COUNT(work_lon) + COUNT(home_work_distance)
        FROM rows
    ) AS geography_values,
    (
        SELECT COUNT(*) FROM rows, extent AS x
        WHERE avg_radius < -$tolerance OR moving_distance < -$tolerance
            OR avg_moving_distance < -$tolerance OR home_work_distance < -$tolerance
            OR max_radius < avg_radius - $tolerance * (1 + ABS(avg_radius))
            OR max_radius > x.max_km + $tolerance * (1 + x.max_km)
            OR avg_moving_distance > x.max_km + $tolerance * (1 + x.max_km)
            OR home_work_distance > x.max_km + $tolerance * (1 + x.max_km)
            OR center_lat NOT BETWEEN x.min_lat - $tolerance * (1 + ABS(x.min_lat))
                AND x.max_lat + $tolerance * (1 + ABS(x.max_lat))
            OR home_lat NOT BETWEEN x.min_lat - $tolerance * (1 + ABS(x.min_lat))
                AND x.max_lat + $tolerance * (1 + ABS(x.max_lat))
            OR work_lat NOT BETWEEN x.min_lat - $tolerance * (1 + ABS(x.min_lat))
                AND x.max_lat + $tolerance * (1 + ABS(x.max_lat))
            OR center_lon NOT BETWEEN x.min_lon - $tolerance * (1 + ABS(x.min_lon))
                AND x.max_lon + $tolerance * (1 + ABS(x.max_lon))
            OR home_lon NOT BETWEEN x.min_lon - $tolerance * (1 + ABS(x.min_lon))
                AND x.max_lon + $tolerance * (1 + ABS(x.max_lon))
            OR work_lon NOT BETWEEN x.min_lon - $tolerance * (1 + ABS(x.min_lon))
                AND x.max_lon + $tolerance * (1 + ABS(x.max_lon))
    ) AS geography_out_of_range,
    (SELECT n_estates FROM price_range) AS n_estates,
    (
        SELECT COUNT(avg_price) + COUNT(center_price) + COUNT(home_avg_price)
            + COUNT(home_center_price) + COUNT(work_avg_price) + COUNT(work_center_price)
            + COUNT(neighbor_avg_price) + COUNT(neighbor_center_price)
        FROM rows
    ) AS price_values,
    (
        SELECT COUNT(*) FROM (
            SELECT
                r.*,
                p.lo - $tolerance * (1 + ABS(p.lo)) AS lo,
                p.hi + $tolerance * (1 + ABS(p.hi)) AS hi
            FROM rows AS r, price_range AS p
        ) AS q
        WHERE avg_price NOT BETWEEN lo AND hi OR center_price NOT BETWEEN lo AND hi
            OR home_avg_price NOT BETWEEN lo AND hi OR home_center_price NOT BETWEEN lo AND hi
            OR work_avg_price NOT BETWEEN lo AND hi OR work_center_price NOT BETWEEN lo AND hi
            OR neighbor_avg_price NOT BETWEEN lo AND hi
            OR neighbor_center_price NOT BETWEEN lo AND hi
    ) AS price_out_of_range;
