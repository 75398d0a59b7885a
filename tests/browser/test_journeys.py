"""Each person's whole job in a real browser: clerk, manager, auditor; language; logout hygiene; phone width."""

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import (
    ALL_MKT,
    ID_NUMBER,
    login,
    logout,
    no_horizontal_scroll,
    register_via_api,
    screenshot,
    status_of,
    token,
)


async def open_pdf(page: Page, button: str) -> None:
    """Click a document button: a new tab opens with the PDF fetched (with the token) from the API."""
    async with page.expect_response(re.compile(r"/documents/\d+\.pdf$|/minutes\.pdf$")) as response_info, \
            page.context.expect_page() as popup_info:
        await page.click(button)
    response = await response_info.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    popup = await popup_info.value
    await popup.wait_for_url(re.compile(r"^blob:"))
    head = await page.evaluate(
        "async (url) => String.fromCharCode(...new Uint8Array(await (await fetch(url)).arrayBuffer()).slice(0, 5))",
        popup.url)
    assert head == "%PDF-"
    await popup.close()


async def test_clerk_registers_with_a_missing_material_and_prints_the_notice(page: Page, tmp_path: Path) -> None:
    await login(page, "clerk")
    await expect(page.locator("#logout")).to_have_text("退出")
    await page.click("[data-tab=register]")
    await page.fill("#reg-search", "个体")
    await expect(page.locator("#reg-items label")).to_have_count(1)
    await page.check("#reg-items input[value='MKT-001']")
    await expect(page.locator("#reg-materials .badge.main")).to_have_count(2)
    await expect(page.locator("#reg-materials .badge.secondary")).to_have_count(1)
    for name in ALL_MKT[:2]:
        await page.check(f"#reg-materials input[value='{name}']")
    # nothing typed for the applicant: the form says what is missing, nothing is sent
    await page.click("#register-btn")
    await expect(page.locator("#register-msg .flash.error")).to_contain_text("请填写")
    await page.fill("#reg-name", "张三")
    await page.fill("#reg-phone", "13800138000")
    await page.fill("#reg-id", ID_NUMBER)
    await page.fill("#reg-desc", "窗口备注：从业人员说明下周补交")
    await page.click("#register-btn")
    success = page.locator("#register-msg .flash.ok")
    await expect(success).to_contain_text("登记成功")
    await expect(success).to_contain_text("从业人员情况说明")
    case_no = re.search(r"HALL-\d{8}-\d+", await success.inner_text())
    assert case_no
    # a cleared form for the next applicant
    await expect(page.locator("#reg-name")).to_have_value("")
    await expect(page.locator("#reg-materials .mat")).to_have_count(0)
    # the case opened beside the form: tolerant acceptance, the legal clock paused
    detail = page.locator("#detail")
    await expect(detail.locator(".case-head")).to_contain_text(case_no.group(0))
    await expect(detail.locator(".case-head .badge")).to_have_text("容缺受理·待补正")
    await expect(detail.locator(".case-head .light.paused")).to_have_text("计时暂停")
    await screenshot(page, "clerk-register", tmp_path)
    await open_pdf(page, "#print-notice")
    # my cases: the new case with its light
    await page.click("[data-tab=cases]")
    row = page.locator(f"#case-rows li[data-no='{case_no.group(0)}']")
    await expect(row.locator(".light")).to_have_class(re.compile("paused"))
    assert page.errors == []  # type: ignore[attr-defined]


