"""The working calendar in force: the built-in official years plus the official schedules kept in PostgreSQL."""

import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.calendar.admin import imported_versions, stored_days
from casehall.calendar.workdays import WorkingCalendar
from casehall.core.settings import Settings

TTL_SECONDS = 60.0


class CalendarStore:
    """Builds the calendar from PostgreSQL and keeps it for ``ttl`` seconds.

    An import in this process calls ``invalidate``; other processes (the worker, after ``casehall calendar import``)
    see it within ``ttl``, or at once when they ask for the imported schedule's version.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, ttl: float = TTL_SECONDS
                 ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.ttl = ttl
        self._base: WorkingCalendar | None = None
        self._cached: tuple[float, WorkingCalendar, frozenset[str]] | None = None

    def invalidate(self) -> None:
        self._cached = None

    async def get(self, version: str | None = None) -> WorkingCalendar:
        """The calendar in force; with ``version`` (of a ``CalendarChanged`` signal) reload unless it is cached."""
        cached = self._cached
        if cached and time.monotonic() - cached[0] < self.ttl and (version is None or version in cached[2]):
            return cached[1]
        if self._base is None:
            s = self.settings
            self._base = WorkingCalendar.builtin(
                tz=s.timezone, start_hour=s.workday_start_hour, end_hour=s.workday_end_hour
            )
        async with self.sessions() as session:
            stored = await stored_days(session)
        calendar = self._base.with_stored(stored)
        self._cached = (time.monotonic(), calendar, frozenset(imported_versions(stored).values()))
        return calendar
