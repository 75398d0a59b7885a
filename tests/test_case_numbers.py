"""Case numbers are taken before the workflow starts: one that could not start is voided with its reason, so every
gap in a day's numbers is explained (gaps are accepted: a number must never be given twice)."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateWithStartInput,
    WorkflowUpdateHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from casehall.api.intake import RegisterCase, register_case
from casehall.models.case import Actor
from casehall.models.ids import case_workflow_id
from casehall.models.tables import Case, CaseNumberVoid
from casehall.stack.embedded import free_port
from tests.cases import ALL_MKT, APPLICANT, event_types, register


async def test_a_number_whose_case_could_not_start_is_voided(
        client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]) -> None:
    before = await register(client, sessions, actors["clerk"])
    down = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter)
    body = RegisterCase(item_code="MKT-001", applicant=APPLICANT, submitted_materials=ALL_MKT)
    with pytest.raises(Exception):  # noqa: B017 - whatever the SDK raises for an unreachable server
        await register_case(down, sessions, "casehall-test", body, actors["clerk"],
                            rpc_timeout=timedelta(seconds=2))
    after = await register(client, sessions, actors["clerk"])
    prefix, day, first = before.case_no.rsplit("-", 2)
    gap = f"{prefix}-{day}-{int(first) + 1:06d}"
    assert after.case_no == f"{prefix}-{day}-{int(first) + 2:06d}"
    async with sessions() as s:
        void = await s.get(CaseNumberVoid, gap)
        assert void is not None and "workflow not started" in void.reason
        assert await s.get(Case, gap) is None
        voids = (await s.scalars(select(CaseNumberVoid))).all()
    assert [v.case_no for v in voids] == [gap]


class _LostAnswer(OutboundInterceptor):
    """The engine starts the case, but the first answer is lost on the way back (the network, a frontend restart)."""

    lost = 0

    async def start_update_with_start_workflow(self, input: StartWorkflowUpdateWithStartInput
                                               ) -> WorkflowUpdateHandle[Any]:
        handle = await self.next.start_update_with_start_workflow(input)
        if not _LostAnswer.lost:
            _LostAnswer.lost += 1
            raise RPCError("connection reset", RPCStatusCode.UNAVAILABLE, b"")
        return handle


class _LoseFirstAnswer(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _LostAnswer(next)


async def test_a_registration_whose_answer_was_lost_is_asked_again_not_started_twice(
        client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]) -> None:
    config = client.config()
    config["interceptors"] = [*config["interceptors"], _LoseFirstAnswer()]
    flaky = Client(**config)
    body = RegisterCase(item_code="MKT-001", applicant=APPLICANT, submitted_materials=ALL_MKT)
    view = await register_case(flaky, sessions, "casehall-test", body, actors["clerk"])
    assert _LostAnswer.lost == 1 and view.last_seq == 1
    described = await client.get_workflow_handle(case_workflow_id(view.case_no)).describe()
    assert described.run_id == described.raw_description.workflow_execution_info.first_run_id  # the one run
    async with sessions() as s:
        assert await s.get(CaseNumberVoid, view.case_no) is None
        assert (await s.get(Case, view.case_no)) is not None
    assert await event_types(sessions, view.case_no) == ["registered"]
