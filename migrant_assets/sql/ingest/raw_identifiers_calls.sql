-- The identifiers of the calls files, as the landing step made them canonical (temp table
-- landing_number_ids: every distinct number of every row read), as temp table
-- raw_identifiers(token, as_int) for the no_raw_identifiers search (SPEC §1). Identifiers
-- shorter than 6 characters are left out (they would match ages and counts).
CREATE OR REPLACE TEMP TABLE raw_identifiers AS
SELECT
    number AS token,
    TRY_CAST(number AS BIGINT) AS as_int
FROM landing_number_ids
WHERE length(number) >= 6;
