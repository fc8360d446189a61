-- What the data lack when a feature is null for every user (features.valueless_notes): a call of
-- known duration (a call of 0 s is a missed call, without one), and a call between two
-- subscribers (whose contacts' ages, sexes and birth provinces are known). Each stops at the
-- first such call.
SELECT
    EXISTS (SELECT 1 FROM calls WHERE duration_s IS NOT NULL) AS timed_calls,
    EXISTS (
        SELECT 1
        FROM calls AS c
        INNER JOIN subscribers AS a ON c.caller = a.user_id
        INNER JOIN subscribers AS b ON c.callee = b.user_id
    ) AS calls_between_subscribers;
