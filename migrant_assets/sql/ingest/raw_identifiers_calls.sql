-- The identifiers of the calls files read again (temp table raw_calls of contract.read_table) as
-- temp table raw_identifiers(token, as_int), for the no_raw_identifiers check (SPEC §1).
-- Identifiers shorter than 6 characters are left out (they would match ages and counts).
CREATE OR REPLACE TEMP TABLE raw_identifiers AS
SELECT v AS token, TRY_CAST(v AS BIGINT) AS as_int
FROM (SELECT caller AS v FROM raw_calls UNION SELECT callee AS v FROM raw_calls)
WHERE length(v) >= 6;
