-- The values of cells or estates read as numbers (SPEC §1), before they are judged (places.sql).
-- Input: temp table raw_place(id, lat, lon, price, _file, _row) where price is NULL for cells.
-- Output: temp table place_values, the same with lat_value, lon_value and price_value; a
-- mapping's crs other than WGS-84 rewrites lat_value and lon_value (ingest.places_to_wgs84) in
-- between, the text kept as the file wrote it for the quarantine records. A price that is not a
-- plain number may be written as a listing site shows it, with its currency and unit
-- (47839元/㎡, ¥52000, 38548 元, 6.8万元/平米: 万 is 10,000; R$ 65860.00/m², € 4200/m²,
-- 4200 EUR/m2 once the mapping's separators are applied): the number is read when its marks
-- are the study's currency's ($marks: ingest.currency_marks of city.currency), and 万 beside a
-- unit of area multiplies it; a mark of another currency ($ in a study in yuan), 万 alone (85万,
-- a flat's total price) and any other unit (元/月, a rent) stay unread (bad_price).
CREATE OR REPLACE TEMP TABLE place_values AS
SELECT
    id,
    TRY_CAST(lat AS DOUBLE) AS lat_value,
    TRY_CAST(lon AS DOUBLE) AS lon_value,
    coalesce(
        TRY_CAST(price AS DOUBLE),
        CASE
            WHEN written.number = ''
                OR NOT (written.pre = '' OR list_contains($marks, lower(written.pre)))
                OR NOT (written.post = '' OR list_contains($marks, lower(written.post)))
                THEN NULL
            WHEN written.wan = '' THEN CAST(written.number AS DOUBLE)
            -- 万 with a unit of area only: a listing's total price is written in 万 (85万)
            WHEN written.area <> '' THEN CAST(written.number AS DOUBLE) * 1e4
        END
    ) AS price_value,
    lat,
    lon,
    price,
    _file,
    _row
FROM (
    SELECT
        *,
        regexp_extract(
            trim(price),
            '^([¥￥€£$₺₹]|r\$|us\$)?\s*([0-9]+(?:\.[0-9]+)?)\s*(万)?\s*'
            || '(元|yuan|rmb|cny|eur|euros?|brl|reais|real|r\$|usd|gbp|try|tl|₺|inr|€|£|\$)?\s*'
            || '(/\s*(?:㎡|m²|m2|sqm|sq\.?\s?m|平方米|平米|平))?$',
            ['pre', 'number', 'wan', 'post', 'area'],
            'i'
        ) AS written
    FROM raw_place
);
