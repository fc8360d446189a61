-- Expressions the feature SQL shares (SPEC §5), as scalar macros: each is one expression that a
-- Spark port can inline. Created on the connection before the feature SQL runs.

-- The IUGG mean earth radius (km) of every distance; features.EARTH_RADIUS_KM is the same number.
-- A DOUBLE: as a decimal literal, Spark divides it as a DECIMAL of 12 digits (housing_price.sql's
-- 1.0 / (2 R): a 1 km radius of 1.0000000024 km on Spark, a double on DuckDB).
CREATE OR REPLACE TEMP MACRO earth_radius_km() AS CAST(6371.0088 AS DOUBLE);

-- Haversine great-circle distance (km) between two points given in degrees.
CREATE OR REPLACE TEMP MACRO haversine_km(lat1, lon1, lat2, lon2) AS
2 * earth_radius_km() * ASIN(SQRT(
    POWER(SIN(RADIANS(lat2 - lat1) / 2), 2)
    + COS(RADIANS(lat1)) * COS(RADIANS(lat2))
    * POWER(SIN(RADIANS(lon2 - lon1) / 2), 2)
));

-- The ends of an undirected edge (a, b) oriented from the lower to the higher in (degree, id)
-- order (the triangle counts: triangles.sql, triangles_added.sql): no vertex has more than
-- sqrt(2 |E|) edges out, so hubs do not explode the wedge joins.
CREATE OR REPLACE TEMP MACRO lower_end(a, degree_a, b, degree_b) AS
CASE WHEN degree_a < degree_b OR (degree_a = degree_b AND a < b) THEN a ELSE b END;

CREATE OR REPLACE TEMP MACRO higher_end(a, degree_a, b, degree_b) AS
CASE WHEN degree_a < degree_b OR (degree_a = degree_b AND a < b) THEN b ELSE a END;
