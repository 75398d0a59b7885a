"""The API under outage: with the worker stopped and actions pending, reads, log-in and /healthz keep answering and
no connection sits idle in a transaction; with PostgreSQL stopped, or frozen (answering nothing), every route answers
503 with Retry-After and a Chinese message within bounded time (never 500, never a hang), and everything works again
once it is back."""

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casehall.api.app import create_app
from casehall.core.db import make_engine, make_sessionmaker
from casehall.core.settings import Settings
from casehall.stack.embedded import EmbeddedPostgres, free_port, temporal_test_server_path
from casehall.stack.seed import DEMO_PASSWORD, seed_demo
from casehall.store.migrate import upgrade
from casehall.worker import WORKFLOWS, build_worker, case_activities
from casehall.workflows.observability import register_search_attributes

APPLICANT = {"name": "张三", "phone": "13800138000", "id_number": "220201199001011238"}
CASE: dict[str, object] = {"item_code": "MKT-001", "applicant": APPLICANT,
                           "submitted_materials": ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]}
RPC_TIMEOUT = 3.0
DB_DOWN = "数据库暂时无法连接，本次操作未记录，请几秒后重试"  # the 503's message (zh-CN, the default)


async def login(http: httpx.AsyncClient, username: str = "clerk") -> dict[str, str]:
    r = await http.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@asynccontextmanager
async def serve(settings: Settings, env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, env.client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://casehall", timeout=60
    ) as http:
        yield http


def unsticky_worker(env: WorkflowEnvironment, settings: Settings, sessions: async_sessionmaker[AsyncSession]
                    ) -> Worker:
    """A worker without a sticky cache: the time-skipping server never times out a stopped worker's sticky queue
    (its clock stands still), where a real server hands the task to the next worker after 10 s."""
    activities = case_activities(sessions, settings)
    return Worker(env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities.all(),
                  max_cached_workflows=0)


def idle_in_transaction(postgres: EmbeddedPostgres, database: str) -> int:
    return int(postgres.psql(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' "
                             "AND state LIKE 'idle in transaction%'"))


async def test_worker_stopped(postgres: EmbeddedPostgres, database_url: str, settings: Settings,
                              sessions: async_sessionmaker[AsyncSession], time_env: WorkflowEnvironment) -> None:
    """20 actions wait for a stopped worker: the API keeps answering, holds no connection for them, and answers
    each 503 with Retry-After within the Temporal timeout; retried once the worker is back, they succeed."""
    bounded = settings.model_copy(update={"temporal_rpc_timeout_seconds": RPC_TIMEOUT})
    async with serve(bounded, time_env) as http:
        clerk = await login(http)
        async with unsticky_worker(time_env, settings, sessions):
            numbers = []
            for _ in range(20):
                r = await http.post("/cases", json=CASE, headers=clerk)
                assert r.status_code == 201, r.text
                numbers.append(r.json()["case_no"])
        # The worker is stopped: every accept waits for it.
        started = time.monotonic()
        pending = [asyncio.create_task(http.post(f"/cases/{n}/accept", headers=clerk)) for n in numbers]
        await asyncio.sleep(1)
        assert not any(t.done() for t in pending)
        for _ in range(3):
            t0 = time.monotonic()
            listed = await http.get("/cases", headers=clerk)
            assert listed.status_code == 200 and listed.json()["total"] >= 20
            assert (await http.post("/auth/login", json={"username": "manager", "password": DEMO_PASSWORD})
                    ).status_code == 200
            health = await http.get("/healthz")
            assert health.status_code == 200, health.text
            assert time.monotonic() - t0 < 2, "reads must not wait for the pending actions"
            assert idle_in_transaction(postgres, make_url(database_url).database or "") == 0
        answers = await asyncio.gather(*pending)
        elapsed = time.monotonic() - started
        assert {a.status_code for a in answers} == {503}, [a.text for a in answers]
        assert all(a.headers.get("retry-after") for a in answers)
        assert elapsed < RPC_TIMEOUT + 5, elapsed
        # The worker is back: the updates admitted while it was down are delivered now (a 503 means "maybe done
        # later: retry"), and a retry is answered like the first (the workflow answers repeats); the case ends up
        # accepted. A worker without cache replays each history on this shared machine: allow it time.
        async with unsticky_worker(time_env, settings, sessions):
            async def retry(case_no: str) -> httpx.Response:
                deadline = time.monotonic() + 120
                while True:
                    r = await http.post(f"/cases/{case_no}/accept", headers=clerk)
                    if r.status_code != 503 or time.monotonic() > deadline:
                        return r
                    await asyncio.sleep(float(r.headers["retry-after"]) / 5)

            retried = await asyncio.gather(*(retry(n) for n in numbers))
            assert {r.status_code for r in retried} <= {200, 409}, [r.text for r in retried]
            answered = {n: (r.status_code, r.text[:200]) for n, r in zip(numbers, retried, strict=True)}
            for n in numbers:
                for _ in range(50):
                    r = await http.get(f"/cases/{n}", headers=clerk)
                    if r.json()["status"] != "registered":
                        break
                    await asyncio.sleep(0.2)
                assert r.json()["status"] != "registered", (answered[n], r.text)


