-- A model matrix (SPEC §6): the users of the given windows (of one family) with one of the given
-- labels, every feature column as DOUBLE, ordered by window and user so that every draw
-- downstream is reproducible. The family's feature table is $feature_table.
SELECT
    window_id,
    user_id,
    label,
    COLUMNS(* EXCLUDE (window_id, study, user_id, label))::DOUBLE
FROM $feature_table
WHERE list_contains($window_ids, window_id)
  AND list_contains($labels, label)
ORDER BY window_id, user_id;
