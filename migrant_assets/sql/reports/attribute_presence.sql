-- How many users (owners with a local number) have an age and a sex (SPEC §5: similar_age and
-- same_sex need them): the report and the summary say when none has one. Counts only.
SELECT count(*) AS users, count(age) AS ages, count(sex) AS sexes
FROM subscribers
WHERE has_local_number;
