"""The administrator's screen in a real browser: an admin creates a clerk (a weak password refused in the dialog),
the clerk signs in, the admin disables them and the clerk's open session is refused at its next click; locks are
lifted with a button; the sign-in log and the account changes show what happened; a phone-width screen fits."""

from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.models.tables import Department
from tests.browser.conftest import login, no_horizontal_scroll, screenshot, token

PASSWORD = "Window-2026"


async def submit(page: Page) -> None:
    await page.locator("dialog[open] [data-submit]").click()
    await expect(page.locator("dialog[open]")).to_have_count(0)


async def test_admin_creates_a_clerk_then_disables_them_and_the_session_ends(
        page: Page, browser: Browser, live_url: str, http: httpx.AsyncClient, tmp_path: Path,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():  # a department taken out of use is not offered for an account
        s.add(Department(code="OLD", name="已撤并的科室", kind="department", parent_code="CITY", active=False))
    await login(page, "admin")
    await expect(page.locator("#admin-tabs [aria-selected=true]")).to_have_text("用户账号")
    await expect(page.locator("#au-user-table tr[data-username=clerk]")).to_contain_text("王窗口")

    # create: the server's password policy answers inside the dialog, which keeps what was typed
    await page.click("#au-new")
    dialog = page.locator("dialog[open]")
    await expect(dialog.locator("select[name=department_code] option[value=MKT]")).to_have_count(1)
    await expect(dialog.locator("select[name=department_code] option[value=OLD]")).to_have_count(0)
    await dialog.locator("input[name=username]").fill("liu.clerk")
    await dialog.locator("input[name=display_name]").fill("刘窗口")
    await dialog.locator("select[name=department_code]").select_option("MKT")
    await dialog.locator("input[name=password]").fill("short")
    await dialog.locator("input[name=again]").fill("short")
    await dialog.locator("[data-submit]").click()
    await expect(dialog.locator(".dialog-error")).to_contain_text("密码至少需要 10 个字符")
    await dialog.locator("input[name=password]").fill(PASSWORD)
    await dialog.locator("input[name=again]").fill(PASSWORD + "x")
    await dialog.locator("[data-submit]").click()
    await expect(dialog.locator(".dialog-error")).to_have_text("两次输入的密码不一致。")
    await dialog.locator("input[name=again]").fill(PASSWORD)
    await submit(page)
    await expect(page.locator("#au-msg .flash.ok")).to_contain_text("用户 liu.clerk 已创建")
    row = page.locator("#au-user-table tr[data-username='liu.clerk']")
    await expect(row).to_contain_text("刘窗口")
    await expect(row).to_contain_text("窗口工作人员")
    await expect(row).to_contain_text("在用")

    # the clerk signs in in another browser and works
    clerk_context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        clerk = await clerk_context.new_page()
        await clerk.goto(live_url)
        await login(clerk, "liu.clerk", PASSWORD)
        await clerk.click("[data-tab=register]")
        await expect(clerk.locator("#reg-search")).to_be_visible()

        # the admin disables them
        await page.fill("#au-q", "liu")
        await page.click("#au-filter button:not([type=button])")
        await expect(page.locator("#au-user-table tbody tr")).to_have_count(1)
        await row.locator("[data-act=disable]").click()
        await expect(page.locator("dialog[open]")).to_contain_text("正在使用的会话立即结束")
        await submit(page)
        await expect(page.locator("#au-msg .flash.ok")).to_contain_text("liu.clerk 已停用")
        await expect(row).to_contain_text("已停用")
        await expect(row.locator("[data-act=enable]")).to_be_visible()

        # the clerk's next click is refused: back at the log-in, and signing in again is refused
        await clerk.click("[data-tab=cases]")
        await expect(clerk.locator("#login-msg")).to_contain_text("登录已失效，请重新登录")
        await clerk.fill("#username", "liu.clerk")
        await clerk.fill("#password", PASSWORD)
        await clerk.click("#login-btn")
        await expect(clerk.locator("#login-msg")).to_contain_text("该账号已停用")
    finally:
        await clerk_context.close()

    # the sign-in log and the account changes tell the story
    await page.click("#au-views [data-view=sign-ins]")
    await page.fill("#au-log-user", "liu.clerk")
    await page.click("#au-log-filter button")
    outcomes = page.locator("#au-log-table tbody tr td:nth-child(3)")
    await expect(outcomes).to_have_text(["账号已停用", "登录成功"])
    await page.click("#au-views [data-view=changes]")
    await page.fill("#au-change-target", "liu.clerk")
    await page.click("#au-change-filter button")
    changes = page.locator("#au-change-table tbody tr")
    await expect(changes).to_have_count(2)
    await expect(changes.nth(0)).to_contain_text("已停用")
    await expect(changes.nth(0)).to_contain_text("在用: 是 → 否")
    await expect(changes.nth(1)).to_contain_text("新建账号")
    await expect(changes.nth(1)).not_to_contain_text(PASSWORD)
    await screenshot(page, "admin-changes", tmp_path)

    # a lock after failed log-ins, lifted with a button
    for _ in range(5):
        r = await http.post("/auth/login", json={"username": "clerk2", "password": "wrong-password-1"})
        assert r.status_code == 401
    await page.click("#au-views [data-view=locks]")
    lock = page.locator("#au-lock-table tbody tr", has_text="clerk2")
    await expect(lock).to_have_count(1)
    await lock.locator("[data-unlock]").click()
    await expect(page.locator("#au-msg .flash.ok")).to_contain_text("已解除 clerk2 的锁定")
    await expect(page.locator("#au-lock-table tbody tr", has_text="clerk2")).to_have_count(0)
    assert (await http.get("/auth/me", headers=await token(http, "clerk2"))).status_code == 200

    # the admin's former screen, the cases, is one tab away; and the screen fits a phone
    await page.click("#admin-tabs [data-admin-tab=cases]")
    await expect(page.locator("#audit-search")).to_be_visible()
    await expect(page.locator("#audit-rows li").first).to_be_visible()  # loaded (auditor.js writes it when it comes)
    await page.click("#admin-tabs [data-admin-tab=users]")
    await page.click("#au-views [data-view=users]")
    await page.set_viewport_size({"width": 390, "height": 800})
    await expect(page.locator("#au-user-table")).to_be_visible()
    await no_horizontal_scroll(page)
    assert page.errors == []  # type: ignore[attr-defined]
