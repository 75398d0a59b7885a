"""Registering a case: number it, start its workflow, answer once the registration is stored."""

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.core.db import transaction
from casehall.core.temporal import workflow_id
from casehall.models.payloads import (
    Actor,
    Applicant,
    CaseView,
    Channel,
    HandlingMode,
    MatterInput,
    RegisterCaseInput,
    ServiceItemInfo,
)
from casehall.stack.seed import COMBINED_ITEM
from casehall.store import queries, repository
from casehall.workflows.case import CaseWorkflow


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
    """An item code or material name the catalogue does not know (answered 422)."""


async def _item(session: AsyncSession, code: str, submitted: list[str]) -> ServiceItemInfo:
    item = await queries.service_item(session, code)
    if item is None:
        raise UnknownItem(f"no service item with code {code!r}")
    unknown = sorted(set(submitted) - {m.name for m in item.materials})
    if unknown:
        known = "、".join(m.name for m in item.materials) or "none"
        raise UnknownItem(f"{code} has no material named {', '.join(unknown)}; its materials are: {known}")
    return item


async def register_case(
    client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str, body: RegisterCase, clerk: Actor,
    tz: str = "Asia/Shanghai", prefix: str = "HALL",
) -> CaseView:
    async with transaction(sessions) as session:
        item = await _item(session, body.item_code, body.submitted_materials)
        case_no = await repository.next_case_no(session, prefix, datetime.now(ZoneInfo(tz)).date())
    inp = RegisterCaseInput(case_no=case_no, item=item, clerk=clerk, **body.model_dump(exclude={"item_code"}))
    handle = await client.start_workflow(CaseWorkflow.run, inp, id=workflow_id(case_no), task_queue=task_queue)
    return await handle.execute_update(CaseWorkflow.registration)


class MatterBody(BaseModel):
    item_code: str = Field(min_length=1, max_length=32)
    submitted_materials: list[str] = []


class RegisterCombined(BaseModel):
    """Several matters for different departments, accepted at one window."""

    applicant: Applicant
    channel: Channel = Channel.WINDOW
    hall: str = Field("市民服务中心", max_length=100)
    window: str = Field("1", max_length=20)
    description: str = Field("", max_length=4000)
    matters: list[MatterBody] = Field(min_length=2, max_length=10)


async def register_combined(
    client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str, body: RegisterCombined,
    clerk: Actor, tz: str = "Asia/Shanghai", prefix: str = "HALL",
) -> CaseView:
    """One case number for the applicant; each matter becomes ``<case no>-<n>`` with its own department."""
    async with transaction(sessions) as session:
        combined = await queries.service_item(session, COMBINED_ITEM)
        if combined is None:
            raise UnknownItem(f"the catalogue lacks the combined item {COMBINED_ITEM}: run the seed")
        items = []
        for matter in body.matters:
            items.append(await _item(session, matter.item_code, matter.submitted_materials))
        case_no = await repository.next_case_no(session, prefix, datetime.now(ZoneInfo(tz)).date())
    matters = [MatterInput(case_no=f"{case_no}-{n}", item=item, submitted_materials=m.submitted_materials)
               for n, (item, m) in enumerate(zip(items, body.matters, strict=True), start=1)]
    inp = RegisterCaseInput(case_no=case_no, item=combined, clerk=clerk, matters=matters,
                            **body.model_dump(exclude={"matters"}))
    handle = await client.start_workflow(CaseWorkflow.run, inp, id=workflow_id(case_no), task_queue=task_queue)
    return await handle.execute_update(CaseWorkflow.registration)
