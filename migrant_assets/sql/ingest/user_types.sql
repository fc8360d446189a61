-- The subscribers' user types (user_types_subscribers) that are neither regular nor a service
-- type (thresholds.service_user_types when the subscribers were ingested): their numbers are
-- counted as regular (the user_types check). Codes and counts only, the most numbers first.
WITH types AS (
    SELECT
        user_type,
        numbers,
        user_type <> 'regular' AND NOT is_service AS unknown
    FROM user_types_subscribers
)

SELECT
    coalesce(sum(numbers), 0) AS numbers,
    coalesce(sum(numbers) FILTER (WHERE unknown), 0) AS unknown_numbers,
    coalesce(
        list(
            {'user_type': user_type, 'numbers': numbers} ORDER BY numbers DESC, user_type ASC
        ) FILTER (WHERE unknown),
        []
    ) AS unknown_types
FROM types;
