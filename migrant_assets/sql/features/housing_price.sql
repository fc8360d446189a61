-- Housing prices of the featurised users of one window (SPEC §5).
-- Reads feat_contacts, feat_users, feat_centers (prepare.sql), feat_known_prices
-- (accumulate.sql) and estates.
--
-- price(l) of a location is cell_prices.price of its cell; its means over L, home and work are in
-- feat_centers. A centre is a point, not a cell: its price follows the same rule as cell_prices
-- (mean price_per_sqm of the estates within 1 km, else the nearest estate within 5 km, the mean
-- of the tied ones, else null) on the same haversine distance, evaluated as the chord between
-- unit vectors: haversine(p, e) = 2 R asin(c / 2) with c = |u(p) - u(e)|, so "within r km" is
-- c^2 <= (2 sin(r / 2R))^2, R = 6371.0088 km, and the nearest estate is the one of smallest c^2.
-- Candidate estates come from an equi-join on a lat/lon grid whose cells are at least r / 2 km
-- wide everywhere in the data (r = 1, then 5 for the points with no estate within 1 km): every
-- estate is listed under the 5 x 5 grid cells around its own, and a point meets those of its grid
-- cell (a 2.5 r square around the point: 30 % fewer candidates than 3 x 3 cells of r km).
-- Each distinct position is priced once, keyed by its (lat, lon) (not numbered: a ROW_NUMBER()
-- without PARTITION BY would run as one task on Spark, docs/spark.md). The featurised users and
-- their contacts with a location get their centre price (the contacts' values feed the
-- neighbour prices; no other party's is read); home and work centres are priced for the
-- featurised users only. Means of prices are exact (prepare.sql):
-- fixed-point to 1e-6 yuan.
-- A position's price depends on the position and the estates only: the positions priced for the
-- previous first-k-days window (feat_known_prices, empty for other windows) are not priced again
-- (the grid is a prefilter only, so pricing fewer positions gives each the same price).
-- feat_points: the centre of every featurised user or contact with a location (feat_centers
-- holds those only: prepare.sql), the home and work centres of the featurised users.
CREATE OR REPLACE TEMP TABLE feat_points AS
SELECT party, 'center' AS kind, center_lat AS lat, center_lon AS lon
FROM feat_centers
UNION ALL
SELECT c.party, 'home' AS kind, c.home_lat AS lat, c.home_lon AS lon
FROM feat_centers AS c
JOIN feat_users AS f ON f.user_id = c.party
WHERE c.home_lat IS NOT NULL
UNION ALL
SELECT c.party, 'work' AS kind, c.work_lat AS lat, c.work_lon AS lon
FROM feat_centers AS c
JOIN feat_users AS f ON f.user_id = c.party
WHERE c.work_lat IS NOT NULL;

-- The positions are priced in steps, each a TEMP table, so that the 5 km search runs on the
-- positions with no estate within 1 km only: written as one statement, DuckDB's optimizer moved
-- that filter (an anti-join) above the 5 km join once there were a few hundred thousand
-- positions, and joined every position with every estate within 5 km first (on 400K positions:
-- 625M rows and 32 s instead of 28M rows and 1.5 s; benchmarks/scale.py, docs/scale.md).
--
-- feat_price_positions: every distinct position of the window, with its price when the previous
-- first-k-days window priced it (known).
CREATE OR REPLACE TEMP TABLE feat_price_positions AS
WITH all_positions AS (
    SELECT DISTINCT lat, lon FROM feat_points
)
SELECT a.lat, a.lon, k.price, k.lat IS NOT NULL AS known
FROM all_positions AS a
LEFT JOIN feat_known_prices AS k ON k.lat = a.lat AND k.lon = a.lon;

-- feat_price_grid: degrees per km of latitude and of longitude (at the highest |latitude| of the
-- estates and the positions to price), +1 %.
CREATE OR REPLACE TEMP TABLE feat_price_grid AS
SELECT
    1.01 / 111.19492664455873 AS lat_per_km,
    1.01 / (111.19492664455873 * COS(RADIANS(LEAST(89.0, MAX(ABS(lat)))))) AS lon_per_km
FROM (
    SELECT lat FROM estates
    UNION ALL
    SELECT lat FROM feat_price_positions WHERE NOT known
) AS all_points;

-- feat_price_keys: the positions to price (is_estate false) and the estates (true, with their
-- price), as unit vectors with their grid cells of r / 2 km for r = 1 (gx1, gy1) and r = 5
-- (gx5, gy5); split into feat_price_points and feat_price_estates, the two sides of the joins
-- (read from one table with a filter, the joins cost a third more CPU).
CREATE OR REPLACE TEMP TABLE feat_price_keys AS
SELECT
    p.is_estate,
    p.lat,
    p.lon,
    p.price_per_sqm,
    COS(RADIANS(p.lat)) * COS(RADIANS(p.lon)) AS x,
    COS(RADIANS(p.lat)) * SIN(RADIANS(p.lon)) AS y,
    SIN(RADIANS(p.lat)) AS z,
    CAST(FLOOR(p.lat / (0.5 * g.lat_per_km)) AS BIGINT) AS gy1,
    CAST(FLOOR(p.lon / (0.5 * g.lon_per_km)) AS BIGINT) AS gx1,
    CAST(FLOOR(p.lat / (2.5 * g.lat_per_km)) AS BIGINT) AS gy5,
    CAST(FLOOR(p.lon / (2.5 * g.lon_per_km)) AS BIGINT) AS gx5
FROM (
    SELECT FALSE AS is_estate, lat, lon, CAST(NULL AS DOUBLE) AS price_per_sqm
    FROM feat_price_positions
    WHERE NOT known
    UNION ALL
    SELECT TRUE AS is_estate, lat, lon, price_per_sqm
    FROM estates
) AS p
CROSS JOIN feat_price_grid AS g;

CREATE OR REPLACE TEMP TABLE feat_price_points AS
SELECT lat, lon, x, y, z, gy1, gx1, gy5, gx5 FROM feat_price_keys WHERE NOT is_estate;

-- Every estate listed under the 5 x 5 grid cells around its own, on both grids.
CREATE OR REPLACE TEMP TABLE feat_price_estates AS
WITH offsets AS (
    SELECT a.dx, b.dy
    FROM (VALUES (-2), (-1), (0), (1), (2)) AS a(dx)
    CROSS JOIN (VALUES (-2), (-1), (0), (1), (2)) AS b(dy)
)
SELECT
    k.price_per_sqm,
    k.x,
    k.y,
    k.z,
    k.gx1 + o.dx AS gx1,
    k.gy1 + o.dy AS gy1,
    k.gx5 + o.dx AS gx5,
    k.gy5 + o.dy AS gy5
FROM feat_price_keys AS k
CROSS JOIN offsets AS o
WHERE k.is_estate;

-- feat_price_near: the positions with an estate within 1 km, and the mean price of those.
CREATE OR REPLACE TEMP TABLE feat_price_near AS
SELECT
    p.lat,
    p.lon,
    CAST(AVG(CAST(e.price_per_sqm AS DECIMAL(18, 6))) AS DOUBLE) AS price
FROM feat_price_points AS p
JOIN feat_price_estates AS e ON e.gx1 = p.gx1 AND e.gy1 = p.gy1
WHERE (p.x - e.x) * (p.x - e.x) + (p.y - e.y) * (p.y - e.y) + (p.z - e.z) * (p.z - e.z)
    <= 4 * POWER(SIN(1.0 / (2 * EARTH_RADIUS_KM())), 2)
GROUP BY p.lat, p.lon;

-- feat_price_far: the positions to price with no estate within 1 km.
CREATE OR REPLACE TEMP TABLE feat_price_far AS
SELECT p.*
FROM feat_price_points AS p
LEFT JOIN feat_price_near AS n ON n.lat = p.lat AND n.lon = p.lon
WHERE n.lat IS NULL;

-- feat_position_prices: every distinct position of the window with its price (null: none): the
-- mean within 1 km, else the mean of the nearest estates within 5 km, else null.
CREATE OR REPLACE TEMP TABLE feat_position_prices AS
WITH within5 AS (
    SELECT
        p.lat, p.lon, e.price_per_sqm,
        (p.x - e.x) * (p.x - e.x) + (p.y - e.y) * (p.y - e.y) + (p.z - e.z) * (p.z - e.z)
            AS chord2
    FROM feat_price_far AS p
    JOIN feat_price_estates AS e ON e.gx5 = p.gx5 AND e.gy5 = p.gy5
    WHERE (p.x - e.x) * (p.x - e.x) + (p.y - e.y) * (p.y - e.y) + (p.z - e.z) * (p.z - e.z)
        <= 4 * POWER(SIN(5.0 / (2 * EARTH_RADIUS_KM())), 2)
),
nearest AS (
    SELECT lat, lon, MIN(chord2) AS chord2
    FROM within5
    GROUP BY lat, lon
),
prices AS (
    SELECT lat, lon, price FROM feat_price_near
    UNION ALL
    SELECT
        w.lat,
        w.lon,
        CAST(AVG(CAST(w.price_per_sqm AS DECIMAL(18, 6))) AS DOUBLE) AS price
    FROM within5 AS w
    JOIN nearest AS n ON n.lat = w.lat AND n.lon = w.lon AND n.chord2 = w.chord2
    GROUP BY w.lat, w.lon
)
SELECT o.lat, o.lon, r.price
FROM feat_price_positions AS o
LEFT JOIN prices AS r ON r.lat = o.lat AND r.lon = o.lon
WHERE NOT o.known
UNION ALL
SELECT lat, lon, price
FROM feat_price_positions
WHERE known;

CREATE OR REPLACE TEMP TABLE feat_point_prices AS
SELECT p.party, p.kind, r.price
FROM feat_points AS p
JOIN feat_position_prices AS r ON r.lat = p.lat AND r.lon = p.lon
WHERE r.price IS NOT NULL;

CREATE OR REPLACE TEMP TABLE feat_housing_price AS
WITH party_prices AS (
    SELECT
        c.party,
        c.avg_price,
        pc.price AS center_price,
        c.home_avg_price,
        ph.price AS home_center_price,
        c.work_avg_price,
        pw.price AS work_center_price
    FROM feat_centers AS c
    LEFT JOIN feat_point_prices AS pc ON pc.party = c.party AND pc.kind = 'center'
    LEFT JOIN feat_point_prices AS ph ON ph.party = c.party AND ph.kind = 'home'
    LEFT JOIN feat_point_prices AS pw ON pw.party = c.party AND pw.kind = 'work'
),
neighbors AS (
    SELECT
        c.user_id,
        CAST(AVG(CAST(pp.avg_price AS DECIMAL(18, 6))) AS DOUBLE) AS neighbor_avg_price,
        CAST(AVG(CAST(pp.center_price AS DECIMAL(18, 6))) AS DOUBLE) AS neighbor_center_price
    FROM feat_contacts AS c
    JOIN party_prices AS pp ON pp.party = c.contact
    GROUP BY c.user_id
)
SELECT
    f.user_id,
    pp.avg_price,
    pp.center_price,
    pp.home_avg_price,
    pp.home_center_price,
    pp.work_avg_price,
    pp.work_center_price,
    n.neighbor_avg_price,
    n.neighbor_center_price
FROM feat_users AS f
LEFT JOIN party_prices AS pp ON pp.party = f.user_id
LEFT JOIN neighbors AS n ON n.user_id = f.user_id;
