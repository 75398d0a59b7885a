"""After a worker is killed mid-task the database can hold a transition the engine is still re-running: a refusal
for the state then says which transition the workflow has stored, and the API asks again while the database is
further along (``api.actions.run_update``, ``engine_behind``); a plain refusal is answered at once."""

import time

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from casehall.api import actions as api_actions
from casehall.api.actions import engine_behind
from casehall.models.case import Actor
from casehall.models.commands import Command, Completion
from casehall.models.hotline_tables import Order
from casehall.models.tables import Case
from casehall.stack.seed import DEMO_PASSWORD
from casehall.workflows.case import CaseWorkflow
from tests.cases import handle, register
from tests.hotline.steps import Hotline


async def refused(client: Client, case_no: str, clerk: Actor) -> WorkflowUpdateFailedError:
    with pytest.raises(WorkflowUpdateFailedError) as caught:  # registered, not accepted: cannot be completed
        await handle(client, case_no).execute_update(CaseWorkflow.complete,
                                                     Command(actor=clerk, body=Completion(result="办结")))
    return caught.value


async def test_a_refusal_for_the_state_states_the_stored_transition(
        client: Client, sessions: async_sessionmaker[AsyncSession], actors: dict[str, Actor]) -> None:
    view = await register(client, sessions, actors["clerk"])
    err = await refused(client, view.case_no, actors["clerk"])
    assert isinstance(err.cause, ApplicationError) and err.cause.type == "InvalidState"
    assert err.cause.details[0]["seq"] == view.last_seq == 1
    assert not await engine_behind(sessions, Case, view.case_no, err)  # the database agrees: a plain refusal
    async with sessions() as s, s.begin():  # as if a killed task had stored transition 2 before the engine did
        await s.execute(update(Case).where(col(Case.case_no) == view.case_no).values(last_seq=2))
    assert await engine_behind(sessions, Case, view.case_no, err)


async def test_the_api_asks_again_only_while_the_engine_is_behind(
        api: httpx.AsyncClient, client: Client, sessions: async_sessionmaker[AsyncSession],
        actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_actions, "CATCH_UP_SECONDS", 1.5)
    login = await api.post("/auth/login", json={"username": "clerk", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    view = await register(client, sessions, actors["clerk"])
    started = time.monotonic()
    r = await api.post(f"/cases/{view.case_no}/complete", headers=headers, json={"result": "办结"})
    assert r.status_code == 409 and time.monotonic() - started < 1.0  # the database agrees: answered at once
    async with sessions() as s, s.begin():
        await s.execute(update(Case).where(col(Case.case_no) == view.case_no).values(last_seq=2))
    started = time.monotonic()
    r = await api.post(f"/cases/{view.case_no}/complete", headers=headers, json={"result": "办结"})
    assert r.status_code == 409 and time.monotonic() - started >= 1.5  # asked again until the bound, then told


async def test_an_order_is_asked_again_the_same_way(api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_actions, "CATCH_UP_SECONDS", 1.5)
    hotline = Hotline(api)
    order = await hotline.dispatched(kind="normal", category_code="080101", content="路灯不亮")
    no = order["order_no"]
    started = time.monotonic()
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已修复"})  # not signed for yet
    assert r.status_code == 409 and time.monotonic() - started < 1.0
    async with sessions() as s, s.begin():
        await s.execute(update(Order).where(col(Order.order_no) == no).values(last_seq=Order.last_seq + 1))
    started = time.monotonic()
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已修复"})
    assert r.status_code == 409 and time.monotonic() - started >= 1.5
