"""Order events are hash-chained like case events, and the decisions' clock escalates like a veto's: a return
nobody decides is reminded to the dispatchers, then handed to the supervisors, who may decide it."""

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.testing import WorkflowEnvironment

from casehall.audit.chain import BreakKind
from casehall.audit.orders import verify_orders
from casehall.core.hashing import GENESIS, event_hash
from casehall.models.hotline_tables import OrderEvent, OrderTask
from tests.cases import travel_to
from tests.hotline.steps import Hotline


@pytest.fixture(scope="module")
async def hotline(api: httpx.AsyncClient) -> Hotline:
    return Hotline(api)


async def test_undecided_return_reminded_then_escalated_to_supervisors(
        hotline: Hotline, time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> None:
    order = await hotline.dispatched(category_code="050101", content="超市售卖过期食品")
    no = order["order_no"]
    r = await hotline.post("street-handler", f"/orders/{no}/return", {"reason": "食品安全归市场监管局"})
    assert r.status_code == 200, r.text
    requested = datetime.fromisoformat(r.json()["decision"]["requested_at"])
    r = await hotline.post("supervisor", f"/orders/{no}/return/decision", {"approve": True})
    assert r.status_code == 403  # not before it is escalated
    await travel_to(time_env, requested + timedelta(hours=2, minutes=1))
    (reminder,) = await hotline.until_event(no, "decision_reminder")
    assert reminder["payload"] == {"kind": "return", "to": "dispatcher"}
    await travel_to(time_env, requested + timedelta(hours=4, minutes=1))
    await hotline.until_event(no, "decision_escalated")
    async with sessions() as s:
        tasks = (await s.scalars(select(OrderTask).where(col(OrderTask.order_no) == no,
                                                          col(OrderTask.closed_at).is_(None)))).all()
    assert {(t.kind, t.role) for t in tasks} >= {("return_decision", "supervisor")}
    r = await hotline.post("supervisor", f"/orders/{no}/return/decision",
                           {"approve": True, "redispatch": {"lead_unit": "DEP-SJ"}})
    assert r.status_code == 200 and r.json()["lead_unit"] == "DEP-SJ", r.text
    inbox = (await hotline.get("supervisor", "/hotline/inbox")).json()
    assert no not in [t["order_no"] for t in inbox if t["kind"] == "return_decision"]


async def test_order_events_are_hash_chained(hotline: Hotline, sessions: async_sessionmaker[AsyncSession]) -> None:
    order = await hotline.dispatched(category_code="080101", content="路灯不亮")
    no = order["order_no"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    assert (await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已修复"})).status_code == 200
    async with sessions() as s:
        events = (await s.scalars(select(OrderEvent).where(col(OrderEvent.order_no) == no)
                                  .order_by(col(OrderEvent.seq)))).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) and len(events) == 4
    prev = GENESIS
    for e in events:
        assert e.prev_hash == prev
        assert e.hash == event_hash(prev, no, e.seq, e.type, e.actor_id, e.at, e.payload)
        prev = e.hash
    # The chain breaks where a payload is altered.
    tampered = events[1].payload | {"unit": "D02-S01"}
    assert event_hash(events[1].prev_hash, no, 2, events[1].type, events[1].actor_id, events[1].at,
                      tampered) != events[1].hash


async def test_verification_names_the_first_broken_link(hotline: Hotline,
                                                        sessions: async_sessionmaker[AsyncSession]) -> None:
    order = await hotline.dispatched(category_code="080101", content="护栏倒伏")
    no = order["order_no"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    async with sessions() as s:
        (report,) = await verify_orders(s, [no])
        assert report.ok and report.events == 3
        everything = await verify_orders(s)
        assert len(everything) >= 3 and all(r.ok for r in everything)
        await s.execute(text("UPDATE order_events SET payload = payload || '{\"unit\": \"D02-S01\"}' "
                             "WHERE order_no = :no AND seq = 2").bindparams(no=no))
        await s.commit()
        (report,) = await verify_orders(s, [no])
        assert [(b.seq, b.kind) for b in report.breaks] == [(2, BreakKind.CHANGED)]
        await s.execute(text("UPDATE order_events SET payload = payload - 'unit' WHERE order_no = :no AND seq = 2")
                        .bindparams(no=no))  # repaired
        await s.execute(text("DELETE FROM order_events WHERE order_no = :no AND seq = 3").bindparams(no=no))
        await s.commit()
        (report,) = await verify_orders(s, [no])
        assert [(b.seq, b.kind, b.source) for b in report.breaks] == [(3, BreakKind.DELETED, "projection")]