async def test_veto_form_then_manager_decides_with_confirmation(page: Page, http: httpx.AsyncClient,
                                                                tmp_path: Path) -> None:
    case_no = await register_via_api(http)
    await login(page, "clerk")
    await page.click(f"#case-rows li[data-no='{case_no}']")
    await page.click("#detail [data-act=veto]")
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text("由负责人审批")
    await dialog.locator("[data-submit]").click()  # empty: refused inside the dialog, nothing sent
    await expect(dialog.locator(".dialog-error")).to_contain_text("理由")
    await dialog.locator("textarea[name=reasons]").fill("经营场所为住宅，未取得住改商证明")
    await dialog.locator("textarea[name=legal_basis]").fill("《个体工商户登记管理办法》第八条")
    await dialog.locator("[data-submit]").click()
    await expect(page.locator("#detail .case-head .badge")).to_have_text("否决待审批")
    assert await status_of(http, case_no) == "veto_requested"
    await logout(page)

    await login(page, "manager")
    await expect(page.locator("[data-tab=register]")).to_have_count(0)
    task = page.locator(f"#inbox-rows li[data-no='{case_no}'][data-kind=veto]")
    await expect(task).to_contain_text("经营场所为住宅，未取得住改商证明")
    await expect(task).to_contain_text("《个体工商户登记管理办法》第八条")
    await expect(task).to_contain_text("张三")
    await expect(task).to_contain_text("个体工商户设立登记")
    await task.click()
    detail = page.locator("#detail")
    await expect(detail.locator(".veto-box .reasons")).to_have_text("经营场所为住宅，未取得住改商证明")
    await expect(detail.locator(".veto-box .legal-basis")).to_have_text("《个体工商户登记管理办法》第八条")
    await expect(detail.locator(".notes")).to_contain_text("住宅")
    await expect(detail.locator(".history")).to_contain_text("王窗口 (clerk)")
    await screenshot(page, "manager-inbox", tmp_path)
    # approving asks first; cancelling changes nothing
    await detail.locator("[data-act=veto-approve]").click()
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text("不可撤销")
    await expect(dialog).to_contain_text("《个体工商户登记管理办法》第八条")
    await dialog.locator("[data-cancel]").click()
    await expect(page.locator("dialog[open]")).to_have_count(0)
    assert await status_of(http, case_no) == "veto_requested"
    await detail.locator("[data-act=veto-approve]").click()
    dialog = page.locator("dialog[open]")
    await dialog.locator("textarea[name=comment]").fill("依法不予受理")
    await dialog.locator("[data-submit]").click()
    await expect(detail.locator(".case-head .badge")).to_have_text("不予受理")
    assert await status_of(http, case_no) == "rejected"
    await expect(page.locator(f"#inbox-rows li[data-no='{case_no}']")).to_have_count(0)
    await open_pdf(page, "#detail [data-kind=rejection_notice]")
    assert page.errors == []  # type: ignore[attr-defined]


async def test_manager_refuses_a_veto_with_an_instruction(page: Page, http: httpx.AsyncClient) -> None:
    case_no = await register_via_api(http, accept=False)
    r = await http.post(f"/cases/{case_no}/veto", headers=await token(http, "clerk"),
                        json={"reasons": "材料存疑", "legal_basis": "《行政许可法》第三十二条"})
    assert r.status_code == 200, r.text
    await login(page, "manager")
    await page.click(f"#inbox-rows li[data-no='{case_no}']")
    await page.click("#detail [data-act=veto-refuse]")
    dialog = page.locator("dialog[open]")
    await expect(dialog.locator("[data-field=question]")).to_be_hidden()
    await dialog.locator("input[name=instruction][value=accept]").check()
    await dialog.locator("textarea[name=comment]").fill("材料齐全，请受理")
    await dialog.locator("[data-submit]").click()
    await expect(page.locator("#detail .case-head .badge")).to_have_text("办理中")
    assert await status_of(http, case_no) == "in_handling"


