-- Train/test users of one experiment's splits over the given windows, from `new_rows`;
-- delete-then-insert.
DELETE FROM split_membership
WHERE experiment = $experiment AND list_contains($window_ids, window_id);
INSERT INTO split_membership (experiment, window_id, split, user_id, "role")
SELECT experiment, window_id, split, user_id, "role" FROM new_rows;
