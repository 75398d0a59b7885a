"""The time a transition happened: the moment its trigger (an update, a signal, a timer, a child's result) reached
the workflow, not the moment the code got past its local activities.

Why: the SDK may complete a workflow task early while a local activity runs (a query arrives, or the activity takes
long); the code after the activity then runs in a later task than a replay places it, so ``workflow.now()`` read
there differs between the original run and any replay — and the database would keep a time no replay reproduces.
The trigger's moment is fixed by the history. Cases started before this patch keep reading ``workflow.now()``."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from temporalio import workflow

STABLE_TIMES = "event-time-of-the-trigger"
_trigger: ContextVar[datetime | None] = ContextVar("casehall_trigger_time", default=None)


@contextmanager
def triggered(at: datetime | None = None) -> Iterator[None]:
    """Within the block, transitions happen at this moment (enter it right when the trigger arrives), or at ``at``
    when the trigger carries its own time (a child's result)."""
    token = _trigger.set(at or workflow.now())
    try:
        yield
    finally:
        _trigger.reset(token)


def adopt() -> bool:
    """Whether this run reads trigger times: call once, first thing in ``run``, and keep it as ``stable_times``."""
    return workflow.patched(STABLE_TIMES)


def now(owner: Any) -> datetime:
    """The moment of the current trigger (see ``triggered``) for a workflow that adopted it, else
    ``workflow.now()``."""
    at = _trigger.get()
    if at is not None and getattr(owner, "stable_times", False):
        return at
    return workflow.now()
