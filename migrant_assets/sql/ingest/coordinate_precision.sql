-- The stored places ($places: cells or estates) and those whose two coordinates both lie on a
-- grid of 0.01 degree or coarser, for the coordinate_precision check: a column rounded to two
-- decimals or fewer (a spreadsheet's format, a coarsened export) puts places a kilometre or
-- more apart at one point. An exact coordinate falls on that grid once in 10,000.
SELECT
    count(*) AS places,
    count(*) FILTER (
        WHERE abs(lat * 100 - round(lat * 100)) < 1e-6
        AND abs(lon * 100 - round(lon * 100)) < 1e-6
    ) AS rounded_places
FROM $places;
