-- The finite coordinates of place_values (place_values.sql), in file order, for a mapping's
-- crs to be turned into WGS-84 degrees (ingest.places_to_wgs84).
SELECT _file, _row, lat_value, lon_value
FROM place_values
WHERE isfinite(lat_value) AND isfinite(lon_value)
ORDER BY _file, _row;
