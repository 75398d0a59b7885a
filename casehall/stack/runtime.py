"""Start-up checks and the long-running parts (worker, API) shared by ``casehall up``, ``worker`` and ``api``."""

import asyncio
import logging
import platform
import signal
import sys
from importlib.metadata import version
from urllib.parse import urlsplit

import uvicorn
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from temporalio.client import Client

from casehall.calendar.admin import seed_calendar
from casehall.core.codec import CodecError, keyring_of
from casehall.core.db import make_engine, open_sessions
from casehall.core.settings import Settings
from casehall.core.temporal import connect
from casehall.stack.embedded import die_with_parent
from casehall.stack.seed import seed_demo
from casehall.store.migrate import alembic_config, upgrade

CHECK_SECONDS = 10
log = logging.getLogger("casehall")


class StartupError(RuntimeError):
    """Something the operator must fix; the message is one line."""


def redact(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{parts.username or ''}@{host}:{parts.port or ''}{parts.path}"


def versions() -> str:
    return (f"casehall {version('casehall')}, temporalio {version('temporalio')}, fastapi {version('fastapi')}, "
            f"sqlalchemy {version('sqlalchemy')}, python {platform.python_version()}")


def start_line(settings: Settings, part: str) -> str:
    """What a process says once at start: where it listens or polls, what it talks to, which versions."""
    temporal = (f"Temporal {settings.resolved_temporal_address()} namespace {settings.temporal_namespace} "
                f"queue {settings.task_queue}")
    database = (f"database {redact(settings.resolved_database_url())} "
                f"(pool {settings.db_pool_size}+{settings.db_max_overflow})")
    if part == "api":
        where = (f"api listening on http://{settings.api_host}:{settings.api_port} "
                 f"({settings.api_workers} process{'es' if settings.api_workers > 1 else ''})")
    else:
        where = (f"worker (workflow tasks {settings.worker_max_concurrent_workflow_tasks}, activities "
                 f"{settings.worker_max_concurrent_activities}, local activities "
                 f"{settings.worker_max_concurrent_local_activities}, "
                 f"sticky cache {settings.worker_max_cached_workflows})")
    return f"{where}; {temporal}; {database}; {versions()}"


async def check_schema(settings: Settings) -> None:
    """The database schema is the one this code needs (``casehall api`` and ``worker`` never migrate)."""
    url = settings.resolved_database_url()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url, pool_size=1)
    alembic_log = logging.getLogger("alembic.runtime.migration")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # reading the revision is not news ("Context impl PostgresqlImpl")
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        alembic_log.setLevel(level)
        await engine.dispose()
    if current != head:
        raise StartupError(f"the database schema is at revision {current or 'none'}, this casehall needs {head}: "
                           "run `casehall migrate` first")


async def check_database(settings: Settings) -> None:
    url = settings.resolved_database_url()
    try:
        engine = make_engine(url, pool_size=1)
    except Exception as err:  # noqa: BLE001 - a malformed URL
        raise StartupError(f"CASEHALL_DATABASE_URL is not a usable database URL ({err})") from None
    try:
        async with engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), CHECK_SECONDS)
    except Exception as err:  # noqa: BLE001
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise StartupError(
            f"cannot reach the database at {redact(url)}: {reason} (check CASEHALL_DATABASE_URL)"
        ) from None
    finally:
        await engine.dispose()


async def connect_temporal(settings: Settings) -> Client:
    address = settings.resolved_temporal_address()
    try:
        keyring_of(settings)  # bad keys are the operator's to fix, not an unreachable server
    except CodecError as err:
        raise StartupError(f"{err} (check CASEHALL_CODEC_KEYS or the key file)") from None
    try:
        return await asyncio.wait_for(connect(address, settings.temporal_namespace, settings), CHECK_SECONDS)
    except Exception as err:  # noqa: BLE001
        reason = "connection refused" if "refused" in str(err).lower() else (str(err)[:120] or type(err).__name__)
        raise StartupError(
            f"cannot reach Temporal at {address}: {reason} (check CASEHALL_TEMPORAL_ADDRESS)"
        ) from None


async def prepare_database(settings: Settings, seed: bool) -> list[tuple[str, str]]:
    """Migrate, keep the official calendar years from chinese-calendar in the table, and seed the demo data when
    asked; returns the demo log-ins."""
    await check_database(settings)
    await upgrade(settings.resolved_database_url())
    async with open_sessions(settings.resolved_database_url()) as sessions:
        await seed_calendar(sessions)
        return await seed_demo(sessions) if seed else []


WORKER_STOP_SECONDS = 30


async def worker_process() -> None:
    """``casehall worker`` as a child process, until it exits (an error: the stack is incomplete without it) or
    this task is cancelled (then it is stopped with SIGTERM, killed after ``WORKER_STOP_SECONDS``). The worker and
    the API each get a Python interpreter of their own: in one process they share one core's worth of GIL."""
    proc = await asyncio.create_subprocess_exec(  # its own session: Ctrl-C reaches `up`, which stops it; it dies
        sys.executable, "-m", "casehall", "worker",  # with `up` even when `up` is killed
        start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM))  # noqa: PLW1509 - sets the signal only
    try:
        code = await proc.wait()
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), WORKER_STOP_SECONDS)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        raise
    raise StartupError(f"the worker process stopped (exit code {code}): see its log above")


async def serve(settings: Settings, client: Client, with_worker: bool, with_api: bool,
                separate_worker: bool = False) -> None:
    """Run the worker (in this process, or with ``separate_worker`` as a child process) and/or the API until
    interrupted."""
    from casehall.api.app import create_app
    from casehall.worker import run_worker

    tasks = []
    if with_worker and separate_worker:
        tasks.append(asyncio.create_task(worker_process()))
    elif with_worker:
        log.info("starting %s", start_line(settings, "worker"))
        tasks.append(asyncio.create_task(run_worker(settings, client)))
    if with_api:
        log.info("starting %s", start_line(settings, "api"))
        config = uvicorn.Config(create_app(settings, client), host=settings.api_host, port=settings.api_port,
                                log_level=settings.log_level.lower(), log_config=None)
        tasks.append(asyncio.create_task(uvicorn.Server(config).serve()))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            if not task.cancelling():  # cancelled once already (asyncio.run's shutdown): let its `finally` finish
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def serve_api_processes(settings: Settings) -> None:
    """``casehall api`` with ``CASEHALL_API_WORKERS`` > 1: uvicorn's worker processes, each building the app from
    the environment (its own pool and Temporal connection); blocks until stopped."""
    log.info("starting %s", start_line(settings, "api"))
    uvicorn.run("casehall.api.app:app_from_environment", factory=True, host=settings.api_host,
                port=settings.api_port, workers=settings.api_workers, log_level=settings.log_level.lower(),
                log_config=None, timeout_worker_healthcheck=60)  # a process starting on a busy machine is not dead
