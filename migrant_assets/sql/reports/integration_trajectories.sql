-- The integration study's Table 2 (001 Section 4): for each feature, the ordering of the group
-- means of locals, settled and new migrants in the reference week $ref_window (W2, the new
-- migrants' first week, as in 001 Section 3) and which group lies in the middle:
--   settled_between  locals > settled > new (or <): new migrants move towards locals, settled
--                    migrants are in the middle of the process (ideal integration);
--   locals_between   new > locals > settled (or <): new migrants move towards locals initially,
--                    then away from them as they settle;
--   new_between      locals > new > settled (or <): new migrants never move towards locals.
-- Beside it: the smaller |z| of the two adjacent differences of the ordering, whether new
-- migrants moved towards settled migrants and towards locals from $ref_window to $last_window
-- (distance of group means), and the paper's assignment; a feature without an ordering says
-- why (no_ordering_because). Reads group_feature_trends.
-- Why a week's three group means are not all there: withheld (days without calls), suppressed
-- (a group under min_size users), or absent (the groups named).
CREATE OR REPLACE TEMP MACRO why_no_means(
    uncovered, suppressed, local, settled, new, week, min_size
) AS
CASE
    WHEN uncovered IS NOT NULL THEN uncovered
    WHEN suppressed
        THEN 'suppressed in ' || week || ': a group has fewer than ' || min_size
             || ' users with a value, so every group''s mean is withheld'
    ELSE 'no ' || week || ' value for ' || concat_ws(', ',
        CASE WHEN local IS NULL THEN 'locals' END,
        CASE WHEN settled IS NULL THEN 'settled migrants' END,
        CASE WHEN new IS NULL THEN 'new migrants' END)
END;

CREATE OR REPLACE TABLE integration_trajectories AS
WITH catalogue AS (
    SELECT unnest($features) AS feature, unnest($feature_groups) AS feature_group,
           unnest(generate_series(1, len($features))) AS feature_order
),
paper AS (
    SELECT unnest($paper_features) AS feature, unnest($paper_trajectories) AS paper_trajectory
),
means AS (
    SELECT feature,
           max(mean) FILTER (label = 'local' AND window_id = $ref_window) AS local_mean,
           max(mean) FILTER (label = 'settled_migrant' AND window_id = $ref_window) AS settled_mean,
           max(mean) FILTER (label = 'new_migrant' AND window_id = $ref_window) AS new_mean,
           max(se) FILTER (label = 'local' AND window_id = $ref_window) AS local_se,
           max(se) FILTER (label = 'settled_migrant' AND window_id = $ref_window) AS settled_se,
           max(se) FILTER (label = 'new_migrant' AND window_id = $ref_window) AS new_se,
           max(mean) FILTER (label = 'local' AND window_id = $last_window) AS local_last,
           max(mean) FILTER (label = 'settled_migrant' AND window_id = $last_window)
               AS settled_last,
           max(mean) FILTER (label = 'new_migrant' AND window_id = $last_window) AS new_last,
           bool_or(suppressed) FILTER (window_id = $ref_window) AS suppressed_ref,
           min(uncovered) FILTER (window_id = $ref_window) AS uncovered_ref,
           bool_or(suppressed) FILTER (window_id = $last_window) AS suppressed_last,
           min(uncovered) FILTER (window_id = $last_window) AS uncovered_last
    FROM group_feature_trends
    WHERE study = 'integration'
    GROUP BY feature
),
ordered AS (
    SELECT *,
           CASE WHEN local_mean IS NOT NULL AND settled_mean IS NOT NULL
                     AND new_mean IS NOT NULL
                THEN list_sort([{'mean': local_mean, 'se': local_se, 'name': 'locals'},
                                {'mean': settled_mean, 'se': settled_se, 'name': 'settled'},
                                {'mean': new_mean, 'se': new_se, 'name': 'new'}])
           END AS sorted
    FROM means
),
classified AS (
    SELECT c.feature, c.feature_group, c.feature_order, o.* EXCLUDE (feature),
           CASE o.sorted[2].name
               WHEN 'settled' THEN 'settled_between'
               WHEN 'locals' THEN 'locals_between'
               WHEN 'new' THEN 'new_between'
           END AS trajectory
    FROM catalogue c
    LEFT JOIN ordered o USING (feature)
)
SELECT k.feature, k.feature_group, k.local_mean, k.settled_mean, k.new_mean,
       array_to_string(list_transform(k.sorted, lambda s: s.name), ' < ') AS ordering, -- noqa: RF01
       k.trajectory,
       least(abs(k.sorted[2].mean - k.sorted[1].mean)
                 / nullif(sqrt(k.sorted[2].se ^ 2 + k.sorted[1].se ^ 2), 0),
             abs(k.sorted[3].mean - k.sorted[2].mean)
                 / nullif(sqrt(k.sorted[3].se ^ 2 + k.sorted[2].se ^ 2), 0)) AS min_abs_z,
       abs(k.new_last - k.settled_last) < abs(k.new_mean - k.settled_mean) AS new_toward_settled,
       abs(k.new_last - k.local_last) < abs(k.new_mean - k.local_mean) AS new_toward_locals,
       p.paper_trajectory,
       k.trajectory = p.paper_trajectory AS agrees,
       CASE WHEN k.sorted IS NULL THEN why_no_means(
           k.uncovered_ref, k.suppressed_ref, k.local_mean, k.settled_mean, k.new_mean,
           $ref_label, $min_group_size
       ) END AS no_ordering_because,
       CASE WHEN k.sorted IS NOT NULL AND (
           k.new_last IS NULL OR k.settled_last IS NULL OR k.local_last IS NULL
       ) THEN why_no_means(
           k.uncovered_last, k.suppressed_last, k.local_last, k.settled_last, k.new_last,
           $last_label, $min_group_size
       ) END AS no_movement_because,
       k.feature_order
FROM classified k
LEFT JOIN paper p USING (feature);

COMMENT ON TABLE integration_trajectories IS
'The integration paper''s Table 2: ordering of the W2 group means and trajectory per feature.';
COMMENT ON COLUMN integration_trajectories.feature IS 'Feature name (features registry).';
COMMENT ON COLUMN integration_trajectories.feature_group IS
'Integration feature group: D, E, C or G.';
COMMENT ON COLUMN integration_trajectories.local_mean IS
'Locals'' mean in W2 (null when suppressed).';
COMMENT ON COLUMN integration_trajectories.settled_mean IS
'Settled migrants'' mean in W2 (null when suppressed).';
COMMENT ON COLUMN integration_trajectories.new_mean IS
'New migrants'' mean in W2 (null when suppressed).';
COMMENT ON COLUMN integration_trajectories.ordering IS 'The three groups by W2 mean, lowest first.';
COMMENT ON COLUMN integration_trajectories.trajectory IS
'settled_between | locals_between | new_between: the group in the middle.';
COMMENT ON COLUMN integration_trajectories.min_abs_z IS
'The weaker |z| of the two adjacent differences of the ordering.';
COMMENT ON COLUMN integration_trajectories.new_toward_settled IS
'New migrants'' mean closer to settled migrants'' in the last week than in W2.';
COMMENT ON COLUMN integration_trajectories.new_toward_locals IS
'New migrants'' mean closer to locals'' in the last week than in W2.';
COMMENT ON COLUMN integration_trajectories.paper_trajectory IS
'The paper''s trajectory of the feature (001 Section 4); null when it names none.';
COMMENT ON COLUMN integration_trajectories.agrees IS 'Our trajectory is the paper''s.';
COMMENT ON COLUMN integration_trajectories.no_ordering_because IS
'Why no ordering: a W2 mean suppressed, absent or withheld (days without calls); else null.';
COMMENT ON COLUMN integration_trajectories.no_movement_because IS
'Why new_toward_settled or new_toward_locals is null beside an ordering: a last-week mean '
'withheld (days without calls), suppressed or absent (the groups named); else null.';
COMMENT ON COLUMN integration_trajectories.feature_order IS
'Position of the feature in the registry.';

SELECT * EXCLUDE (feature_order) FROM integration_trajectories ORDER BY feature_order;
