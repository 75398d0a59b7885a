"""Annotated dependencies: the session, the Temporal client, the current user.

No request holds a database connection while it waits for Temporal. The API's sessions (``SessionDep`` and any
``state.sessions()``) register with the request; the API's Temporal client (``state.client``) returns their
connections to the pool before each call (``release_request_sessions``), refusing, as a programming error, a call
made with uncommitted writes or inside a ``session.begin()`` block. A session stays usable after the call: its
next read takes a connection again. Every Temporal call is also bounded by ``CASEHALL_TEMPORAL_RPC_TIMEOUT_SECONDS``
(past it: ``RPCError(DEADLINE_EXCEEDED)``, answered 503).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransactionOrigin, UOWTransaction
from temporalio.client import (
    CancelWorkflowInput,
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    TerminateWorkflowInput,
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from casehall.core.security import token_digest
from casehall.core.settings import Settings
from casehall.models.case import Actor
from casehall.models.enums import Role
from casehall.models.tables import User
from casehall.store import accounts, queries

T = TypeVar("T")
_WROTE = "casehall_wrote"
# The sessions opened while serving the current request (set per request by ``middleware.RequestLimits``).
request_sessions: ContextVar[list[AsyncSession] | None] = ContextVar("casehall_request_sessions", default=None)


class _TrackedSession(Session):
    """Remembers whether the open transaction wrote anything (flushed objects or INSERT/UPDATE/DELETE)."""


@event.listens_for(_TrackedSession, "after_flush")
def _flushed(session: Session, _: UOWTransaction) -> None:
    session.info[_WROTE] = True


@event.listens_for(_TrackedSession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(_TrackedSession, "after_commit")
@event.listens_for(_TrackedSession, "after_rollback")
def _ended(session: Session) -> None:
    session.info.pop(_WROTE, None)


class RequestSession(AsyncSession):
    """A session that registers with the request it is opened in (outside a request it is a plain session)."""

    sync_session_class = _TrackedSession

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        held = request_sessions.get()
        if held is not None:
            held.append(self)


def request_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The API's sessions: registered with their request, objects kept readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False, class_=RequestSession)


class HeldAcrossTemporal(RuntimeError):
    """A route called Temporal while one of its sessions had uncommitted writes or an open ``begin()`` block."""


async def release_request_sessions() -> None:
    """Return the current request's connections to the pool; called before every Temporal call of the API."""
    for session in request_sessions.get() or ():
        if not session.in_transaction():
            continue
        if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
            raise HeldAcrossTemporal("commit or roll back the request's writes before calling Temporal")
        transaction = session.sync_session.get_transaction()
        if transaction is not None and transaction.origin is not SessionTransactionOrigin.AUTOBEGIN:
            raise HeldAcrossTemporal("end the session.begin() block before calling Temporal")
        await session.close()  # a read-only transaction: nothing to lose; the session reconnects on next use


class _Bounded(OutboundInterceptor):
    """Releases the request's connections before each call and bounds the call in time."""

    def __init__(self, next: OutboundInterceptor, timeout: timedelta) -> None:
        super().__init__(next)
        self.timeout = timeout

    async def _call(self, call: Awaitable[T]) -> T:
        await release_request_sessions()
        try:
            async with asyncio.timeout(self.timeout.total_seconds()):
                return await call
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise RPCError(f"no answer from Temporal within {self.timeout.total_seconds():g}s",
                           RPCStatusCode.DEADLINE_EXCEEDED, b"") from None

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.rpc_timeout = input.rpc_timeout or self.timeout
        return await self._call(self.next.start_workflow(input))

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input.rpc_timeout = input.rpc_timeout or self.timeout
        return await self._call(self.next.start_workflow_update(input))

    async def start_update_with_start_workflow(self, input: StartWorkflowUpdateWithStartInput
                                               ) -> WorkflowUpdateHandle[Any]:
        return await self._call(self.next.start_update_with_start_workflow(input))

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        input.rpc_timeout = input.rpc_timeout or self.timeout
        return await self._call(self.next.describe_workflow(input))

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        input.rpc_timeout = input.rpc_timeout or self.timeout
        return await self._call(self.next.query_workflow(input))

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.rpc_timeout = input.rpc_timeout or self.timeout
        await self._call(self.next.signal_workflow(input))

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        input.rpc_timeout = input.rpc_timeout or self.timeout
        await self._call(self.next.cancel_workflow(input))

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        input.rpc_timeout = input.rpc_timeout or self.timeout
        await self._call(self.next.terminate_workflow(input))


class _BoundedInterceptor(Interceptor):
    def __init__(self, timeout: timedelta) -> None:
        self.timeout = timeout

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Bounded(next, self.timeout)


def bounded_client(client: Client, timeout: timedelta) -> Client:
    """The same connection to Temporal, seen through the API's guard (``release_request_sessions``) and bounded
    by ``timeout`` per call."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], _BoundedInterceptor(timeout)]
    return Client(**config)


@dataclass
class AppState:
    """Built in the app's lifespan, never at import time."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    client: Client


async def get_state(request: Request) -> AppState:
    # Dependencies are coroutines: FastAPI runs a plain function in its thread pool, a thread hop per request.
    state: AppState = request.app.state.casehall
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """The request's session for reads: it holds a connection only between its first read and the next Temporal
    call (or the end of the request), never while the request waits for Temporal."""
    session = state.sessions()
    try:
        yield session
    finally:
        # Runs after the response is sent: a connection that died with the database cannot fail the request then.
        with suppress(SQLAlchemyError, OSError):
            await session.close()


SessionDep = Annotated[AsyncSession, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False)


async def get_current_user(
    state: StateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The token's user, read in a session of its own that is closed before the route runs."""
    if credentials is None:
        raise HTTPException(401, "log in first: send the token as 'Authorization: Bearer <token>'")
    idle = timedelta(minutes=state.settings.idle_timeout_minutes)
    async with state.sessions() as session:
        user = await accounts.authenticate(session, token_digest(credentials.credentials), idle)
    if user is None:
        raise HTTPException(401, "your session has expired (idle too long, or too old), was closed by a log-out, "
                                 "or the token is unknown: log in again")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_actor(user: CurrentUser) -> Actor:
    return queries.actor_of(user)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require_roles(*roles: Role) -> params.Depends:
    """A dependency refusing users whose role is not among ``roles``."""

    async def check(user: CurrentUser) -> User:
        if Role(user.role) not in roles:
            names = ", ".join(r.value for r in roles)
            raise HTTPException(403, f"this needs one of the roles: {names}")
        return user

    return Depends(check)
