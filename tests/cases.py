"""Shared steps of the case scenarios."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from casehall.api.intake import RegisterCase, register_case
from casehall.core.codec import data_converter, decode_history
from casehall.models.case import Actor, ApplicantIn, CaseView
from casehall.models.commands import Accept, Command, Completion, SatisfactionAnswer
from casehall.models.enums import Satisfaction
from casehall.models.ids import case_workflow_id
from casehall.models.tables import Case, CaseEvent, Document, Task
from casehall.workflows.case import CaseWorkflow

APPLICANT = ApplicantIn(name="张三", phone="13800138000", id_number="220201199001011238")
ALL_MKT = ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]


async def register(client: Client, sessions: async_sessionmaker[AsyncSession], clerk: Actor,
                   item_code: str = "MKT-001", materials: list[str] | None = None, **kw: Any) -> CaseView:
    body = RegisterCase(item_code=item_code, applicant=APPLICANT,
                        submitted_materials=ALL_MKT if materials is None else materials, **kw)
    return await register_case(client, sessions, "casehall-test", body, clerk)


def handle(client: Client, case_no: str) -> WorkflowHandle[CaseWorkflow, CaseView]:
    return client.get_workflow_handle_for(CaseWorkflow.run, case_workflow_id(case_no))


async def closed_case(client: Client, sessions: async_sessionmaker[AsyncSession], clerk: Actor, result: str = "办结",
                      grade: Satisfaction = Satisfaction.SATISFIED) -> str:
    """registered, accepted, completed, callback_rated: four events."""
    view = await register(client, sessions, clerk)
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
    await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result=result)))
    await h.execute_update(CaseWorkflow.record_satisfaction, Command(actor=clerk, body=SatisfactionAnswer(grade=grade)))
    return view.case_no


async def events(sessions: async_sessionmaker[AsyncSession], case_no: str) -> list[CaseEvent]:
    async with sessions() as s:
        return list((await s.scalars(select(CaseEvent).where(col(CaseEvent.case_no) == case_no)
                                     .order_by(col(CaseEvent.seq)))).all())


async def event_types(sessions: async_sessionmaker[AsyncSession], case_no: str) -> list[str]:
    return [e.type for e in await events(sessions, case_no)]


async def case_row(sessions: async_sessionmaker[AsyncSession], case_no: str) -> Case:
    async with sessions() as s:
        row = await s.get(Case, case_no)
        assert row is not None
        return row


async def open_tasks(sessions: async_sessionmaker[AsyncSession], case_no: str) -> list[Task]:
    async with sessions() as s:
        return list((await s.scalars(select(Task).where(col(Task.case_no) == case_no,
                                                        col(Task.closed_at).is_(None)))).all())


async def documents(sessions: async_sessionmaker[AsyncSession], case_no: str) -> list[Document]:
    async with sessions() as s:
        return list((await s.scalars(select(Document).where(col(Document.case_no) == case_no))).all())


def local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)



SHANGHAI = ZoneInfo("Asia/Shanghai")


async def travel_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Skip the test server's clock forward to ``moment``."""
    gap = moment - await env.get_current_time()
    if gap.total_seconds() > 0:
        await env.sleep(gap)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    """Wait (real time) for the worker to catch up with fired timers."""
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


HISTORIES = Path(__file__).parent / "histories"


async def keep_history(h: WorkflowHandle[Any, Any], name: str) -> None:
    """With CASEHALL_RECORD_HISTORIES=1, store the finished case's history for the replay guard (histories recorded
    by earlier versions of the code stay under ``histories/v<n>/``, for cases started before a change)."""
    if os.environ.get("CASEHALL_RECORD_HISTORIES") == "1":
        from tests.conftest import CODEC_KEYS

        codec = data_converter(CODEC_KEYS).payload_codec
        history = await decode_history(await h.fetch_history(), codec)
        (HISTORIES / f"{name}.json").write_text(history.to_json())  # decoded: replayable without the test key
