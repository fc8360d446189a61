-- The landing step (docs/data_contract.md): judge every row of one batch of calls files, give
-- it its local day and its numbers' pseudonyms. Input: temp table raw_calls
-- (contract.read_table, numbers and cells as read) and the lookup tables of
-- landing_identifiers.sql. Output: temp table judged_landing with `outcome`: 'landed', a
-- quarantine reason, or an exclusion by the mapping's rules ('not_a_call', 'outside_calendar'),
-- the record's `side` (a per-party export's: 'caller' or 'callee') and the quarantine record of
-- a quarantined row. The first rule that applies, in the order
-- below, decides.
CREATE OR REPLACE TEMP TABLE judged_landing AS
WITH typed AS (
    SELECT
        r._file,
        r._row,
        r.start_ts,
        r.end_ts,
        r.start_ts_text,
        r.end_ts_text,
        -- the earlier instant of a start and an end both written as wall-clock times, when
        -- one falls in the hour repeated as the clocks go back (the conversion read the later;
        -- $repeat_starts, $repeat_seconds: contract.repeated_hours), for resolved below
        CASE WHEN $has_repeats AND r.start_ts_naive AND r.end_ts_naive
            THEN earlier_in_repeat(r.start_ts, $repeat_starts, $repeat_seconds)
        END AS start_early,
        CASE WHEN $has_repeats AND r.start_ts_naive AND r.end_ts_naive
            THEN earlier_in_repeat(r.end_ts, $repeat_starts, $repeat_seconds)
        END AS end_early,
        -- a line repeating the header (files joined with their header lines): the start
        -- column holds its own name ($start_header, as contract.column_key folds it)
        coalesce(
            r.start_ts IS NULL AND lower(regexp_replace(
                r.start_ts_text, '[\x{FEFF}\x{200B}-\x{200D}\x{2060}]', '', 'g'
            )) = $start_header,
            false
        ) AS header_line,
        -- a spreadsheet's total line ('Summe;1410;;;'): a total word for a number, no start
        coalesce(
            r.start_ts IS NULL AND (is_summary_word(r.caller) OR is_summary_word(r.callee)),
            false
        ) AS summary_line,
        r.duration,
        r.event_type,
        r.side,
        r.direction_text,
        a.number_id AS caller_number,
        b.number_id AS callee_number,
        a.masked OR b.masked AS masked,
        a.rounded OR b.rounded AS rounded,
        -- without a cells file in the mapping no cell is known: the calls keep none
        CASE WHEN $has_cells THEN ca.cell END AS caller_cell,
        CASE WHEN $has_cells THEN cb.cell END AS callee_cell,
        ca.shown AS caller_cell_shown,
        cb.shown AS callee_cell_shown,
        -- a cell id not of the cells file, as read (landing_codes, for landing_redact.sql)
        CASE WHEN ca.cell IS NULL OR starts_with(ca.cell, 'unknown:') THEN r.caller_cell END
            AS caller_cell_text,
        CASE WHEN cb.cell IS NULL OR starts_with(cb.cell, 'unknown:') THEN r.callee_cell END
            AS callee_cell_text,
        CASE
            WHEN NOT $has_events THEN 'call'
            WHEN list_contains($call_events, lower(trim(fold_width(r.event_type)))) THEN 'call'
            WHEN list_contains($missed_events, lower(trim(fold_width(r.event_type))))
                THEN 'missed'
            -- no list of calls: every value not listed as missed is a call
            WHEN $call_events IS NULL THEN 'call'
            ELSE 'other'
        END AS event,
        -- seconds: a number of $seconds_per_unit seconds (1, or 0.001 for milliseconds), a
        -- clock duration H:MM:SS[.f] (never the ambiguous M:SS / H:MM), or a duration with its
        -- units (3分25秒, 3m25s: unit_duration_s)
        CASE
            WHEN TRY_CAST(r.duration AS DOUBLE) IS NOT NULL
                THEN TRY_CAST(r.duration AS DOUBLE) * $seconds_per_unit
            -- a negative one (-0:36:54: an end before the start) stays negative
            WHEN regexp_full_match(r.duration, '-?[0-9]+:[0-5][0-9]:[0-5][0-9](\.[0-9]+)?')
                THEN epoch(TRY_CAST(r.duration AS INTERVAL))  -- NULL: hours past INTERVAL's
            ELSE unit_duration_s(r.duration)
        END AS duration_value
    FROM raw_calls AS r
    LEFT JOIN landing_numbers AS a ON a.text = r.caller
    LEFT JOIN landing_numbers AS b ON b.text = r.callee
    LEFT JOIN landing_cells AS ca ON ca.text = r.caller_cell
    LEFT JOIN landing_cells AS cb ON cb.text = r.callee_cell
),
-- A start and an end written as wall-clock times, one of them in the repeated hour of a change
-- back: of the pairs of the instants they name, the one giving the shortest duration that is
-- not negative (a call of 01:50 to 02:10 across the change lasts 20 minutes, not 80; one of the
-- first 02:41 to the second 02:19 lasts 38, not -22: end_before_start); none: as read.
resolved AS (
    SELECT
        * EXCLUDE (start_ts, end_ts, start_early, end_early, durations, pair),
        CASE WHEN pair IN (2, 4) THEN start_early ELSE start_ts END AS start_ts,
        CASE WHEN pair IN (3, 4) THEN end_early ELSE end_ts END AS end_ts
    FROM (
        SELECT
            *,
            list_position(durations, list_min(list_filter(durations, lambda d: d >= 0)))
                AS pair
        FROM (
            SELECT
                *,
                CASE WHEN start_early IS NOT NULL OR end_early IS NOT NULL THEN [
                    epoch_us(end_ts) - epoch_us(start_ts),
                    epoch_us(end_ts) - epoch_us(coalesce(start_early, start_ts)),
                    epoch_us(coalesce(end_early, end_ts)) - epoch_us(start_ts),
                    epoch_us(coalesce(end_early, end_ts))
                    - epoch_us(coalesce(start_early, start_ts))
                ] END AS durations
            FROM typed
        ) AS d
    ) AS p
),
-- An end written as a time of day on the start's date (end_ts and start_ts mapped to the same
-- date column, $end_rolls_over): an end before the start is the next day's, when the call
-- then lasts under 12 hours (23:59:50 to 00:00:20: 30 s); else it stays end_before_start.
rolled AS (
    SELECT
        * REPLACE (
            CASE
                WHEN $end_rolls_over AND end_ts < start_ts
                    AND end_ts + INTERVAL 12 HOUR < start_ts
                    THEN end_ts + INTERVAL 24 HOUR
                ELSE end_ts
            END AS end_ts
        )
    FROM resolved
),
-- raw_calls holds instants (TIMESTAMPTZ): the local time of the study city ($city_tz) is taken
-- here, and durations are differences of instants, not of local clock times, so a call across a
-- daylight-saving change lasts what it lasted.
micros AS (
    SELECT
        * EXCLUDE (start_ts, end_ts),
        timezone($city_tz, start_ts) AS start_ts,
        CASE
            WHEN $has_duration THEN
                CASE WHEN isfinite(duration_value) AND abs(duration_value) < 1e9
                    THEN CAST(round(duration_value * 1e6) AS BIGINT) END
            ELSE epoch_us(end_ts) - epoch_us(start_ts)
        END AS duration_us,
        end_ts AS end_instant,
        start_ts AS start_instant,
        -- an end and a duration both in the file, the one not read disagreeing with the
        -- other by more than a second (a minute in a file stamped to the minute)
        CASE WHEN end_ts IS NOT NULL AND isfinite(duration_value)
            AND abs(duration_value) < 1e9 THEN
            abs((epoch_us(end_ts) - epoch_us(start_ts)) / 1e6 - duration_value)
            > CASE WHEN date_trunc('minute', start_ts) = start_ts
                AND date_trunc('minute', end_ts) = end_ts THEN 60 ELSE 1 END
        END AS times_disagree
    FROM rolled
),
timed AS (
    SELECT
        *,
        CASE
            WHEN $has_duration THEN
                timezone($city_tz, start_instant + to_microseconds(duration_us))
            ELSE timezone($city_tz, end_instant)
        END AS end_value,
        CAST(start_ts AS DATE) AS day
    FROM micros
),
ruled AS (
    SELECT
        *,
        event = 'missed' OR duration_us = 0 AS missed,
        CASE
            WHEN header_line THEN 'repeated_header'
            WHEN summary_line THEN 'summary_row'
            WHEN event = 'other' THEN 'not_a_call'
            WHEN $has_directions AND side IS NULL THEN 'bad_direction'
            WHEN caller_number IS NULL OR callee_number IS NULL THEN 'missing_id'
            WHEN masked THEN 'masked_number'
            WHEN rounded THEN 'rounded_id'
            WHEN start_ts IS NULL THEN 'bad_timestamp'
            WHEN day NOT BETWEEN $month_start AND $month_end THEN 'outside_calendar'
            WHEN $has_duration AND duration_us IS NULL AND event <> 'missed'
                THEN 'bad_duration'
            WHEN end_value IS NULL AND event <> 'missed' THEN 'bad_timestamp'
            -- a missed call has no duration: -1 may mark it (event_types: {missed: [-1]})
            WHEN duration_us < 0 AND event <> 'missed' THEN 'end_before_start'
            WHEN duration_us > 86400000000 AND event <> 'missed' THEN 'duration_over_24h'
        END AS rule
    FROM timed
),
decided AS (
    SELECT
        *,
        coalesce(
            rule,
            CASE WHEN missed AND $missed_rule = 'quarantine' THEN 'missed_call' END,
            'landed'
        ) AS outcome
    FROM ruled
)
SELECT
    f.file_id,
    d._row,
    d.day,
    d.caller_number,
    d.callee_number,
    d.start_ts,
    CASE WHEN NOT coalesce(d.missed, false) THEN d.end_value END AS end_ts,
    CASE WHEN NOT coalesce(d.missed, false) THEN d.duration_us / 1e6 END AS duration_s,
    d.caller_cell,
    d.callee_cell,
    d.side,
    d.outcome,
    coalesce(d.times_disagree AND d.outcome = 'landed' AND NOT d.missed, false)
        AS times_disagree,
    -- what a quarantine record may show: pseudonyms, parsed values, or text that cannot be an
    -- identifier
    CASE WHEN d.outcome NOT IN ('landed', 'not_a_call', 'outside_calendar') THEN
        CAST(to_json({
            caller: d.caller_number, callee: d.callee_number,
            start_ts: coalesce(CAST(d.start_ts AS VARCHAR),
                               safe_time(d.start_ts_text, d.outcome = 'repeated_header')),
            end_ts: coalesce(CAST(d.end_value AS VARCHAR),
                             safe_time(d.end_ts_text, d.outcome = 'repeated_header')),
            duration: safe_time(coalesce(CAST(d.duration_value AS VARCHAR), d.duration),
                                d.outcome = 'repeated_header'),
            caller_cell: d.caller_cell_shown, callee_cell: d.callee_cell_shown,
            event_type: safe_code(d.event_type), direction: safe_code(d.direction_text)
        }) AS VARCHAR)
    END AS record,
    -- a quarantined row's codes as read, for landing_codes below (temporary, never stored)
    CASE WHEN d.outcome NOT IN ('landed', 'not_a_call', 'outside_calendar') THEN {
        event_type: d.event_type, direction: d.direction_text,
        caller_cell: d.caller_cell_text, callee_cell: d.callee_cell_text
    } END AS codes
FROM decided AS d
INNER JOIN landing_file_ids AS f ON f.file = d._file;

-- A quarantined row's codes as read, kept (temporarily) until every batch is read:
-- landing_redact.sql shows those that are identifiers only by their length.
INSERT INTO landing_codes
SELECT
    f.file,
    j._row,
    j.codes.event_type,
    j.codes.direction,
    j.codes.caller_cell,
    j.codes.callee_cell
FROM judged_landing AS j
INNER JOIN landing_file_ids AS f ON f.file_id = j.file_id
WHERE j.codes IS NOT NULL;
