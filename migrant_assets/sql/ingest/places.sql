-- Validate cells or estates (SPEC §1): one generic rule set for point tables with an id.
-- Input: temp table place_values (place_values.sql), its coordinates in WGS-84 degrees.
-- Output: temp table judged_place with the reason (NULL when accepted). NaN and infinite
-- coordinates are bad coordinates; NaN and infinite prices, and prices below $min_price or
-- above $max_price are bad prices.
CREATE OR REPLACE TEMP TABLE judged_place AS
SELECT
    * EXCLUDE (reason),
    CASE
        WHEN reason IS NOT NULL THEN reason
        WHEN row_number() OVER (PARTITION BY id, reason IS NULL ORDER BY _file, _row) > 1
            THEN 'duplicate_id'
    END AS reason
FROM (
    SELECT
        *,
        CASE
            WHEN id IS NULL THEN 'missing_id'
            -- an id a spreadsheet rounded (canonical.sql marks it '~'): it stands for many
            WHEN starts_with(id, '~') THEN 'rounded_id'
            WHEN lat_value IS NULL OR lon_value IS NULL
                OR NOT isfinite(lat_value) OR NOT isfinite(lon_value) THEN 'bad_coordinates'
            WHEN lat_value NOT BETWEEN $min_lat AND $max_lat
                OR lon_value NOT BETWEEN $min_lon AND $max_lon THEN 'outside_bbox'
            WHEN $has_price AND (price_value IS NULL OR NOT isfinite(price_value)
                OR price_value < $min_price OR price_value > $max_price) THEN 'bad_price'
        END AS reason
    FROM place_values
);
