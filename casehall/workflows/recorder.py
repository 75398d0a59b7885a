"""The one recorder: every workflow persists each transition through it, in sequence order, one local activity each
(idempotent on workflow + sequence), and knows what the database holds.

A transition the database refuses for good (``StoreRefused``) never retries in silence: inside a human action the
workflow returns to what was last stored and the action is refused (nothing recorded, the case usable); in a timer's
step it is logged, reported to ``failing_work`` and waits for an operator's ``retry_failed_work`` signal."""

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Protocol

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from casehall.workflows import clock
from casehall.workflows.errors import INVALID, refuse

with workflow.unsafe.imports_passed_through():
    from casehall.activities.case import STORE_REFUSED, CaseActivities
    from casehall.models.activity_io import FailingWorkInput
    from casehall.models.messages import N_

from casehall.workflows.blocks import LOCAL_TIMEOUT
from casehall.workflows.observability import Published

# Set while a human action (an update handler) runs, so a refused write refuses the action instead of waiting.
in_action: ContextVar[bool] = ContextVar("casehall_in_action", default=False)


class View(Protocol):
    last_seq: int

    def model_copy(self, *, deep: bool = ...) -> Any: ...


class Owner(Protocol):
    view: Any


Persist = Callable[[int, datetime, Any], Awaitable[Any]]


def store_refusal(err: BaseException) -> str | None:
    """The database's reason if ``err`` (a failed local activity, as raised or wrapped) is a write it refused for
    good, else None."""
    failure = err.cause if isinstance(err, ActivityError) else err
    if isinstance(failure, ApplicationError) and failure.type == STORE_REFUSED:
        return failure.message
    return None


class Recorder:
    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self.lock = asyncio.Lock()
        self.stored: Any = owner.view.model_copy(deep=True)  # the state as the database holds it
        self.stored_seq = owner.view.last_seq
        self.retry_requested = False
        self.published = Published()  # search attributes and counters

    async def record(self, event: str, persist: Persist) -> None:
        """Give the next sequence number to ``event`` and persist it with the view as it stands now."""
        async with self.lock:
            view = self.owner.view
            view.last_seq += 1
            seq, at, snapshot = view.last_seq, clock.now(self.owner), view.model_copy(deep=True)
            while True:
                try:
                    await persist(seq, at, snapshot)
                    break
                except (ActivityError, ApplicationError) as err:
                    reason = store_refusal(err)
                    if reason is None:
                        raise
                    await self._refused(event, seq, reason)
            self.published.recorded(event, seq, self.stored, snapshot)
            self.stored, self.stored_seq = snapshot, seq

    async def _refused(self, event: str, seq: int, reason: str) -> None:
        wid = workflow.info().workflow_id
        self.published.refused(event, self.owner.view)
        if in_action.get():  # back to what is stored; the caller is told, nothing is recorded
            self.owner.view = self.stored.model_copy(deep=True)
            raise refuse(INVALID, N_("this could not be stored: {reason}"), reason=reason)
        workflow.logger.error("%s: event %s (seq %d) refused by the database: %s", wid, event, seq, reason)
        await workflow.execute_local_activity_method(
            CaseActivities.report_failing_work,
            FailingWorkInput(workflow_id=wid, seq=seq, event_type=event, error=reason, at=workflow.now()),
            start_to_close_timeout=LOCAL_TIMEOUT)
        self.retry_requested = False
        await workflow.wait_condition(lambda: self.retry_requested)
