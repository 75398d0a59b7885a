"""Activities of hotline orders: persist a transition (order event + projection + inbox + supervision orders) and
turn a profile's time limits into moments (hours and days around the clock; working days on the official calendar).
Run as local activities; the store and the calendars are given by the worker."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from casehall.activities.case import STORE_REFUSED, Calendars, StoreRefused
from casehall.models.case import Deadline
from casehall.models.hotline import LimitsInput, RecordOrderEventInput, TimeLimit


class OrderStore(Protocol):
    async def record_order_event(self, inp: RecordOrderEventInput) -> bool: ...


def around_the_clock(start: datetime, limit: TimeLimit) -> datetime:
    """``start`` plus a limit counted in minutes, hours or calendar days."""
    unit = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}[limit.unit]
    return start + unit * limit.amount


class OrderActivities:
    def __init__(self, store: OrderStore, calendars: Calendars) -> None:
        self.store = store
        self.calendars = calendars

    @activity.defn(name="record_order_event")
    async def record_order_event(self, inp: RecordOrderEventInput) -> bool:
        """Store the event and its projection; idempotent on (order, seq): a retry rewrites, never adds."""
        try:
            return await self.store.record_order_event(inp)
        except StoreRefused as err:  # never retried: the recorder refuses the action or waits for an operator
            activity.logger.error("%s refused by the database: %s", activity.info().workflow_id, err)
            raise ApplicationError(str(err), type=STORE_REFUSED, non_retryable=True) from None

    @activity.defn(name="order_deadlines")
    async def order_deadlines(self, inp: LimitsInput) -> list[Deadline]:
        """Each limit counted from ``start``; working days on the calendar (provisional where it is not official)."""
        calendar = None
        out = []
        for limit in inp.limits:
            if limit.unit == "working_days":
                calendar = calendar or await self.calendars.get(inp.calendar_version)
                due = calendar.add_working_days(inp.start, limit.amount)
                out.append(Deadline(at=due.at, provisional=due.provisional))
            else:
                out.append(Deadline(at=around_the_clock(inp.start, limit), provisional=False))
        return out

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_order_event, self.order_deadlines]
