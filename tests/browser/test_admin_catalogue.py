"""The catalogue screen in a real browser: an administrator edits an item's time limit and adds a material (a wrong
time limit refused inside the editor, in Chinese, keeping what was typed), adds a section to the department tree and
reads the change log; the registration form of a clerk signed in since before the edit then offers the new material
and the new time limit, and no withdrawn item."""

from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import login, no_horizontal_scroll, screenshot, token


async def test_admin_edits_an_item_and_the_clerk_sees_it(page: Page, browser: Browser, live_url: str,
                                                         http: httpx.AsyncClient, tmp_path: Path) -> None:
    # a clerk is at work before the edit, in a browser of their own
    clerk_context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    clerk = await clerk_context.new_page()
    await clerk.goto(live_url)
    await login(clerk, "clerk")

    await login(page, "admin")
    await page.click("#admin-tabs [data-admin-tab=catalogue]")
    await expect(page.locator("#ac-tree li[data-code=MKT] > .node")).to_contain_text("市场监督管理局")

    # a section below market regulation, through the tree's form
    await page.locator("#ac-tree li[data-code=MKT] > .node [data-act=add]").click()
    dialog = page.locator("dialog[open]")
    await expect(dialog.locator("select[name=kind]")).to_have_value("section")
    await expect(dialog.locator("select[name=parent_code]")).to_have_value("MKT")
    await dialog.locator("input[name=code]").fill("MKT-FOOD")
    await dialog.locator("input[name=name]").fill("食品经营科")
    await dialog.locator("[data-submit]").click()
    await expect(page.locator("dialog[open]")).to_have_count(0)
    await expect(page.locator("#ac-tree li[data-code=MKT] li[data-code=MKT-FOOD]")).to_contain_text("科室")
    await screenshot(page, "admin-catalogue-tree", tmp_path)

    # the item editor: a wrong time limit is refused in the dialog, which keeps what was typed
    await page.click("#ac-views [data-view=items]")
    row = page.locator("#ac-item-table tr[data-code=MKT-001]")
    await expect(row).to_contain_text("个体工商户设立登记")
    await row.locator("[data-act=edit]").click()
    editor = page.locator("dialog.item-editor[open]")
    await expect(editor.locator(".material-row")).to_have_count(3)
    await editor.locator("#ie-limit").fill("5")
    await editor.locator("#ie-expedited").fill("9")
    await editor.locator("#ie-add").click()
    await editor.locator(".material-row .m-name").last.fill("食品安全承诺书")
    await editor.locator(".material-row .m-how").last.fill("申请人签字原件")
    await editor.locator("#ie-reason").fill("按新规定增加承诺书")
    await editor.locator("[data-submit]").click()
    refused = "加急时限（9 个工作日）不能长于法定时限（5 个工作日）"
    await expect(editor.locator(".dialog-error")).to_contain_text(refused)
    await expect(editor.locator(".material-row")).to_have_count(4)
    await editor.locator("#ie-expedited").fill("2")
    await screenshot(page, "admin-catalogue-item", tmp_path)
    await editor.locator("[data-submit]").click()
    await expect(page.locator("dialog.item-editor")).to_have_count(0)
    await expect(page.locator("#ac-msg .flash.ok")).to_contain_text("此后登记的办件按新规定办理")
    await expect(row).to_contain_text("5（加急 2）")
    await expect(row).to_contain_text("食品安全承诺书")

    # the change log says who changed what
    await row.locator("[data-act=history]").click()
    first = page.locator("#ac-log tbody tr").first
    await expect(first).to_contain_text("修改")
    await expect(first).to_contain_text("按新规定增加承诺书")
    await expect(first).to_contain_text("法定时限: 3 → 5")
    await expect(first).to_contain_text("申请材料: + 食品安全承诺书（主要材料）")
    await screenshot(page, "admin-catalogue-log", tmp_path)
    assert page.errors == []  # type: ignore[attr-defined]

    # the clerk, signed in since before the edit, opens the registration form: the catalogue as it is now,
    # without the withdrawn item
    r = await http.post("/items/SOCIAL-003/withdraw", headers=await token(http, "admin"), json={"reason": "测试"})
    assert r.status_code == 200, r.text
    try:
        await clerk.click("[data-tab=register]")
        await clerk.fill("#reg-search", "养老")
        await expect(clerk.locator("#reg-items label")).to_have_count(0)
        await clerk.fill("#reg-search", "个体")
        choice = clerk.locator("#reg-items label")
        await expect(choice).to_have_count(1)
        await expect(choice).to_contain_text("5 个工作日")
        await clerk.check("#reg-items input[value='MKT-001']")
        await expect(clerk.locator("#reg-materials .material")).to_have_count(4)
        new = clerk.locator("#reg-materials .material", has_text="食品安全承诺书")
        await expect(new.locator(".badge.main")).to_have_count(1)
    finally:
        await clerk_context.close()


async def test_the_catalogue_screen_fits_a_phone(page: Page) -> None:
    await page.set_viewport_size({"width": 390, "height": 800})
    await login(page, "admin")
    await page.click("#admin-tabs [data-admin-tab=catalogue]")
    await expect(page.locator("#ac-tree li[data-code=CITY]")).to_be_visible()
    await no_horizontal_scroll(page)
    await page.click("#ac-views [data-view=items]")
    await expect(page.locator("#ac-item-table tr[data-code=MKT-001]")).to_be_visible()
    await no_horizontal_scroll(page)
    assert page.errors == []  # type: ignore[attr-defined]
