-- Macros of the report stage, run before the SQL that uses them.

-- Whether a row of integration_results may be published (SPEC §1): a share rests on the
-- n_users users of its group, an F1 on round(prevalence * n_users) positives and the rest
-- negatives; fewer than min_size of either is suppressed (integration_results.sql shows it
-- suppressed, the model findings do not test it: finding_estimates.sql).
CREATE OR REPLACE TEMP MACRO published_result(share, prevalence, n_users, min_size) AS
    CASE
        WHEN share IS NOT NULL OR prevalence IS NULL THEN n_users >= min_size
        ELSE round(prevalence * n_users) >= min_size
            AND n_users - round(prevalence * n_users) >= min_size
    END;
