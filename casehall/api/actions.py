"""What every action route does: check the case exists, send the validated update, answer with the stored state.
No database connection is held while Temporal works: reads use short sessions before and after the update."""

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from casehall.api.deps import StateDep
from casehall.api.errors import Closed, NotFound
from casehall.api.schemas import CasePublic
from casehall.models.case import Actor
from casehall.models.commands import Command
from casehall.models.ids import case_workflow_id
from casehall.models.tables import Case, Department
from casehall.store import queries
from casehall.workflows.access import sees_id_number
from casehall.workflows.actions import REPEAT_WINDOW

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
    description="Any unique string per intended action: a retried call with the same key is answered by the first "
                "one and records nothing more.")]


async def case_public(session: AsyncSession, actor: Actor, case: Case) -> CasePublic:
    path = await queries.department_path(session, case.department_code)
    shown = sees_id_number(actor, (case.clerk_id, case.first_clerk_id), path)
    return CasePublic.of(case, shown, datetime.now(UTC))


async def load_case(session: AsyncSession, case_no: str) -> Case:
    case = await session.get(Case, case_no)
    if case is None:
        raise NotFound(f"no case {case_no}")
    return case


async def read_case(state: StateDep, actor: Actor, case_no: str) -> CasePublic:
    """The case as stored, read in a session of its own."""
    async with state.sessions() as session:
        return await case_public(session, actor, await load_case(session, case_no))


def update_id(name: str, actor: Actor, key: str | None) -> str | None:
    """Temporal de-duplicates updates by id: the same key from the same user is the same action."""
    return f"{name}:{actor.user_id}:{key}" if key else None


async def run_update(state: StateDep, handle: WorkflowHandle[Any, Any], update: Any, command: BaseModel,
                     key: str | None = None, result_type: type | None = None,
                     stored: tuple[type[SQLModel], str] | None = None) -> Any:
    """Execute an update; a workflow that has already finished answers 'closed', not 'not found'. ``stored``: the
    workflow's row (its table, its key), to ask again while a refusal for the state came from a workflow the row
    shows further along (the engine re-runs a task a crash cut off), for ``CATCH_UP_SECONDS`` at most."""
    until = time.monotonic() + CATCH_UP_SECONDS
    while True:
        try:
            return await _update_once(state, handle, update, command, key, result_type)
        except WorkflowUpdateFailedError as err:
            if stored is None or time.monotonic() > until or not await engine_behind(state.sessions, *stored, err):
                raise
        await asyncio.sleep(CATCH_UP_PAUSE)


# A worker killed mid-task: its transition may be stored while the engine runs the task again (after its timeout).
CATCH_UP_SECONDS, CATCH_UP_PAUSE = 20.0, 0.5


async def engine_behind(sessions: async_sessionmaker[AsyncSession], table: type[SQLModel], key: str,
                        err: WorkflowUpdateFailedError) -> bool:
    """Whether a refusal for the state came from a workflow whose row (``table`` by primary ``key``: a case, an
    order, a consultation) holds a later transition than the workflow has stored (``Actions`` states its sequence
    number): the engine has not caught up yet."""
    refusal = err.cause
    details = refusal.details[0] if isinstance(refusal, ApplicationError) and refusal.details else None
    if not isinstance(details, dict) or not isinstance(details.get("seq"), int):
        return False
    async with sessions() as session:
        row = await session.get(table, key)
    stored = getattr(row, "last_seq", None)
    return isinstance(stored, int) and stored > details["seq"]


async def _update_once(state: StateDep, handle: WorkflowHandle[Any, Any], update: Any, command: BaseModel,
                       key: str | None, result_type: type | None) -> Any:
    actor = getattr(command, "actor", None)
    name = getattr(update, "__name__", str(update))
    try:
        return await handle.execute_update(
            update, command, id=update_id(name, actor, key) if isinstance(actor, Actor) else None,
            result_type=result_type, rpc_timeout=state.settings.temporal_rpc_timeout)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        try:
            status = (await handle.describe(rpc_timeout=state.settings.temporal_rpc_timeout)).status
        except RPCError as gone:
            if gone.status != RPCStatusCode.NOT_FOUND:  # the engine is unreachable: 503, not "closed"
                raise
            raise Closed("this case is closed: no further action can be recorded") from None
        if status != WorkflowExecutionStatus.RUNNING:
            raise Closed("this case is closed: no further action can be recorded") from None
        raise


# The events by which an action closes a case: a repeat of it (a double click arriving after the case closed) is
# answered with the stored outcome, as the workflow answers repeats while it runs.
CLOSING_EVENTS = {"decide_veto": {"veto_approved"}, "record_satisfaction": {"callback_rated"},
                  "rectify": {"rectified"}, "complete": {"completed"}}


async def act(state: StateDep, actor: Actor, case_no: str, update: Any, body: BaseModel, key: str | None = None
              ) -> CasePublic:
    """Send an action to a case and answer with its stored state. The case is read once, after the update: an
    unknown case number is told apart from a closed case only when the engine has no running case by that id."""
    try:
        await run_update(state, state.client.get_workflow_handle(case_workflow_id(case_no)), update,
                         Command(actor=actor, body=body), key, stored=(Case, case_no))
    except Closed:
        if not await _closed_by_this(state, actor, case_no, getattr(update, "__name__", ""), body):
            raise
    return await read_case(state, actor, case_no)


async def _closed_by_this(state: StateDep, actor: Actor, case_no: str, update: str, body: BaseModel) -> bool:
    """Whether ``actor`` closed the case with this very action (the same body) moments ago; a case number that
    was never registered is not found."""
    async with state.sessions() as session:
        await load_case(session, case_no)
        events = await queries.case_events(session, case_no)
    last = events[-1] if events else None
    if last is None or last.actor_id != actor.user_id or last.type not in CLOSING_EVENTS.get(update, set()):
        return False
    same = all(last.payload.get(k, v) == v for k, v in body.model_dump(mode="json").items())
    return same and datetime.now(UTC) - last.at <= REPEAT_WINDOW


async def actor_named(state: StateDep, username: str, field: str) -> Actor:
    """The user an action names (handover target, helper); an unknown name is bad input about ``field``."""
    async with state.sessions() as session:
        user = await queries.user_by_name(session, username)
    if user is None:
        raise bad_reference(field, f"no user named {username!r}")
    return queries.actor_of(user)


async def require_departments(state: StateDep, codes: list[str], field: str) -> None:
    """Every department code an action will persist exists and is in use (the database would refuse an unknown one
    later; one taken out of use takes no new work)."""
    async with state.sessions() as session:
        found = {c: d for c in codes if (d := await session.get(Department, c)) is not None}
    unknown = sorted(set(codes) - set(found))
    if unknown:
        raise bad_reference(field, f"no department with code {', '.join(unknown)}")
    retired = sorted(c for c, d in found.items() if not d.active)
    if retired:
        raise bad_reference(field, f"department {', '.join(retired)} is out of use: choose a department in use")


def bad_reference(field: str, message: str) -> RequestValidationError:
    """A 422 about one field of the body, answered like any other validation error."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", *field.split(".")), "msg": message,
                                    "ctx": {"error": message}}])
