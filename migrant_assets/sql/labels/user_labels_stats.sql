-- Counts for the user_labels asset metadata (SPEC §3): no identifiers, counts only.
SELECT
    (SELECT count(*) FROM subscribers WHERE has_local_number) AS n_owners_with_local_number,
    (SELECT count(*) FROM user_labels) AS n_users,
    (SELECT count(*) FROM user_labels WHERE birth_province IS NULL) AS n_unknown_birth_province,
    (SELECT count(DISTINCT user_id) FROM service_like_users) AS n_service_like_removed,
    (SELECT count(*) FROM service_like_users WHERE reason = 'user_type') AS n_removed_user_type,
    (SELECT count(*) FROM service_like_users WHERE reason = 'max_degree') AS n_removed_max_degree,
    (SELECT min(degree) FROM service_like_users) AS removed_degree_min,
    (SELECT max(degree) FROM service_like_users) AS removed_degree_max,
    (SELECT count(*) FROM user_labels
     WHERE departure_label = 'leaving_migrant' AND active_after_c) AS n_leaving_active_after_c;
