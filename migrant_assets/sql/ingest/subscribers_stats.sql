-- Counts for the subscribers asset metadata and its has_users, ages and sexes checks (SPEC §1):
-- users (owners), those with a local number, service users, users with several numbers, users
-- with an age, those of age 0 and those older than $oldest (1900-01-01, how some exports write
-- an unknown birth date), users with a sex and the male ones. Counts only.
SELECT
    count(*) AS users,
    count(*) FILTER (WHERE has_local_number) AS users_with_local_number,
    count(*) FILTER (WHERE is_service) AS service_users,
    count(*) FILTER (WHERE n_numbers > 1) AS users_with_several_numbers,
    count(age) AS users_with_age,
    count(*) FILTER (WHERE age = 0) AS users_aged_0,
    count(*) FILTER (WHERE age > $oldest) AS users_over_oldest,
    count(sex) AS users_with_sex,
    count(*) FILTER (WHERE sex = 'M') AS male_users
FROM subscribers;
