"""Activities of a case: persist a transition, compute deadlines on the working calendar. Run as local
activities (short database work, one server round trip saved per step)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from casehall.calendar.store import CalendarStore
from casehall.core.db import transaction
from casehall.models.consultation import RecordConsultationEventInput
from casehall.models.payloads import Deadline, DeadlinesInput, RecordEventInput, ResumeClockInput, WorkingTimeInput
from casehall.store import repository


class CaseActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], calendar: CalendarStore) -> None:
        self.sessions = sessions
        self.calendar = calendar

    @activity.defn(name="record_case_event")
    async def record_case_event(self, inp: RecordEventInput) -> bool:
        """Store the event and its projection; idempotent on (case, seq): a retry records nothing twice."""
        async with transaction(self.sessions) as session:
            return await repository.record_event(session, inp)

    @activity.defn(name="record_consultation_event")
    async def record_consultation_event(self, inp: RecordConsultationEventInput) -> bool:
        """Store a consultation event and its projection; idempotent on (consultation, seq)."""
        async with transaction(self.sessions) as session:
            return await repository.record_consultation_event(session, inp)

    @activity.defn(name="compute_deadlines")
    async def compute_deadlines(self, inp: DeadlinesInput) -> list[Deadline]:
        calendar = await self.calendar.get(inp.calendar_version)
        out = []
        for days in inp.working_days:
            d = calendar.add_working_days(inp.start, days)
            out.append(Deadline(at=d.at, provisional=d.provisional))
        return out

    @activity.defn(name="working_seconds_between")
    async def working_seconds_between(self, inp: WorkingTimeInput) -> float:
        return (await self.calendar.get(inp.calendar_version)).working_time_between(inp.start, inp.end).total_seconds()

    @activity.defn(name="resume_legal_clock")
    async def resume_legal_clock(self, inp: ResumeClockInput) -> Deadline:
        """The deadline once the paused legal clock runs again with ``seconds`` of working time left."""
        d = (await self.calendar.get(inp.calendar_version)).add_working_time(inp.start, timedelta(seconds=inp.seconds))
        return Deadline(at=d.at, provisional=d.provisional)

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_case_event, self.record_consultation_event, self.compute_deadlines,
                self.working_seconds_between, self.resume_legal_clock]
