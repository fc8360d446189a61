-- The identifiers of one batch of calls files (temp table raw_calls, numbers and cells as read,
-- before their canonical form) added to the landing's lookup tables (landing_start.sql): only
-- texts not seen in an earlier batch are made canonical, and only canonical numbers not seen
-- before are hashed, so each distinct number is pseudonymised once for the whole landing.
CREATE OR REPLACE TEMP TABLE batch_numbers AS
SELECT
    n.text,
    canonical_phone(
        n.text, $country_code, $national_digits, $trunk_prefixes, $area_code, $local_digits
    ) AS number
FROM (
    SELECT caller AS text FROM raw_calls
    UNION
    SELECT callee AS text FROM raw_calls
) AS n
WHERE n.text IS NOT NULL AND n.text NOT IN (SELECT l.text FROM landing_numbers AS l);

INSERT INTO landing_number_ids
SELECT
    b.number,
    pseudonym('number', b.number)
FROM (SELECT DISTINCT number FROM batch_numbers) AS b
WHERE b.number NOT IN (SELECT k.number FROM landing_number_ids AS k);

-- masked: a number that stands for many people (digits hidden: 138****1234, 1380000XXXX; or a
-- stand-in for a withheld caller): its calls are quarantined as masked_number, never merged
-- into one node of the graph (canonical.sql's masked).
INSERT INTO landing_numbers
SELECT
    b.text,
    -- a spreadsheet's error value (#N/A) is no number: missing_id
    CASE WHEN NOT spreadsheet_error(trim(b.text)) THEN k.number_id END AS number_id,
    masked(b.number)
    -- SIP's anonymous caller without its scheme (anonymous@anonymous.invalid)
    OR starts_with(lower(trim(b.number)), 'anonymous@')
    OR strip_accents(lower(trim(b.number))) IN (
        'anonymous', 'private', 'withheld', 'unknown', 'restricted', 'unavailable', 'hidden',
        -- Spanish, Portuguese, French, German, Italian
        'privado', 'numero privado', 'oculto', 'numero oculto', 'desconocido', 'anonimo',
        'restringido', 'restrito', 'numero restrito', 'confidencial', 'masque', 'numero masque',
        'anonyme', 'prive', 'inconnu', 'unbekannt', 'anonym', 'unterdruckt', 'privat',
        'sconosciuto', 'riservato',
        'private number', 'unknown number', 'withheld number', 'number withheld', 'blocked',
        'no caller id', 'no number', 'restricted number', 'unknown caller', 'private caller',
        'caller unknown', 'number unknown', 'no caller', 'restricted caller', 'hidden number',
        'out of area', 'out-of-area', 'payphone', 'unavailable number', 'not available',
        -- Chinese: unknown, hidden, secret, not known, none, unknown / hidden / anonymous /
        -- private number, no caller number
        '未知', '隐藏', '保密', '不详', '无', '未知号码', '号码未知', '隐藏号码', '号码隐藏',
        '来电隐藏', '匿名', '匿名号码', '匿名呼叫', '私人号码', '保密号码', '无主叫号码',
        '无号码', '不显示号码', '未显示号码'
    ) AS masked,
    -- rounded: a number a spreadsheet wrote in scientific notation with fewer digits than it
    -- has (canonical.sql marks it '~'): it stands for many people too (rounded_id)
    starts_with(b.number, '~') AS rounded
FROM batch_numbers AS b
INNER JOIN landing_number_ids AS k ON k.number = b.number;

DROP TABLE batch_numbers;

-- A cell id that is not a known cell is kept only as a keyed hash: it may be a phone number of
-- a misaligned row (the daily ingestion quarantines it as unknown_cell). A cell of the cells
-- file without a usable place (unlocated_cells) is known: the daily ingestion keeps its calls.
INSERT INTO landing_cells
SELECT
    b.text,
    CASE
        WHEN c.cell_id IS NOT NULL THEN b.cell_id
        -- a spreadsheet's error value (#N/A) is no cell
        WHEN spreadsheet_error(trim(b.text)) THEN NULL
        ELSE 'unknown:' || pseudonym('cell', b.cell_id)
    END AS cell,
    -- an unknown cell with 7 digits or more in all (a number written with separators,
    -- 199 1234 5678) only by its length
    CASE WHEN c.cell_id IS NOT NULL THEN b.cell_id ELSE safe_code(b.cell_id) END AS shown
FROM (
    SELECT
        n.text,
        canonical_cell(n.text, $strip_cell_zeros, $fold_cell_case) AS cell_id
    FROM (
        SELECT caller_cell AS text FROM raw_calls
        UNION
        SELECT callee_cell AS text FROM raw_calls
    ) AS n
    WHERE n.text IS NOT NULL AND n.text NOT IN (SELECT l.text FROM landing_cells AS l)
) AS b
LEFT JOIN (
    SELECT cell_id FROM cells
    UNION
    SELECT cell_id FROM unlocated_cells
) AS c ON c.cell_id = b.cell_id;
