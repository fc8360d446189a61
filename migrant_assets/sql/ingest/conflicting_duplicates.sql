-- The rows of a cells or estates file that list an id again with other coordinates or another
-- price than the kept row ($quarantine: quarantine_cells or quarantine_estates; places.sql marks
-- each duplicate_id record differs_from_kept), for the duplicates_agree check: the places kept,
-- the duplicate rows, those that differ, and up to 5 of their ids as the records show them (an
-- id of 7 or more digits by its length only, so ids are not counted), the most rows first.
WITH duplicates AS (
    SELECT
        json_extract_string(record, '$.' || $id_column) AS id,
        coalesce(CAST(json_extract(record, '$.differs_from_kept') AS BOOLEAN), false) AS differs
    FROM $quarantine
    WHERE reason = 'duplicate_id'
),

conflicting AS (
    SELECT
        id,
        row_number() OVER (ORDER BY count(*) DESC, id ASC) AS rank
    FROM duplicates
    WHERE differs
    GROUP BY id
)

SELECT
    (SELECT count(*) FROM $places) AS places,
    (SELECT count(*) FROM duplicates) AS duplicate_rows,
    (SELECT count(*) FILTER (WHERE differs) FROM duplicates) AS differing_rows,
    coalesce(
        (SELECT list(id ORDER BY rank) FROM conflicting WHERE rank <= 5), []
    ) AS examples;
