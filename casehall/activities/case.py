"""Activities of cases and consultations: persist a transition, compute deadlines on the working calendar. Run as
local activities (short database work, one server round trip saved per step). The store and the calendars are
given by the worker (``casehall.store``, ``casehall.calendar``), so workflows can name these methods in typed calls."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from casehall.models.activity_io import (
    DeadlinesInput,
    FailingWorkInput,
    RecordEventInput,
    ResumeClockInput,
    WorkingTimeInput,
)
from casehall.models.case import Deadline
from casehall.models.consultation import RecordConsultationEventInput

# ApplicationError type of a write the database refuses for good (bad data, a missing reference): never retried.
STORE_REFUSED = "StoreRefused"


class StoreRefused(Exception):
    """Raised by a store when PostgreSQL refuses a write for a reason a retry cannot change."""


class CaseStore(Protocol):
    async def record_case_event(self, inp: RecordEventInput) -> bool: ...

    async def record_consultation_event(self, inp: RecordConsultationEventInput) -> bool: ...

    async def report_failing_work(self, inp: FailingWorkInput) -> None: ...


class Dated(Protocol):
    @property
    def at(self) -> datetime: ...

    @property
    def provisional(self) -> bool: ...


class Calendar(Protocol):
    def add_working_days(self, start: datetime, days: int) -> Dated: ...

    def add_working_time(self, start: datetime, amount: timedelta) -> Dated: ...

    def working_time_between(self, start: datetime, end: datetime) -> timedelta: ...


class Calendars(Protocol):
    async def get(self, version: str | None = None) -> Calendar: ...


class CaseActivities:
    def __init__(self, store: CaseStore, calendars: Calendars) -> None:
        self.store = store
        self.calendars = calendars

    @activity.defn(name="record_case_event")
    async def record_case_event(self, inp: RecordEventInput) -> bool:
        """Store the event and its projection; idempotent on (case, seq): a retry rewrites, never adds."""
        return await self._refusable(self.store.record_case_event(inp))

    @activity.defn(name="record_consultation_event")
    async def record_consultation_event(self, inp: RecordConsultationEventInput) -> bool:
        """Store a consultation event and its projection; idempotent on (consultation, seq)."""
        return await self._refusable(self.store.record_consultation_event(inp))

    @activity.defn(name="report_failing_work")
    async def report_failing_work(self, inp: FailingWorkInput) -> None:
        """Note a refused transition for operators (``casehall cases failing``)."""
        await self.store.report_failing_work(inp)

    @activity.defn(name="compute_deadlines")
    async def compute_deadlines(self, inp: DeadlinesInput) -> list[Deadline]:
        calendar = await self.calendars.get(inp.calendar_version)
        return [_deadline(calendar.add_working_days(inp.start, days)) for days in inp.working_days]

    @activity.defn(name="working_seconds_between")
    async def working_seconds_between(self, inp: WorkingTimeInput) -> float:
        return (await self.calendars.get(inp.calendar_version)).working_time_between(inp.start, inp.end).total_seconds()

    @activity.defn(name="resume_legal_clock")
    async def resume_legal_clock(self, inp: ResumeClockInput) -> Deadline:
        """The deadline once the paused legal clock runs again with ``seconds`` of working time left."""
        calendar = await self.calendars.get(inp.calendar_version)
        return _deadline(calendar.add_working_time(inp.start, timedelta(seconds=inp.seconds)))

    async def _refusable(self, write: Any) -> bool:
        try:
            result: bool = await write
        except StoreRefused as err:
            info = activity.info()
            activity.logger.error("%s refused by the database: %s", info.workflow_id, err)
            raise ApplicationError(str(err), type=STORE_REFUSED, non_retryable=True) from None
        return result

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_case_event, self.record_consultation_event, self.report_failing_work,
                self.compute_deadlines, self.working_seconds_between, self.resume_legal_clock]


def _deadline(d: Dated) -> Deadline:
    return Deadline(at=d.at, provisional=d.provisional)
