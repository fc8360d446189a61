-- The identifiers of the subscribers files read again (temp table raw_subscribers of
-- contract.read_table) as temp table raw_identifiers(token, as_int), for the no_raw_identifiers
-- check (SPEC §1). Identifiers shorter than 6 characters are left out (they would match ages and
-- counts).
CREATE OR REPLACE TEMP TABLE raw_identifiers AS
SELECT v AS token, TRY_CAST(v AS BIGINT) AS as_int
FROM (SELECT number AS v FROM raw_subscribers UNION SELECT owner_id AS v FROM raw_subscribers)
WHERE length(v) >= 6;