@pytest.fixture()
async def own_postgres() -> AsyncIterator[EmbeddedPostgres]:
    """A PostgreSQL of this test's own, to be stopped and started again (the session's stays up)."""
    with tempfile.TemporaryDirectory(prefix="casehall-outage-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data", free_port())
        await asyncio.to_thread(server.start, 60, ("-c", "fsync=off"))
        try:
            await upgrade(server.url())
            yield server
        finally:
            await asyncio.to_thread(server.stop)


@pytest.fixture()
async def own_temporal(time_env: WorkflowEnvironment) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of its own: the new database numbers its cases from 1 again."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server_path()), data_converter=time_env.client.data_converter)
    await register_search_attributes(env.client)  # the recorder upserts them
    yield env
    await env.shutdown()


async def until(reached: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll until ``reached()`` (a state of the test's background load), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not reached():
        assert time.monotonic() < deadline, f"not reached within {seconds} s: {what}"
        await asyncio.sleep(0.05)


def assert_outage_answer(r: httpx.Response, method: str, path: str) -> None:
    assert r.status_code == 503, (method, path, r.status_code, r.text)
    assert r.headers.get("retry-after"), (method, path)
    if path != "/healthz":  # the health report says which part is down
        assert r.json()["error"] == {"code": "database_unavailable", "message": DB_DOWN, "field": None,
                                     "details": []}, (method, path, r.text)


async def test_database_down_and_back(own_postgres: EmbeddedPostgres, own_temporal: WorkflowEnvironment) -> None:
    time_env = own_temporal
    settings = Settings(database_url=own_postgres.url(), temporal_address="unused:0", task_queue="casehall-outage",
                        temporal_rpc_timeout_seconds=RPC_TIMEOUT, db_connect_timeout_seconds=2,
                        db_pool_timeout_seconds=2)
    engine = make_engine(own_postgres.url())
    sessions = make_sessionmaker(engine)
    await seed_demo(sessions)
    try:
        async with build_worker(time_env.client, settings, case_activities(sessions, settings)), \
                serve(settings, time_env) as http:
            clerk = await login(http)
            r = await http.post("/cases", json=CASE, headers=clerk)
            assert r.status_code == 201, r.text
            case_no = r.json()["case_no"]

            requests: list[tuple[str, str, dict[str, object] | None]] = [
                ("GET", "/cases", None), ("GET", f"/cases/{case_no}", None), ("GET", "/inbox", None),
                ("GET", "/healthz", None), ("POST", "/cases", CASE),
                ("POST", "/auth/login", {"username": "clerk", "password": DEMO_PASSWORD})]

            seen: Counter[int] = Counter()
            met_outage: set[int] = set()  # the clients that met the stopped database
            stop = asyncio.Event()

            async def hammer(client: int) -> None:
                while not stop.is_set():
                    for method, path, body in requests:
                        r = await http.request(method, path, json=body, headers=clerk)
                        seen[r.status_code] += 1
                        assert r.status_code != 500, (method, path, r.text)
                        if r.status_code == 503:
                            assert r.headers.get("retry-after"), (method, path, r.headers)
                            met_outage.add(client)
                    await asyncio.sleep(0.05)

            load = [asyncio.create_task(hammer(client)) for client in range(4)]
            await until(lambda: seen[200] >= 4, "the clients are served")
            await asyncio.to_thread(own_postgres.stop)
            # Down: every route answers 503 with Retry-After, log-in included, within the bounded waits.
            for method, path, body in requests:
                t0 = time.monotonic()
                r = await http.request(method, path, json=body, headers=clerk)
                assert_outage_answer(r, method, path)
                assert time.monotonic() - t0 < 10, (method, path)
            # A client in the middle of an action (its workflow retries the write) meets the outage later: down
            # until each has, however slow this machine.
            await until(lambda: len(met_outage) == len(load), "every client meets the outage")
            await asyncio.to_thread(own_postgres.start, 60, ("-c", "fsync=off"))
            # Back: requests succeed again (the pool replaces its dead connections).
            deadline = time.monotonic() + 30
            while True:
                r = await http.get(f"/cases/{case_no}", headers=clerk)
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert r.status_code == 200, r.text
            stop.set()
            await asyncio.gather(*load)
            assert seen[500] == 0, seen
            clerk = await login(http)
            r = await http.post("/cases", json=CASE, headers=clerk)
            assert r.status_code == 201, r.text
            r = await http.post(f"/cases/{r.json()['case_no']}/accept", headers=clerk)
            assert r.status_code == 200, r.text
    finally:
        await engine.dispose()


async def test_a_frozen_database_is_answered_503_in_bounded_time(own_postgres: EmbeddedPostgres,
                                                                   own_temporal: WorkflowEnvironment) -> None:
    """PostgreSQL stopped with SIGSTOP: it accepts nothing and answers nothing, so no server-side timeout ends a
    command. A pooled connection's pre-ping ends at the client's command timeout (statement timeout + 2 s), a new
    connection at the connect timeout, a wait for the pool at the pool timeout: each request gets its 503."""
    settings = Settings(database_url=own_postgres.url(), temporal_address="unused:0", task_queue="casehall-frozen",
                        temporal_rpc_timeout_seconds=RPC_TIMEOUT, db_connect_timeout_seconds=2,
                        db_pool_timeout_seconds=2, db_statement_timeout_seconds=2)
    engine = make_engine(own_postgres.url())
    await seed_demo(make_sessionmaker(engine))
    await engine.dispose()
    assert own_postgres.proc is not None
    server = psutil.Process(own_postgres.proc.pid)
    async with serve(settings, own_temporal) as http:
        clerk = await login(http)
        for _ in range(3):  # connections in the pool, to be pinged when next checked out
            assert (await http.get("/cases", headers=clerk)).status_code == 200
        frozen = [server, *server.children()]
        for p in frozen:
            p.suspend()
        try:
            requests = [("GET", "/cases"), ("GET", "/inbox"), ("GET", "/healthz"), ("POST", "/auth/login")]
            for method, path in requests:
                body = {"username": "clerk", "password": DEMO_PASSWORD} if path == "/auth/login" else None
                # (the in-process transport has no client timeout: a hang fails here instead)
                r = await asyncio.wait_for(http.request(method, path, json=body, headers=clerk), 15)
                assert_outage_answer(r, method, path)
            together = await asyncio.wait_for(  # more requests at once than the pool has connections
                asyncio.gather(*(http.get("/cases", headers=clerk) for _ in range(20))), 30)
            for r in together:
                assert_outage_answer(r, "GET", "/cases")
        finally:
            for p in frozen:
                p.resume()
        deadline = time.monotonic() + 30
        while True:
            r = await http.get("/cases", headers=clerk)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert r.status_code == 200, r.text
