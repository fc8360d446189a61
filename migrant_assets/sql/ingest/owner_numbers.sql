-- The subscribers' owners holding more than $max_numbers numbers (SPEC §1: one user per owner):
-- how many, their numbers, and the most numbers of one owner. Counts only.
SELECT
    count(*) AS users,
    count(*) FILTER (WHERE n_numbers > $max_numbers) AS owners_over,
    coalesce(sum(n_numbers) FILTER (WHERE n_numbers > $max_numbers), 0) AS their_numbers,
    coalesce(max(n_numbers), 0) AS most_numbers
FROM subscribers;
