-- Facts the user_labels asset checks assert (SPEC §3), with what each one judges: users,
-- labelled users (either study), users with a known birth province (labels need one).
SELECT
    (SELECT count(*) FROM user_labels) AS n_users,
    (SELECT count(*) FROM user_labels
     WHERE integration_label IS NOT NULL OR departure_label IS NOT NULL) AS n_labelled,
    (SELECT count(*) FROM user_labels WHERE birth_province IS NOT NULL) AS n_known_province,
    (SELECT count(*) - count(DISTINCT user_id) FROM user_labels) AS duplicate_users,
    (
        SELECT count(*)
        FROM user_labels AS l
        LEFT JOIN subscribers AS s USING (user_id)
        WHERE (l.integration_label IS NOT NULL OR l.departure_label IS NOT NULL)
            AND (s.user_id IS NULL OR s.birth_province IS NULL)
    ) AS labelled_without_attributes;
