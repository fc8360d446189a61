-- CSV lines the parser could not split, as quarantine rows: temp table rejected_lines(reason,
-- file, row_number, record) with the line number and the parser's error, never the line's
-- text (it holds phone numbers). Input: temp table parser_rejects(file, line, error), filled
-- from contract.RawRead.rejected_lines.
CREATE OR REPLACE TEMP TABLE rejected_lines AS
SELECT
    'malformed_line' AS reason,
    file,
    line AS row_number,
    CAST(to_json({error: error}) AS VARCHAR) AS record
FROM parser_rejects;
