"""MonthlyReportWorkflow: each unit's monthly assessment report, started by a Temporal Schedule on the 1st of every
month (Asia/Shanghai) for the month before, or by hand for any past month. The activity folds the recorded events,
computes, stores every unit's figures and the message to its head; re-running a month gives the same figures."""

from datetime import timedelta, timezone

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from casehall.models.assessment import ComputeReportInput, MonthlyReportInput, MonthlyReportResult

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
COMPUTE_ACTIVITY = "compute_monthly_report"
# Set by the server on every run a schedule starts (a catch-up or a backfill too): the 1st it stands for.
SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


def previous_month(year: int, month: int) -> str:
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


@workflow.defn(name="MonthlyReportWorkflow")
class MonthlyReportWorkflow:
    @workflow.run
    async def run(self, inp: MonthlyReportInput) -> MonthlyReportResult:
        now = (workflow.info().typed_search_attributes.get(SCHEDULED_AT) or workflow.now()).astimezone(SHANGHAI)
        period = inp.period or previous_month(now.year, now.month)
        return await workflow.execute_activity(
            COMPUTE_ACTIVITY, ComputeReportInput(period=period, config=inp.config), result_type=MonthlyReportResult,
            start_to_close_timeout=timedelta(minutes=15), heartbeat_timeout=None,
            retry_policy=RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=10)))
