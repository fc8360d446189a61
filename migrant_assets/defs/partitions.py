"""Every partitioning of the project, from the study calendar (SPEC §2). Keys are ISO dates."""

from datetime import date, timedelta

import dagster as dg

from migrant_assets.config import StudyConfig, config_error, config_path

#: The study the code location is built for (read once, when the definitions load): a config
#: that cannot be read is one paragraph at the end of the loading error, not pydantic's
try:
    STUDY = StudyConfig.load()
except Exception as error:  # noqa: BLE001 - config_error names what it does not know
    raise config_error(error, config_path()) from None
CALENDAR = STUDY.calendar


def _weekly(starts: list[date]) -> dg.WeeklyPartitionsDefinition:
    return dg.WeeklyPartitionsDefinition(
        start_date=starts[0].isoformat(),
        end_date=(starts[-1] + timedelta(7)).isoformat(),  # exclusive
        day_offset=starts[0].isoweekday() % 7,  # 0 = Sunday ... 6 = Saturday
    )


def _days(first: date, last: date) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=first.isoformat(), end_date=(last + timedelta(1)).isoformat()
    )


#: Every day of the study month: raw calls and daily contacts.
study_days = _days(CALENDAR.month_start, CALENDAR.month_end)
#: Integration study weeks W1..W4 (Saturday-aligned).
integration_weeks = _weekly(CALENDAR.integration_weeks)
#: Departure study weeks A..C (Monday-aligned).
departure_weeks = _weekly(CALENDAR.departure_weeks)
#: The days a first-k-days window can cover (09-05..09-18): its upstream starts on day one.
first_k_window_days = _days(
    CALENDAR.first_k_start, CALENDAR.first_k_start + timedelta(CALENDAR.k_max - 1)
)
#: First-k-days windows keyed by their last day: k = 3 is 09-07, k = 14 is 09-18.
first_k_days = _days(
    CALENDAR.first_k_start + timedelta(CALENDAR.k_min - 1),
    CALENDAR.first_k_start + timedelta(CALENDAR.k_max - 1),
)
#: A first-k-days window reads every day from its first day to its last.
first_k_window_mapping = dg.TimeWindowPartitionMapping(
    start_offset=-(CALENDAR.k_max - 1), allow_nonexistent_upstream_partitions=True
)
#: The descriptive whole-period window (the study month): one static partition keyed by
#: `month_start`, so its assets read their window like every other window asset does.
whole_period = dg.StaticPartitionsDefinition([CALENDAR.month_start.isoformat()])
#: The whole-period window reads every day of the study month, i.e. every daily partition.
whole_period_mapping = dg.AllPartitionMapping()
#: A first-k-days window is built from the one before it (k - 1: the day before its last), its
#: own asset's previous partition; k = k_min has none and sums its own days.
previous_first_k_mapping = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
)
#: Early warning (docs/early_warning.md): a day's cohorts are found from every day of the study
#: month up to that day (a new migrant's first day with a call) ...
days_up_to_mapping = dg.TimeWindowPartitionMapping(
    start_offset=-((CALENDAR.month_end - CALENDAR.month_start).days),
    allow_nonexistent_upstream_partitions=True,
)
#: ... and each cohort's window of day D is its window of day D - 1 plus day D.
previous_day_mapping = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
)
