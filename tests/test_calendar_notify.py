"""An import tells the open cases whose deadline is provisional; closed or vanished workflows are skipped."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casehall.calendar.admin import import_schedule, notify_open_cases
from casehall.calendar.workdays import parse_schedule
from casehall.models.case import Actor
from casehall.models.commands import Accept, Command
from casehall.workflows.case import CaseWorkflow
from tests.cases import SHANGHAI, case_row, handle, register, travel_to

CSV_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-09,adjusted_workday,元旦\n"


async def _accepted(client: Client, sessions: async_sessionmaker[AsyncSession], clerk: Actor) -> str:
    view = await register(client, sessions, clerk, item_code="SOCIAL-003", materials=["参保人身份证明"])
    await handle(client, view.case_no).execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    return view.case_no


async def test_notify_signals_open_provisional_cases(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor],
) -> None:
    clerk = actors["clerk"]
    await travel_to(time_env, datetime(2026, 12, 21, 10, 0, tzinfo=SHANGHAI))  # 15 working days reach into 2027
    running = await _accepted(client, sessions, clerk)
    vanished = await _accepted(client, sessions, clerk)
    await register(client, sessions, clerk)  # registered only: no deadline yet
    for case_no in (running, vanished):
        row = await case_row(sessions, case_no)
        assert row.deadline_provisional and row.closed_at is None
    await handle(client, vanished).terminate("gone")  # its row stays open, its workflow is not running

    await import_schedule(sessions, parse_schedule(CSV_2027, "csv"))
    assert await notify_open_cases(client, sessions, 2027) == 1
    assert (await handle(client, running).query(CaseWorkflow.state)).case_no == running  # still running fine
