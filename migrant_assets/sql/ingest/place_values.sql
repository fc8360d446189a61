-- The values of cells or estates read as numbers (SPEC §1), before they are judged (places.sql).
-- Input: temp table raw_place(id, lat, lon, price, _file, _row) where price is NULL for cells.
-- Output: temp table place_values, the same with lat_value, lon_value and price_value; a
-- mapping's crs other than WGS-84 rewrites lat_value and lon_value (ingest.places_to_wgs84) in
-- between, the text kept as the file wrote it for the quarantine records.
CREATE OR REPLACE TEMP TABLE place_values AS
SELECT
    id,
    TRY_CAST(lat AS DOUBLE) AS lat_value,
    TRY_CAST(lon AS DOUBLE) AS lon_value,
    TRY_CAST(price AS DOUBLE) AS price_value,
    lat,
    lon,
    price,
    _file,
    _row
FROM raw_place;