async def test_auditor_reads_timeline_chain_replay_and_state_as_of(page: Page, http: httpx.AsyncClient,
                                                                   tmp_path: Path) -> None:
    case_no = await register_via_api(http)
    clerk = await token(http, "clerk")
    await asyncio.sleep(1.1)  # "as of" is chosen to the second: completion falls in a later one
    for path, body in [("complete", {"result": "已发放营业执照"}), ("satisfaction", {"grade": "satisfied"})]:
        r = await http.post(f"/cases/{case_no}/{path}", headers=clerk, json=body)
        assert r.status_code == 200, r.text
    events = (await http.get(f"/cases/{case_no}/events", headers=clerk)).json()
    accepted_at = next(e["at"] for e in events if e["type"] == "accepted")

    await login(page, "auditor")
    for tab in ("register", "inbox", "cases"):  # no tab an auditor cannot use
        await expect(page.locator(f"[data-tab={tab}]")).to_have_count(0)
    await page.fill("#a-q", case_no)
    await page.click("#audit-search button")
    await expect(page.locator("#audit-count")).to_have_text("共 1 件")
    await page.click(f"#audit-rows li[data-no='{case_no}']")
    timeline = page.locator("#detail .timeline")
    await expect(timeline.locator("li")).to_have_count(4)
    await expect(timeline).to_contain_text("王窗口 (clerk)")
    await expect(timeline).to_contain_text("窗口工作人员")
    await expect(timeline).to_contain_text("已发放营业执照")
    await expect(timeline).to_contain_text("满意")
    await expect(page.locator("#detail [data-act]")).to_have_count(0)  # read-only
    await page.click("#chain-btn")
    await expect(page.locator("#chain-result .verdict.ok")).to_contain_text("哈希链完整：共 4 个事件")
    await page.click("#replay-btn")
    await expect(page.locator("#replay-result .verdict")).to_contain_text("重放一致", timeout=60_000)
    await screenshot(page, "auditor-timeline", tmp_path)
    # the state as it stood right after acceptance (the hall's local time, to the second)
    local = (await page.evaluate(
        "(iso) => new Date(new Date(iso).getTime() + 8 * 3600e3).toISOString().slice(0, 19)", accepted_at))
    await page.fill("#as-of", local)
    await page.click("#as-of-form button")
    await expect(page.locator("#detail .case-head .badge")).to_have_text("办理中")
    await expect(page.locator("#detail .timeline li")).to_have_count(2)
    async with page.expect_download() as download_info:
        await page.click("#detail [data-export=json]")
    download = await download_info.value
    exported = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8")
    assert case_no in exported and "prev_hash" in exported


async def test_language_switch_is_remembered_per_user(page: Page, live_url: str, tmp_path: Path) -> None:
    await login(page, "clerk")
    await expect(page.locator("[data-tab=cases]")).to_have_text("我的案件")
    body = await page.inner_text("body")
    english = (await (await page.request.get(f"{live_url}/ui/i18n/en.json")).json())["messages"]
    leaks = [m for k, m in english.items() if "|" not in k and " " in m and m in body]
    assert leaks == [], f"English on the Chinese screen: {leaks}"
    await page.select_option("#lang", "en")
    await expect(page.locator("[data-tab=cases]")).to_have_text("My cases")
    await expect(page.locator("#logout")).to_have_text("Log out")
    await page.reload()
    await expect(page.locator("[data-tab=cases]")).to_have_text("My cases")
    await page.wait_for_selector("#case-rows li[data-no]")
    await page.click("#case-rows li[data-no]")
    await page.wait_for_selector("#detail .case-head")
    await screenshot(page, "clerk-cases-en", tmp_path)
    await logout(page)
    await login(page, "clerk2")  # another user on the same PC keeps the language they chose (none: as last)
    await page.select_option("#lang", "zh-CN")
    await expect(page.locator("[data-tab=cases]")).to_have_text("我的案件")
    await logout(page)
    await login(page, "clerk")
    await expect(page.locator("[data-tab=cases]")).to_have_text("My cases")
    await page.select_option("#lang", "zh-CN")


async def test_after_logout_the_next_user_sees_nothing_of_the_first(page: Page, http: httpx.AsyncClient,
                                                                   live_url: str) -> None:
    case_no = await register_via_api(http, name="李四")
    await login(page, "clerk")
    await page.click(f"#case-rows li[data-no='{case_no}']")
    await expect(page.locator("#detail .idno")).to_have_text(ID_NUMBER)  # the responsible clerk sees it in full
    await logout(page)
    html = await page.content()
    assert case_no not in html and ID_NUMBER not in html and "李四" not in html
    assert await page.evaluate("sessionStorage.getItem('casehall-token')") is None
    await page.go_back()  # the browser's history holds no screen of the first user either
    await page.wait_for_load_state()
    assert case_no not in await page.content()
    await page.goto(live_url)
    await login(page, "clerk2")
    await page.wait_for_selector("#case-rows li")
    html = await page.content()
    assert case_no not in html and ID_NUMBER not in html and "李四" not in html


