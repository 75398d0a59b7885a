"""The 12345 hotline's screens in the browser: the operator answers from the knowledge base while the caller waits
and merges a repeated call; the dispatcher dispatches and decides a return with a re-dispatch and an extension; the
unit's handler signs for, asks for a return and an extension, and replies (another unit's handler sees none of it);
the operator calls back; the supervisor sees the supervision orders. Screenshots of each role's main screen."""

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import ConsoleMessage, Page, Route, expect
from temporalio.testing import WorkflowEnvironment

from tests.browser.conftest import login, logout, no_horizontal_scroll, screenshot, token
from tests.cases import eventually, travel_to

STREET, OTHER_STREET = "D01-S01", "D02-S01"


async def order_of(http: httpx.AsyncClient, no: str) -> dict[str, Any]:
    r = await http.get(f"/orders/{no}", headers=await token(http, "dispatcher"))
    assert r.status_code == 200, r.text
    order: dict[str, Any] = r.json()
    return order


async def submit(page: Page) -> None:
    await page.locator("dialog[open] [data-submit]").click()
    await expect(page.locator("dialog[open]")).to_have_count(0)


async def filed_order(page: Page) -> str:
    flash = page.locator("#intake-msg .flash.ok")
    await expect(flash).to_be_visible()
    no = await flash.get_attribute("data-order")
    assert no
    return no


