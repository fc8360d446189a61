-- The subscribers' numbers and owner ids, the subscribers files read again (temp table $raw of
-- contract.read_table), added to temp table raw_identifiers of the calls (SPEC §1): the
-- landing's no_raw_identifiers search finds an owner id the calls files hold too (a line whose
-- fields shifted, a folder named by its owner). Identifiers shorter than 6 characters are left
-- out, as in raw_identifiers_subscribers.sql.
INSERT INTO raw_identifiers
SELECT v AS token, TRY_CAST(v AS BIGINT) AS as_int
FROM (SELECT number AS v FROM $raw UNION SELECT owner_id AS v FROM $raw)
WHERE length(v) >= 6 AND v NOT IN (SELECT token FROM raw_identifiers);
