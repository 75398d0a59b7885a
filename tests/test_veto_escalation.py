"""A veto nobody decides: reminder after 1 working day, the director after 2, weekends and holidays skipped."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casehall.models.case import Actor
from casehall.models.commands import Command, VetoDecision, VetoRequest
from casehall.workflows.case import CaseWorkflow
from tests.cases import SHANGHAI, event_types, eventually, handle, keep_history, open_tasks, register, travel_to


async def _veto_and_watch(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor], requested: datetime, reminder: datetime, escalation: datetime,
) -> str:
    await travel_to(time_env, requested)
    view = await register(client, sessions, actors["clerk"])
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=actors["clerk"],
            body=VetoRequest(reasons="不符合法定条件", legal_basis="《行政许可法》第三十八条")))

    async def has(event: str) -> bool:
        return event in await event_types(sessions, view.case_no)

    await travel_to(time_env, reminder - timedelta(minutes=5))
    assert not await has("veto_reminder")
    await travel_to(time_env, reminder + timedelta(minutes=5))
    await eventually(lambda: has("veto_reminder"))
    assert not await has("veto_escalated")

    await travel_to(time_env, escalation - timedelta(minutes=5))
    assert not await has("veto_escalated")
    await travel_to(time_env, escalation + timedelta(minutes=5))
    await eventually(lambda: has("veto_escalated"))
    tasks = await open_tasks(sessions, view.case_no)
    assert sorted((t.kind, t.role) for t in tasks) == [("veto", "director"), ("veto", "manager")]

    await h.execute_update(CaseWorkflow.decide_veto, Command(actor=actors["director"], body=VetoDecision(approve=True)))
    assert await open_tasks(sessions, view.case_no) == []
    await keep_history(h, f"veto_escalated_{requested:%Y%m%d}")
    return view.case_no


async def test_undecided_veto_over_a_weekend_reaches_the_director(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor],
) -> None:
    # Friday 2026-11-27 10:00: day 1 is Monday 11-30, day 2 Tuesday 12-01 (each ends at 17:00).
    await _veto_and_watch(
        time_env, client, sessions, actors,
        requested=datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI),
        reminder=datetime(2026, 11, 30, 17, 0, tzinfo=SHANGHAI),
        escalation=datetime(2026, 12, 1, 17, 0, tzinfo=SHANGHAI),
    )


async def test_undecided_veto_over_new_year_reaches_the_director(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession],
    actors: dict[str, Actor],
) -> None:
    # Thursday 2026-12-31: Friday 2027-01-01 is a holiday, then the weekend: day 1 is Monday 01-04.
    await _veto_and_watch(
        time_env, client, sessions, actors,
        requested=datetime(2026, 12, 31, 11, 0, tzinfo=SHANGHAI),
        reminder=datetime(2027, 1, 4, 17, 0, tzinfo=SHANGHAI),
        escalation=datetime(2027, 1, 5, 17, 0, tzinfo=SHANGHAI),
    )
