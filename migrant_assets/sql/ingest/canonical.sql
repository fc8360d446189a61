-- Canonical identifiers (docs/data_contract.md, "Identifiers"): the same text for the same
-- identifier whatever the file stored it as, so that calls link to their subscribers. Temporary
-- macros of the ingesting connection; idempotent. A macro is text substitution: one whose body
-- names its argument more than once binds it once to x (list_transform([t], lambda x: ...)[1]),
-- or the nested macros of canonical_phone expand into thousands of copies of the column and
-- take seconds to plan.

-- A float-encoded integer ('1.39e10', '1.39E+10', '13912345678.0') as the integer's digits;
-- any other text as it is. A float is written with a decimal point or an exponent's sign: a
-- hexadecimal id of digits and one e ('73910284657231e3', '1e10') is not one.
CREATE OR REPLACE TEMP MACRO float_digits(t) AS list_transform(
    [t], lambda x:
        CASE
            WHEN regexp_full_match(x, '[+]?[0-9]+(\.[0-9]*)?([eE][+]?[0-9]+)?')
                AND regexp_matches(x, '[.]|[eE][+]')
                AND isfinite(TRY_CAST(x AS DOUBLE))
                AND TRY_CAST(x AS DOUBLE) = trunc(TRY_CAST(x AS DOUBLE))
                AND TRY_CAST(x AS DOUBLE) < 1e18
                THEN CAST(CAST(TRY_CAST(x AS DOUBLE) AS HUGEINT) AS VARCHAR)
            ELSE x
        END
)[1];

-- A spreadsheet's total or subtotal label exported with the data (a pivot table's 总计, a
-- trailer line 'Summe;1410' of a calls file), in the languages of the studies' likely countries:
-- such a row is summary_row, no place and no call.
CREATE OR REPLACE TEMP MACRO is_summary_word(t) AS lower(trim(t)) IN (
    '总计', '合计', '小计', '汇总', '總計', '合計', 'total', 'totals', 'grand total', 'subtotal',
    'total result', 'sum', 'summe', 'gesamt', 'gesamtsumme', 'somme', 'suma', 'soma', 'totale',
    'toplam'
);

-- A letter, as a regular expression's class body: an ASCII letter or a character of the
-- blocks that hold the world's letters (Latin-1's letters; U+00F8-1FFF, Latin Extended to
-- Greek Extended; the superscript and subscript letters U+2070-209F; the letterlike symbols
-- and number forms U+2100-218F; U+2C00-2DFF, Glagolitic to Cyrillic Extended; kana, CJK and
-- Hangul but the CJK punctuation U+3000-303F and the katakana middle dot; the compatibility
-- ideographs and presentation forms; full-width Latin; half-width kana and Hangul; the
-- supplementary planes' scripts and ideographs). The blocks of punctuation and symbols are
-- not: ASCII's and Latin-1's, U+2000-206F, U+20A0-20FF, U+2190-2BFF, U+2E00-2E7F,
-- U+FE00-FE6F, full-width punctuation, U+FFE0-FFFF, U+1F000 on (a stand-in written -, —, －,
-- ・, ※, � or an emoji has no letter). RE2's \p{L} would be exact, but a pattern is compiled
-- once per use in a query, \p{L} in 3 ms, and the landing's SELECT uses these two dozen
-- times a table; this class compiles in well under 1 ms. Every letter of Unicode is in it
-- (test_ingest.py); so is a script's own punctuation (a Devanagari danda, an Arabic comma).
CREATE OR REPLACE TEMP MACRO letters() AS
'a-zA-Z\x{AA}\x{B5}\x{BA}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1FFF}\x{2070}-\x{209F}'
|| '\x{2100}-\x{218F}'
|| '\x{2C00}-\x{2DFF}\x{2E2F}\x{3005}-\x{3007}\x{3021}-\x{3029}\x{3031}-\x{3035}'
|| '\x{3038}-\x{303C}\x{3041}-\x{30FA}\x{30FC}-\x{D7FF}\x{F900}-\x{FDFF}\x{FE70}-\x{FEFC}'
|| '\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{FF66}-\x{FFDC}\x{10000}-\x{1EFFF}'
|| '\x{20000}-\x{3FFFF}';

