-- Validate cells or estates (SPEC §1): one generic rule set for point tables with an id.
-- Input: temp table place_values (place_values.sql), its coordinates in WGS-84 degrees.
-- Output: temp table judged_place with the reason (NULL when accepted). NaN and infinite
-- coordinates are bad coordinates; NaN and infinite prices, and prices below $min_price or
-- above $max_price are bad prices. Of the valid rows of one id the first in file order is kept
-- (the last with the mapping's keep: last, $keep_last: a history, newest last), the others are
-- duplicate_id; differs_from_kept: such a row gives other coordinates or another price than the
-- kept one (an antenna that moved, an estate priced twice, a file of listings), not a copy of
-- it.
CREATE OR REPLACE TEMP TABLE judged_place AS
SELECT
    * EXCLUDE (row_reason),
    CASE
        WHEN row_reason IS NOT NULL THEN row_reason
        WHEN row_number() OVER valid > 1 THEN 'duplicate_id'
    END AS reason,
    row_reason IS NULL AND row_number() OVER valid > 1 AND (
        lat_value <> first_value(lat_value) OVER valid
        OR lon_value <> first_value(lon_value) OVER valid
        OR price_value IS DISTINCT FROM first_value(price_value) OVER valid
    ) AS differs_from_kept
FROM (
    SELECT
        *,
        CASE
            WHEN id IS NULL THEN 'missing_id'
            -- an id a spreadsheet rounded (canonical.sql marks it '~'): it stands for many
            WHEN starts_with(id, '~') THEN 'rounded_id'
            -- a spreadsheet's total or subtotal row exported with the data (a pivot table's
            -- 总计 at the mean coordinates and price): no place
            WHEN is_summary_word(id) THEN 'summary_row'
            WHEN lat_value IS NULL OR lon_value IS NULL
                OR NOT isfinite(lat_value) OR NOT isfinite(lon_value) THEN 'bad_coordinates'
            WHEN lat_value NOT BETWEEN $min_lat AND $max_lat
                OR lon_value NOT BETWEEN $min_lon AND $max_lon THEN 'outside_bbox'
            WHEN $has_price AND (price_value IS NULL OR NOT isfinite(price_value)
                OR price_value < $min_price OR price_value > $max_price) THEN 'bad_price'
        END AS row_reason
    FROM place_values
)
WINDOW valid AS (
    PARTITION BY id, row_reason IS NULL
    ORDER BY
        CASE WHEN NOT $keep_last THEN {'file': _file, 'line': _row} END ASC,
        CASE WHEN $keep_last THEN {'file': _file, 'line': _row} END DESC
);
