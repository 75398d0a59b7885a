"""The Temporal Schedule of the monthly report: on the 1st of every month at 00:30 Asia/Shanghai, the report of the
month before (``MonthlyReportWorkflow``); created or updated by ``casehall report schedule``."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from casehall.models.assessment import SCHEDULE_ID, TIME_ZONE, MonthlyReportInput, ReportConfig
from casehall.workflows.assessment import MonthlyReportWorkflow


@dataclass(frozen=True)
class ScheduleResult:
    schedule_id: str
    created: bool  # False: an existing schedule was updated


def monthly_schedule(task_queue: str, config: ReportConfig, hour: int = 0, minute: int = 30) -> Schedule:
    spec = ScheduleSpec(calendars=[ScheduleCalendarSpec(day_of_month=[ScheduleRange(1)], hour=[ScheduleRange(hour)],
                                                        minute=[ScheduleRange(minute)], second=[ScheduleRange(0)])],
                        time_zone_name=TIME_ZONE)
    action = ScheduleActionStartWorkflow(MonthlyReportWorkflow.run, MonthlyReportInput(config=config),
                                         id="assessment-monthly-report-run", task_queue=task_queue,
                                         execution_timeout=timedelta(hours=2))
    # A missed 1st (server down) still runs when it comes back, within a week.
    return Schedule(action=action, spec=spec, policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE,
                                                                    catchup_window=timedelta(days=7)))


async def ensure_schedule(client: Client, task_queue: str, config: ReportConfig, hour: int = 0, minute: int = 30,
                          schedule_id: str = SCHEDULE_ID) -> ScheduleResult:
    """Create the schedule, or update the existing one to this configuration and time."""
    schedule = monthly_schedule(task_queue, config, hour, minute)
    try:
        await client.create_schedule(schedule_id, schedule)
        return ScheduleResult(schedule_id, True)
    except ScheduleAlreadyRunningError:
        def updated(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(updated)
        return ScheduleResult(schedule_id, False)
