"""Start-up checks and the long-running parts (worker, API) shared by ``casehall up``, ``worker`` and ``api``."""

import asyncio
from urllib.parse import urlsplit

import uvicorn
from sqlalchemy import text
from temporalio.client import Client

from casehall.calendar.admin import seed_calendar
from casehall.core.codec import CodecError, keyring_of
from casehall.core.db import make_engine, open_sessions
from casehall.core.settings import Settings
from casehall.core.temporal import connect
from casehall.stack.seed import seed_demo
from casehall.store.migrate import upgrade

CHECK_SECONDS = 10


class StartupError(RuntimeError):
    """Something the operator must fix; the message is one line."""


def redact(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{parts.username or ''}@{host}:{parts.port or ''}{parts.path}"


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


async def serve(settings: Settings, client: Client, with_worker: bool, with_api: bool) -> None:
    """Run the worker and/or the API until interrupted."""
    from casehall.api.app import create_app
    from casehall.worker import run_worker

    tasks = []
    if with_worker:
        tasks.append(asyncio.create_task(run_worker(settings, client)))
    if with_api:
        config = uvicorn.Config(create_app(settings, client), host=settings.api_host, port=settings.api_port,
                                log_level=settings.log_level.lower())
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
