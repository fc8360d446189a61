-- How many users (owners with a local number) have an age, a sex and a birth province (SPEC §5:
-- similar_age and same_sex need them; §3: the labels need the province): the report and the
-- summary say when none has one. Counts only.
SELECT count(*) AS users, count(age) AS ages, count(sex) AS sexes,
       count(birth_province) AS provinces
FROM subscribers
WHERE has_local_number;
