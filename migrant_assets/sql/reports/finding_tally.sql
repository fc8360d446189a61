-- Findings that hold, findings tested (holds not null), findings defined.
SELECT count(*) FILTER (WHERE holds) AS held, count(holds) AS tested, count(*) AS total
FROM findings;
