"""The calendar in PostgreSQL: seeding from chinese-calendar, importing official schedules, contradictions."""

from datetime import date, datetime

import chinese_calendar
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.calendar.admin import import_schedule, seed_calendar, stored_days
from casehall.calendar.store import CalendarStore
from casehall.calendar.workdays import CalendarDay, DayKind, ScheduleError, WorkingCalendar, parse_schedule
from casehall.core.settings import Settings
from casehall.models.tables import CalendarDayRow
from tests.cases import SHANGHAI

# A made-up 2027 schedule: New Year's Day on Friday, made up for on Saturday 9 January.
CSV_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-09,adjusted_workday,元旦
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-12,holiday,春节
2027-02-20,adjusted_workday,春节
"""
START = datetime(2026, 12, 15, 10, 0, tzinfo=SHANGHAI)  # Tuesday


async def _rows(sessions: async_sessionmaker[AsyncSession], year: int) -> list[tuple[date, str, str, str]]:
    return [(c.day, c.kind.value, c.name, c.source) for c in await _days(sessions, year)]


async def _days(sessions: async_sessionmaker[AsyncSession], year: int) -> list[CalendarDay]:
    async with sessions() as session:
        return await stored_days(session, year)


async def test_seed_is_idempotent_and_matches_chinese_calendar(sessions: async_sessionmaker[AsyncSession]) -> None:
    first = await seed_calendar(sessions)
    assert 2026 in first.years and 2027 not in first.years and first.kept == []
    rows_2026 = await _rows(sessions, 2026)

    # a stale row (from an older package, say) disappears; the rest is rewritten identically
    async with sessions() as session, session.begin():
        session.add(CalendarDayRow(day=date(2026, 3, 3), kind="holiday", name="bogus", source="chinese-calendar"))
    again = await seed_calendar(sessions)
    assert again == first and await _rows(sessions, 2026) == rows_2026

    days = {d: (kind, source) for d, kind, _, source in rows_2026}
    assert {source for _, source in days.values()} == {"chinese-calendar"}
    year = (date(2026, 1, 1), date(2026, 12, 31))
    weekday_holidays = {d for d in chinese_calendar.get_holidays(*year) if d.weekday() < 5}
    adjusted = {d for d in chinese_calendar.get_workdays(*year) if d.weekday() >= 5}
    assert {d for d, (k, _) in days.items() if k == "holiday" and d.weekday() < 5} == weekday_holidays
    assert {d for d, (k, _) in days.items() if k == "adjusted_workday"} == adjusted
    assert days[date(2026, 10, 1)] == ("holiday", "chinese-calendar")
    assert days[date(2026, 10, 10)] == ("adjusted_workday", "chinese-calendar")  # Saturday worked for National Day


async def test_import_makes_2027_official_through_the_store(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    store = CalendarStore(sessions, settings)
    other = CalendarStore(sessions, settings)  # another process: only its ttl or a version makes it reload
    before = (await store.get()).add_working_days(START, 20)
    await other.get()
    assert before.provisional and before.at.date() == date(2027, 1, 13)

    report = await import_schedule(sessions, parse_schedule(CSV_2027, "csv"))
    assert (report.year, report.days, report.unchanged, report.replaced) == (2027, 10, False, False)
    store.invalidate()
    after = (await store.get()).add_working_days(START, 20)
    assert not after.provisional
    assert after.at == datetime(2027, 1, 12, 17, 0, tzinfo=SHANGHAI)  # Saturday 9 January is worked

    assert (await other.get()).add_working_days(START, 20).provisional  # cached for its ttl
    assert not (await other.get(version=report.version)).add_working_days(START, 20).provisional

    rows = await _rows(sessions, 2027)
    assert len(rows) == 10 and {source for *_, source in rows} == {"import"}
    assert (await seed_calendar(sessions)).kept == [2027]  # seeding leaves an imported year alone
    assert await _rows(sessions, 2027) == rows


async def test_contradictory_imports_are_refused(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    with pytest.raises(ScheduleError, match="date 2028-01-03 already listed at line 2"):
        parse_schedule("date,kind,name\n2028-01-03,holiday,元旦\n2028-01-03,workday,\n", "csv")
    with pytest.raises(ScheduleError, match="spans years"):
        parse_schedule("date,kind\n2028-12-31,holiday\n2029-01-01,holiday\n", "csv")

    original = "date,kind,name\n2028-01-03,holiday,元旦\n2028-01-08,adjusted_workday,元旦\n"
    first = await import_schedule(sessions, parse_schedule(original, "csv"))
    same = await import_schedule(sessions, parse_schedule(original, "csv"))
    assert same.unchanged and same.version == first.version

    moved = "date,kind,name\n2028-01-03,holiday,元旦\n2028-01-09,adjusted_workday,元旦\n"
    with pytest.raises(ScheduleError) as refused:
        await import_schedule(sessions, parse_schedule(moved, "csv"))
    message = str(refused.value)
    assert "contradicts the official 2028 schedule in force (imported) on 2 day(s)" in message
    assert "2028-01-08 (Sat) is adjusted workday (元旦) in the stored schedule but rest in the import" in message
    assert "replace" in message
    assert await _rows(sessions, 2028) == [
        (date(2028, 1, 3), "holiday", "元旦", "import"), (date(2028, 1, 8), "adjusted_workday", "元旦", "import")]

    renamed = await import_schedule(sessions, parse_schedule(original.replace("元旦", "New Year"), "csv"))
    assert not renamed.unchanged and not renamed.replaced  # names differ, working days do not: no contradiction

    replaced = await import_schedule(sessions, parse_schedule(moved, "csv"), replace=True)
    assert replaced.replaced and replaced.version != first.version
    assert [(d, kind) for d, kind, *_ in await _rows(sessions, 2028)] == [
        (date(2028, 1, 3), "holiday"), (date(2028, 1, 9), "adjusted_workday")]
    calendar = await CalendarStore(sessions, settings).get()
    assert calendar.is_workday(date(2028, 1, 9)) and not calendar.is_workday(date(2028, 1, 8))

    # a year chinese-calendar knows is official already: a differing import needs replace too
    with pytest.raises(ScheduleError, match=r"official 2026 schedule in force \(chinese-calendar, stored\)"):
        await import_schedule(sessions, parse_schedule("date,kind,name\n2026-10-01,holiday,国庆节\n", "csv"))
    assert {c.source for c in await _days(sessions, 2026)} == {"chinese-calendar"}  # nothing was written


def test_stored_official_years_outlive_the_package() -> None:
    """Rows seeded by a newer chinese-calendar count for a year the installed one does not know; imports win."""
    base = WorkingCalendar.builtin()
    seeded = CalendarDay(date(2029, 1, 1), DayKind.HOLIDAY, "元旦", True, "chinese-calendar")
    stale = CalendarDay(date(2026, 10, 12), DayKind.HOLIDAY, "stale", True, "chinese-calendar")
    unofficial = CalendarDay(date(2030, 1, 2), DayKind.HOLIDAY, "guess", False, "holidays")
    calendar = base.with_stored([seeded, stale, unofficial])
    assert calendar.is_official(date(2029, 6, 1)) and not calendar.is_workday(date(2029, 1, 1))
    assert calendar.is_workday(date(2026, 10, 12))  # the built-in official year is kept
    assert not calendar.is_official(date(2030, 1, 2)) and calendar.is_workday(date(2030, 1, 2))
    imported = CalendarDay(date(2026, 10, 12), DayKind.HOLIDAY, "extra", True, "import")
    assert not base.with_stored([imported]).is_workday(date(2026, 10, 12))
    assert base.with_stored([imported]).is_workday(date(2026, 10, 1))  # an imported year replaces the whole year