async def test_operator_answers_from_the_knowledge_base_and_merges_a_repeated_call(
        page: Page, http: httpx.AsyncClient, tmp_path: Path) -> None:
    await login(page, "operator")
    await expect(page.locator("#brand")).to_have_text("12345 政务服务便民热线")
    await expect(page.locator("#who")).to_contain_text("受理坐席")
    # While the caller waits: the question as they say it finds the entry, which answers and closes the order.
    await page.fill("#kb-q", "家里暖气不热，室温很低，能投诉吗")
    await page.click("#kb-btn")
    hit = page.locator("#kb-hits li.kb-hit").first
    await expect(hit).to_contain_text("暖气不热室温多少度可以投诉？")
    await page.fill("#in-address", "朝阳区红旗街道幸福小区3栋")
    await screenshot(page, "hotline-operator", tmp_path)
    await hit.locator("[data-answer]").click()
    no = await filed_order(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("已直接答复")
    await expect(page.locator("#detail [data-event=answered_directly]")).to_have_count(1)
    assert (await order_of(http, no))["status"] == "answered"

    # A complaint, then the same place calls again: proposed for merging, merged, one order with two callers.
    await page.select_option("#in-category", "080101")
    await page.fill("#in-name", "王女士")
    await page.fill("#in-phone", "13900000011")
    await page.fill("#in-address", "朝阳区红旗街道人民大街200号")
    await page.fill("#in-content", "路口井盖丢失，夜间危险")
    await page.click("#intake-btn")
    first = await filed_order(page)
    await page.select_option("#in-category", "080101")
    await page.fill("#in-name", "李先生")
    await page.fill("#in-phone", "13900000012")
    await page.fill("#in-address", "朝阳区红旗街道 人民大街200号")
    await page.fill("#in-content", "人民大街井盖没了，还没人管")
    await page.click("#intake-btn")
    proposal = page.locator(f"#duplicates [data-dup='{first}']")
    await expect(proposal).to_contain_text("路口井盖丢失")
    await proposal.locator("[data-merge]").click()
    await expect(page.locator("#intake-msg .flash.ok")).to_contain_text(f"来电已并入工单 {first}")
    await expect(page.locator("#detail ol.calls li")).to_have_count(2)
    order = await order_of(http, first)
    assert [c["name"] for c in order["calls"]] == ["王女士", "李先生"]
    assert page.errors == []  # type: ignore[attr-defined]


async def test_dispatch_sign_return_extension_reply_and_callback(page: Page, http: httpx.AsyncClient,
                                                                 tmp_path: Path) -> None:
    operator = await token(http, "operator")
    r = await http.post("/orders", headers=operator, json={
        "caller": {"name": "赵女士", "phone": "13900000021"}, "location": {"address": "朝阳区红旗街道春光路8号"},
        "content": "小区楼下烧烤油烟扰民", "kind": "normal", "category_code": "020101", "new_order": True})
    assert r.status_code == 201, r.text
    no = r.json()["order"]["order_no"]

    await login(page, "dispatcher")
    task = page.locator(f"#task-rows li[data-no='{no}'][data-kind=dispatch]")
    await expect(task).to_contain_text("油烟扰民")
    await task.click()
    await screenshot(page, "hotline-dispatcher", tmp_path)
    await page.click("#detail [data-act=dispatch]")
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text("派单目录未指定单位")  # noise has no owner in the catalogue
    await dialog.locator("input[name=lead_unit]").fill("NO-SUCH-UNIT")
    await dialog.locator("[data-submit]").click()
    await expect(dialog.locator(".dialog-error")).to_contain_text("NO-SUCH-UNIT")
    await dialog.locator("input[name=lead_unit]").fill(STREET)
    await dialog.locator("input[name=co_units]").fill("DEP-HB, DEP-CG")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("待签收")
    await expect(page.locator("#detail")).to_contain_text("自派单起计时")
    assert (await order_of(http, no))["co_units"] == ["DEP-HB", "DEP-CG"]
    await logout(page)

    # Another unit's handler sees nothing of it.
    await login(page, "other-handler")
    await page.click("[data-tab=orders]")
    await expect(page.locator("#o-total")).to_be_visible()
    await expect(page.locator(f"#order-rows li[data-no='{no}']")).to_have_count(0)
    await logout(page)

    # The street's handler: sign for, ask to return (refused), ask for an extension (refused), reply.
    await login(page, "street-handler")
    task = page.locator(f"#task-rows li[data-no='{no}'][data-kind=sign_for]")
    await expect(task).to_be_visible()
    await task.click()
    await page.click("#detail [data-act=sign]")
    await expect(page.locator("#detail .case-head")).to_contain_text("办理中")
    await screenshot(page, "hotline-unit", tmp_path)
    await page.click("#detail [data-act=return]")
    await page.locator("dialog[open] textarea[name=reason]").fill("油烟问题属生态环境部门职责")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("退单待审")
    await logout(page)

    await login(page, "dispatcher")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=return_decision]").click()
    await expect(page.locator("#detail .veto-box")).to_contain_text("生态环境部门职责")
    await page.click("#detail [data-act=decide-return]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=approve][value=no]").check()
    await dialog.locator("textarea[name=comment]").fill("属地管理，由街道牵头")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("办理中")
    await logout(page)

    await login(page, "street-handler")
    await page.click("[data-tab=orders]")
    await page.locator(f"#order-rows li[data-no='{no}']").click()
    await page.click("#detail [data-act=extension]")
    order = await order_of(http, no)
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=new_due]").fill(
        (await page.evaluate("(d) => { const x = new Date(d); x.setDate(x.getDate() + 2); "
                             "return x.toISOString().slice(0, 10); }", order["handle_due"])) + "T17:00")
    await dialog.locator("textarea[name=reason]").fill("需协调环保部门联合执法")
    await submit(page)
    await expect(page.locator("#detail .veto-box")).to_contain_text("联合执法")
    assert (await order_of(http, no))["decision"]["new_due"] > order["handle_due"]
    await logout(page)

    await login(page, "dispatcher")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=extension_decision]").click()
    await page.click("#detail [data-act=decide-extension]")
    await page.locator("dialog[open] input[name=approve][value=no]").check()
    await submit(page)
    await expect(page.locator("#detail [data-event=extension_refused]")).to_have_count(1)
    await logout(page)

    await login(page, "street-handler")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=reply]").click()
    await page.click("#detail [data-act=reply]")
    await page.locator("dialog[open] textarea[name=result]").fill("已约谈商户，加装油烟净化器，夜间停止露天烧烤")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("待回访")
    await page.click("[data-tab=figures]")
    await expect(page.locator("#figures")).to_contain_text("主办工单")
    await logout(page)

    await login(page, "operator")
    await page.click("[data-tab=callbacks]")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=callback]").click()
    await page.click("#detail [data-act=callback]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=solved][value=yes]").check()
    await dialog.locator("select[name=grade]").select_option("very_satisfied")
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("已办结")
    await expect(page.locator("#detail ol.calls")).to_contain_text("非常满意")
    assert (await order_of(http, no))["status"] == "closed"
    assert page.errors == []  # type: ignore[attr-defined]


