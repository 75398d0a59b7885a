"""Petitions (信访) and appeals of ratings (申诉复核) on the hotline's screens: the operator files a petition, the
dispatcher decides on its acceptance (not before: no dispatch button) with the statutory dates shown, the centre asks
for a review of the reply and a supervisor answers it; a decision taken meanwhile by someone else is refused in
Chinese; the unit appeals a bad rating and a supervisor upholds it; an acceptance left undecided past its limit is
handed to the supervisors."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect
from temporalio.testing import WorkflowEnvironment

from tests.browser.conftest import login, logout, no_horizontal_scroll, screenshot
from tests.cases import travel_to
from tests.hotline.steps import STREET, Hotline


@pytest.fixture
def hotline(http: httpx.AsyncClient) -> Hotline:
    return Hotline(http)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def shown(page: Page, iso: str) -> str:
    """A moment as the screens show it (i18n.js ``when``)."""
    text: str = await page.evaluate(
        "(iso) => new Intl.DateTimeFormat('zh-CN', {timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', "
        "day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false}).format(new Date(iso))", iso)
    return text


async def submit(page: Page) -> None:
    await page.locator("dialog[open] [data-submit]").click()
    await expect(page.locator("dialog[open]")).to_have_count(0)


async def petition(hotline: Hotline, content: str, address: str) -> dict[str, Any]:
    filed = await hotline.intake(channel="petition", category_code="990101", content=content,
                                 caller={"name": "孙先生", "phone": "13900000071"}, location={"address": address})
    order: dict[str, Any] = filed["order"]
    return order


async def test_petition_accepted_dispatched_then_reviewed(page: Page, hotline: Hotline, tmp_path: Path) -> None:
    # The operator files the petition: the acceptance decision is due 15 days from receipt.
    await login(page, "operator")
    await page.select_option("#in-channel", "petition")
    await page.select_option("#in-category", "990101")
    await page.fill("#in-name", "周女士")
    await page.fill("#in-phone", "13900000061")
    await page.fill("#in-address", "朝阳区红旗街道和平路19号")
    await page.fill("#in-content", "反映小区违建长期未拆除，多次反映无果")
    await page.click("#intake-btn")
    flash = page.locator("#intake-msg .flash.ok")
    await expect(flash).to_be_visible()
    no = await flash.get_attribute("data-order")
    assert no
    order = await hotline.order(no)
    assert at(order["petition"]["accept_due"]) == at(order["registered_at"]) + timedelta(days=15)
    box = page.locator("#detail #petition")
    await expect(box).to_contain_text("受理决定期限")
    await expect(box).to_contain_text(await shown(page, order["petition"]["accept_due"]))
    await expect(box).to_contain_text("自收到起 15 日")
    await expect(page.locator("#detail [data-act=acceptance]")).to_have_count(0)  # the dispatcher decides
    await logout(page)

    # The dispatcher: no dispatch before the acceptance; not accepting needs reasons; accepted, 60 days from now.
    await login(page, "dispatcher")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=acceptance]").click()
    await expect(page.locator("#detail .case-head")).to_contain_text("待派单")
    await expect(page.locator("#detail [data-act=dispatch]")).to_have_count(0)
    await page.click("#detail [data-act=acceptance]")
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text("自受理之日起 60 日内办结")
    await dialog.locator("input[name=accept][value=no]").check()
    await dialog.locator("[data-submit]").click()
    await expect(dialog.locator(".dialog-error")).to_have_text("不予受理须写明理由，信访人将收到书面告知。")
    await dialog.locator("input[name=accept][value=yes]").check()
    await dialog.locator("textarea[name=reason]").fill("属于本级信访受理范围")
    await submit(page)
    await expect(box).to_contain_text("已受理")
    order = await hotline.order(no)
    assert order["petition"]["accepted"] is True
    handle_due = order["petition"]["handle_due"]
    assert at(handle_due) == at(order["petition"]["decided_at"]) + timedelta(days=60)
    await expect(box).to_contain_text(await shown(page, handle_due))
    await expect(box).to_contain_text("自受理起 60 日")
    await page.click("#detail [data-act=dispatch]")
    await page.locator("dialog[open] input[name=lead_unit]").fill(STREET)
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("待签收")
    await expect(page.locator("#detail")).to_contain_text("信访事项自受理之日起计时")
    assert (await hotline.order(no))["handle_due"] == handle_due  # counted from acceptance, not from dispatch
    await logout(page)

    # Handled and closed (through the API), then the operator asks for a review for the petitioner.
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    r = await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已立案查处，责令限期拆除"})
    assert r.status_code == 200, r.text
    r = await hotline.post("operator", f"/orders/{no}/callback", {"solved": True, "grade": "satisfied"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    await login(page, "operator")
    await page.click("[data-tab=orders]")
    await page.locator(f"#order-rows li[data-no='{no}']").click()
    await expect(box).to_contain_text("可申请复查至")  # the date itself, stored at closing (30 days from the reply)
    until = datetime.fromisoformat(r.json()["petition"]["review_until"]).astimezone(ZoneInfo("Asia/Shanghai"))
    await expect(box).to_contain_text(f"可申请复查至{until:%Y/%m/%d}")
    await page.click("#detail [data-act=review]")
    await page.locator("dialog[open] textarea[name=reason]").fill("拆除不彻底，仍有违建")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("复查中")
    order = await hotline.order(no)
    review_due = order["petition"]["review_due"]
    assert at(review_due) == at(order["petition"]["review_requested_at"]) + timedelta(days=30)
    await expect(box).to_contain_text("复查答复期限")
    await expect(box).to_contain_text(await shown(page, review_due))
    await expect(box).to_contain_text("拆除不彻底")
    await expect(page.locator("#detail [data-act=review]")).to_have_count(0)
    await expect(page.locator("#detail [data-act=decide-review]")).to_have_count(0)  # the supervisor answers
    await logout(page)

    # The supervisor answers the review from their inbox: the reply is upheld and the petition closed.
    await login(page, "supervisor")
    await page.click("[data-tab=inbox]")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=review]").click()
    await page.click("#detail [data-act=decide-review]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=uphold][value=yes]").check()
    await dialog.locator("textarea[name=opinion]").fill("经复查，原处理意见正确，予以维持")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("已办结")
    await expect(box).to_contain_text("维持原答复")
    await expect(box).to_contain_text("一次性化解")
    order = await hotline.order(no)
    assert order["status"] == "closed" and order["petition"]["review_upheld"] is True
    await screenshot(page, "hotline-petition", tmp_path)
    await page.set_viewport_size({"width": 390, "height": 800})
    await no_horizontal_scroll(page)
    assert page.errors == []  # type: ignore[attr-defined]


async def test_a_decision_taken_meanwhile_is_refused_in_chinese(page: Page, hotline: Hotline) -> None:
    order = await petition(hotline, "反映噪音问题长期未解决", "朝阳区红旗街道和平路21号")
    no = order["order_no"]
    await login(page, "dispatcher")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=acceptance]").click()
    await page.click("#detail [data-act=acceptance]")
    # another dispatcher accepts it while this one writes the reasons for not accepting
    r = await hotline.post("dispatcher", f"/orders/{no}/acceptance", {"accept": True})
    assert r.status_code == 200, r.text
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=accept][value=no]").check()
    await dialog.locator("textarea[name=reason]").fill("不属于信访受理范围")
    await dialog.locator("[data-submit]").click()
    await expect(dialog.locator(".dialog-error")).to_contain_text(f"信访事项 {no} 已作出是否受理的决定")
    await dialog.locator("[data-cancel]").click()
    await page.click("[data-tab=orders]")
    await page.locator(f"#order-rows li[data-no='{no}']").click()
    await expect(page.locator("#detail #petition")).to_contain_text("已受理")
    await expect(page.locator("#detail [data-act=dispatch]")).to_have_count(1)
    assert (await hotline.order(no))["petition"]["accepted"] is True

    # not accepted, with the reasons: the order ends
    order = await petition(hotline, "要求撤销已生效的法院判决", "朝阳区红旗街道和平路22号")
    no = order["order_no"]
    await page.click("[data-tab=inbox]")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=acceptance]").click()
    await page.click("#detail [data-act=acceptance]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=accept][value=no]").check()
    await dialog.locator("textarea[name=reason]").fill("已进入诉讼程序，依法不予受理")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("不予受理")
    box = page.locator("#detail #petition")
    await expect(box).to_contain_text("已进入诉讼程序，依法不予受理")
    await expect(box).to_contain_text("已书面告知信访人不予受理的理由")
    await expect(page.locator("#detail [data-act]")).to_have_count(0)
    assert (await hotline.order(no))["status"] == "not_accepted"
    assert page.errors == []  # type: ignore[attr-defined]


async def test_the_unit_appeals_a_bad_rating_and_the_supervisor_upholds_it(page: Page, hotline: Hotline) -> None:
    order = await hotline.dispatched(category_code="080101", content="人行道地砖松动",
                                     location={"address": "朝阳区红旗街道建设街5号"})
    no = order["order_no"]
    assert (await hotline.post("street-handler", f"/orders/{no}/sign")).status_code == 200
    assert (await hotline.post("street-handler", f"/orders/{no}/reply", {"result": "已修复"})).status_code == 200
    r = await hotline.post("operator", f"/orders/{no}/callback",
                           {"solved": False, "grade": "very_dissatisfied", "comment": "要求赔偿鞋子"})
    assert r.status_code == 200, r.text

    # Another unit sees no appeal button (nor the order); the street's handler appeals.
    await login(page, "street-handler")
    await page.click("[data-tab=orders]")
    await page.locator(f"#order-rows li[data-no='{no}']").click()
    await page.click("#detail [data-act=appeal]")
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text("须在评价后 5 个工作日内提出")
    await expect(dialog.locator("select[name=call] option")).to_have_count(1)
    await expect(dialog.locator("select[name=call]")).to_contain_text("非常不满意")
    await dialog.locator("textarea[name=reason]").fill("地砖已修复，赔偿诉求与本单位职责无关")
    await submit(page)
    appeals = page.locator("#detail #appeals")
    await expect(appeals).to_contain_text("第 1 位来电人：非常不满意")
    await expect(appeals).to_contain_text("待督办员审核")
    await expect(page.locator("#detail [data-act=appeal]")).to_have_count(0)  # one appeal per rating
    await logout(page)

    await login(page, "supervisor")
    await page.click("[data-tab=inbox]")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=appeal]").click()
    await page.click("#detail [data-act=decide-appeal]")
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text("赔偿诉求与本单位职责无关")
    await dialog.locator("input[name=uphold][value=yes]").check()
    await dialog.locator("textarea[name=opinion]").fill("经核实，诉求已解决，差评不计入考核")
    await submit(page)
    await expect(appeals).to_contain_text("申诉成立，差评不计入考核")
    await expect(page.locator("#detail [data-act=decide-appeal]")).to_have_count(0)
    assert (await hotline.order(no))["appeals"][0]["upheld"] is True
    assert page.errors == []  # type: ignore[attr-defined]


async def test_an_acceptance_past_its_limit_is_decided_by_a_supervisor(
        page: Page, hotline: Hotline, time_env: WorkflowEnvironment) -> None:
    order = await petition(hotline, "反映噪音问题长期未解决", "朝阳区红旗街道和平路23号")
    no = order["order_no"]
    await travel_to(time_env, at(order["petition"]["accept_due"]) + timedelta(minutes=1))
    await hotline.until_event(no, "acceptance_overdue")
    await login(page, "supervisor")
    await page.click("[data-tab=inbox]")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=acceptance]").click()
    box = page.locator("#detail #petition")
    await expect(box).to_contain_text("已超期：移交督办员决定")
    await page.click("#detail [data-act=acceptance]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=accept][value=yes]").check()
    await submit(page)
    await expect(box).to_contain_text("已受理")
    await expect(box).to_contain_text("超过期限")
    await expect(page.locator("#detail [data-act=dispatch]")).to_have_count(0)  # dispatching stays the dispatcher's
    assert (await hotline.order(no))["petition"]["accepted"] is True
    assert page.errors == []  # type: ignore[attr-defined]
