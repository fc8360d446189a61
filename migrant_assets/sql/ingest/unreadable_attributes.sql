-- The ages and sexes the subscribers gave but that could not be read (stored as unknown;
-- subscribers.sql), for the readable_attributes check: the accepted numbers, those with an
-- unreadable age or sex, and the unreadable values (as a quarantine record shows them), the
-- most numbers first. Counts and codes only.
WITH accepted AS (
    SELECT count(*) AS numbers FROM number_owner
),

unreadable AS (
    SELECT
        coalesce(sum(numbers) FILTER (WHERE attribute = 'age'), 0) AS unreadable_ages,
        coalesce(sum(numbers) FILTER (WHERE attribute = 'sex'), 0) AS unreadable_sexes,
        coalesce(
            list(
                {'attribute': attribute, 'value': value, 'numbers': numbers}
                ORDER BY numbers DESC, attribute ASC, value ASC
            ),
            []
        ) AS values
    FROM unreadable_attributes_subscribers
)

SELECT accepted.numbers, unreadable.*
FROM accepted, unreadable;
