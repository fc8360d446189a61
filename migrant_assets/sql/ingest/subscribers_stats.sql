-- Counts for the subscribers asset metadata and its has_users check (SPEC §1): users (owners),
-- those with a local number, service users, users with several numbers. Counts only.
SELECT
    count(*) AS users,
    count(*) FILTER (WHERE has_local_number) AS users_with_local_number,
    count(*) FILTER (WHERE is_service) AS service_users,
    count(*) FILTER (WHERE n_numbers > 1) AS users_with_several_numbers
FROM subscribers;
