-- Canonical identifiers (docs/data_contract.md, "Identifiers"): the same text for the same
-- identifier whatever the file stored it as, so that calls link to their subscribers. Temporary
-- macros of the ingesting connection; idempotent.

-- A float-encoded integer ('1.39e10', '13912345678.0') as the integer's digits; any other text
-- as it is.
CREATE OR REPLACE TEMP MACRO float_digits(t) AS
    CASE
        WHEN regexp_full_match(t, '[+]?[0-9]+(\.[0-9]*)?([eE][+]?[0-9]+)?')
            AND regexp_matches(t, '[.eE]')
            AND isfinite(TRY_CAST(t AS DOUBLE))
            AND TRY_CAST(t AS DOUBLE) = trunc(TRY_CAST(t AS DOUBLE))
            AND TRY_CAST(t AS DOUBLE) < 1e18
            THEN CAST(CAST(TRY_CAST(t AS DOUBLE) AS HUGEINT) AS VARCHAR)
        ELSE t
    END;

-- What a spreadsheet puts around an identifier it was told to keep as text: a leading
-- apostrophe ('13912345678) or a formula ="0012345"; the identifier is what is inside.
CREATE OR REPLACE TEMP MACRO unwrapped(t) AS
    CASE
        WHEN regexp_full_match(t, '="[^"]*"') THEN trim(substr(t, 3, length(t) - 3))
        WHEN starts_with(t, '''') AND length(t) > 1 THEN trim(substr(t, 2))
        ELSE t
    END;

-- An integer in scientific notation written with fewer significant digits than it has
-- ('1.33518E+10' for 13351833678: a spreadsheet rounded it, so it stands for many numbers).
CREATE OR REPLACE TEMP MACRO rounded(t) AS
    regexp_full_match(t, '[+]?[0-9]+(\.[0-9]*)?[eE][+]?[0-9]+')
    AND length(ltrim(replace(regexp_extract(t, '[0-9]+(\.[0-9]*)?'), '.', ''), '0'))
    < length(float_digits(t));

-- Any identifier as one text whatever the file stored it as: unwrapped, float-encoded integers
-- as digits; a rounded one marked with a leading '~', which no identifier has, so that the
-- rules quarantine it (rounded_id) rather than merge the people it stands for.
CREATE OR REPLACE TEMP MACRO canonical_id(t) AS
    CASE
        WHEN rounded(unwrapped(t)) THEN '~' || float_digits(unwrapped(t))
        ELSE float_digits(unwrapped(t))
    END;

-- A phone number: separators removed from a number written with digits only, then the country
-- prefix removed ('+CC' or '00CC' always, a bare 'CC' only when the rest has national_digits),
-- then the national trunk prefix (e.g. the '0' of 0151…, or of +49 (0)151…) when one is given
-- and the number has digits only, does not start with '00', and has digits after it (with
-- national_digits: that many).
CREATE OR REPLACE TEMP MACRO strip_separators(t) AS
    CASE
        WHEN regexp_full_match(t, '[+]?[0-9 ().-]*[0-9][0-9 ().-]*')
            THEN regexp_replace(t, '[ ().-]', '', 'g')
        ELSE t
    END;

CREATE OR REPLACE TEMP MACRO without_country(s, cc, national_digits) AS
    CASE
        WHEN cc IS NOT NULL AND starts_with(s, '+' || cc) THEN substr(s, length(cc) + 2)
        WHEN cc IS NOT NULL AND starts_with(s, '00' || cc) THEN substr(s, length(cc) + 3)
        WHEN cc IS NOT NULL AND national_digits IS NOT NULL
            AND regexp_full_match(s, '[0-9]+')
            AND starts_with(s, cc)
            AND length(s) = length(cc) + national_digits
            THEN substr(s, length(cc) + 1)
        ELSE s
    END;

CREATE OR REPLACE TEMP MACRO without_trunk(s, trunk, national_digits) AS
    CASE
        WHEN trunk IS NOT NULL
            AND regexp_full_match(s, '[0-9]+')
            AND starts_with(s, trunk)
            AND NOT starts_with(s, '00')
            AND length(s) > length(trunk)
            AND (national_digits IS NULL OR length(s) = length(trunk) + national_digits)
            THEN substr(s, length(trunk) + 1)
        ELSE s
    END;

-- Any identifier text as a canonical phone number (contract.canonical_identifier): the same
-- form whatever the file stored it as (integer digits are left as they are by canonical_id).
CREATE OR REPLACE TEMP MACRO canonical_phone(t, cc, national_digits, trunk) AS
    without_trunk(
        without_country(strip_separators(canonical_id(t)), cc, national_digits),
        trunk, national_digits
    );

-- A cell id: its canonical_id, then, with strip (the mapping's cell_ids.strip_leading_zeros),
-- an id of runs of digits joined by spaces (LAC + CI) without the leading zeros of each run:
-- '00182' is '182', '0012 0345' is '12 345', '000' is '0'.
CREATE OR REPLACE TEMP MACRO canonical_cell(t, strip) AS
    CASE
        WHEN strip AND regexp_full_match(canonical_id(t), '[0-9]+( [0-9]+)*')
            THEN regexp_replace(canonical_id(t), '(^| )0+([0-9])', '\1\2', 'g')
        ELSE canonical_id(t)
    END;

-- Text a quarantine record may show: NULL, or the text when it cannot be an identifier (no run
-- of 7 or more digits, at most 64 characters); otherwise only its length.
CREATE OR REPLACE TEMP MACRO safe_text(t) AS
    CASE
        WHEN t IS NULL THEN NULL
        WHEN length(t) > 64 OR regexp_matches(t, '[0-9]{7,}')
            THEN '<redacted: ' || length(t) || ' characters>'
        ELSE t
    END;

-- A code a quarantine record may show (an event type, a direction): as safe_text, and replaced
-- by its length when it holds 7 or more digits in all (a number written with separators, such
-- as 138-0000-0001, in a column mapped by mistake).
CREATE OR REPLACE TEMP MACRO safe_code(t) AS
    CASE
        WHEN length(regexp_replace(coalesce(t, ''), '[^0-9]', '', 'g')) >= 7
            THEN '<redacted: ' || length(t) || ' characters>'
        ELSE safe_text(t)
    END;
