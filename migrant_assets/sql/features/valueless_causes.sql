-- What the data lack when a feature is null for every user (features.valueless_notes): the calls
-- of known duration (a call of 0 s is a missed call, without one), and the calls between two
-- subscribers (whose contacts' ages, sexes and birth provinces are known).
SELECT
    count(*) FILTER (WHERE c.duration_s IS NOT NULL) AS timed_calls,
    count(*) FILTER (
        WHERE a.user_id IS NOT NULL AND b.user_id IS NOT NULL
    ) AS calls_between_subscribers
FROM calls AS c
LEFT JOIN subscribers AS a ON c.caller = a.user_id
LEFT JOIN subscribers AS b ON c.callee = b.user_id;
