-- Replace the subscribers, their number -> owner map, their user types, their unreadable ages
-- and sexes, their quarantined rows and their row accounting (after subscribers.sql and
-- rejected_lines.sql; inside one transaction). One user per owner: each attribute from the
-- owner's first row in file order that has one (the last with $keep_last: the mapping's
-- subscribers.keep; the same whatever the pseudonymisation key),
-- service if any number is a service number, local if any number is local.
DELETE FROM number_owner;
INSERT INTO number_owner SELECT number_id, user_id FROM judged_subscribers WHERE reason IS NULL;
DELETE FROM subscribers;
INSERT INTO subscribers
SELECT
    user_id,
    CASE WHEN $keep_last THEN arg_max(age, (_file, _row)) ELSE arg_min(age, (_file, _row)) END,
    CASE WHEN $keep_last THEN arg_max(sex, (_file, _row)) ELSE arg_min(sex, (_file, _row)) END,
    CASE
        WHEN $keep_last THEN arg_max(birth_province, (_file, _row))
        ELSE arg_min(birth_province, (_file, _row))
    END,
    bool_or(is_local_number),
    bool_or(list_contains($service_user_types, user_type)),
    count(*)
FROM judged_subscribers
WHERE reason IS NULL
GROUP BY user_id;
DELETE FROM owner_conflicts_subscribers;
INSERT INTO owner_conflicts_subscribers
WITH per_owner AS (
    SELECT
        count(DISTINCT age) AS ages,
        count(DISTINCT sex) AS sexes,
        count(DISTINCT birth_province) AS provinces
    FROM judged_subscribers
    WHERE reason IS NULL
    GROUP BY user_id
    HAVING count(*) > 1
)
SELECT 'age', count(*) FILTER (WHERE ages > 1) FROM per_owner
UNION ALL
SELECT 'sex', count(*) FILTER (WHERE sexes > 1) FROM per_owner
UNION ALL
SELECT 'birth_province', count(*) FILTER (WHERE provinces > 1) FROM per_owner;
DELETE FROM user_types_subscribers;
INSERT INTO user_types_subscribers
SELECT
    safe_code(user_type),
    count(*),
    list_contains($service_user_types, user_type)
FROM judged_subscribers
WHERE reason IS NULL
GROUP BY ALL;
DELETE FROM unreadable_attributes_subscribers;
INSERT INTO unreadable_attributes_subscribers
SELECT attribute, value, count(*)
FROM (
    SELECT 'age' AS attribute, coalesce(safe_code(age_text), birth_form) AS value
    FROM judged_subscribers
    WHERE reason IS NULL AND age_unreadable
    UNION ALL
    SELECT 'sex', safe_code(sex_text)
    FROM judged_subscribers
    WHERE reason IS NULL AND sex_unreadable
)
GROUP BY ALL;
DELETE FROM quarantine_subscribers;
INSERT INTO quarantine_subscribers
SELECT
    reason,
    _file,
    _row,
    CAST(json_merge_patch(
        to_json({
            number: number_id, owner_id: user_id,
            age: safe_attribute(age_text, demographic_is_id),
            birth_year: birth_form,
            sex: safe_attribute(sex_text, demographic_is_id),
            birth_province: safe_attribute(birth_province, province_is_id),
            is_local_number: safe_code(local_text),
            user_type: safe_attribute(user_type, type_is_id)
        }),
        CASE WHEN reason = 'duplicate_number'
            THEN json_object('differs_from_kept', differs_from_kept) ELSE '{}' END
    ) AS VARCHAR)
FROM judged_subscribers
WHERE reason IS NOT NULL;
INSERT INTO quarantine_subscribers SELECT * FROM rejected_lines;
DELETE FROM accounting_subscribers;
INSERT INTO accounting_subscribers VALUES ($rows_read, $note);
