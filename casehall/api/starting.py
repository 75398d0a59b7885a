"""Starting a numbered workflow (a hall case, a hotline order) and answering once its registration is stored: one
call to the engine (update-with-start) where a start and an update took two round trips and two workflow tasks.

Numbers are taken before the start; when the start fails (the engine unreachable, the start refused) the number is
voided with its reason (``case_number_voids``), so a gap in a day's numbers is always explained. A call that fails
transiently once the workflow has started is repeated: the start then finds it running and only the registration
is asked again (it answers at once when already stored)."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from casehall.core.db import transaction
from casehall.store import repository

# A worker that died mid-task makes the engine refuse updates for a moment (FAILED_PRECONDITION).
TRANSIENT = {RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
TRIES = 4


async def start_registered(client: Client, sessions: async_sessionmaker[AsyncSession], run: Any, inp: Any,
                           registration: Any, *, number: str, workflow_id: str, task_queue: str,
                           attributes: TypedSearchAttributes | None = None,
                           rpc_timeout: timedelta | None = None) -> Any:
    """Start ``run(inp)`` as ``workflow_id`` with its search ``attributes`` and return the ``registration`` update's
    answer. A namespace that does not know the attributes yet (registered moments ago: the frontend's cache lags
    ~10 s) starts the workflow without them; the workflow then upserts them itself."""
    for attempt in range(TRIES):
        start = WithStartWorkflowOperation(run, inp, id=workflow_id, task_queue=task_queue,
                                           id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                                           search_attributes=attributes)
        try:
            return await client.execute_update_with_start_workflow(registration, start_workflow_operation=start,
                                                                   rpc_timeout=rpc_timeout)
        except Exception as err:
            started = _started(start)
            if not started and attributes is not None and _unknown_attributes(err):
                attributes = None
                continue
            if not started:
                await _void(sessions, number, err)
                raise
            if not isinstance(err, RPCError) or err.status not in TRANSIENT or attempt == TRIES - 1:
                raise
        await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _started(start: WithStartWorkflowOperation[Any, Any]) -> bool:
    """Whether the engine started the workflow in a call that failed: the SDK settles the operation's handle as soon
    as it knows (the handle once started, the error when the start failed; unsettled when no answer came)."""
    handle = start._workflow_handle  # noqa: SLF001 - the SDK's own record of the start's outcome
    return handle.done() and not handle.cancelled() and handle.exception() is None


def _unknown_attributes(err: BaseException) -> bool:
    return isinstance(err, RPCError) and err.status == RPCStatusCode.INVALID_ARGUMENT and "search attribute" in \
        err.message


async def _void(sessions: async_sessionmaker[AsyncSession], number: str, err: BaseException) -> None:
    async with transaction(sessions) as session:
        await repository.void_case_no(session, number, f"workflow not started: {type(err).__name__}: "
                                      f"{str(err)[:300]}", datetime.now(UTC))
