"""Every SQL statement about the working calendar: seed it, import an official schedule, read it; tell open cases."""

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from casehall.calendar.workdays import (
    BUILTIN_SOURCE,
    DEFAULT_YEARS,
    IMPORT_SOURCE,
    CalendarDay,
    DayKind,
    ScheduleError,
    official_days,
    schedule_conflicts,
    schedule_version,
)
from casehall.core.db import transaction
from casehall.models.commands import CalendarChanged
from casehall.models.ids import case_workflow_id
from casehall.models.tables import CalendarDayRow, Case
from casehall.workflows.case import CaseWorkflow

_SIGNAL_CONCURRENCY = 20


@dataclass(frozen=True)
class SeedReport:
    years: list[int]  # years written from chinese_calendar
    days: int
    kept: list[int]  # years left alone because an administrator imported their schedule


@dataclass(frozen=True)
class ImportReport:
    year: int
    days: int
    version: str
    unchanged: bool  # the same schedule was already imported: nothing written
    replaced: bool  # a contradicting official schedule was overwritten (replace=True)


def _in_year(year: int) -> ColumnElement[bool]:
    return col(CalendarDayRow.day).between(date(year, 1, 1), date(year, 12, 31))


def _row(c: CalendarDay, source: str) -> dict[str, object]:
    return {"day": c.day, "kind": c.kind.value, "name": c.name, "official": True, "source": source}


async def _lock(session: AsyncSession) -> None:
    """One writer of the calendar at a time; readers are not blocked."""
    await session.execute(text("LOCK TABLE working_calendar IN SHARE ROW EXCLUSIVE MODE"))


async def stored_days(session: AsyncSession, year: int | None = None) -> list[CalendarDay]:
    """The official rows of the table, of one year or all, by date."""
    query = select(CalendarDayRow).where(col(CalendarDayRow.official)).order_by(col(CalendarDayRow.day))
    if year is not None:
        query = query.where(_in_year(year))
    return [CalendarDay(r.day, DayKind(r.kind), r.name, r.official, r.source) for r in await session.scalars(query)]


def imported_versions(days: Iterable[CalendarDay]) -> dict[int, str]:
    """The version of each year's imported schedule."""
    by_year: dict[int, list[CalendarDay]] = defaultdict(list)
    for c in days:
        if c.source == IMPORT_SOURCE:
            by_year[c.day.year].append(c)
    return {year: schedule_version(cs) for year, cs in by_year.items()}


async def seed_calendar(sessions: async_sessionmaker[AsyncSession], years: Iterable[int] = DEFAULT_YEARS
                        ) -> SeedReport:
    """Upsert the official years chinese_calendar knows, so they outlive the package; imported years are kept."""
    async with transaction(sessions) as session:
        await _lock(session)
        kept = {d.year for d in await session.scalars(
            select(col(CalendarDayRow.day)).where(col(CalendarDayRow.source) == IMPORT_SOURCE))}
        written: list[int] = []
        rows: list[dict[str, object]] = []
        for year in sorted(set(years) - kept):
            days = official_days([year])
            if not days:
                continue
            written.append(year)
            rows += [_row(c, BUILTIN_SOURCE) for c in days]
            await session.execute(delete(CalendarDayRow).where(
                _in_year(year), col(CalendarDayRow.source) == BUILTIN_SOURCE,
                col(CalendarDayRow.day).not_in([c.day for c in days])))
        if rows:
            upsert = insert(CalendarDayRow).values(rows)
            await session.execute(upsert.on_conflict_do_update(
                index_elements=[col(CalendarDayRow.day)],
                set_={k: upsert.excluded[k] for k in ("kind", "name", "official", "source")},
                where=col(CalendarDayRow.source) != IMPORT_SOURCE,
            ))
    return SeedReport(written, len(rows), sorted(kept & set(years)))


async def import_schedule(sessions: async_sessionmaker[AsyncSession], days: list[CalendarDay], replace: bool = False
                          ) -> ImportReport:
    """Store one year's official schedule (from ``parse_schedule``), in one transaction.

    A schedule that contradicts the official one already in force for the year (imported, seeded or built in) is
    refused with a ScheduleError unless ``replace``; the year's rows are then replaced by the import's.
    """
    years = {c.day.year for c in days}
    if len(years) != 1:
        raise ScheduleError("a schedule lists the days of exactly one year")
    year = years.pop()
    version = schedule_version(days)
    async with transaction(sessions) as session:
        await _lock(session)
        stored = await stored_days(session, year)
        imported = [c for c in stored if c.source == IMPORT_SOURCE]
        if imported and schedule_version(imported) == version:
            return ImportReport(year, len(days), version, unchanged=True, replaced=False)
        current, source = (imported, "imported") if imported else (stored, "chinese-calendar, stored")
        if not current:
            current, source = official_days([year]), "chinese-calendar, built in"
        conflicts = schedule_conflicts(current, days) if current else []  # no official schedule yet: none
        if conflicts and not replace:
            more = f"; and {len(conflicts) - 3} more" if len(conflicts) > 3 else ""
            raise ScheduleError(
                f"this {year} schedule contradicts the official {year} schedule in force ({source}) on "
                f"{len(conflicts)} day(s): {'; '.join(conflicts[:3])}{more}. "
                "Import it with replace (--replace, or \"replace\": true) to overwrite that schedule"
            )
        await session.execute(delete(CalendarDayRow).where(_in_year(year)))
        await session.execute(insert(CalendarDayRow).values([_row(c, IMPORT_SOURCE) for c in days]))
    return ImportReport(year, len(days), version, unchanged=False, replaced=bool(conflicts))


async def notify_open_cases(client: Client, sessions: async_sessionmaker[AsyncSession], year: int) -> int:
    """Signal ``calendar_changed`` to every open case with a provisional deadline; returns how many were told.

    Cases whose workflow is gone (finished, not found) are skipped.
    """
    async with sessions() as session:
        days = [c for c in await stored_days(session, year) if c.source == IMPORT_SOURCE]
        case_nos = (await session.scalars(select(col(Case.case_no)).where(
            col(Case.closed_at).is_(None), col(Case.deadline_provisional)))).all()
    if not days:
        raise ValueError(f"no official schedule was imported for {year}")
    change = CalendarChanged(year=year, version=schedule_version(days))
    limit = asyncio.Semaphore(_SIGNAL_CONCURRENCY)

    async def tell(case_no: str) -> bool:
        async with limit:
            try:
                await client.get_workflow_handle_for(CaseWorkflow.run, case_workflow_id(case_no)).signal(
                    CaseWorkflow.calendar_changed, change)
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    return False
                raise
            return True

    return sum(await asyncio.gather(*(tell(n) for n in case_nos)))
