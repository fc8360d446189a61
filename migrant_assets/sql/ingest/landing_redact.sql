-- Once every batch of the landing is read (ingest.land_calls): a quarantined row's event type,
-- direction or unknown cell (landing_codes) that is a number of any calls file, in whatever
-- form (its canonical form among landing_number_ids; not a stand-in for a withheld number), or
-- a subscriber's owner id (landing_owner_ids, by the pseudonym of its canonical form), however
-- short (a column mapped by mistake, a service number): its record in the staged
-- $quarantine_landed_calls shows it only by its length, as safe_code does a long one.
CREATE OR REPLACE TEMP TABLE landing_identifier_codes AS
WITH shown AS (
    SELECT DISTINCT
        c.text,
        canonical_phone(
            c.text, $country_code, $national_digits, $trunk_prefixes, $area_code, $local_digits
        ) AS number
    FROM (
        SELECT unnest([event_type, direction, caller_cell, callee_cell]) AS text
        FROM landing_codes
    ) AS c
    WHERE c.text IS NOT NULL
)
SELECT s.text
FROM shown AS s
INNER JOIN landing_number_ids AS k ON k.number = s.number
WHERE s.text NOT IN (
    SELECT l.text FROM landing_numbers AS l WHERE l.masked OR l.number_id IS NULL
)
UNION
SELECT s.text
FROM shown AS s
WHERE pseudonym('user', canonical_id(s.text)) IN (SELECT o.user_id FROM landing_owner_ids AS o);

-- each quarantined row's codes to redact, as a JSON patch of its record
CREATE OR REPLACE TEMP TABLE landing_redactions AS
SELECT
    c.file,
    c.row_number,
    to_json(map_from_entries(list({'k': c.code, 'v': redacted(c.text)}))) AS patch
FROM (
    UNPIVOT landing_codes ON event_type, direction, caller_cell, callee_cell  -- noqa: RF03
    INTO NAME code VALUE text
) AS c
WHERE c.text IN (SELECT i.text FROM landing_identifier_codes AS i)
GROUP BY c.file, c.row_number;

UPDATE $quarantine_landed_calls AS q
SET record = CAST(json_merge_patch(q.record, r.patch) AS VARCHAR)
FROM landing_redactions AS r
WHERE r.file = q.file AND r.row_number = q.row_number;

DROP TABLE landing_identifier_codes;
DROP TABLE landing_redactions;
