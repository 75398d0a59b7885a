"""The working calendar in force: the built-in official years plus the schedules an administrator imported."""

import time
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.settings import Settings
from casehall.workdays import CalendarDay, DayKind, WorkingCalendar
from models.tables import CalendarDayRow


class CalendarStore:
    """Builds the calendar from PostgreSQL and keeps it for ``ttl`` seconds (an import calls ``invalidate``)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, ttl: float = 60) -> None:
        self.sessions = sessions
        self.settings = settings
        self.ttl = ttl
        self._base: WorkingCalendar | None = None
        self._cached: tuple[float, WorkingCalendar] | None = None

    def invalidate(self) -> None:
        self._cached = None

    async def get(self) -> WorkingCalendar:
        if self._cached and time.monotonic() - self._cached[0] < self.ttl:
            return self._cached[1]
        if self._base is None:
            s = self.settings
            self._base = WorkingCalendar.builtin(
                tz=s.timezone, start_hour=s.workday_start_hour, end_hour=s.workday_end_hour
            )
        async with self.sessions() as session:
            rows = (await session.scalars(select(CalendarDayRow).where(CalendarDayRow.official))).all()
        by_year: dict[int, list[CalendarDay]] = defaultdict(list)
        for row in rows:
            by_year[row.day.year].append(
                CalendarDay(row.day, DayKind(row.kind), row.name, row.official, row.source)
            )
        calendar = self._base
        imported = [day for days in by_year.values() for day in days if day.source == "import"]
        if imported:
            calendar = calendar.with_schedule(imported)
        self._cached = (time.monotonic(), calendar)
        return calendar
