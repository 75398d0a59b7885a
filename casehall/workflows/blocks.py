"""Building blocks written once: wait for something, acting at scheduled moments while it has not happened."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from temporalio import workflow

from casehall.workflows import clock

Step = tuple[datetime, Callable[[], Awaitable[None]]]
# Start-to-close timeout of the local activities the workflows run (short database work).
LOCAL_TIMEOUT = timedelta(seconds=30)


async def wait_until(done: Callable[[], bool], at: datetime) -> bool:
    """True once ``done()`` holds; False if the moment ``at`` came first."""
    remaining = at - workflow.now()
    if done():
        return True
    if remaining.total_seconds() <= 0:
        return False
    try:
        await workflow.wait_condition(done, timeout=remaining)
    except TimeoutError:
        return done()
    return True


async def wait_with_schedule(done: Callable[[], bool], steps: Sequence[Step], skip: int = 0) -> None:
    """Wait for ``done()``; at each step's moment, if still waiting, run the step (the first ``skip`` already ran)."""
    for at, action in steps[skip:]:
        if await wait_until(done, at):
            return
        with clock.triggered():
            await action()
    await workflow.wait_condition(done)


async def approval_with_escalation(
    decided: Callable[[], bool],
    remind_at: datetime,
    escalate_at: datetime,
    remind: Callable[[], Awaitable[None]],
    escalate: Callable[[], Awaitable[None]],
    skip: int = 0,
) -> None:
    """Wait for a decision: remind the approver at ``remind_at``, hand it to the next level at ``escalate_at``."""
    await wait_with_schedule(decided, [(remind_at, remind), (escalate_at, escalate)], skip)


async def deadline_with_reminders(
    done: Callable[[], bool],
    deadline: datetime,
    reminders: Sequence[datetime],
    remind: Callable[[], Awaitable[None]],
    on_deadline: Callable[[], Awaitable[None]],
    skip: int = 0,
) -> None:
    """Wait for ``done()`` until ``deadline``, reminding at each earlier moment; ``on_deadline`` if it passes."""
    steps: list[Step] = [(at, remind) for at in sorted(reminders) if at < deadline]
    steps.append((deadline, on_deadline))
    await wait_with_schedule(done, steps, skip)


