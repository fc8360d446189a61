-- The landing step (docs/data_contract.md): judge every row of the calls files once, give it its
-- local day, pseudonymise its numbers. Input: temp table raw_calls (contract.read_table).
-- Output: temp table judged_landing with `outcome`: 'landed', a quarantine reason, or an
-- exclusion by the mapping's rules ('not_a_call', 'outside_calendar'). The first rule that
-- applies, in the order below, decides.
CREATE OR REPLACE TEMP TABLE judged_landing AS
WITH typed AS (
    SELECT
        *,
        CASE
            WHEN NOT $has_events THEN 'call'
            WHEN list_contains($call_events, lower(event_type)) THEN 'call'
            WHEN list_contains($missed_events, lower(event_type)) THEN 'missed'
            ELSE 'other'
        END AS event,
        TRY_CAST(duration AS DOUBLE) AS duration_value
    FROM raw_calls
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
        start_ts AS start_instant
    FROM typed
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
            WHEN event = 'other' THEN 'not_a_call'
            WHEN caller IS NULL OR callee IS NULL THEN 'missing_id'
            WHEN start_ts IS NULL THEN 'bad_timestamp'
            WHEN day NOT BETWEEN $month_start AND $month_end THEN 'outside_calendar'
            WHEN end_value IS NULL AND event <> 'missed' THEN 'bad_timestamp'
            WHEN duration_us < 0 THEN 'end_before_start'
            WHEN duration_us > 86400000000 THEN 'duration_over_24h'
        END AS rule
    FROM timed
)
SELECT
    _file,
    _row,
    day,
    CASE WHEN caller IS NOT NULL THEN pseudonym('number', caller) END AS caller_number,
    CASE WHEN callee IS NOT NULL THEN pseudonym('number', callee) END AS callee_number,
    start_ts,
    CASE WHEN NOT coalesce(missed, false) THEN end_value END AS end_ts,
    CASE WHEN NOT coalesce(missed, false) THEN duration_us / 1e6 END AS duration_s,
    -- a cell id that is not a known cell is kept only as a keyed hash: it may be a phone number
    -- of a misaligned row (the daily ingestion quarantines it as unknown_cell)
    CASE WHEN caller_cell IS NULL OR caller_cell IN (SELECT cell_id FROM cells) THEN caller_cell
        ELSE 'unknown:' || pseudonym('cell', caller_cell) END AS caller_cell,
    CASE WHEN callee_cell IS NULL OR callee_cell IN (SELECT cell_id FROM cells) THEN callee_cell
        ELSE 'unknown:' || pseudonym('cell', callee_cell) END AS callee_cell,
    coalesce(
        rule,
        CASE WHEN missed AND $missed_rule = 'quarantine' THEN 'missed_call' END,
        'landed'
    ) AS outcome,
    -- what a quarantine record may show: parsed values, or text that cannot be an identifier
    coalesce(CAST(start_ts AS VARCHAR), safe_text(start_ts_text)) AS start_shown,
    coalesce(CAST(end_value AS VARCHAR), safe_text(end_ts_text)) AS end_shown,
    coalesce(CAST(duration_value AS VARCHAR), safe_text(duration)) AS duration_shown,
    CASE WHEN caller_cell IN (SELECT cell_id FROM cells) THEN caller_cell
        ELSE safe_text(caller_cell) END AS caller_cell_shown,
    CASE WHEN callee_cell IN (SELECT cell_id FROM cells) THEN callee_cell
        ELSE safe_text(callee_cell) END AS callee_cell_shown,
    safe_text(event_type) AS event_shown
FROM ruled;
