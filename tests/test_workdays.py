"""Scenarios for the working-day calendar (casehall.calendar.workdays)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from casehall.calendar.workdays import (
    CalendarDay,
    DayKind,
    ScheduleError,
    WorkingCalendar,
    official_days,
    parse_schedule,
    provisional_days,
)

SH = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
DAY = 8 * HOUR  # 09:00-17:00


def at(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SH)


@cache
def builtin() -> WorkingCalendar:
    return WorkingCalendar.builtin()


# --- built-in data ----------------------------------------------------------


def test_official_days_for_national_day_2026_include_adjusted_saturday() -> None:
    days = {c.day: c for c in official_days([2026, 2031])}  # 2031 unknown: skipped
    assert all(c.day.year == 2026 and c.official and c.source == "chinese-calendar" for c in days.values())
    assert days[date(2026, 10, 1)].kind is DayKind.HOLIDAY
    assert days[date(2026, 10, 1)].name == "National Day"
    assert days[date(2026, 10, 10)] == CalendarDay(
        date(2026, 10, 10), DayKind.ADJUSTED_WORKDAY, "National Day", True, "chinese-calendar"
    )
    assert date(2026, 10, 17) not in days  # ordinary Saturday: no row
    assert date(2026, 10, 12) not in days  # ordinary Monday: no row


def test_provisional_days_are_rule_based_holidays_only() -> None:
    days = provisional_days(2027)
    assert days and all(c.kind is DayKind.HOLIDAY and not c.official for c in days)
    assert all(c.source == "holidays" for c in days)
    assert date(2027, 10, 1) in {c.day for c in days}


def test_builtin_calendar_marks_known_years_official() -> None:
    cal = builtin()
    assert cal.is_official(date(2026, 5, 1))
    assert not cal.is_official(date(2027, 5, 1))
    assert not cal.is_workday(date(2026, 10, 1))
    assert cal.is_workday(date(2026, 10, 10))  # Saturday, 调休
    assert not cal.is_workday(date(2027, 1, 1))  # provisional New Year's Day


# --- deadlines --------------------------------------------------------------


def test_deadline_across_national_day_2026_counts_adjusted_saturday() -> None:
    # chinese_calendar 2026: holidays Oct 1-7 (Thu-Wed); adjusted workdays Sun Sep 20 and Sat Oct 10.
    # From Tue 2026-09-29 (not counted): Wed 9-30 = 1, Oct 1-7 off, Thu 10-08 = 2, Fri 10-09 = 3,
    # Sat 10-10 (调休) = 4, Sun 10-11 off, Mon 10-12 = 5.
    cal = builtin()
    start = at(2026, 9, 29, 15)
    assert cal.add_working_days(start, 4).at == at(2026, 10, 10, 17)
    five = cal.add_working_days(start, 5)
    assert five.at == at(2026, 10, 12, 17)
    assert not five.provisional


def test_weekend_is_skipped() -> None:
    # Thu 2026-03-12: Fri 3-13 = 1, weekend off, Mon 3-16 = 2.
    deadline = builtin().add_working_days(at(2026, 3, 12), 2)
    assert deadline.at == at(2026, 3, 16, 17)
    assert deadline.at.tzinfo == SH


def test_starting_day_is_not_counted_even_before_opening() -> None:
    assert builtin().add_working_days(at(2026, 3, 16, 7), 1).at == at(2026, 3, 17, 17)


def test_start_in_other_timezone_uses_local_date() -> None:
    # 2026-03-12 23:30 UTC is Fri 2026-03-13 07:30 in Shanghai: next working day is Mon 3-16.
    start = datetime(2026, 3, 12, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert builtin().add_working_days(start, 1).at == at(2026, 3, 16, 17)


def test_deadline_into_2027_is_provisional_but_2026_only_is_not() -> None:
    # From Tue 2026-12-15: Dec 16-18 = 3, Dec 21-25 = 8, Dec 28-31 = 12, Fri 2027-01-01 provisional
    # New Year's Day off, Jan 4-8 = 17, Jan 11, 12, 13 = 20.
    cal = builtin()
    into_2027 = cal.add_working_days(at(2026, 12, 15), 20)
    assert into_2027.at == at(2027, 1, 13, 17)
    assert into_2027.provisional
    within_2026 = cal.add_working_days(at(2026, 12, 1), 10)
    assert within_2026.at == at(2026, 12, 15, 17)
    assert not within_2026.provisional


def test_importing_official_2027_schedule_changes_deadline_and_clears_provisional() -> None:
    text = "date,kind,name\n2027-01-01,holiday,New Year's Day\n2027-01-09,adjusted_workday,Made-up 调休\n"
    imported = parse_schedule(text, "csv")
    cal = builtin().with_schedule(imported)
    assert cal.is_official(date(2027, 6, 1))
    assert date(2027, 10, 1) not in cal.days  # provisional 2027 rows replaced by the import
    # As above up to Jan 8 = 17, Sat Jan 9 (调休) = 18, Jan 11 = 19, Jan 12 = 20.
    deadline = cal.add_working_days(at(2026, 12, 15), 20)
    assert deadline == type(deadline)(at(2027, 1, 12, 17), provisional=False)

    # Same via the plain constructor: official_years including 2027 plus the imported days.
    base = builtin()
    direct = WorkingCalendar(
        [c for c in base.days.values() if c.day.year != 2027] + imported, base.official_years | {2027}
    )
    assert direct.add_working_days(at(2026, 12, 15), 20) == deadline


def test_add_working_days_rejects_bad_input() -> None:
    cal = builtin()
    with pytest.raises(ValueError, match="n must be >= 1"):
        cal.add_working_days(at(2026, 3, 12), 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_days(datetime(2026, 3, 12, 10), 1)


# --- schedule import --------------------------------------------------------


def test_parse_schedule_csv_and_yaml_agree_and_sort() -> None:
    csv_text = "date,kind,name\n2027-10-09,adjusted_workday,National Day\n2027-10-01,holiday,National Day\n"
    yaml_text = (
        "- {date: 2027-10-01, kind: holiday, name: National Day}\n"
        "- {date: '2027-10-09', kind: ADJUSTED_WORKDAY, name: National Day}\n"
    )
    from_csv = parse_schedule(csv_text, "csv")
    assert from_csv == parse_schedule(yaml_text, "yaml")
    assert [c.day for c in from_csv] == [date(2027, 10, 1), date(2027, 10, 9)]
    assert all(c.official and c.source == "import" for c in from_csv)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,kind,name\n2027-10-01,holiday,A\n2027-10-01,holiday,A\n", "line 3: date 2027-10-01 already"),
        ("date,kind,name\n2027-10-01,holiday,A\n2027-10-01,workday,B\n", "already listed at line 2"),
        ("date,kind,name\n2027-10-01,festival,A\n", "unknown kind 'festival'"),
        ("date,kind,name\n2027-10-11,adjusted_workday,A\n", "2027-10-11 is a weekday"),
        ("date,kind,name\n2027-10-11,rest,A\n", "not 'rest'"),
        ("date,kind,name\n2027-12-31,holiday,A\n2028-01-01,holiday,B\n", r"spans years \[2027, 2028\]"),
        ("date,kind,name\n2027-13-01,holiday,A\n", "line 2: unparseable date '2027-13-01'"),
        ("day,type\n2027-10-01,holiday\n", "header"),
        ("date,kind,name\n", "no days"),
    ],
    ids=[
        "duplicate",
        "contradictory",
        "unknown-kind",
        "adjusted-on-weekday",
        "rest-on-weekday",
        "multi-year",
        "bad-date",
        "bad-header",
        "empty",
    ],
)
def test_parse_schedule_refuses_bad_csv(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text, "csv")


def test_parse_schedule_refuses_bad_yaml_and_formats() -> None:
    with pytest.raises(ScheduleError, match="entry 2: date 2027-10-01 already"):
        parse_schedule("- {date: 2027-10-01, kind: holiday}\n- {date: 2027-10-01, kind: rest}\n", "yaml")
    with pytest.raises(ScheduleError, match="list of"):
        parse_schedule("date: 2027-10-01\n", "yaml")
    with pytest.raises(ScheduleError, match="unknown schedule format"):
        parse_schedule("", "xlsx")


def test_weekend_rest_and_weekday_holiday_are_accepted() -> None:
    days = parse_schedule("date,kind,name\n2027-10-02,rest,\n2027-10-04,holiday,National Day\n", "csv")
    assert [c.kind for c in days] == [DayKind.REST, DayKind.HOLIDAY]


# --- working time (paused legal clock) --------------------------------------


def test_working_time_between_excludes_weekend() -> None:
    # Fri 2026-03-13 13:00-17:00 = 4h, weekend 0, Mon 2026-03-16 09:00-11:00 = 2h.
    assert builtin().working_time_between(at(2026, 3, 13, 13), at(2026, 3, 16, 11)) == 6 * HOUR


def test_working_time_between_excludes_national_day_holiday() -> None:
    # Wed 9-30 full day, Oct 1-7 holiday, Thu 10-08 full day.
    cal = builtin()
    assert cal.working_time_between(at(2026, 9, 30, 8), at(2026, 10, 8, 18)) == 2 * DAY
    assert cal.working_time_between(at(2026, 10, 8, 18), at(2026, 9, 30, 8)) == timedelta()
    assert cal.working_time_between(at(2026, 10, 3, 8), at(2026, 10, 4, 18)) == timedelta()


def test_paused_clock_over_three_working_days_spanning_weekend_does_not_count() -> None:
    cal = builtin()
    received = at(2026, 3, 9, 10)  # Monday
    original = cal.add_working_days(received, 10).at  # Mon 2026-03-23 17:00
    assert original == at(2026, 3, 23, 17)
    # Paused (补正) from Thu 3-12 17:00 to Tue 3-17 17:00: Fri, Mon, Tue = 3 working days.
    paused = cal.working_time_between(at(2026, 3, 12, 17), at(2026, 3, 17, 17))
    assert paused == 3 * DAY
    resumed = cal.add_working_time(original, paused)
    assert resumed.at == at(2026, 3, 26, 17) == cal.add_working_days(received, 13).at
    assert not resumed.provisional


def test_add_working_time_prefers_previous_day_end_over_next_day_start() -> None:
    cal = builtin()
    # Fri 13:00 + 4h ends exactly at Fri 17:00, not Mon 09:00.
    assert cal.add_working_time(at(2026, 3, 13, 13), 4 * HOUR).at == at(2026, 3, 13, 17)
    assert cal.add_working_time(at(2026, 3, 13, 13), 5 * HOUR).at == at(2026, 3, 16, 10)
    assert cal.add_working_time(at(2026, 3, 14, 12), DAY).at == at(2026, 3, 16, 17)
    assert cal.add_working_time(at(2026, 3, 14, 12), timedelta()).at == at(2026, 3, 14, 12)
    assert cal.add_working_time(at(2026, 12, 31, 16), 2 * HOUR).provisional
    with pytest.raises(ValueError):
        cal.add_working_time(at(2026, 3, 13), -HOUR)


@pytest.mark.parametrize(
    "start",
    [
        at(2026, 3, 13, 17),
        at(2026, 9, 29, 17),
        at(2026, 3, 13, 12, 30),
        at(2026, 3, 14, 12),
        at(2026, 3, 16, 7),
    ],
    ids=["friday-end", "before-national-day-end", "inside-hours", "saturday", "before-opening"],
)
@pytest.mark.parametrize("n", [1, 5, 20])
def test_working_time_roundtrips_to_working_day_deadline(start: datetime, n: int) -> None:
    cal = builtin()
    deadline = cal.add_working_days(start, n).at
    assert cal.add_working_time(start, cal.working_time_between(start, deadline)).at == deadline
