-- Shared preparation of one window's features (SPEC §4-§5), read by every feature family.
-- Connection-local TEMP tables; the SELECT bodies stay in the SQL shared by DuckDB and Spark.
-- The window's edges (window_graph) are read here once, for every family; the calls are read
-- only through the window's additive sums (additive.sql, accumulate.sql: feat_places,
-- feat_moves, feat_moments), which run first.
--
-- feat_arcs: the directed edges of G_t (window_graph is already one row per directed pair) with
-- a flag telling whether the reverse edge exists too.
CREATE OR REPLACE TEMP TABLE feat_arcs AS
WITH g AS (
    SELECT src, dst, n_calls
    FROM window_graph
    WHERE window_id = $window_id
)
SELECT g.src, g.dst, g.n_calls, r.src IS NOT NULL AS is_reciprocal
FROM g
LEFT JOIN g AS r ON r.src = g.dst AND r.dst = g.src;

-- feat_pairs: the undirected simple view of G_t, one row (a, b) with a < b per edge; every party
-- appears, subscriber or not. A reciprocated pair is taken from its a -> b row only, so no
-- DISTINCT is needed.
CREATE OR REPLACE TEMP TABLE feat_pairs AS
SELECT
    CASE WHEN src < dst THEN src ELSE dst END AS a,
    CASE WHEN src < dst THEN dst ELSE src END AS b
FROM feat_arcs
WHERE src < dst OR (src > dst AND NOT is_reciprocal);

-- d_v of every party of the window (undirected view).
CREATE OR REPLACE TEMP TABLE feat_degree AS
SELECT party, COUNT(*) AS degree
FROM (
    SELECT a AS party FROM feat_pairs
    UNION ALL
    SELECT b AS party FROM feat_pairs
) AS ends
GROUP BY party;

-- feat_cohort: the users an early-warning window featurises (population 'cohort', the migrants
-- who arrived on its first day, written by early_warning.py before this file runs, label their
-- outcome when known); empty and unread for every other window.
CREATE TEMP TABLE IF NOT EXISTS feat_cohort (user_id BIGINT, label VARCHAR);

-- The featurised users: the window's population ($population) active in the window (a party of
-- G_t, i.e. at least one call made or received in its dates), with their own attributes.
-- 'labelled': users with the study's label (the descriptive study: with either label);
-- 'subscribers': every user of user_labels; 'all_active': every party of G_t; 'cohort': the
-- users of feat_cohort. label is the study's label (descriptive: the integration label, else
-- the departure label; cohort: its label), else null. $with_locals false ('labelled' only): the
-- study's locals are left out (a first-k-days window below k_max, features._params).
CREATE OR REPLACE TEMP TABLE feat_users AS
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
population AS (
    SELECT l.user_id, l.label
    FROM labels AS l
    JOIN feat_degree AS d ON d.party = l.user_id
    WHERE
        ($population = 'labelled' AND l.label IS NOT NULL AND ($with_locals OR l.label <> 'local'))
        OR $population = 'subscribers'
    UNION ALL
    SELECT d.party AS user_id, l.label
    FROM feat_degree AS d
    LEFT JOIN labels AS l ON l.user_id = d.party
    WHERE $population = 'all_active'
    UNION ALL
    SELECT c.user_id, c.label
    FROM feat_cohort AS c
    JOIN feat_degree AS d ON d.party = c.user_id
    WHERE $population = 'cohort'
)
SELECT p.user_id, p.label, s.age, s.sex, s.birth_province
FROM population AS p
LEFT JOIN subscribers AS s ON s.user_id = p.user_id;

-- feat_neighbourhood: the featurised users and their contacts, the parties whose centres and
-- prices a feature reads (geography and prices: the users'; the neighbour prices: the
-- contacts'), made when $neighbourhood_only (a window whose users are a small part of its
-- parties: a first-k-days window below k_max, an early-warning cohort; features._params). Else
-- the users and their contacts are most parties with a location, and every party is taken.
CREATE OR REPLACE TEMP TABLE feat_neighbourhood AS
SELECT user_id AS party
FROM feat_users
WHERE $neighbourhood_only
UNION
SELECT p.b AS party
FROM feat_pairs AS p
JOIN feat_users AS f ON f.user_id = p.a
WHERE $neighbourhood_only
UNION
SELECT p.a AS party
FROM feat_pairs AS p
JOIN feat_users AS f ON f.user_id = p.b
WHERE $neighbourhood_only;

