"""The working-day calendar: read a month, compute a deadline, import a year's official schedule (admin)."""

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from casehall.api.deps import CurrentUser, StateDep, require_roles
from casehall.api.params import BoundedDatetime
from casehall.calendar.admin import import_schedule, notify_open_cases
from casehall.calendar.store import CalendarStore
from casehall.calendar.workdays import CalendarDay, ScheduleError, parse_schedule
from casehall.models.enums import Role

router = APIRouter(prefix="/calendar", tags=["calendar"])


def get_store(request: Request, state: StateDep) -> CalendarStore:
    """One calendar store per app, made on first use."""
    store: CalendarStore | None = getattr(request.app.state, "calendar_store", None)
    if store is None:
        store = request.app.state.calendar_store = CalendarStore(state.sessions, state.settings)
    return store


StoreDep = Annotated[CalendarStore, Depends(get_store)]


class DayPublic(BaseModel):
    date: date
    weekday: str
    kind: str  # workday | rest | holiday | adjusted_workday
    name: str
    workday: bool
    official: bool
    source: str

    @classmethod
    def of(cls, c: CalendarDay, workday: bool) -> "DayPublic":
        return cls(date=c.day, weekday=f"{c.day:%a}", kind=c.kind.value, name=c.name, workday=workday,
                   official=c.official, source=c.source)


class MonthPublic(BaseModel):
    year: int
    month: int
    official: bool
    days: list[DayPublic]


class DeadlinePublic(BaseModel):
    start: datetime
    working_days: int
    deadline: datetime
    provisional: bool


class ScheduleImport(BaseModel):
    format: Literal["csv", "yaml"]
    text: str = Field(min_length=1, max_length=200_000)
    replace: bool = False


class ImportResult(BaseModel):
    year: int
    days: int
    version: str
    unchanged: bool
    replaced: bool
    notified: int


@router.get("/deadline")
async def deadline(
    store: StoreDep, state: StateDep, user: CurrentUser, start: BoundedDatetime,
    days: Annotated[int, Query(ge=1, le=3650)],
) -> DeadlinePublic:
    """The end of the ``days``-th working day after ``start`` (a time without offset is the hall's local time)."""
    if start.tzinfo is None or start.utcoffset() is None:
        start = start.replace(tzinfo=ZoneInfo(state.settings.timezone))
    d = (await store.get()).add_working_days(start, days)
    return DeadlinePublic(start=start, working_days=days, deadline=d.at, provisional=d.provisional)


@router.get("/{year}/{month}")
async def month(
    store: StoreDep, user: CurrentUser,
    year: Annotated[int, Path(ge=2000, le=2100)], month: Annotated[int, Path(ge=1, le=12)],
) -> MonthPublic:
    calendar = await store.get()
    days = [DayPublic.of(c, calendar.is_workday(c.day)) for c in calendar.month(year, month)]
    return MonthPublic(year=year, month=month, official=calendar.is_official(date(year, month, 1)), days=days)


@router.post("/imports", status_code=201, dependencies=[require_roles(Role.ADMIN)])
async def import_(body: ScheduleImport, store: StoreDep, state: StateDep) -> ImportResult:
    """Import one year's official schedule (``date,kind,name`` rows), then tell open provisional cases."""
    try:
        report = await import_schedule(state.sessions, parse_schedule(body.text, body.format), body.replace)
    except ScheduleError as err:
        raise HTTPException(422, str(err)) from None
    store.invalidate()
    notified = await notify_open_cases(state.client, state.sessions, report.year)
    return ImportResult(year=report.year, days=report.days, version=report.version, unchanged=report.unchanged,
                        replaced=report.replaced, notified=notified)
