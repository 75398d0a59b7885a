"""Petitions (信访) and appeals of ratings (申诉复核) through the API on real PostgreSQL and Temporal, time skipped:
acceptance within 15 days (else handed to the supervisors), handling within 60 days of acceptance (not of dispatch),
one extension of at most 30 days, a review requested within 30 days of the reply and answered within 30 days;
the one-time resolution flag; a unit's appeal of a bad rating upheld by a supervisor excludes the rating."""

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from casehall.models.ids import order_workflow_id
from casehall.store import hotline_queries as hq
from tests.cases import keep_history, travel_to
from tests.hotline.steps import STREET, Hotline


@pytest.fixture(scope="module")
async def hotline(api: httpx.AsyncClient) -> Hotline:
    return Hotline(api)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def petition(hotline: Hotline, content: str = "反映小区违建长期未拆除") -> dict[str, object]:
    filed = await hotline.intake(channel="petition", category_code="990101", content=content,
                                 location={"address": "朝阳区红旗街道和平路9号"})
    return filed["order"]  # type: ignore[no-any-return]


async def test_petition_limits_review_and_one_time_resolution(
        hotline: Hotline, time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> None:
    order = await petition(hotline)
    no = str(order["order_no"])
    registered = at(str(order["registered_at"]))
    assert order["status"] == "awaiting_dispatch"
    assert at(order["petition"]["accept_due"]) == registered + timedelta(days=15)  # type: ignore[index]
    # Not dispatched before it is accepted; only a dispatcher decides.
    r = await hotline.post("dispatcher", f"/orders/{no}/dispatch", {"lead_unit": STREET})
    assert r.status_code == 409, r.text
    r = await hotline.post("street-handler", f"/orders/{no}/acceptance", {"accept": True})
    assert r.status_code == 403
    r = await hotline.post("dispatcher", f"/orders/{no}/acceptance", {"accept": False})  # no reasons: told in Chinese
    assert r.status_code == 422 and "不予受理信访事项须写明理由" in r.json()["error"]["message"], r.text
    # Undecided for 15 days: handed to the supervisors, who may then decide.
    await travel_to(time_env, registered + timedelta(days=15, minutes=1))
    (overdue,) = await hotline.until_event(no, "acceptance_overdue")
    r = await hotline.post("supervisor", f"/orders/{no}/acceptance", {"accept": True, "reason": "属信访受理范围"})
    assert r.status_code == 200, r.text
    accepted = at(r.json()["petition"]["decided_at"])
    handle_due = at(r.json()["petition"]["handle_due"])
    assert handle_due == accepted + timedelta(days=60)
    # Dispatched a week later: the handling limit still runs from acceptance.
    await travel_to(time_env, accepted + timedelta(days=7))
    r = await hotline.post("dispatcher", f"/orders/{no}/dispatch", {"lead_unit": STREET})
    assert r.status_code == 200, r.text
    assert at(r.json()["handle_due"]) == handle_due
    assert at(r.json()["extension_limit"]) == handle_due + timedelta(days=30)
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    too_far = (handle_due + timedelta(days=31)).isoformat()
    r = await hotline.post("street-handler", f"/orders/{no}/extension",
                           {"reason": "需调取规划档案", "new_due": too_far})
    assert r.status_code == 422, r.text
    new_due = (handle_due + timedelta(days=30)).isoformat()
    r = await hotline.post("street-handler", f"/orders/{no}/extension",
                           {"reason": "需调取规划档案", "new_due": new_due})
    assert r.status_code == 200, r.text
    r = await hotline.post("dispatcher", f"/orders/{no}/extension/decision", {"approve": True})
    assert r.status_code == 200 and at(r.json()["handle_due"]) == handle_due + timedelta(days=30)
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已立案查处，责令限期拆除"})
    assert r.status_code == 200, r.text
    replied = at(r.json()["replied_at"])
    r = await hotline.post("operator", f"/orders/{no}/callback", {"solved": True, "grade": "satisfied"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert r.json()["petition"]["one_time_resolved"] is True
    # The closing answer (the stored petition) shows until when a review may be requested, as its event does.
    review_until = at(r.json()["petition"]["review_until"])
    assert review_until == replied + timedelta(days=30)
    closed = (await hotline.events(no))[-1]
    assert closed["type"] == "closed" and at(closed["payload"]["review_until"]) == review_until
    async with sessions() as s:
        assert (await hq.petition_figures(s))["one_time_resolved"] == 1

    # A review within 30 days of the reply; no answer in 30 days: overdue; the supervisor upholds the reply.
    await travel_to(time_env, replied + timedelta(days=20))
    r = await hotline.post("street-handler", f"/orders/{no}/review", {"reason": "拆除不彻底"})
    assert r.status_code == 403
    r = await hotline.post("operator", f"/orders/{no}/review", {"reason": "拆除不彻底"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "under_review" and r.json()["petition"]["one_time_resolved"] is False
    review_due = at(r.json()["petition"]["review_due"])
    assert review_due == at(r.json()["petition"]["review_requested_at"]) + timedelta(days=30)
    await travel_to(time_env, review_due + timedelta(minutes=1))
    await hotline.until_event(no, "review_overdue")
    r = await hotline.post("dispatcher", f"/orders/{no}/review/decision", {"uphold": True, "opinion": "维持"})
    assert r.status_code == 403
    r = await hotline.post("supervisor", f"/orders/{no}/review/decision",
                           {"uphold": True, "opinion": "经复查，原处理意见正确，予以维持"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    types = await hotline.types(no)
    assert types[-4:] == ["review_requested", "review_overdue", "review_decided", "closed"]
    assert at(overdue["payload"]["accept_due"]) == at(order["petition"]["accept_due"])  # type: ignore[index]
    async with sessions() as s:
        figures = await hq.petition_figures(s)
    assert figures["one_time_resolved"] == 0 and figures["closed"] >= 1
    # Only one review.
    r = await hotline.post("operator", f"/orders/{no}/review", {"reason": "再次复查"})
    assert r.status_code == 409
    await keep_history(time_env.client.get_workflow_handle(order_workflow_id(no)), "petition_reviewed")


async def test_petition_not_accepted_and_review_too_late(hotline: Hotline, time_env: WorkflowEnvironment) -> None:
    order = await petition(hotline, "要求撤销已生效的法院判决")
    no = str(order["order_no"])
    r = await hotline.post("dispatcher", f"/orders/{no}/acceptance", {"accept": False})
    assert r.status_code == 422  # not accepted needs the reasons
    r = await hotline.post("dispatcher", f"/orders/{no}/acceptance",
                           {"accept": False, "reason": "已进入诉讼程序，依法不予受理"})
    assert r.status_code == 200 and r.json()["status"] == "not_accepted", r.text
    assert await hotline.types(no) == ["registered", "petition_not_accepted"]

    order = await petition(hotline, "反映噪音问题长期未解决")
    no = str(order["order_no"])
    assert (await hotline.post("dispatcher", f"/orders/{no}/acceptance", {"accept": True})).status_code == 200
    assert (await hotline.post("dispatcher", f"/orders/{no}/dispatch", {"lead_unit": STREET})).status_code == 200
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已协调解决"})
    replied = at(r.json()["replied_at"])
    assert (await hotline.post("operator", f"/orders/{no}/callback",
                               {"solved": True, "grade": "very_satisfied"})).status_code == 200
    await travel_to(time_env, replied + timedelta(days=31))
    r = await hotline.post("operator", f"/orders/{no}/review", {"reason": "不服"})
    assert r.status_code in (404, 409), r.text  # the review window closed: the order's life is over


async def test_unit_appeals_a_bad_rating_and_the_supervisor_excludes_it(hotline: Hotline) -> None:
    order = await hotline.dispatched(kind="normal", category_code="080101", content="人行道地砖松动")
    no = order["order_no"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    assert (await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已修复"})).status_code == 200
    r = await hotline.post("street-handler", f"/orders/{no}/appeal", {"reason": "尚无评价"})
    assert r.status_code == 422  # no bad rating yet: nothing to appeal
    r = await hotline.post("operator", f"/orders/{no}/callback", {"solved": False, "grade": "very_dissatisfied",
                                                                 "comment": "要求赔偿鞋子"})
    assert r.status_code == 200 and r.json()["status"] == "in_handling"  # reopened for a second handling
    r = await hotline.post("other-handler", f"/orders/{no}/appeal", {"reason": "恶意差评"})
    assert r.status_code == 403
    r = await hotline.post("street-handler", f"/orders/{no}/appeal",
                           {"call": 0, "reason": "地砖已修复，诉求与本单位职责无关"})
    assert r.status_code == 200, r.text
    r = await hotline.post("street-handler", f"/orders/{no}/appeal", {"call": 0, "reason": "再次申诉"})
    assert r.status_code == 409
    r = await hotline.post("dispatcher", f"/orders/{no}/appeal/decision", {"uphold": True, "opinion": "同意"})
    assert r.status_code == 403
    r = await hotline.post("supervisor", f"/orders/{no}/appeal/decision",
                           {"uphold": True, "opinion": "经核实，诉求已解决，差评不计入考核"})
    assert r.status_code == 200, r.text
    assert r.json()["appeals"][0]["upheld"] is True
    (upheld,) = await hotline.until_event(no, "appeal_upheld")
    assert upheld["payload"] | {"actor": None} == {"call": 0, "grade": "very_dissatisfied", "unit": STREET,
                                                   "opinion": "经核实，诉求已解决，差评不计入考核",
                                                   "rating_excluded": True, "actor": None}
    r = await hotline.post("supervisor", f"/orders/{no}/appeal/decision", {"uphold": False, "opinion": "x"})
    assert r.status_code == 409
