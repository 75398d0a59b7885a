"""The async engine and sessions, built by each entry point (never at import time).

Every failure to reach PostgreSQL surfaces as a ``sqlalchemy.exc.DBAPIError`` (a refused or timed-out connect
included), a ``sqlalchemy.exc.TimeoutError`` (no free connection within the pool timeout) or a ``TimeoutError`` (a
server that answers nothing), so the API answers 503 for all of them; a connection never waits unbounded: connect,
statement and pool waits all have limits, and so has every command on the client's side (a frozen or unreachable
server enforces no statement timeout: the pool's pre-ping would wait for it forever).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from casehall.core.settings import Settings

# The client gives up on a command this long after the server's statement timeout would have ended it.
COMMAND_MARGIN_SECONDS = 2


async def _asyncpg_connect(*args: Any, **kw: Any) -> Any:
    """``asyncpg.connect``, with a refused, unreachable or timed-out server raised as a PostgreSQL connection
    failure, which SQLAlchemy wraps as a ``DBAPIError`` like every other database error (a bare ``OSError``
    would escape it)."""
    import asyncpg

    try:
        return await asyncpg.connect(*args, **kw)
    except (TimeoutError, OSError) as err:  # TimeoutError is an OSError; named for the reader
        reason = str(err) or type(err).__name__
        raise asyncpg.exceptions.ConnectionFailureError(f"cannot reach the database: {reason}") from err


def make_engine(
    url: str, pool_size: int = 5, *, max_overflow: int = 10, pool_timeout: float = 10, connect_timeout: float = 5,
    statement_timeout: float = 30, idle_in_transaction_timeout: float = 60,
) -> AsyncEngine:
    """An engine whose waits are all bounded (seconds; a statement or idle timeout of 0 means none)."""
    connect_args: dict[str, Any] = {}
    if make_url(url).get_driver_name() == "asyncpg":
        server_settings = {
            "statement_timeout": str(int(statement_timeout * 1000)),
            "idle_in_transaction_session_timeout": str(int(idle_in_transaction_timeout * 1000)),
        }
        connect_args = {"async_creator_fn": _asyncpg_connect, "timeout": connect_timeout,
                        "server_settings": server_settings,
                        "command_timeout": statement_timeout + COMMAND_MARGIN_SECONDS if statement_timeout else None}
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout,
                               pool_pre_ping=True, connect_args=connect_args)


def engine_for(settings: Settings, pool_size: int | None = None) -> AsyncEngine:
    """The engine of a long-running process (API, worker), its pool and timeouts from ``CASEHALL_DB_*``."""
    return make_engine(
        settings.resolved_database_url(), settings.db_pool_size if pool_size is None else pool_size,
        max_overflow=settings.db_max_overflow, pool_timeout=settings.db_pool_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        idle_in_transaction_timeout=settings.db_idle_in_transaction_timeout_seconds,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on error."""
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def open_sessions(url: str, pool_size: int = 2) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a short-lived engine, for one command; the engine is disposed on exit."""
    engine = make_engine(url, pool_size=pool_size)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
