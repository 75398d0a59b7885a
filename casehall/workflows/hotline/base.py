"""What every step of an order shares: its state, the time limits of its profile, and the one way a transition is
persisted (the recorder: a local activity keyed on order + sequence)."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from temporalio import workflow

from casehall.workflows.actions import Actions
from casehall.workflows.blocks import LOCAL_TIMEOUT
from casehall.workflows.errors import INVALID_STATE, refuse
from casehall.workflows.recorder import Recorder

with workflow.unsafe.imports_passed_through():
    from casehall.activities.hotline import OrderActivities
    from casehall.models.case import Actor
    from casehall.models.enums import Role
    from casehall.models.hotline import (
        WITH_UNIT,
        DispatchRound,
        LimitsInput,
        OrderStatus,
        OrderTaskSpec,
        OrderView,
        RecordOrderEventInput,
        StartOrderInput,
        TimeLimit,
    )
    from casehall.models.messages import N_
    from casehall.models.order_events import OrderEventType


class OrderBase:
    """State and transitions of ``OrderWorkflow``; the mixins and the workflow build on it."""

    inp: StartOrderInput
    view: OrderView
    recorder: Recorder
    actions: Actions
    review_window_at_closing: bool  # a petition started under petition.REVIEW_WINDOW_AT_CLOSING

    # ---- time ---------------------------------------------------------------------------------------------------
    async def _limits(self, start: datetime, limits: list[TimeLimit]) -> list[datetime]:
        """Each limit counted from ``start`` (an activity: the history keeps the calendar's answer)."""
        deadlines = await workflow.execute_local_activity_method(
            OrderActivities.order_deadlines, LimitsInput(start=start, limits=limits),
            start_to_close_timeout=LOCAL_TIMEOUT)
        return [d.at for d in deadlines]

    # ---- state --------------------------------------------------------------------------------------------------
    def _round(self) -> DispatchRound:
        assert self.view.round is not None
        return self.view.round

    def _round_over(self, round_no: int) -> Callable[[], bool]:
        """True once the order left the unit of dispatch round ``round_no`` (replied, returned, re-dispatched)."""
        return lambda: self.view.rounds != round_no or self.view.status not in WITH_UNIT

    def _set_status(self, status: OrderStatus) -> None:
        self.view.status = status

    def _see(self, units: Iterable[str]) -> None:
        """These units may read the order from now on (they had it, or supervise it)."""
        for code in units:
            if code not in self.view.units_seen:
                self.view.units_seen.append(code)

    def _require_status(self, allowed: Iterable[OrderStatus], verb: str) -> None:
        if self.view.status not in set(allowed):
            raise refuse(INVALID_STATE, N_("order {order_no} is {status}: it cannot be {verb} now"),
                         order_no=self.view.order_no, status=self.view.status.value, verb=verb)

    @staticmethod
    def _task(kind: str, role: Role, unit: str | None, summary: str, due: datetime | None = None) -> OrderTaskSpec:
        return OrderTaskSpec(kind=kind, role=role.value, unit_code=unit, summary=summary, due_at=due)

    # ---- hooks of petitions (``petition.py``); an ordinary order keeps its course ---------------------------------
    async def _handling_window(self, handle_due: datetime, extension_limit: datetime) -> tuple[datetime, datetime]:
        return handle_due, extension_limit

    async def _before_closing(self) -> None:
        """What a petition settles before it is closed (its review window)."""

    def _closing_facts(self) -> dict[str, Any]:
        return {}

    async def _reopen(self, unhappy: list[int]) -> None:
        """Back to the same unit for a second handling (``OrderWorkflow``)."""
        raise NotImplementedError

    # ---- persistence --------------------------------------------------------------------------------------------
    async def _record(self, event: OrderEventType, actor: Actor | None, payload: dict[str, Any], *,
                      close: list[str] | None = None, open_tasks: list[OrderTaskSpec] | None = None) -> None:
        """Persist one transition with the order as it stands now."""
        if event.status is not None:
            assert self.view.status == event.status, (event, self.view.status)

        async def persist(seq: int, at: datetime, order: OrderView) -> None:
            await workflow.execute_local_activity_method(
                OrderActivities.record_order_event,
                RecordOrderEventInput(seq=seq, type=event, actor=actor, at=at, payload=payload, order=order,
                                      close_tasks=close or [], open_tasks=open_tasks or []),
                start_to_close_timeout=LOCAL_TIMEOUT)

        await self.recorder.record(event, persist)

    @workflow.signal(name="retry_failed_work")
    def retry_failed_work(self) -> None:
        """An operator repaired what the database refused: try the waiting transition again."""
        self.recorder.retry_requested = True