async def test_return_approved_and_dispatched_again_then_supervision(
        page: Page, http: httpx.AsyncClient, time_env: WorkflowEnvironment, tmp_path: Path) -> None:
    operator, dispatcher = await token(http, "operator"), await token(http, "dispatcher")
    r = await http.post("/orders", headers=operator, json={
        "caller": {"anonymous": True}, "location": {"address": "朝阳区红旗街道东风路1号"},
        "content": "施工工地夜间噪音", "kind": "urgent", "category_code": "020101", "new_order": True})
    assert r.status_code == 201, r.text
    no = r.json()["order"]["order_no"]
    r = await http.post(f"/orders/{no}/dispatch", headers=dispatcher, json={"lead_unit": STREET})
    assert r.status_code == 200, r.text
    r = await http.post(f"/orders/{no}/return", headers=await token(http, "street-handler"),
                        json={"reason": "工地位于南关区辖区"})
    assert r.status_code == 200, r.text

    await login(page, "dispatcher")
    await page.locator(f"#task-rows li[data-no='{no}'][data-kind=return_decision]").click()
    await page.click("#detail [data-act=decide-return]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=approve][value=yes]").check()
    await dialog.locator("input[name=re_lead_unit]").fill(OTHER_STREET)
    await submit(page)
    await expect(page.locator("#detail .case-head")).to_contain_text("待签收")
    order = await order_of(http, no)
    assert order["lead_unit"] == OTHER_STREET and order["charged_seconds"][STREET] >= 0
    await logout(page)

    # The new unit does not sign: past the sign-for limit and its grace, a supervision order to its district.
    await travel_to(time_env, await time_env.get_current_time() + timedelta(hours=1, minutes=5))

    async def supervised() -> bool:
        return bool((await order_of(http, no))["supervisions"])

    await eventually(supervised)
    await login(page, "supervisor")
    row = page.locator(f"#order-rows li[data-no='{no}']")
    await expect(row).to_contain_text("督办 ×1")
    await row.click()
    await expect(page.locator("#detail")).to_contain_text("超时未签收")
    await no_horizontal_scroll(page)
    await screenshot(page, "hotline-supervisor", tmp_path)
    assert page.errors == []  # type: ignore[attr-defined]


async def test_switching_tabs_while_lists_load_leaves_no_error(page: Page) -> None:
    console: list[str] = []

    def seen(m: ConsoleMessage) -> None:
        if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico"):  # the browser asks for one
            console.append(f"{m.text} {m.location}")

    page.on("console", seen)

    async def slow(route: Route) -> None:  # every list answers late: the user has moved on meanwhile
        await asyncio.sleep(0.8)
        await route.continue_()

    await page.route(re.compile(r"/(orders\?|hotline/inbox)"), slow)
    await login(page, "supervisor")
    for _ in range(2):
        for tab in ("inbox", "orders", "supervised", "inbox"):
            await page.click(f"[data-tab={tab}]")
        await page.click("#assessment-tabs [data-tab=assessment]")
        await expect(page.locator("#as-table")).to_be_visible()
        await page.click("#assessment-tabs [data-tab=work]")
    await page.click("[data-tab=orders]")
    await page.wait_for_timeout(2500)  # every late answer has come
    await expect(page.locator("#o-total")).to_be_visible()
    await expect(page.locator("#task-rows")).to_have_count(0)
    await expect(page.locator("#hl-pane .flash")).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]
    assert console == []
