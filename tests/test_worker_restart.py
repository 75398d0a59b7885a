"""A worker killed (SIGKILL) in the middle of work: a new one finishes every open case, no event lost or doubled.
Runs on the Temporal dev server (real time) with the worker as a separate process, as in production."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from casehall.api.intake import RegisterCase, register_case
from casehall.models.case import Actor
from casehall.models.commands import Accept, Command, Completion
from casehall.stack.embedded import temporal_cli_path
from casehall.workflows.case import CaseWorkflow
from tests.cases import ALL_MKT, APPLICANT, events, eventually, handle

QUEUE = "casehall-restart"
CASES = 24


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()), data_converter=pydantic_data_converter,
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()


@pytest.fixture
def spawn_worker(dev_env: WorkflowEnvironment, database_url: str) -> Iterator[object]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn() -> subprocess.Popen[bytes]:
        env = os.environ | {
            "CASEHALL_DATABASE_URL": database_url, "CASEHALL_TASK_QUEUE": QUEUE, "CASEHALL_LOG_LEVEL": "WARNING",
            "CASEHALL_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        }
        proc = subprocess.Popen([sys.executable, "-m", "casehall.worker"], env=env)
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        proc.kill()
        proc.wait()


async def test_killed_worker_loses_and_doubles_nothing(
    dev_env: WorkflowEnvironment, spawn_worker: object, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor],
) -> None:
    clerk, client = actors["clerk"], dev_env.client
    first = spawn_worker()  # type: ignore[operator]
    body = RegisterCase(item_code="MKT-001", applicant=APPLICANT, submitted_materials=ALL_MKT)
    views = [await register_case(client, sessions, QUEUE, body, clerk) for _ in range(CASES)]

    async def drive(case_no: str) -> None:
        h = handle(client, case_no)
        await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
        await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="办结")))

    work = [asyncio.create_task(drive(v.case_no)) for v in views]

    async def some_accepted() -> bool:
        for view in views[:4]:
            if "accepted" in [e.type for e in await events(sessions, view.case_no)]:
                return True
        return False

    await eventually(some_accepted, seconds=60)  # work is under way: kill the worker in the middle of it
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not all(t.done() for t in work), "the kill came too late to test anything"
    spawn_worker()  # type: ignore[operator]
    await asyncio.wait_for(asyncio.gather(*work), timeout=90)

    for view in views:
        stored = await events(sessions, view.case_no)
        assert [e.seq for e in stored] == [1, 2, 3], view.case_no
        assert [e.type for e in stored] == ["registered", "accepted", "completed"]
        state = await handle(client, view.case_no).query(CaseWorkflow.state)
        assert state.last_seq == 3 and state.status == "awaiting_callback"