-- Directed degrees and calls of the featurised users (self-calls count, as in window_graph).
CREATE OR REPLACE TEMP TABLE feat_directed AS
WITH out_edges AS (
    SELECT
        a.src AS user_id,
        COUNT(*) AS out_degree,
        SUM(a.n_calls) AS out_calls,
        SUM(CASE WHEN a.is_reciprocal THEN 1 ELSE 0 END) AS n_reciprocal
    FROM feat_arcs AS a
    JOIN feat_users AS f ON f.user_id = a.src
    GROUP BY a.src
),
in_edges AS (
    SELECT a.dst AS user_id, COUNT(*) AS in_degree, SUM(a.n_calls) AS in_calls
    FROM feat_arcs AS a
    JOIN feat_users AS f ON f.user_id = a.dst
    GROUP BY a.dst
)
SELECT
    f.user_id,
    COALESCE(i.in_degree, 0) AS in_degree,
    COALESCE(o.out_degree, 0) AS out_degree,
    COALESCE(i.in_calls, 0) AS in_calls,
    COALESCE(o.out_calls, 0) AS out_calls,
    COALESCE(o.n_reciprocal, 0) AS n_reciprocal
FROM feat_users AS f
LEFT JOIN out_edges AS o ON o.user_id = f.user_id
LEFT JOIN in_edges AS i ON i.user_id = f.user_id;

-- Cells with their position and price(cell) (cell_prices).
CREATE OR REPLACE TEMP TABLE feat_cells AS
SELECT c.cell_id, c.lat, c.lon, p.price
FROM cells AS c
LEFT JOIN cell_prices AS p ON p.cell_id = c.cell_id;

-- Per party with a location (of feat_neighbourhood when $neighbourhood_only): centres of mass
-- of all of L_v^t, its home part and its work part (null when that part is empty), and the mean
-- price(l) over each (locations with a price; null when none has one), as weighted sums over the
-- party's cells (feat_places, additive.sql and accumulate.sql: L is one row per call and side
-- with the party's own cell; home = local start time in [20:00, 07:00), work = [09:00, 16:00)).
-- With an empty `cells` table nobody has a location: geography and prices are null.
-- Exact sums: every sum or mean of non-integer values in the feature SQL adds fixed-point
-- DECIMALs (degrees to 1e-15, km to 1e-12, yuan to 1e-6, seconds to 1e-6, entropy terms to
-- 1e-15), whose sums are exact, so a feature does not depend on the order in which rows are
-- stored or threads combine partial sums: the same input gives bit-identical features.
CREATE OR REPLACE TEMP TABLE feat_centers AS
WITH fixed AS (
    SELECT
        p.party,
        p.n,
        NULLIF(p.n_home, 0) AS n_home,
        NULLIF(p.n_work, 0) AS n_work,
        CASE WHEN c.price IS NOT NULL THEN p.n END AS n_priced,
        CASE WHEN c.price IS NOT NULL THEN NULLIF(p.n_home, 0) END AS n_home_priced,
        CASE WHEN c.price IS NOT NULL THEN NULLIF(p.n_work, 0) END AS n_work_priced,
        CAST(c.lat AS DECIMAL(18, 15)) AS lat,
        CAST(c.lon AS DECIMAL(18, 15)) AS lon,
        CAST(c.price AS DECIMAL(18, 6)) AS price
    FROM feat_places AS p
    JOIN feat_cells AS c ON c.cell_id = p.cell_id
    WHERE NOT $neighbourhood_only OR p.party IN (SELECT n.party FROM feat_neighbourhood AS n)
)
SELECT
    party,
    CAST(SUM(lat * n) AS DOUBLE) / SUM(n) AS center_lat,
    CAST(SUM(lon * n) AS DOUBLE) / SUM(n) AS center_lon,
    CAST(SUM(lat * n_home) AS DOUBLE) / SUM(n_home) AS home_lat,
    CAST(SUM(lon * n_home) AS DOUBLE) / SUM(n_home) AS home_lon,
    CAST(SUM(lat * n_work) AS DOUBLE) / SUM(n_work) AS work_lat,
    CAST(SUM(lon * n_work) AS DOUBLE) / SUM(n_work) AS work_lon,
    CAST(SUM(price * n) AS DOUBLE) / SUM(n_priced) AS avg_price,
    CAST(SUM(price * n_home) AS DOUBLE) / SUM(n_home_priced) AS home_avg_price,
    CAST(SUM(price * n_work) AS DOUBLE) / SUM(n_work_priced) AS work_avg_price
FROM fixed
GROUP BY party;
