"""Case numbers are taken before the workflow starts: one that could not start is voided with its reason, so every
gap in a day's numbers is explained (gaps are accepted: a number must never be given twice)."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from casehall.api.intake import RegisterCase, register_case
from casehall.models.case import Actor
from casehall.models.tables import Case, CaseNumberVoid
from casehall.stack.embedded import free_port
from tests.cases import ALL_MKT, APPLICANT, register


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
