-- Replace the subscribers, their number -> owner map, their user types, their quarantined rows
-- and their row accounting (after subscribers.sql and rejected_lines.sql; inside one
-- transaction). One user per owner: each attribute from the owner's first row in file order
-- that has one (the same whatever the pseudonymisation key), service if any number is a
-- service number, local if any number is local.
DELETE FROM number_owner;
INSERT INTO number_owner SELECT number_id, user_id FROM judged_subscribers WHERE reason IS NULL;
DELETE FROM subscribers;
INSERT INTO subscribers
SELECT
    user_id,
    arg_min(age, (_file, _row)),
    arg_min(sex, (_file, _row)),
    arg_min(birth_province, (_file, _row)),
    bool_or(is_local_number),
    bool_or(list_contains($service_user_types, user_type)),
    count(*)
FROM judged_subscribers
WHERE reason IS NULL
GROUP BY user_id;
DELETE FROM user_types_subscribers;
INSERT INTO user_types_subscribers
SELECT
    safe_code(user_type),
    count(*),
    list_contains($service_user_types, user_type)
FROM judged_subscribers
WHERE reason IS NULL
GROUP BY ALL;
DELETE FROM quarantine_subscribers;
INSERT INTO quarantine_subscribers
SELECT
    reason,
    _file,
    _row,
    CAST(to_json({
        number: number_id, owner_id: user_id, age: safe_code(age_text),
        -- a birth date is personal data: only its form is shown (1986-03-12 as 9999-99-99,
        -- 12 March 1986 as 99 aaaaa 9999)
        birth_year: left(regexp_replace(regexp_replace(birth_text, '[0-9]', '9', 'g'),
            '[^9 /.:-]', 'a', 'g'), 64),
        sex: safe_code(sex_text),
        birth_province: CASE
            WHEN province_is_id THEN '<redacted: ' || length(birth_province) || ' characters>'
            ELSE safe_code(birth_province)
        END,
        is_local_number: safe_code(local_text),
        user_type: CASE
            WHEN type_is_id THEN '<redacted: ' || length(user_type) || ' characters>'
            ELSE safe_code(user_type)
        END
    }) AS VARCHAR)
FROM judged_subscribers
WHERE reason IS NOT NULL;
INSERT INTO quarantine_subscribers SELECT * FROM rejected_lines;
DELETE FROM accounting_subscribers;
INSERT INTO accounting_subscribers VALUES ($rows_read, $note);
