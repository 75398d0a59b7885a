"""``casehall calendar``: seed the official calendar, import a year's schedule, show a month."""

import asyncio
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.calendar.admin import ImportReport, SeedReport, import_schedule, notify_open_cases, seed_calendar
from casehall.calendar.store import CalendarStore
from casehall.calendar.workdays import (
    IMPORT_SOURCE,
    CalendarDay,
    DayKind,
    ScheduleError,
    WorkingCalendar,
    describe,
    parse_schedule,
)
from casehall.core.db import open_sessions
from casehall.core.settings import Settings
from casehall.stack.runtime import StartupError, check_database, connect_temporal

calendar_app = typer.Typer(help="The working-day calendar: seed, import official schedules, show a month.",
                           no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
FORMATS = {".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; an operator error ends with one line and exit code 1."""
    try:
        return asyncio.run(coro)
    except (StartupError, ValueError) as err:  # ScheduleError is a ValueError
        raise _fail(str(err)) from None


async def _with_sessions(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions:
        return await work(sessions)


@calendar_app.command("seed")
def seed() -> None:
    """Store the official years chinese_calendar knows, so deadlines do not depend on the installed package."""
    report: SeedReport = _run(_with_sessions(Settings(), seed_calendar))
    years = f"{report.years[0]}-{report.years[-1]}" if report.years else "none"
    console.print(f"seeded {report.days} days of the official years {years}")
    if report.kept:
        console.print(f"kept the imported schedules of {', '.join(map(str, report.kept))}")


def _read_schedule(path: Path) -> tuple[str, str]:
    """The text and format of a schedule file, or a one-line error."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _fail(f"{path}: unknown file type {path.suffix or '(none)'!r}; use .csv, .yaml or .yml")
    try:
        return path.read_text(encoding="utf-8-sig"), fmt
    except UnicodeDecodeError:
        raise _fail(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as err:
        raise _fail(f"cannot read {path}: {err.strerror or err}") from None


@calendar_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="one year's schedule: a .csv (date,kind,name) or .yaml file")],
    replace: Annotated[bool, typer.Option(help="Overwrite a contradicting official schedule of that year.")] = False,
) -> None:
    """Import one year's official schedule, then tell open cases with provisional deadlines."""
    content, fmt = _read_schedule(file)
    try:
        days = parse_schedule(content, fmt)
    except ScheduleError as err:
        raise _fail(f"{file}: {err}") from None
    settings = Settings()
    report: ImportReport = _run(_with_sessions(settings, lambda s: import_schedule(s, days, replace)))
    what = "unchanged" if report.unchanged else ("replaced" if report.replaced else "imported")
    console.print(f"{report.year} official schedule {what}: {report.days} days, version {report.version}")

    async def notify() -> int:
        client = await connect_temporal(settings)
        return await _with_sessions(settings, lambda s: notify_open_cases(client, s, report.year))

    try:
        told = asyncio.run(notify())
    except Exception as err:  # noqa: BLE001 - the import stands; say what is left to do
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise _fail(f"open cases were not told of the new calendar ({reason}); "
                    "run the same import again once Temporal is reachable") from None
    console.print(f"told {told} open case(s) with a provisional deadline")


def _month_arg(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise _fail(f"{value!r} is not a month: use YYYY-MM, e.g. 2027-01")
    return int(match[1]), int(match[2])


_STYLE = {DayKind.WORKDAY: "", DayKind.REST: "dim", DayKind.HOLIDAY: "bold red", DayKind.ADJUSTED_WORKDAY: "yellow"}


_LABEL = {DayKind.WORKDAY: "work", DayKind.REST: "rest", DayKind.HOLIDAY: "holiday",
          DayKind.ADJUSTED_WORKDAY: "adjusted workday"}


def _cell(c: CalendarDay) -> Text:
    label = c.name if c.kind is DayKind.HOLIDAY and c.name else _LABEL[c.kind]
    return Text(f"{c.day.day}\n{label}", style=_STYLE[c.kind])


def month_table(calendar: WorkingCalendar, year: int, month: int) -> Table:
    """A month as a Monday-first grid; the title says whether the year's schedule is official."""
    days = calendar.month(year, month)
    first = date(year, month, 1)
    if not calendar.is_official(first):
        status = "provisional: rule-based holidays, adjusted workdays unknown"
    elif any(c.source == IMPORT_SOURCE for c in calendar.days.values() if c.day.year == year):
        status = "official (imported schedule)"
    else:
        status = "official (chinese-calendar)"
    table = Table(title=f"{first:%B %Y} - {status}", show_lines=True)
    for name in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        table.add_column(name, ratio=1, vertical="top")
    cells: list[Text] = [Text("")] * first.weekday() + [_cell(c) for c in days]
    cells += [Text("")] * (-len(cells) % 7)
    for week in range(0, len(cells), 7):
        table.add_row(*cells[week:week + 7])
    return table


@calendar_app.command("show")
def show(month: Annotated[str, typer.Argument(help="the month, YYYY-MM")]) -> None:
    """Print a month: work, rest, holidays and adjusted workdays, official or provisional."""
    year, number = _month_arg(month)
    settings = Settings()
    calendar = _run(_with_sessions(settings, lambda s: CalendarStore(s, settings, ttl=0).get()))
    console.print(month_table(calendar, year, number))
    for c in calendar.month(year, number):
        if c.kind in (DayKind.HOLIDAY, DayKind.ADJUSTED_WORKDAY):
            origin = "official" if c.official else "provisional"
            console.print(f"{c.day} {c.day:%a}  {describe(c)}  ({origin}, {c.source})", markup=False, highlight=False)
