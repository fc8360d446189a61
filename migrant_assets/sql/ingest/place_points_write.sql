-- The coordinates of place_values replaced by their WGS-84 degrees (ingest.places_to_wgs84): the
-- registered view wgs84_points(_file, _row, lat, lon) holds one row per point of
-- place_points.sql.
UPDATE place_values
SET lat_value = w.lat, lon_value = w.lon
FROM wgs84_points AS w
WHERE place_values._file = w._file AND place_values._row = w._row;
