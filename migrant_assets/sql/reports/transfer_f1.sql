-- Figure 8(d): F1 of the classifier trained on the first k days and tested on the first t days
-- (transfer_f1), model $model, with k and t as numbers. Suppressed (F1 null) when fewer than
-- $min_group_size positives or negatives are tested (SPEC §1).
WITH windows AS (SELECT unnest($window_ids) AS window_id, unnest($ks) AS k)
SELECT tr.k AS train_k, te.k AS test_k, t.train_label, t.test_label,
       CASE WHEN t.n_pos >= $min_group_size AND t.n_users - t.n_pos >= $min_group_size
            THEN t.f1 END AS f1
FROM transfer_f1 t
JOIN windows tr ON tr.window_id = t.train_window
JOIN windows te ON te.window_id = t.test_window
WHERE t.model = $model
ORDER BY train_k, test_k;
