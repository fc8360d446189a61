-- The users without a label of a study only because a week where every user must call (SPEC §3:
-- integration W2-W4, departure weeks A and B) holds days the calls do not cover and they
-- called on none of its other days ($integration_weeks, $departure_weeks: those weeks' labels),
-- every other condition of a label holding (a known birth province; integration: a local active
-- in W1; departure: a local active in week C, a migrant silent before week A) and a call in one
-- of the study's required weeks (a user silent all month is no user lost to a day): they may
-- have called on the days without data, so the count is an upper bound. Counts only.
SELECT
    count(*) FILTER (
        WHERE integration_label IS NULL AND is_local_born IS NOT NULL
        AND NOT (active_w2 AND active_w3 AND active_w4)
        AND (active_w2 OR active_w3 OR active_w4)
        AND (active_w1 OR NOT is_local_born)
        AND (active_w2 OR list_contains($integration_weeks, 'W2'))
        AND (active_w3 OR list_contains($integration_weeks, 'W3'))
        AND (active_w4 OR list_contains($integration_weeks, 'W4'))
    ) AS integration,
    count(*) FILTER (
        WHERE departure_label IS NULL AND is_local_born IS NOT NULL
        AND NOT (active_a AND active_b)
        AND (active_a OR active_b)
        AND (active_a OR list_contains($departure_weeks, 'A'))
        AND (active_b OR list_contains($departure_weeks, 'B'))
        AND ((is_local_born AND active_c) OR (NOT is_local_born AND NOT active_pre))
    ) AS departure
FROM user_labels;
