"""Registering a case: number it, start its workflow, answer once the registration is stored
(``casehall.api.starting``: a number whose workflow could not start is voided with its reason)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.api.starting import start_registered
from casehall.core.db import transaction
from casehall.models.case import (
    Actor,
    Applicant,
    ApplicantIn,
    CaseView,
    MatterInput,
    RegisterCaseInput,
    ServiceItemInfo,
)
from casehall.models.enums import Channel, HandlingMode
from casehall.models.ids import case_workflow_id, matter_case_no
from casehall.models.messages import N_
from casehall.models.text import Code, Line, Name, OptionalText
from casehall.store import queries, repository
from casehall.store.queries import COMBINED_ITEM
from casehall.workflows.case import CaseWorkflow
from casehall.workflows.observability import case_at_start


class RegisterCase(BaseModel):
    """What a clerk types at the window."""

    item_code: Code
    applicant: ApplicantIn
    channel: Channel = Channel.WINDOW
    hall: Line = Field("市民服务中心", max_length=100)
    window: Line = Field("1", max_length=20)
    description: OptionalText = ""
    handling_mode: HandlingMode = HandlingMode.WINDOW
    cross_region_urgent: bool = False
    submitted_materials: list[Name] = Field([], max_length=50)


class MatterBody(BaseModel):
    item_code: Code
    submitted_materials: list[Name] = Field([], max_length=50)


class RegisterCombined(BaseModel):
    """Several matters for different departments, accepted at one window."""

    applicant: ApplicantIn
    channel: Channel = Channel.WINDOW
    hall: Line = Field("市民服务中心", max_length=100)
    window: Line = Field("1", max_length=20)
    description: OptionalText = ""
    matters: list[MatterBody] = Field(min_length=2, max_length=10)


class UnknownItem(LookupError):
    """An item code or material name the catalogue does not know (answered 422)."""


async def _item(session: AsyncSession, code: str, submitted: list[str], tz: str) -> ServiceItemInfo:
    """The item as the case will keep it, whatever the catalogue says later; a withdrawn item is refused."""
    item = await queries.service_item(session, code)
    if item is None:
        raise UnknownItem(f"no service item with code {code!r}")
    if (withdrawn := await queries.withdrawn_at(session, code)) is not None:
        raise UnknownItem(N_("service item {code} was withdrawn from the catalogue on {date}: it cannot be chosen "
                             "for new cases").format(code=code, date=withdrawn.astimezone(ZoneInfo(tz)).date()))
    unknown = sorted(set(submitted) - {m.name for m in item.materials})
    if unknown:
        known = "、".join(m.name for m in item.materials) or "none"
        raise UnknownItem(f"{code} has no material named {', '.join(unknown)}; its materials are: {known}")
    return item


def _kept(applicant: ApplicantIn) -> Applicant:
    return Applicant.model_validate(applicant.model_dump())


async def _start(client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str,
                 inp: RegisterCaseInput, rpc_timeout: timedelta | None) -> CaseView:
    """Start the case with its search attributes and answer once its registration is stored."""
    view: CaseView = await start_registered(
        client, sessions, CaseWorkflow.run, inp, CaseWorkflow.registration, number=inp.case_no,
        workflow_id=case_workflow_id(inp.case_no), task_queue=task_queue, rpc_timeout=rpc_timeout,
        attributes=case_at_start(inp.case_no, inp.item.department_code, inp.item.code))
    return view


async def register_case(
    client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str, body: RegisterCase, clerk: Actor,
    tz: str = "Asia/Shanghai", prefix: str = "HALL", rpc_timeout: timedelta | None = None,
) -> CaseView:
    async with transaction(sessions) as session:
        item = await _item(session, body.item_code, body.submitted_materials, tz)
        case_no = await repository.next_case_no(session, prefix, datetime.now(ZoneInfo(tz)).date())
    inp = RegisterCaseInput(case_no=case_no, item=item, clerk=clerk, applicant=_kept(body.applicant),
                            **body.model_dump(exclude={"item_code", "applicant"}))
    return await _start(client, sessions, task_queue, inp, rpc_timeout)


async def register_combined(
    client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str, body: RegisterCombined,
    clerk: Actor, tz: str = "Asia/Shanghai", prefix: str = "HALL", rpc_timeout: timedelta | None = None,
) -> CaseView:
    """One case number for the applicant; each matter becomes a case of its own with its own department."""
    async with transaction(sessions) as session:
        combined = await queries.service_item(session, COMBINED_ITEM)
        if combined is None:
            raise UnknownItem(f"the catalogue lacks the combined item {COMBINED_ITEM}: run casehall migrate")
        items = []
        for matter in body.matters:
            items.append(await _item(session, matter.item_code, matter.submitted_materials, tz))
        case_no = await repository.next_case_no(session, prefix, datetime.now(ZoneInfo(tz)).date())
    matters = [MatterInput(case_no=matter_case_no(case_no, n), item=item, submitted_materials=m.submitted_materials)
               for n, (item, m) in enumerate(zip(items, body.matters, strict=True), start=1)]
    inp = RegisterCaseInput(case_no=case_no, item=combined, clerk=clerk, matters=matters,
                            applicant=_kept(body.applicant), **body.model_dump(exclude={"matters", "applicant"}))
    return await _start(client, sessions, task_queue, inp, rpc_timeout)
