"""Working-day calendar for administrative time limits (办理时限); pure, no I/O.

Monday-Friday, except days listed by official State Council schedules (``chinese_calendar``),
rule-based provisional holidays (``holidays``) or an administrator's imported schedule.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import yaml

DEFAULT_YEARS = range(2004, 2031)
BUILTIN_SOURCE = "chinese-calendar"  # official schedules shipped with the chinese_calendar package
IMPORT_SOURCE = "import"  # official schedules typed in by an administrator
_ONE_DAY = timedelta(days=1)


class DayKind(StrEnum):
    """How a calendar day counts."""

    WORKDAY = "workday"
    REST = "rest"
    HOLIDAY = "holiday"
    ADJUSTED_WORKDAY = "adjusted_workday"  # weekend day declared a working day (调休)


@dataclass(frozen=True)
class CalendarDay:
    """An exception to the Monday-Friday rule."""

    day: date
    kind: DayKind
    name: str = ""
    official: bool = True
    source: str = ""


@dataclass(frozen=True)
class Deadline:
    """A computed moment; ``provisional`` if it relied on a non-official year."""

    at: datetime
    provisional: bool


class ScheduleError(ValueError):
    """An imported holiday schedule is malformed or contradictory."""


@lru_cache(maxsize=64)
def _official_year(year: int) -> tuple[CalendarDay, ...] | None:
    """The official exceptions for ``year``, or None if chinese_calendar lacks it."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    out: list[CalendarDay] = []
    for d in chinese_calendar.get_dates(date(year, 1, 1), date(year, 12, 31)):
        is_holiday, name = chinese_calendar.get_holiday_detail(d)
        weekend = d.weekday() >= 5
        kind = None
        if weekend and not is_holiday:
            kind = DayKind.ADJUSTED_WORKDAY
        elif is_holiday and (name or not weekend):
            kind = DayKind.HOLIDAY
        if kind is not None:
            out.append(CalendarDay(d, kind, name or "", official=True, source=BUILTIN_SOURCE))
    return tuple(out)


def official_days(years: Iterable[int]) -> list[CalendarDay]:
    """Official holidays and adjusted workdays for the years chinese_calendar knows."""
    return [c for year in sorted(set(years)) for c in _official_year(year) or ()]


