"""Registering a case: number it, start its workflow, answer once the registration is stored.

Case numbers are taken before the workflow starts; when the start fails (Temporal unreachable) the number is voided
with its reason (``case_number_voids``), so a gap in a day's numbers is always explained."""

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

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

# A worker that died mid-task makes the engine refuse updates for a moment (FAILED_PRECONDITION).
TRANSIENT = {RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
REGISTRATION_TRIES = 4


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


async def _start_workflow(client: Client, task_queue: str, inp: RegisterCaseInput, rpc_timeout: timedelta | None
                          ) -> WorkflowHandle[Any, CaseView]:
    """Start the case with its search attributes set; a namespace that does not know them yet (registered moments
    ago: the frontend's cache lags ~10 s) starts it without, and the workflow upserts them itself."""
    start = partial(client.start_workflow, CaseWorkflow.run, inp, id=case_workflow_id(inp.case_no),
                    task_queue=task_queue, rpc_timeout=rpc_timeout)
    try:
        return await start(search_attributes=case_at_start(inp.case_no, inp.item.department_code, inp.item.code))
    except RPCError as err:
        if err.status != RPCStatusCode.INVALID_ARGUMENT or "search attribute" not in err.message:
            raise
        return await start()


async def _start(client: Client, sessions: async_sessionmaker[AsyncSession], task_queue: str,
                 inp: RegisterCaseInput, rpc_timeout: timedelta | None) -> CaseView:
    """Start the case and answer once its registration is stored; a start that fails voids the number."""
    try:
        handle = await _start_workflow(client, task_queue, inp, rpc_timeout)
    except Exception as err:
        async with transaction(sessions) as session:
            await repository.void_case_no(session, inp.case_no, f"workflow not started: {type(err).__name__}: "
                                          f"{str(err)[:300]}", datetime.now(UTC))
        raise
    for attempt in range(REGISTRATION_TRIES):  # the case exists now: waiting for its registration is safe to repeat
        try:
            return await handle.execute_update(CaseWorkflow.registration, rpc_timeout=rpc_timeout)
        except RPCError as err:
            if err.status not in TRANSIENT or attempt == REGISTRATION_TRIES - 1:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


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
