"""The auditor's screen in a real browser: the two logs of administrators' changes (accounts, catalogue) read in
words with their filters and pages; switching views while lists are still loading leaves no error in the console
(an answer that comes after its view was left is dropped)."""

import asyncio
import re
from pathlib import Path

import httpx
from playwright.async_api import ConsoleMessage, Page, Route, expect

from tests.browser.conftest import login, no_horizontal_scroll, screenshot, token

PASSWORD = "Window-2026"


async def test_auditor_reads_the_account_and_catalogue_changes(page: Page, http: httpx.AsyncClient,
                                                                tmp_path: Path) -> None:
    admin = await token(http, "admin")
    r = await http.post("/admin/users", headers=admin, json={
        "username": "zhao.clerk", "display_name": "赵窗口", "role": "clerk", "department_code": "MKT",
        "password": PASSWORD})
    assert r.status_code == 201, r.text
    for n in range(20):  # 22 changes of one account: two pages of 20
        r = await http.patch("/admin/users/zhao.clerk", headers=admin, json={"display_name": f"赵窗口{n}"})
        assert r.status_code == 200, r.text
    r = await http.post("/admin/users/zhao.clerk/disable", headers=admin)
    assert r.status_code == 200, r.text
    r = await http.post("/departments", headers=admin, json={
        "code": "MKT-LIC", "name": "许可审批科", "kind": "section", "parent_code": "MKT", "reason": "机构设置"})
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    for n in range(21):  # 22 changes of one department: two pages of 20
        r = await http.patch("/departments/MKT-LIC", headers=admin,
                             json={"version": version, "name": f"行政许可{n}科", "reason": f"第{n}次更名"})
        assert r.status_code == 200, r.text
        version = r.json()["version"]

    await login(page, "auditor")
    views = page.locator("#audit-views button")
    await expect(views).to_have_text(["案件查询", "账号变更记录", "事项目录变更"])

    # the account changes: newest first, in words, filtered by account and by administrator, two pages
    await page.click("#audit-views [data-view=accounts]")
    rows = page.locator("#al-table tbody tr")
    await expect(rows.first).to_contain_text("已停用")
    await expect(rows.first).to_contain_text("在用: 是 → 否")
    await page.fill("#al-target", "zhao.clerk")
    await page.click("#al-filter button")
    await expect(page.locator("#al-list .pager")).to_contain_text("第 1-20 条，共 22 条")
    await expect(rows).to_have_count(20)
    await expect(rows.nth(1)).to_contain_text("姓名: 赵窗口18 → 赵窗口19")
    await expect(rows.nth(1)).to_contain_text("admin")
    await page.click("#al-list [data-move='1']")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("新建账号")
    await expect(rows.nth(1)).to_contain_text("窗口工作人员")  # the role in words
    await expect(rows.nth(1)).not_to_contain_text(PASSWORD)
    table = await page.locator("#al-table").inner_text()
    assert "{" not in table and '"' not in table, table  # never a JSON dump
    await page.fill("#al-by", "nobody")
    await page.click("#al-filter button")
    await expect(page.locator("#al-list")).to_contain_text("没有记录")
    await page.fill("#al-by", "admin")
    await page.select_option("#al-action", "disable")
    await page.click("#al-filter button")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("zhao.clerk")

    # the catalogue changes: by code, newest first, before → after with the reason; older and newer pages
    await page.click("#audit-views [data-view=catalogue]")
    await page.fill("#cl-code", "MKT-LIC")
    await page.click("#cl-filter button")
    rows = page.locator("#cl-table tbody tr")
    await expect(rows).to_have_count(20)
    await expect(rows.first).to_contain_text("名称: 行政许可19科 → 行政许可20科")
    await expect(rows.first).to_contain_text("第20次更名")
    await screenshot(page, "auditor-catalogue-changes", tmp_path)
    await expect(page.locator("#cl-list [data-page=newer]")).to_be_disabled()
    await page.click("#cl-list [data-page=older]")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("新建")
    await expect(rows.nth(1)).to_contain_text("名称: 许可审批科")  # a creation by its facts
    await expect(rows.nth(1)).to_contain_text("机构设置")
    table = await page.locator("#cl-table").inner_text()
    assert "{" not in table and '"' not in table, table
    await page.click("#cl-list [data-page=newer]")
    await expect(rows).to_have_count(20)
    await page.fill("#cl-by", "nobody")  # by administrator: nobody of that name changed anything
    await page.click("#cl-filter button")
    await expect(page.locator("#cl-list")).to_contain_text("没有变更记录")
    await page.fill("#cl-by", "admin")
    await page.click("#cl-filter button")
    await expect(rows).to_have_count(20)
    await page.select_option("#cl-entity", "item")
    await page.click("#cl-filter button")
    await expect(page.locator("#cl-list")).to_contain_text("没有变更记录")

    # back to the cases, and the logs fit a phone
    await page.click("#audit-views [data-view=cases]")
    await expect(page.locator("#audit-search")).to_be_visible()
    await page.set_viewport_size({"width": 390, "height": 800})
    await page.click("#audit-views [data-view=accounts]")
    await expect(page.locator("#al-table tbody tr").first).to_be_visible()
    await no_horizontal_scroll(page)
    assert page.errors == []  # type: ignore[attr-defined]


async def test_switching_views_while_lists_load_leaves_no_error(page: Page) -> None:
    console: list[str] = []

    def seen(m: ConsoleMessage) -> None:
        if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico"):  # the browser asks for one
            console.append(f"{m.text} {m.location}")

    page.on("console", seen)

    async def slow(route: Route) -> None:  # every list answers late: the user has moved on meanwhile
        await asyncio.sleep(0.8)
        await route.continue_()

    await page.route(re.compile(r"/(cases|admin/changes|catalogue/changes)\?"), slow)
    await login(page, "auditor")
    # to the assessment (its own lists answer at once) and back, and through every log, faster than the answers
    for _ in range(2):
        await page.click("#assessment-tabs [data-tab=assessment]")
        await expect(page.locator("#as-table")).to_be_visible()
        await page.click("#assessment-tabs [data-tab=work]")
        for view in ("accounts", "catalogue", "cases", "accounts", "catalogue"):
            await page.click(f"#audit-views [data-view={view}]")
    await page.click("#audit-views [data-view=accounts]")
    await page.wait_for_timeout(2500)  # every late answer has come
    await expect(page.locator("#al-table")).to_be_visible()
    await expect(page.locator("#audit-rows")).to_have_count(0)  # no late list of cases drawn over the log
    await expect(page.locator("#audit-accounts .flash")).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]
    assert console == []