def provisional_days(year: int) -> list[CalendarDay]:
    """Rule-based (unofficial) holidays for ``year``; adjusted workdays are unknown."""
    return [
        CalendarDay(d, DayKind.HOLIDAY, str(name), official=False, source="holidays")
        for d, name in sorted(holidays.country_holidays("CN", years=year).items())
    ]


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ScheduleError(f"{where}: unparseable date {value!r} (expected YYYY-MM-DD)") from None


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so an impossible date gets the same message as in CSV."""


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]


def _rows(text: str, fmt: str) -> list[tuple[str, dict[str, Any]]]:
    """Raw (location, mapping) rows of a schedule."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text.strip()))
        try:
            if not {"date", "kind"} <= {(f or "").strip() for f in reader.fieldnames or ()}:
                raise ScheduleError("CSV schedule needs a header 'date,kind,name'")
            return [(f"line {reader.line_num}", {(k or "").strip(): v for k, v in row.items()}) for row in reader]
        except csv.Error as exc:
            raise ScheduleError(f"invalid CSV at line {reader.line_num}: {exc}") from None
    if fmt == "yaml":
        try:
            data = yaml.load(text, Loader=_YamlLoader)
        except yaml.YAMLError as exc:
            raise ScheduleError(f"invalid YAML: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ScheduleError("YAML schedule must be a list of mappings with date, kind, name")
        return [(f"entry {i}", item) for i, item in enumerate(data, 1)]
    raise ScheduleError(f"unknown schedule format {fmt!r} (expected 'csv' or 'yaml')")


def parse_schedule(text: str, fmt: str) -> list[CalendarDay]:
    """Parse and validate one year's official schedule typed by an administrator."""
    seen: dict[date, str] = {}
    days: list[CalendarDay] = []
    for where, row in _rows(text, fmt):
        d = _parse_date(row.get("date"), where)
        try:
            kind = DayKind(str(row.get("kind")).strip().lower())
        except ValueError:
            valid = ", ".join(DayKind)
            raise ScheduleError(
                f"{where} ({d}): unknown kind {row.get('kind')!r} (one of: {valid})"
            ) from None
        if d in seen:
            raise ScheduleError(f"{where}: date {d} already listed at {seen[d]}")
        seen[d] = where
        if kind is DayKind.ADJUSTED_WORKDAY and d.weekday() < 5:
            raise ScheduleError(f"{where}: {d} is a weekday; an adjusted workday must be a weekend day")
        if kind is DayKind.REST and d.weekday() < 5:
            raise ScheduleError(f"{where}: {d} is a weekday; mark a weekday off as 'holiday', not 'rest'")
        name = str(row.get("name") or "").strip()
        days.append(CalendarDay(d, kind, name, official=True, source=IMPORT_SOURCE))
    if not days:
        raise ScheduleError("schedule lists no days")
    if len(years := sorted({c.day.year for c in days})) > 1:
        raise ScheduleError(f"schedule spans years {years}; import one calendar year at a time")
    return sorted(days, key=lambda c: c.day)


def schedule_version(days: Iterable[CalendarDay]) -> str:
    """A short fingerprint of a schedule: sha256 of its canonical text (``date,kind,name`` lines), 12 hex digits."""
    text = "".join(f"{c.day.isoformat()},{c.kind.value},{c.name}\n" for c in sorted(days, key=lambda c: c.day))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def describe(c: CalendarDay) -> str:
    """How a day counts, in words: ``work``, ``rest``, ``holiday (name)``, ``adjusted workday (name)``."""
    label = {DayKind.WORKDAY: "work", DayKind.REST: "rest", DayKind.HOLIDAY: "holiday",
             DayKind.ADJUSTED_WORKDAY: "adjusted workday"}[c.kind]
    return f"{label} ({c.name})" if c.name and c.kind is not DayKind.WORKDAY else label


def schedule_conflicts(stored: Iterable[CalendarDay], incoming: Iterable[CalendarDay]) -> list[str]:
    """Days on which two schedules of a year disagree about working or not, in words; names do not count."""
    old, new = WorkingCalendar(stored, set()), WorkingCalendar(incoming, set())
    return [
        f"{d} ({d:%a}) is {describe(old.day(d))} in the stored schedule but {describe(new.day(d))} in the import"
        for d in sorted(old.days.keys() | new.days.keys())
        if old.is_workday(d) != new.is_workday(d)
    ]


def _require_aware(*moments: datetime) -> None:
    for dt in moments:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"datetimes must be timezone-aware, got {dt!r}")