async def test_phone_width_is_usable_without_horizontal_scroll(context: BrowserContext, live_url: str,
                                                               http: httpx.AsyncClient, tmp_path: Path) -> None:
    await context.close()
    browser = context.browser
    assert browser is not None
    phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await phone.new_page()
    try:
        case_no = await register_via_api(http)
        pending = await register_via_api(http, accept=False, name="王五")
        r = await http.post(f"/cases/{pending}/veto", headers=await token(http, "clerk"), json={
            "reasons": "申请事项不属于本机关职权范围", "legal_basis": "《行政许可法》第三十二条第一款第（二）项"})
        assert r.status_code == 200, r.text
        await page.goto(live_url)
        await no_horizontal_scroll(page)
        await login(page, "clerk")
        await page.click(f"#case-rows li[data-no='{case_no}']")
        await page.wait_for_selector("#detail .case-head")
        await no_horizontal_scroll(page)
        await screenshot(page, "phone-clerk-case", tmp_path)
        await page.click("#detail [data-act=veto]")
        await no_horizontal_scroll(page)
        await page.locator("dialog[open] [data-cancel]").click()
        await page.click("[data-tab=register]")
        await page.check("#reg-items input[value='HOUSING-002']")
        await no_horizontal_scroll(page)
        await screenshot(page, "phone-clerk-register", tmp_path)
        await logout(page)
        await login(page, "manager")
        await page.click(f"#inbox-rows li[data-no='{pending}']")
        await page.wait_for_selector("#detail .veto-box")
        await no_horizontal_scroll(page)
        await screenshot(page, "phone-manager-inbox", tmp_path)
        await logout(page)
        await login(page, "auditor")
        await page.click(f"#audit-rows li[data-no='{case_no}']")
        await page.wait_for_selector("#detail .timeline li")
        await no_horizontal_scroll(page)
    finally:
        await phone.close()


async def test_idle_page_logs_out(page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEHALL_UI_IDLE_SECONDS", "10")
    await page.reload()
    await login(page, "clerk")
    await expect(page.locator("#idle-warning")).to_be_visible(timeout=15_000)
    await expect(page.locator("#login-form")).to_be_visible(timeout=15_000)
    await expect(page.locator("#login-msg")).to_contain_text("长时间未操作")
    assert await page.evaluate("sessionStorage.getItem('casehall-token')") is None


async def test_api_docs_render_with_the_network_cut_off(page: Page, live_url: str) -> None:
    outside: list[str] = []

    async def only_local(route: Route) -> None:
        if route.request.url.startswith(live_url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_local)
    await page.goto(f"{live_url}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("casehall")
    await expect(page.locator(".opblock-tag-section").first).to_be_visible()
    await page.goto(f"{live_url}/redoc")
    await expect(page.locator("h1").first).to_contain_text("casehall")
    assert outside == []


async def test_inbox_refreshes_itself(page: Page, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEHALL_UI_REFRESH_SECONDS", "5")
    await page.reload()
    await login(page, "manager")
    await expect(page.locator("#refreshed")).to_contain_text("每 5 秒自动刷新")
    case_no = await register_via_api(http, accept=False, name="孙八")
    r = await http.post(f"/cases/{case_no}/veto", headers=await token(http, "clerk"),
                        json={"reasons": "重复申请", "legal_basis": "《行政许可法》第三十二条"})
    assert r.status_code == 200, r.text
    await expect(page.locator(f"#inbox-rows li[data-no='{case_no}']")).to_contain_text("重复申请", timeout=15_000)
