"""``casehall audit`` covers hotline orders: ``verify`` checks their chains beside the cases', ``replay 12345-...``
replays an order's history with the current code and compares it with PostgreSQL (exit 1 on any finding)."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.audit.order_replay import is_order_no, replay_order
from casehall.audit.replay import Verdict
from tests.hotline.steps import Hotline
from tests.test_audit_bulk import cli, sql


@pytest.fixture(scope="module")
async def hotline(api: httpx.AsyncClient) -> Hotline:
    return Hotline(api)


async def closed_order(hotline: Hotline) -> str:
    order = await hotline.dispatched(category_code="080101", content="路灯不亮")
    no: str = order["order_no"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    assert (await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已更换灯泡"})).status_code == 200
    r = await hotline.post("operator", f"/orders/{no}/callback", {"solved": True, "grade": "satisfied"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    return no


async def test_replay_and_verify_orders_from_the_cli(hotline: Hotline, client: Client, database_url: str,
                                                     sessions: async_sessionmaker[AsyncSession]) -> None:
    no = await closed_order(hotline)
    assert is_order_no(no) and not is_order_no("MKT-20261122-0001")
    async with sessions() as s:
        report = await replay_order(client, s, no)
    assert report.ok and report.verdict == Verdict.OK and report.replayed_events == 6, report
    result = await cli(database_url, client, "replay", no)
    assert result.exit_code == 0, result.output
    assert f"OK {no} replayed from live (6 events recorded by the replay)" in result.output
    assert "chain ok (6 events, head 6)" in result.output
    result = await cli(database_url, client, "verify", "--case", no)
    assert result.exit_code == 0 and "1 order chains, 0 broken" in result.output, result.output

    # An edited projection and an edited event: the replay says where, verify finds the broken link.
    await sql(sessions, "UPDATE orders SET status = 'in_handling' WHERE order_no = :o", o=no)
    await sql(sessions, "UPDATE order_events SET payload = payload || '{\"result\": \"未处理\"}' "
                        "WHERE order_no = :o AND type = 'replied'", o=no)
    result = await cli(database_url, client, "replay", no)
    assert result.exit_code == 1, result.output
    assert "MISMATCH" in result.output and "orders.status is in_handling, the replay reached closed" in result.output
    assert "(replied): payload differs" in result.output and "chain broken" in result.output
    result = await cli(database_url, client, "verify", "--case", no)
    assert result.exit_code == 1 and "1 order chains, 1 broken" in result.output, result.output
    result = await cli(database_url, client, "verify")
    assert result.exit_code == 1 and "order chains, 1 broken" in result.output, result.output

    result = await cli(database_url, client, "replay", "12345-20000101-999999")
    assert result.exit_code == 1 and "FAILED" in result.output, result.output
