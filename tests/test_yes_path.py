"""Saying yes needs no approval: register -> accept -> complete -> callback, every step in PostgreSQL."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casehall.models.case import Actor
from casehall.models.commands import Accept, Command, Completion, SatisfactionAnswer
from casehall.models.enums import CaseStatus, Satisfaction
from casehall.workflows.case import CaseWorkflow
from tests.cases import case_row, event_types, handle, keep_history, local, open_tasks, register


async def test_yes_path_needs_no_approval(
    client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]
) -> None:
    clerk = actors["clerk"]
    view = await register(client, sessions, clerk)
    assert view.status == CaseStatus.REGISTERED and view.first_clerk_id == clerk.user_id
    h = handle(client, view.case_no)

    view = await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    assert view.status == CaseStatus.IN_HANDLING
    assert view.deadline is not None and local(view.deadline).hour == 17
    assert await open_tasks(sessions, view.case_no) == []

    await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="营业执照已发放")))
    view = await h.execute_update(
        CaseWorkflow.record_satisfaction, Command(actor=clerk,
                body=SatisfactionAnswer(grade=Satisfaction.VERY_SATISFIED))
    )
    assert view.status == CaseStatus.CLOSED
    final = await h.result()
    assert final.status == CaseStatus.CLOSED

    row = await case_row(sessions, view.case_no)
    assert row.status == "closed" and row.satisfaction == "very_satisfied" and row.closed_at is not None
    assert await event_types(sessions, view.case_no) == ["registered", "accepted", "completed", "callback_rated"]
    await keep_history(h, "yes_path")


async def test_no_callback_answer_counts_as_default_rating(
    time_env: WorkflowEnvironment, client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]
) -> None:
    clerk = actors["clerk"]
    view = await register(client, sessions, clerk)
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="办结")))
    await time_env.sleep(timedelta(days=3, minutes=1))
    final = await h.result()
    assert final.status == CaseStatus.CLOSED and final.satisfaction == Satisfaction.SATISFIED
    types = await event_types(sessions, view.case_no)
    assert types[-1] == "callback_rated"
    assert (await case_row(sessions, view.case_no)).satisfaction == "satisfied"
    await keep_history(h, "callback_default_rating")
