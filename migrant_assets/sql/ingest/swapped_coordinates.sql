-- The places of a cells or estates file quarantined outside the city's box ($quarantine:
-- quarantine_cells or quarantine_estates), and how many of them lie inside it with their lat and
-- lon swapped (a file whose two columns are the other way round), for the quarantine_share
-- check's hint. Coordinates as the records show them (a number of degrees cut at 9 decimals
-- ends in '…'); counts only.
WITH outside AS (
    SELECT
        TRY_CAST(rtrim(json_extract_string(record, '$.lat'), '…') AS DOUBLE) AS lat,
        TRY_CAST(rtrim(json_extract_string(record, '$.lon'), '…') AS DOUBLE) AS lon
    FROM $quarantine
    WHERE reason = 'outside_bbox'
)

SELECT
    count(*) AS outside_bbox,
    count(*) FILTER (
        WHERE lon BETWEEN $min_lat AND $max_lat AND lat BETWEEN $min_lon AND $max_lon
    ) AS inside_swapped
FROM outside;
