-- Housing prices of the featurised users of one window (SPEC §5).
-- Reads feat_edges, feat_users, feat_locations, feat_centers (prepare.sql), cell_prices and
-- estates.
--
-- price(l) of a location is cell_prices.price of its cell. A centre is a point, not a cell: its
-- price follows the same rule as cell_prices (mean price_per_sqm of the estates within 1 km, else
-- the nearest estate within 5 km, the mean of the tied ones, else null) on the same haversine
-- distance, evaluated as the chord between unit vectors: haversine(p, e) = 2 R asin(c / 2) with
-- c = |u(p) - u(e)|, so "within r km" is c^2 <= (2 sin(r / 2R))^2, R = 6371.0088 km, and the
-- nearest estate is the one of smallest c^2. Candidate estates come from an equi-join on a
-- lat/lon grid whose cells are at least r km wide everywhere in the data (r = 1, then 5 for the
-- points with no estate within 1 km), probing the 3 x 3 grid cells around the point. Every party
-- with a location gets its centre price (contacts' values feed the neighbour prices); home and
-- work centres are priced for the featurised users only.
CREATE OR REPLACE TEMP TABLE feat_point_prices AS
WITH points AS (
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
    WHERE c.work_lat IS NOT NULL
),
grid AS (
    -- degrees per km of latitude and of longitude (at the highest |latitude| present), +1 %
    SELECT
        1.01 / 111.19492664455873 AS lat_per_km,
        1.01 / (111.19492664455873 * COS(RADIANS(LEAST(89.0, MAX(ABS(lat)))))) AS lon_per_km
    FROM (SELECT lat FROM estates UNION ALL SELECT lat FROM points) AS all_points
),
offsets AS (
    SELECT a.dx, b.dy
    FROM (VALUES (-1), (0), (1)) AS a(dx)
    CROSS JOIN (VALUES (-1), (0), (1)) AS b(dy)
),
point_keys AS (
    SELECT
        p.party, p.kind,
        COS(RADIANS(p.lat)) * COS(RADIANS(p.lon)) AS x,
        COS(RADIANS(p.lat)) * SIN(RADIANS(p.lon)) AS y,
        SIN(RADIANS(p.lat)) AS z,
        CAST(FLOOR(p.lat / g.lat_per_km) AS BIGINT) AS gy1,
        CAST(FLOOR(p.lon / g.lon_per_km) AS BIGINT) AS gx1,
        CAST(FLOOR(p.lat / (5 * g.lat_per_km)) AS BIGINT) AS gy5,
        CAST(FLOOR(p.lon / (5 * g.lon_per_km)) AS BIGINT) AS gx5
    FROM points AS p
    CROSS JOIN grid AS g
),
estate_keys AS (
    SELECT
        e.price_per_sqm,
        COS(RADIANS(e.lat)) * COS(RADIANS(e.lon)) AS x,
        COS(RADIANS(e.lat)) * SIN(RADIANS(e.lon)) AS y,
        SIN(RADIANS(e.lat)) AS z,
        CAST(FLOOR(e.lat / g.lat_per_km) AS BIGINT) AS gy1,
        CAST(FLOOR(e.lon / g.lon_per_km) AS BIGINT) AS gx1,
        CAST(FLOOR(e.lat / (5 * g.lat_per_km)) AS BIGINT) AS gy5,
        CAST(FLOOR(e.lon / (5 * g.lon_per_km)) AS BIGINT) AS gx5
    FROM estates AS e
    CROSS JOIN grid AS g
),
near AS (
    SELECT k.party, k.kind, AVG(e.price_per_sqm) AS price
    FROM (
        SELECT p.party, p.kind, p.x, p.y, p.z, p.gx1 + o.dx AS gx, p.gy1 + o.dy AS gy
        FROM point_keys AS p
        CROSS JOIN offsets AS o
    ) AS k
    JOIN estate_keys AS e ON e.gx1 = k.gx AND e.gy1 = k.gy
    WHERE (k.x - e.x) * (k.x - e.x) + (k.y - e.y) * (k.y - e.y) + (k.z - e.z) * (k.z - e.z)
        <= 4 * POWER(SIN(1.0 / (2 * 6371.0088)), 2)
    GROUP BY k.party, k.kind
),
far_candidates AS (
    SELECT
        k.party, k.kind, e.price_per_sqm,
        (k.x - e.x) * (k.x - e.x) + (k.y - e.y) * (k.y - e.y) + (k.z - e.z) * (k.z - e.z)
            AS chord2
    FROM (
        SELECT p.party, p.kind, p.x, p.y, p.z, p.gx5 + o.dx AS gx, p.gy5 + o.dy AS gy
        FROM point_keys AS p
        LEFT JOIN near AS n ON n.party = p.party AND n.kind = p.kind
        CROSS JOIN offsets AS o
        WHERE n.party IS NULL
    ) AS k
    JOIN estate_keys AS e ON e.gx5 = k.gx AND e.gy5 = k.gy
),
within5 AS (
    SELECT party, kind, price_per_sqm, chord2
    FROM far_candidates
    WHERE chord2 <= 4 * POWER(SIN(5.0 / (2 * 6371.0088)), 2)
),
nearest AS (
    SELECT party, kind, MIN(chord2) AS chord2
    FROM within5
    GROUP BY party, kind
)
SELECT party, kind, price FROM near
UNION ALL
SELECT w.party, w.kind, AVG(w.price_per_sqm) AS price
FROM within5 AS w
JOIN nearest AS n ON n.party = w.party AND n.kind = w.kind AND n.chord2 = w.chord2
GROUP BY w.party, w.kind;

CREATE OR REPLACE TEMP TABLE feat_housing_price AS
WITH location_prices AS (
    SELECT
        l.party,
        AVG(p.price) AS avg_price,
        AVG(CASE WHEN l.is_home THEN p.price END) AS home_avg_price,
        AVG(CASE WHEN l.is_work THEN p.price END) AS work_avg_price
    FROM feat_locations AS l
    JOIN cell_prices AS p ON p.cell_id = l.cell_id
    GROUP BY l.party
),
party_prices AS (
    SELECT
        c.party,
        lp.avg_price,
        pc.price AS center_price,
        lp.home_avg_price,
        ph.price AS home_center_price,
        lp.work_avg_price,
        pw.price AS work_center_price
    FROM feat_centers AS c
    LEFT JOIN location_prices AS lp ON lp.party = c.party
    LEFT JOIN feat_point_prices AS pc ON pc.party = c.party AND pc.kind = 'center'
    LEFT JOIN feat_point_prices AS ph ON ph.party = c.party AND ph.kind = 'home'
    LEFT JOIN feat_point_prices AS pw ON pw.party = c.party AND pw.kind = 'work'
),
neighbors AS (
    SELECT
        e.u AS user_id,
        AVG(pp.avg_price) AS neighbor_avg_price,
        AVG(pp.center_price) AS neighbor_center_price
    FROM feat_edges AS e
    JOIN feat_users AS f ON f.user_id = e.u
    JOIN party_prices AS pp ON pp.party = e.v
    GROUP BY e.u
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
