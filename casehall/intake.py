"""Registering a case: number it, start its workflow, answer once the registration is stored."""

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall import queries, repository
from casehall.db import transaction
from casehall.temporal import workflow_id
from models.payloads import Actor, Applicant, CaseView, Channel, HandlingMode, RegisterCaseInput
from workflows.case import CaseWorkflow


class RegisterCase(BaseModel):
    """What a clerk types at the window."""

    item_code: str = Field(min_length=1, max_length=32)
    applicant: Applicant
    channel: Channel = Channel.WINDOW
    hall: str = Field("市民服务中心", max_length=100)
    window: str = Field("1", max_length=20)
    description: str = Field("", max_length=4000)
    handling_mode: HandlingMode = HandlingMode.WINDOW
    cross_region_urgent: bool = False
    submitted_materials: list[str] = []


class UnknownItem(LookupError):
    pass


async def register_case(
    client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str, body: RegisterCase, clerk: Actor,
    tz: str = "Asia/Shanghai", prefix: str = "HALL",
) -> CaseView:
    async with transaction(sessions) as session:
        item = await queries.service_item(session, body.item_code)
        if item is None:
            raise UnknownItem(f"no service item with code {body.item_code!r}")
        case_no = await repository.next_case_no(session, prefix, datetime.now(ZoneInfo(tz)).date())
    inp = RegisterCaseInput(case_no=case_no, item=item, clerk=clerk, **body.model_dump(exclude={"item_code"}))
    handle = await client.start_workflow(CaseWorkflow.run, inp, id=workflow_id(case_no), task_queue=task_queue)
    return await handle.execute_update(CaseWorkflow.registration)
