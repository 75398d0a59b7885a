"""64 windows at once on the API with its default pool (5 + 10 connections): every case registered, accepted and
completed, no 5xx, no timeout; then, the worker stopped, 64 windows again: those acting wait and get 503 with
Retry-After, those reading are answered at once (``bench/load.py`` at a small size)."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from bench.load import Client, LoadReport, run_load
from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.embedded import free_port
from casehall.worker import build_worker, case_activities

CLIENTS = 64


@asynccontextmanager
async def served(settings: Settings, env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    """The API over real HTTP (uvicorn on a free port), as production serves it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, env.client), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    try:
        while not server.started:
            assert not serving.done(), "the API did not start"
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as http:
            yield http
    finally:
        server.should_exit = True
        await serving


async def test_64_windows(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                          time_env: WorkflowEnvironment) -> None:
    assert (settings.db_pool_size, settings.db_max_overflow) == (10, 10)  # the defaults, not a test-sized pool
    assert settings.temporal_rpc_timeout_seconds == 30  # the default bound on Temporal calls, too
    async with served(settings, time_env) as http, \
            build_worker(time_env.client, settings, case_activities(sessions, settings)):
        report = await run_load(http, CLIENTS, 1)
        print(f"\nload: {report.clients} clients, {report.requests} requests in {report.seconds:.1f}s, "
              f"{report.rate:.1f} requests/s, p50 {report.percentile(50):.0f} ms, "
              f"p99 {report.percentile(99):.0f} ms, errors {dict(report.errors)}\n  {report.per_request()}")
        assert not report.errors, report.errors
        assert len(report.cases) == CLIENTS and set(report.statuses) <= {200, 201}, report.statuses
        window = Client(http, LoadReport(1))
        assert await window.log_in("manager")
        for case_no in report.cases:
            r = await window.call("GET", f"/cases/{case_no}", "/cases/{no}")
            assert r is not None and r.json()["status"] == "awaiting_callback", r.text if r else None
    # The worker is stopped: half the windows act (and wait), half read (all logged in beforehand).
    # Reads must come back well within the bound the waiting actions hit (10 s here): nothing waits on them.
    async with served(settings.model_copy(update={"temporal_rpc_timeout_seconds": 10}), time_env) as http:
        reads = LoadReport(CLIENTS // 2)
        waiting = LoadReport(CLIENTS // 2)
        actors = [Client(http, waiting) for _ in range(CLIENTS // 2)]
        readers = [Client(http, reads) for _ in range(CLIENTS // 2)]
        for n, client in enumerate(actors + readers):
            assert await client.log_in(("clerk", "clerk2", "manager")[n % 3])
        reads.latencies.clear()
        reads.by_request.clear()

        async def act(client: Client, case_no: str) -> int:
            r = await client.call("POST", f"/cases/{case_no}/satisfaction", "/cases/{no}/satisfaction",
                                  json={"grade": "satisfied"})
            assert r is not None
            assert r.status_code != 503 or r.headers.get("retry-after"), r.headers
            return r.status_code

        async def read(client: Client, case_no: str) -> None:
            await asyncio.sleep(0.5)  # the actions are waiting by now
            for path in ("/cases", f"/cases/{case_no}", "/inbox", "/healthz"):
                r = await client.call("GET", path, path)
                assert r is not None and r.status_code == 200, (path, r.text if r else None)

        started = time.monotonic()
        half = CLIENTS // 2
        acted, _ = await asyncio.gather(
            asyncio.gather(*(act(c, no) for c, no in zip(actors, report.cases[:half], strict=True))),
            asyncio.gather(*(read(c, no) for c, no in zip(readers, report.cases[half:], strict=True))))
        print(f"worker stopped: {reads.requests} reads, p50 {reads.percentile(50):.0f} ms, "
              f"p99 {reads.percentile(99):.0f} ms; actions answered {sorted(set(acted))} after "
              f"{time.monotonic() - started:.1f}s")
        assert set(acted) == {503}
        assert not reads.errors and reads.percentile(99) < 5000, (reads.errors, reads.percentile(99))