-- A digit, as a class body, with the digits letters() does not hold: ASCII's, Latin-1's
-- superscripts and fractions, the circled and parenthesised numbers, full-width digits and the
-- segmented ones (every number of Unicode is in letters() || digits(): test_ingest.py).
CREATE OR REPLACE TEMP MACRO digits() AS
'0-9\x{B2}\x{B3}\x{B9}\x{BC}-\x{BE}\x{2460}-\x{249B}\x{24EA}-\x{24FF}\x{2776}-\x{2793}'
|| '\x{FF10}-\x{FF19}\x{1F100}-\x{1F10C}\x{1FBF0}-\x{1FBF9}';

-- A spreadsheet's error value, in any language (#N/A, #VALUE!, #DIV/0!, German #NV, Dutch
-- #N/B, Russian #Н/Д, Spanish #¡VALOR!, Swedish #SAKNAS!; Bloomberg's #N/A N/A; LibreOffice's
-- Err:502): a # and a word with a letter, without a space, a dash or another #, that ends in
-- ! or ? or holds a /, or one of the few without (#NV, #YOK, ...). Every column reads it as no
-- value, whatever null_tokens says (contract._text): an owner id #N/A is no owner, never one
-- owner of every such row. An id such as #C1001 or #3G-A12, or a number dialled after #31#
-- (the code that hides a caller), is none. The pattern is tried only on a text starting with
-- # or Err: (every value of every column goes through it).
CREATE OR REPLACE TEMP MACRO spreadsheet_error(x) AS
CASE
    WHEN starts_with(x, '#') OR starts_with(x, 'Err:')
        THEN regexp_full_match(
            x,
            '#[^\s#-]*[' || letters() || '][^\s#-]*([!?]|/[^\s#-]*)|#N/A N/A|Err:[0-9]{3}'
            || '|#NV|#YOK|#NENÍ_K_DISPOZICI|#HIÁNYZIK|#PUUTTUU|#IKKE[.]TILGJ|#GETTING_DATA'
        )
    ELSE false
END;

-- What a spreadsheet puts around an identifier it was told to keep as text: a leading
-- apostrophe ('13912345678) or a formula ="0012345"; the identifier is what is inside.
CREATE OR REPLACE TEMP MACRO unwrapped(t) AS list_transform(
    [t], lambda x:
        CASE
            WHEN regexp_full_match(x, '="[^"]*"') THEN trim(substr(x, 3, length(x) - 3))
            WHEN starts_with(x, '''') AND length(x) > 1 THEN trim(substr(x, 2))
            ELSE x
        END
)[1];

-- An integer in scientific notation written with fewer significant digits than it has
-- ('1.33518E+10' for 13351833678: a spreadsheet rounded it, so it stands for many numbers):
-- one that float_digits reads as an integer of 7 or more digits (a hex id such as '8e123456',
-- or '3e45', is no such integer and is left alone).
CREATE OR REPLACE TEMP MACRO rounded(t) AS list_transform(
    [t], lambda x:
        regexp_full_match(x, '[+]?[0-9]+(\.[0-9]*)?[eE][+]?[0-9]+')
        AND float_digits(x) <> x
        AND length(float_digits(x)) >= 7
        AND length(ltrim(replace(regexp_extract(x, '[0-9]+(\.[0-9]*)?'), '.', ''), '0'))
        < length(float_digits(x))
)[1];

-- Any identifier as one text whatever the file stored it as: unwrapped, float-encoded integers
-- as digits; a rounded one marked with a leading '~', which no identifier has, so that the
-- rules quarantine it (rounded_id) rather than merge the people it stands for; a UUID or a
-- hexadecimal digest (MD5, SHA-1, SHA-256: ids hashed by the operator) in lower case, as
-- one system writes it in capitals and another not; a Chinese resident ID card number (17
-- digits and a check character, X for 10) with a capital X, written x as often.
CREATE OR REPLACE TEMP MACRO canonical_id(t) AS list_transform(
    [unwrapped(t)], lambda x:
        CASE
            WHEN rounded(x) THEN '~' || float_digits(x)
            WHEN regexp_full_match(x, '[0-9]{17}[Xx]') THEN upper(x)
            WHEN regexp_full_match(
                    x,
                    '[0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}'
                    || '|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-'
                    || '[0-9A-Fa-f]{12}'
                ) THEN lower(x)
            ELSE float_digits(x)
        END
)[1];

-- A phone number: separators removed from a number written with digits only, then the country
-- prefix removed ('+CC' or '00CC' always, a bare 'CC' only when the rest has one of the
-- national lengths, or is one of the trunks and such a length; another country's '00' written
-- as '+'), then the first of the national
-- trunk prefixes (longest first: e.g. the '0' of 0151… or of +49 (0)151…; Mexico's 044, 045,
-- 01 and the mobile 1 of +52 1 55…) that the number has digits only, does not start with '00',
-- and has digits after it (with national lengths: one of them). national_digits: the mapping's
-- national lengths (contract.Numbers.national_lengths: China's landlines 10 digits, its mobiles
-- 11), an empty list when not set.
-- Separators: spaces of any kind (a tab, a no-break, thin or full-width space), parentheses,
-- dots and dashes (full-width ones too, and the hyphens and dashes U+2010..U+2015 and the minus
-- U+2212 of a word processor), and commas between thousands as a spreadsheet writes a number
-- (14,900,326,293); full-width, Arabic-Indic, Persian, Devanagari, Bengali, Thai and Myanmar
-- digits (１３８…, ١٣٨…) are digits; a country code in parentheses ((+86)138…) is one.
CREATE OR REPLACE TEMP MACRO strip_separators(t) AS list_transform(
    [translate(
        t,
        '０１２３４５６７８９＋（）－．‐‑‒–—―−٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९'
        || '০১২৩৪৫৬৭৮৯๐๑๒๓๔๕๖๗๘๙၀၁၂၃၄၅၆၇၈၉',
        '0123456789+().--------012345678901234567890123456789'
        || '012345678901234567890123456789'
    )], lambda x:
        CASE
            -- a negative number (-1, (-1), a stand-in for no number) keeps its sign
            WHEN regexp_full_match(x, '[(]?-[0-9]+([.][0-9]*)?[)]?') THEN x
            WHEN regexp_full_match(x, '[+]?[0-9]{1,3}(,[0-9]{3})+') THEN replace(x, ',', '')
            WHEN regexp_full_match(
                x, '[(]?[+]?[0-9 \t\x{00A0}\x{2007}\x{2009}\x{202F}\x{3000}().-]*[0-9]'
                || '[0-9 \t\x{00A0}\x{2007}\x{2009}\x{202F}\x{3000}().-]*'
            ) THEN regexp_replace(x, '[ \t\x{00A0}\x{2007}\x{2009}\x{202F}\x{3000}().-]', '', 'g')
            ELSE x
        END
)[1];

-- A value with its full-width forms of ASCII (U+FF01..U+FF5E: ＭＯＣ, （本地）, typed with a
-- Chinese input method) and its ideographic space as ASCII, for values compared with the
-- mapping's lists (event types, directions), folded alike (contract.value_key).
CREATE OR REPLACE TEMP MACRO fold_width(t) AS translate(
    t,
    '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠'
    || 'ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀'
    || 'ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　',
    '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOP'
    || 'QRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ '
);

CREATE OR REPLACE TEMP MACRO without_country(s, cc, national_digits, trunks) AS list_transform(
    [s], lambda x:
        CASE
            WHEN cc IS NOT NULL AND starts_with(x, '+' || cc) THEN substr(x, length(cc) + 2)
            WHEN cc IS NOT NULL AND starts_with(x, '00' || cc) THEN substr(x, length(cc) + 3)
            -- another country's number dialled with the international prefix 00 is the same
            -- number as written with '+' (0085291234567 and +85291234567)
            WHEN cc IS NOT NULL AND regexp_full_match(x, '00[1-9][0-9]{4,}')
                THEN '+' || substr(x, 3)
            WHEN cc IS NOT NULL
                AND regexp_full_match(x, '[0-9]+')
                AND starts_with(x, cc)
                AND (
                    list_contains(CAST(national_digits AS INTEGER []), length(x) - length(cc))
                    OR list_bool_or(list_transform(
                        CAST(trunks AS VARCHAR []), lambda t:
                            starts_with(substr(x, length(cc) + 1), t)
                            AND list_contains(
                                CAST(national_digits AS INTEGER []),
                                length(x) - length(cc) - length(t)
                            )
                    ))
                )
                THEN substr(x, length(cc) + 1)
            ELSE x
        END
)[1];

CREATE OR REPLACE TEMP MACRO without_trunk(s, trunks, national_digits) AS list_transform(
    [s], lambda x:
        coalesce(list_filter(list_transform(
            CAST(trunks AS VARCHAR []), lambda t:
                CASE
                    WHEN regexp_full_match(x, '[0-9]+')
                        AND starts_with(x, t)
                        AND NOT starts_with(x, '00')
                        AND length(x) > length(t)
                        AND (
                            len(CAST(national_digits AS INTEGER [])) = 0
                            OR list_contains(
                                CAST(national_digits AS INTEGER []), length(x) - length(t)
                            )
                        )
                        THEN substr(x, length(t) + 1)
                END
        ), lambda y: y IS NOT NULL)[1], x)
)[1];

-- An identifier with digits hidden (138****1234, its last digits as x, an ID card
-- 340104********1234): it stands for many people. Only digits, separators and mask characters
-- make a masked one (a hashed id such as 'ab9xXk' is not one; an ID card's check digit X is a
-- single X). So does a stand-in for no identifier: a mask alone (a run of X or *), text
-- without a letter or digit (-, --), a small negative number or one of nines (-1, -999,
-- (-1), -99999; a signed hash such as -4096721385 is an id), ten zeros or more, alone or
-- after a country code
-- (00000000000, +86 00000000000; a zero-padded dataset's first id 00000000 is an id).
CREATE OR REPLACE TEMP MACRO masked(t) AS list_transform(
    [t], lambda x:
        (
            regexp_full_match(x, '[+]?[0-9*#?xX ().-]+')
            AND regexp_matches(x, '[*#?]|[xX]{2,}')
            AND regexp_matches(x, '[0-9]')
        )
        OR regexp_full_match(x, '[xX*#?]{3,}')
        OR regexp_full_match(x, '[(]?-([0-9]{1,3}|9+)([.]0*)?[)]?')
        OR regexp_full_match(x, '0{10,}|[+][1-9][0-9]{0,2}0{10,}')
        OR NOT regexp_matches(x, '[' || letters() || digits() || ']')
)[1];

-- The number of a telephone URI (RFC 3966 tel:, RFC 3261 sip: and sips:, as VoLTE / IMS
-- records write a party: 'tel:+8613800000123', 'sip:+8613800000123@ims.mnc000.mcc460.3gppnet
-- work.org;user=phone'): its user part, before any '@' or ';'; any other text as it is.
CREATE OR REPLACE TEMP MACRO uri_user(t) AS list_transform(
    [t], lambda x:
        CASE
            WHEN regexp_matches(x, '^(?i)(tel|sips?):')
                THEN regexp_extract(x, '^(?i)(?:tel|sips?):([^@;]*)', 1)
            ELSE x
        END
)[1];

-- Any identifier text as a canonical phone number (contract.canonical_identifier): the same
-- form whatever the file stored it as (integer digits are left as they are by canonical_id).
-- trunks: the mapping's trunk prefixes, longest first (contract.Numbers.trunk_prefixes).
-- A local number dialled without its area code (a landline's 5555 1234 beside 021 5555 1234):
-- the number as written (separators removed) with the mapping's area code (numbers.area_code,
-- without its trunk prefix: '21') before it when it is digits only, of one of the local lengths
-- (numbers.local_digits), and starts with 2 to 9 (a trunk 0, a mobile's or a service's 1, a
-- country code's + or 00 say it is no local number); any other number through the country and
-- trunk rules. area NULL: every number through those rules.
CREATE OR REPLACE TEMP MACRO national_number(s, cc, national_digits, trunks, area, local_digits)
AS list_transform(
    [s], lambda x:
        CASE
            WHEN area IS NOT NULL
                AND regexp_full_match(x, '[2-9][0-9]*')
                AND list_contains(CAST(local_digits AS INTEGER []), length(x))
                THEN area || x
            ELSE without_trunk(without_country(x, cc, national_digits, trunks), trunks,
                national_digits)
        END
)[1];

CREATE OR REPLACE TEMP MACRO canonical_phone(t, cc, national_digits, trunks, area, local_digits)
AS national_number(
    strip_separators(uri_user(canonical_id(t))), cc, national_digits, trunks, area, local_digits
);

-- A cell id: its canonical_id, then, with strip (the mapping's cell_ids.strip_leading_zeros),
-- an id of runs of digits joined by spaces (LAC + CI) without the leading zeros of each run:
-- '00182' is '182', '0012 0345' is '12 345', '000' is '0'; with fold (cell_ids.ignore_case)
-- in capitals ('262-01-1a03-0bb0' is '262-01-1A03-0BB0').
CREATE OR REPLACE TEMP MACRO canonical_cell(t, strip, fold) AS list_transform(
    [canonical_id(t)], lambda x:
        CASE
            WHEN strip AND regexp_full_match(x, '[0-9]+( [0-9]+)*')
                THEN regexp_replace(x, '(^| )0+([0-9])', '\1\2', 'g')
            WHEN fold THEN upper(x)
            ELSE x
        END
)[1];

-- A local time (TIMESTAMP) or an instant (TIMESTAMPTZ) of the years 1900 to 2199, else NULL:
-- a corrupt year (294247-01-10, 'infinity') is a bad timestamp, where a time zone's conversion
-- of it would fail the whole landing (ICU's range).
CREATE OR REPLACE TEMP MACRO plausible_time(t) AS list_transform(
    [t], lambda x:
        CASE
            WHEN epoch_us(x) BETWEEN -2208988800000000 AND 7258118400000000 THEN x
        END
)[1];

-- The earlier instant a wall-clock time names when the zone's conversion read it in the hour
-- repeated as the clocks go back (the later instant t lies in [starts[i], starts[i] +
-- seconds[i]): the instants the clocks go back and by how many seconds,
-- contract.repeated_hours), else NULL.
CREATE OR REPLACE TEMP MACRO earlier_in_repeat(t, starts, seconds) AS list_max(
    list_transform(range(1, len(starts) + 1), lambda i:
        CASE
            WHEN t >= starts[i] AND t < starts[i] + to_seconds(seconds[i])
                THEN t - to_seconds(seconds[i])
        END)
);

-- What a record shows of a text that may be an identifier: only its length.
CREATE OR REPLACE TEMP MACRO redacted(t) AS '<redacted: ' || length(t) || ' characters>';

-- Text a quarantine record may show: NULL, or the text when it cannot be an identifier (no run
-- of 7 or more digits, at most 64 characters); otherwise only its length.
CREATE OR REPLACE TEMP MACRO safe_text(t) AS list_transform(
    [t], lambda x:
        CASE
            WHEN x IS NULL THEN NULL
            WHEN length(x) > 64 OR regexp_matches(x, '[0-9]{7,}')
                THEN redacted(x)
            ELSE x
        END
)[1];

-- A text with what reads as a date (2016-09-01, 01/09/2016) or a time of day (08:00,
-- 08:00:00.123) replaced by a space: what is left of a time text, where a run of digits is a
-- number (safe_time; the privacy search of migrant_assets/privacy.py).
CREATE OR REPLACE TEMP MACRO without_dates(t) AS regexp_replace(
    coalesce(t, ''),
    '(19|20)[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}'
    || '|[0-9]{1,2}[-/.][0-9]{1,2}[-/.](19|20)[0-9]{2}'
    || '|[0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?',
    ' ', 'g'
);

-- A time or duration text a quarantine record may show: as safe_text, and replaced by its
-- length when, without_dates, it holds 7 or more digits joined by separators
-- (+86 177 1567 9550, (173) 5626-7031: a number in a time column), or when a run of its
-- letters is no word of a time or a duration (an owner id such as OWNER-A in a time column, as
-- the fields of a line shifted: a time's letters are only these words, in English or Chinese),
-- unless the row repeats the header (named: its texts are the file's column names).
CREATE OR REPLACE TEMP MACRO safe_time(t, named) AS list_transform(
    [t], lambda x:
        CASE
            WHEN regexp_matches(without_dates(x), '[0-9]([^0-9A-Za-z]{0,3}[0-9]){6,}')
                THEN redacted(x)
            WHEN NOT named AND len(list_filter(
                    regexp_extract_all(coalesce(x, ''), '[' || letters() || ']+'),
                    lambda w: NOT list_contains([
                        'a', 'p', 'm', 't', 'z', 'h', 's', 'am', 'pm', 'utc', 'gmt', 'cst',
                        'jan', 'january', 'feb', 'february', 'mar', 'march', 'apr', 'april',
                        'may', 'jun', 'june', 'jul', 'july', 'aug', 'august', 'sep', 'sept',
                        'september', 'oct', 'october', 'nov', 'november', 'dec', 'december',
                        'mon', 'monday', 'tue', 'tues', 'tuesday', 'wed', 'wednesday', 'thu',
                        'thur', 'thurs', 'thursday', 'fri', 'friday', 'sat', 'saturday', 'sun',
                        'sunday', 'hr', 'hrs', 'hour', 'hours', 'min', 'mins', 'minute',
                        'minutes', 'sec', 'secs', 'second', 'seconds', 'ms', 'd', 'day', 'days',
                        'pt', 'noon', 'midnight', 'uhr', 'cet', 'cest', 'est', 'edt', 'pst',
                        'pdt', 'bst', 'ist', 'jst', 'kst', 'hkt', '年', '月', '日', '号', '號',
                        '时', '時', '点', '點', '分', '秒', '上午', '下午', '中午', '凌晨', '早上',
                        '晚上', '午前', '午後', '小时', '小時', '分钟', '分鐘', '秒钟', '秒鐘',
                        '星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '星期日',
                        '星期天', '周一', '周二', '周三', '周四', '周五', '周六', '周日'
                    ], lower(w))
                )) > 0
                THEN redacted(x)
            ELSE safe_text(x)
        END
)[1];

-- A code a quarantine record may show (an event type, a direction): as safe_text, and replaced
-- by its length when it holds 7 or more digits in all (a number written with separators, such
-- as 138-0000-0001, in a column mapped by mistake).
CREATE OR REPLACE TEMP MACRO safe_code(t) AS list_transform(
    [t], lambda x:
        CASE
            WHEN length(regexp_replace(coalesce(x, ''), '[^0-9]', '', 'g')) >= 7
                THEN redacted(x)
            ELSE safe_text(x)
        END
)[1];

-- A code a quarantine record may show (safe_code), or only its length when the row's own owner
-- id or number stands in its column (is_id: a column mapped by mistake).
CREATE OR REPLACE TEMP MACRO safe_attribute(t, is_id) AS
    CASE WHEN is_id THEN redacted(t) ELSE safe_code(t) END;

-- A coordinate a quarantine record may show: a decimal number of degrees with at most 9
-- decimals (31.40566208, a geocoder's 8, or 0) as written, so a point outside the study area
-- can be told from swapped or zero coordinates; with more (a float's 121.47370000000001), its
-- first 9 decimals and '…' (at most 12 digits, as a number of degrees shown whole); any other
-- text (more digits could be a number in a column mapped by mistake) as safe_text.
CREATE OR REPLACE TEMP MACRO safe_coordinate(t) AS list_transform(
    [t], lambda x:
        CASE
            WHEN regexp_full_match(trim(x), '-?[0-9]{1,3}([.,][0-9]{1,9})?') THEN trim(x)
            WHEN regexp_full_match(trim(x), '-?[0-9]{1,3}[.,][0-9]{10,}')
                THEN regexp_extract(trim(x), '-?[0-9]{1,3}[.,][0-9]{9}') || '…'
            ELSE safe_text(x)
        END
)[1];

-- A duration written with its units, in seconds: 3分25秒, 1小时2分, 25秒 (Chinese billing
-- exports), 35s, 3m25s, 1h 2m 3s, 2 min 5 sec; NULL for any other text, a bare number
-- included (its unit is calls.duration_unit's).
CREATE OR REPLACE TEMP MACRO unit_duration_s(t) AS list_transform(
    [
        regexp_extract(
            lower(trim(t)),
            '^(?:([0-9]+)\s*(?:hours|hour|hrs|hr|h|小时|时))?\s*'
            || '(?:([0-9]+)\s*(?:minutes|minute|mins|min|m|分钟|分))?\s*'
            || '(?:([0-9]+(?:\.[0-9]+)?)\s*(?:seconds|second|secs|sec|s|秒))?$',
            ['h', 'm', 's']
        )
    ], lambda x:
        CASE
            WHEN regexp_matches(t, '[0-9]') AND (x.h <> '' OR x.m <> '' OR x.s <> '')
                THEN coalesce(TRY_CAST(nullif(x.h, '') AS DOUBLE), 0) * 3600
                + coalesce(TRY_CAST(nullif(x.m, '') AS DOUBLE), 0) * 60
                + coalesce(TRY_CAST(nullif(x.s, '') AS DOUBLE), 0)
        END
)[1];
