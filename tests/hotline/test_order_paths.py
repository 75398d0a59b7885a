"""Hotline orders end to end through the API, on real PostgreSQL and Temporal's time-skipping server: answered from
the knowledge base, dispatched and signed for, returned, extended, replied, called back, merged, and kept from other
units. Time limits: the Beijing-style profile (urgent: sign for 30 min, handle 2 h, from dispatch)."""

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casehall.models.ids import order_workflow_id
from tests.cases import keep_history, travel_to
from tests.hotline.steps import DISTRICT, STREET, Hotline, figures


@pytest.fixture(scope="module")
async def hotline(api: httpx.AsyncClient) -> Hotline:
    return Hotline(api)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_consultation_answered_from_the_knowledge_base(hotline: Hotline) -> None:
    r = await hotline.get("operator", "/knowledge", q="家里暖气不热，室温很低，能投诉吗")
    assert r.status_code == 200, r.text
    best = r.json()[0]
    assert best["question"] == "暖气不热室温多少度可以投诉？" and not best["stale"]
    filed = await hotline.intake(kind="consultation", category_code="010201", answer_from=best["id"],
                                 content="暖气不热可以投诉吗")
    order = filed["order"]
    assert order["status"] == "answered" and order["answer"] == best["answer"] and order["closed_at"]
    assert await hotline.types(order["order_no"]) == ["registered", "answered_directly"]
    page = await hotline.api.get(f"/public/orders/{order['order_no']}", params={"code": filed["public_code"]})
    assert page.status_code == 200 and page.json()["answer"] == best["answer"]
    assert set(page.json()) == {"order_no", "status", "kind", "registered_at", "handled_by", "time_limit", "reply",
                                "replied_at", "answer", "closed_at"}
    wrong = await hotline.api.get(f"/public/orders/{order['order_no']}", params={"code": "WRONGCODE"})
    assert wrong.status_code == 404
    # Only a consultation is answered at intake.
    r = await hotline.post("operator", "/orders", {
        "location": {"address": "某地"}, "content": "暖气不热", "kind": "urgent", "category_code": "010201",
        "answer_from": best["id"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "answer_from"


async def test_urgent_order_not_signed_clock_from_dispatch_supervised_and_raised(
        hotline: Hotline, time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> None:
    before = await figures(sessions, STREET)
    order = await hotline.dispatched(kind="urgent", category_code="020101", content="深夜施工噪音扰民")
    no, dispatched = order["order_no"], at(order["dispatched_at"])
    # The handling clock starts at dispatch: 2 hours for an urgent order, whether or not the unit signs.
    assert at(order["handle_due"]) == dispatched + timedelta(hours=2)
    assert at(order["sign_due"]) == dispatched + timedelta(minutes=30)
    await travel_to(time_env, dispatched + timedelta(minutes=31))
    (reminder,) = await hotline.until_event(no, "sign_reminder")
    assert reminder["payload"]["unit"] == STREET
    await travel_to(time_env, dispatched + timedelta(minutes=61))
    (sup,) = await hotline.until_event(no, "supervision_ordered")
    assert sup["payload"] | {"due": None} == {"reason": "not_signed", "against_unit": STREET, "to_unit": DISTRICT,
                                              "level": 1, "due": None, "round": 1}
    after = await figures(sessions, STREET)
    assert after["supervision_by_reason"].get("not_signed", 0) == before["supervision_by_reason"].get(
        "not_signed", 0) + 1
    # The district head now sees the order it supervises; the unit still has not signed: the clock ran on.
    assert (await hotline.get("district-head", f"/orders/{no}")).status_code == 200
    await travel_to(time_env, dispatched + timedelta(hours=2, minutes=1))
    sups = await hotline.until_event(no, "supervision_ordered", 2)
    assert sups[1]["payload"]["reason"] == "overdue" and sups[1]["payload"]["to_unit"] == DISTRICT
    assert (await hotline.order(no))["overdue"] is True
    r = await hotline.post("street-handler", f"/orders/{no}/sign")
    assert r.status_code == 200, r.text
    signed = [e for e in await hotline.events(no) if e["type"] == "signed"][0]
    assert signed["payload"]["late"] is True and signed["payload"]["after_seconds"] > 2 * 3600
    assert at(r.json()["handle_due"]) == dispatched + timedelta(hours=2)  # signing late restarts nothing
    # Past the supervision order's own deadline (24 h): raised to the level above the district, the centre.
    await travel_to(time_env, at(sups[1]["payload"]["due"]) + timedelta(minutes=1))
    (raised,) = await hotline.until_event(no, "supervision_raised")
    assert raised["payload"]["level"] == 2 and raised["payload"]["to_unit"] == "12345"
    assert raised["payload"]["against_unit"] == STREET
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已协调施工单位停止夜间施工"})
    assert r.status_code == 200 and r.json()["status"] == "awaiting_callback"


async def test_return_approved_redispatched_time_charged(
        hotline: Hotline, time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> None:
    order = await hotline.dispatched(category_code="010101", content="整栋楼停水两天", kind="normal")
    no, dispatched = order["order_no"], at(order["dispatched_at"])
    r = await hotline.post("street-handler", f"/orders/{no}/return", {"reason": ""})
    assert r.status_code == 422  # only with a reason
    await travel_to(time_env, dispatched + timedelta(hours=3))
    r = await hotline.post("street-handler", f"/orders/{no}/return", {"reason": "供水管网归供水集团，非街道职责"})
    assert r.status_code == 200 and r.json()["status"] == "return_requested", r.text
    r = await hotline.post("street-handler", f"/orders/{no}/return/decision", {"approve": True})
    assert r.status_code == 403  # decided by the dispatcher
    r = await hotline.post("dispatcher", f"/orders/{no}/return/decision", {
        "approve": True, "comment": "改派供水集团", "redispatch": {"lead_unit": "UT-WATER"}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dispatched" and r.json()["lead_unit"] == "UT-WATER" and r.json()["rounds"] == 2
    (approved,) = [e for e in await hotline.events(no) if e["type"] == "return_approved"]
    assert approved["payload"]["charged_unit"] == STREET
    assert 3 * 3600 <= approved["payload"]["charged_seconds"] < 3 * 3600 + 600
    assert (await figures(sessions, STREET))["charged_seconds_for_returns"] >= 3 * 3600
    # The new unit's clock starts at the re-dispatch.
    assert at(r.json()["handle_due"]) == at(r.json()["dispatched_at"]) + timedelta(days=7)
    assert (await hotline.post("water-handler", f"/orders/{no}/sign")).status_code == 200


async def test_extension_refused(hotline: Hotline) -> None:
    order = await hotline.dispatched(category_code="080101", content="人行道地砖破损")
    no = order["order_no"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    due, limit = at(order["handle_due"]), at(order["extension_limit"])
    r = await hotline.post("street-handler", f"/orders/{no}/extension",
                           {"reason": "需要采购材料", "new_due": (limit + timedelta(days=1)).isoformat()})
    assert r.status_code == 422  # beyond the longest extension
    new_due = due + timedelta(days=3)
    r = await hotline.post("street-handler", f"/orders/{no}/extension",
                           {"reason": "需要采购材料", "new_due": new_due.isoformat()})
    assert r.status_code == 200 and r.json()["decision"]["kind"] == "extension", r.text
    r = await hotline.post("dispatcher", f"/orders/{no}/extension/decision", {"approve": False, "comment": "可先修补"})
    assert r.status_code == 200, r.text
    assert at(r.json()["handle_due"]) == due and r.json()["decision"]["approve"] is False
    assert (await hotline.types(no))[-2:] == ["extension_requested", "extension_refused"]


async def test_unsatisfied_callback_second_handling(hotline: Hotline) -> None:
    order = await hotline.dispatched(category_code="030101", content="物业不清理楼道垃圾")
    no = order["order_no"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已通知物业清理"})
    assert r.status_code == 200 and r.json()["status"] == "awaiting_callback"
    r = await hotline.post("operator", f"/orders/{no}/callback",
                           {"call": 0, "solved": False, "grade": "dissatisfied", "comment": "垃圾还在"})
    assert r.status_code == 200, r.text
    reopened = r.json()
    assert reopened["status"] == "in_handling" and reopened["lead_unit"] == STREET and reopened["rounds"] == 2
    sup = reopened["supervisions"][-1]
    assert sup["reason"] == "callback" and sup["to_unit"] == DISTRICT and sup["against_unit"] == STREET
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "街道督促物业已清理完毕并拍照确认"})
    assert r.status_code == 200 and r.json()["handlings"] == 2
    r = await hotline.post("operator", f"/orders/{no}/callback", {"call": 0, "solved": True, "grade": "satisfied"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    types = await hotline.types(no)
    assert types.count("replied") == 2 and "reopened" in types and types[-1] == "closed"


async def test_duplicate_call_merged_and_both_callers_called_back(hotline: Hotline, client: Client) -> None:
    first = await hotline.intake(category_code="010401", location={"address": "宽城区长通街道 88号 3栋"},
                                 content="3栋停电了", caller={"name": "赵先生", "phone": "13900000011"})
    no = first["order"]["order_no"]
    body = {"category_code": "010401", "location": {"address": "宽城区长通街道88号3栋"}, "content": "又停电了",
            "caller": {"phone": "13900000022", "confidential": True}}
    r = await hotline.post("operator", "/orders", body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "possible_duplicate" and no in r.text
    r = await hotline.post("operator2", "/orders", body | {"merge_into": no})
    assert r.status_code == 201 and r.json()["merged"] is True, r.text
    second_code = r.json()["public_code"]
    assert len(r.json()["order"]["calls"]) == 2
    r = await hotline.post("dispatcher", f"/orders/{no}/dispatch", {"lead_unit": STREET})
    assert r.status_code == 200, r.text
    r = await hotline.post("dispatcher", f"/orders/{no}/return/decision", {"approve": True})
    assert r.status_code == 409  # no return waits
    # The unit sees one order; the confidential caller's contact is not shown to it, the centre sees both.
    seen = await hotline.order(no, "street-handler")
    assert [(c["name"], c["phone"]) for c in seen["calls"]] == [("赵先生", "13900000011"), (None, None)]
    assert [c["phone"] for c in (await hotline.order(no))["calls"]] == ["13900000011", "13900000022"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    r = await hotline.post("operator", f"/orders/{no}/callback", {"solved": True, "grade": "satisfied"})
    assert r.status_code == 409  # not replied yet
    assert (await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已恢复供电"})).status_code == 200
    r = await hotline.post("operator", f"/orders/{no}/callback", {"call": 0, "solved": True, "grade": "satisfied"})
    assert r.status_code == 200 and r.json()["status"] == "awaiting_callback"  # the merged caller is called too
    r = await hotline.post("operator", f"/orders/{no}/callback", {"call": 2, "solved": True, "grade": "satisfied"})
    assert r.status_code == 422
    r = await hotline.post("operator", f"/orders/{no}/callback",
                           {"call": 1, "solved": True, "grade": "very_satisfied"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    assert [c["callback"]["grade"] for c in r.json()["calls"]] == ["satisfied", "very_satisfied"]
    page = await hotline.api.get(f"/public/orders/{no}", params={"code": second_code})
    assert page.status_code == 200 and page.json()["reply"] == "已恢复供电"
    await keep_history(client.get_workflow_handle(order_workflow_id(no)), "order_merged_called_back")


async def test_unit_user_cannot_see_or_act_on_another_units_order(hotline: Hotline) -> None:
    order = await hotline.dispatched(category_code="080101", content="井盖缺失")
    no = order["order_no"]
    before = await hotline.types(no)
    assert (await hotline.get("other-handler", f"/orders/{no}")).status_code == 403
    assert (await hotline.get("other-handler", f"/orders/{no}/events")).status_code == 403
    r = await hotline.post("other-handler", f"/orders/{no}/sign")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    listed = (await hotline.get("other-handler", "/orders", limit=200)).json()
    assert no not in [o["order_no"] for o in listed["items"]]
    assert no in [o["order_no"] for o in (await hotline.get("street-handler", "/orders", limit=200)).json()["items"]]
    assert (await hotline.get("other-handler", f"/units/{STREET}/figures")).status_code == 403
    assert await hotline.types(no) == before  # nothing recorded
    # Hall clerks have no orders; a handler cannot dispatch.
    assert (await hotline.get("clerk", "/orders")).status_code == 403
    r = await hotline.post("street-handler", f"/orders/{no}/dispatch", {"lead_unit": STREET})
    assert r.status_code in (403, 409)


async def test_dispatch_follows_the_catalogue_unless_a_unit_is_named(hotline: Hotline) -> None:
    water = (await hotline.intake(category_code="010101", content="水压太低"))["order"]["order_no"]
    r = await hotline.post("dispatcher", f"/orders/{water}/dispatch", {})
    assert r.status_code == 200 and r.json()["lead_unit"] == "UT-WATER", r.text
    noise = (await hotline.intake(category_code="020101", content="广场舞噪音"))["order"]["order_no"]
    r = await hotline.post("dispatcher", f"/orders/{noise}/dispatch", {})
    assert r.status_code == 422 and r.json()["error"]["field"] == "body.lead_unit"
    r = await hotline.post("dispatcher", f"/orders/{noise}/dispatch", {"lead_unit": "NOPE"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_unit"
    r = await hotline.post("dispatcher", f"/orders/{noise}/dispatch",
                           {"lead_unit": STREET, "co_units": ["DEP-HB", STREET]})
    assert r.status_code == 422  # the lead is not its own co-unit
    r = await hotline.post("dispatcher", f"/orders/{noise}/dispatch", {"lead_unit": STREET, "co_units": ["DEP-HB"]})
    assert r.status_code == 200 and r.json()["co_units"] == ["DEP-HB"]
    assert (await hotline.get("street-handler", f"/orders/{noise}")).status_code == 200
    r = await hotline.post("dispatcher", f"/orders/{noise}/dispatch", {"lead_unit": STREET})
    assert r.status_code == 409  # dispatched already