class WorkingCalendar:
    """Working days and hours; ``days`` are exceptions to the Monday-Friday rule."""

    def __init__(
        self,
        days: Iterable[CalendarDay],
        official_years: set[int],
        tz: str = "Asia/Shanghai",
        start_hour: int = 9,
        end_hour: int = 17,
    ) -> None:
        if not 0 <= start_hour < end_hour <= 24:
            raise ValueError(f"need 0 <= start_hour < end_hour <= 24, got {start_hour}, {end_hour}")
        self.days: dict[date, CalendarDay] = {c.day: c for c in days}  # later entries win
        self.official_years = set(official_years)
        self.tz_name = tz
        self.tz = ZoneInfo(tz)
        self.start_hour = start_hour
        self.end_hour = end_hour

    @classmethod
    def builtin(cls, years: Iterable[int] | None = None, **kw: Any) -> WorkingCalendar:
        """Official days where chinese_calendar has them, provisional ones elsewhere."""
        wanted = sorted(set(DEFAULT_YEARS if years is None else years))
        official = {year for year in wanted if _official_year(year) is not None}
        days = official_days(official) + [c for y in wanted if y not in official for c in provisional_days(y)]
        return cls(days, official, **kw)

    def with_schedule(self, days: Iterable[CalendarDay]) -> WorkingCalendar:
        """A copy where ``days`` replace every exception in their years, now official."""
        new = list(days)
        years = {c.day.year for c in new}
        kept = [c for c in self.days.values() if c.day.year not in years]
        return WorkingCalendar(
            kept + new, self.official_years | years, self.tz_name, self.start_hour, self.end_hour
        )

    def with_stored(self, days: Iterable[CalendarDay]) -> WorkingCalendar:
        """Apply the official rows kept in the database: an imported year replaces what is known of it; any other
        stored official year (seeded from a newer chinese_calendar) counts where this calendar has none."""
        by_year: dict[int, list[CalendarDay]] = defaultdict(list)
        for c in days:
            if c.official:
                by_year[c.day.year].append(c)
        chosen: list[CalendarDay] = []
        for year, cs in by_year.items():
            imported = [c for c in cs if c.source == IMPORT_SOURCE]
            if imported:
                chosen += imported
            elif year not in self.official_years:
                chosen += cs
        return self.with_schedule(chosen) if chosen else self

    def day(self, d: date) -> CalendarDay:
        """``d`` as it counts: its explicit entry, else a plain workday or rest day."""
        c = self.days.get(d)
        if c is not None:
            return c
        kind = DayKind.WORKDAY if d.weekday() < 5 else DayKind.REST
        return CalendarDay(d, kind, official=self.is_official(d))

    def month(self, year: int, month: int) -> list[CalendarDay]:
        """Every day of a month, as it counts."""
        last = calendar.monthrange(year, month)[1]
        return [self.day(date(year, month, n)) for n in range(1, last + 1)]

    def is_workday(self, d: date) -> bool:
        """An explicit day's kind decides; otherwise Monday-Friday."""
        c = self.days.get(d)
        if c is not None:
            return c.kind in (DayKind.WORKDAY, DayKind.ADJUSTED_WORKDAY)
        return d.weekday() < 5

    def is_official(self, d: date) -> bool:
        """Whether ``d``'s year follows an official (not rule-based) schedule."""
        return d.year in self.official_years

    def _at(self, d: date, hour: int) -> datetime:
        return (datetime.combine(d, time()) + timedelta(hours=hour)).replace(tzinfo=self.tz)

    def _window(self, d: date) -> tuple[datetime, datetime]:
        """Working hours of ``d`` in UTC."""
        return self._at(d, self.start_hour).astimezone(UTC), self._at(d, self.end_hour).astimezone(UTC)

    def _provisional(self, first: date, last: date) -> bool:
        return any(y not in self.official_years for y in range(first.year, last.year + 1))

    def add_working_days(self, start: datetime, n: int) -> Deadline:
        """End of the n-th working day after ``start``'s local date (start day not counted)."""
        _require_aware(start)
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        first = d = start.astimezone(self.tz).date()
        count = 0
        while count < n:
            d += _ONE_DAY
            if self.is_workday(d):
                count += 1
        return Deadline(self._at(d, self.end_hour), self._provisional(first, d))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time within working hours on working days between ``a`` and ``b``."""
        _require_aware(a, b)
        total = timedelta()
        if b <= a:
            return total
        a_utc, b_utc = a.astimezone(UTC), b.astimezone(UTC)
        d, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        while d <= last:
            if self.is_workday(d):
                ws, we = self._window(d)
                total += max(min(we, b_utc) - max(ws, a_utc), timedelta())
            d += _ONE_DAY
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> Deadline:
        """The moment ``amount`` of working time after ``start``; ends of days beat starts."""
        _require_aware(start)
        if amount < timedelta():
            raise ValueError(f"amount must be non-negative, got {amount}")
        first = start.astimezone(self.tz).date()
        if not amount:
            return Deadline(start.astimezone(self.tz), self._provisional(first, first))
        cur, remaining, d = start.astimezone(UTC), amount, first
        while True:
            if self.is_workday(d):
                ws, we = self._window(d)
                lo = max(ws, cur)
                if we > lo:
                    if remaining <= we - lo:
                        at = (lo + remaining).astimezone(self.tz)
                        return Deadline(at, self._provisional(first, d))
                    remaining -= we - lo
            d += _ONE_DAY
