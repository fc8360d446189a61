-- What the data can support for each featurised user of window $window_id (the null-share check,
-- features.judged_null_shares), from the stored tables (features, window_graph, subscribers),
-- not from the feature SQL's working tables. One row per row of `features`:
--
-- subscriber        the user has a `subscribers` row (only subscribers' calls carry cells);
-- contact_age       the user's age is known and a contact's age is known (similar_age);
-- contact_sex       the same for sex (same_sex);
-- contact_province  a contact's birth province is known (local, province_diversity, local_*);
-- townsman          the user's birth province is known, and a contact's (townsman);
-- timed_call        the user made or received a call of known duration in the window (a missed
--                   call has none: call_duration, duration_variance): a party of an edge of the
--                   window graph with a duration (an edge's duration_s sums its calls' known
--                   durations, null when none has one; graphs.py), read in the same pass as the
--                   contacts rather than from the window's calls (1.6x less time on the month's
--                   window at 10x, docs/scale.md).
--
-- A contact is another party of the window's undirected view: `edges` lists a pair both ways
-- (a pair called both ways appears twice, which the MAX of `known` does not see; no DISTINCT:
-- 35-40 % of the statement on the `large` city).
CREATE OR REPLACE TEMP TABLE feat_check_support AS
WITH rows AS (
    SELECT user_id FROM features WHERE window_id = $window_id
),
edges AS (
    SELECT
        src AS user_id,
        dst AS contact,
        duration_s IS NOT NULL AS timed
    FROM window_graph
    WHERE window_id = $window_id
    UNION ALL
    SELECT
        dst AS user_id,
        src AS contact,
        duration_s IS NOT NULL AS timed
    FROM window_graph
    WHERE window_id = $window_id
),
known AS (
    SELECT
        e.user_id,
        MAX(CASE WHEN e.contact <> e.user_id AND s.age IS NOT NULL THEN 1 ELSE 0 END)
            AS contact_age,
        MAX(CASE WHEN e.contact <> e.user_id AND s.sex IS NOT NULL THEN 1 ELSE 0 END)
            AS contact_sex,
        MAX(CASE WHEN e.contact <> e.user_id AND s.birth_province IS NOT NULL THEN 1 ELSE 0 END)
            AS contact_province,
        MAX(CASE WHEN e.timed THEN 1 ELSE 0 END) AS timed_call
    FROM edges AS e
    JOIN rows AS r ON r.user_id = e.user_id
    LEFT JOIN subscribers AS s ON s.user_id = e.contact
    GROUP BY e.user_id
)
SELECT
    r.user_id,
    s.user_id IS NOT NULL AS subscriber,
    s.age IS NOT NULL AND COALESCE(k.contact_age, 0) = 1 AS contact_age,
    s.sex IS NOT NULL AND COALESCE(k.contact_sex, 0) = 1 AS contact_sex,
    COALESCE(k.contact_province, 0) = 1 AS contact_province,
    s.birth_province IS NOT NULL AND COALESCE(k.contact_province, 0) = 1 AS townsman,
    COALESCE(k.timed_call, 0) = 1 AS timed_call
FROM rows AS r
LEFT JOIN subscribers AS s ON s.user_id = r.user_id
LEFT JOIN known AS k ON k.user_id = r.user_id;
