-- The users without a label of a study only because a week where every user must call (SPEC §3:
-- integration W2-W4, departure weeks A and B) holds days the calls do not cover and they
-- called on none of its other days ($integration_weeks, $departure_weeks: those weeks' labels),
-- every other condition of a label holding (a known birth province; departure: a local active
-- in week C, a migrant silent before week A): they may have called on the days without data.
-- Counts only.
SELECT
    count(*) FILTER (
        WHERE integration_label IS NULL AND is_local_born IS NOT NULL
        AND NOT (active_w2 AND active_w3 AND active_w4)
        AND (active_w2 OR list_contains($integration_weeks, 'W2'))
        AND (active_w3 OR list_contains($integration_weeks, 'W3'))
        AND (active_w4 OR list_contains($integration_weeks, 'W4'))
    ) AS integration,
    count(*) FILTER (
        WHERE departure_label IS NULL AND is_local_born IS NOT NULL
        AND NOT (active_a AND active_b)
        AND (active_a OR list_contains($departure_weeks, 'A'))
        AND (active_b OR list_contains($departure_weeks, 'B'))
        AND ((is_local_born AND active_c) OR (NOT is_local_born AND NOT active_pre))
    ) AS departure
FROM user_labels;
