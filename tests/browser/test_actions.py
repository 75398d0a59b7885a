"""Every action in context, in the browser: several matters, handover, home visit, callback in five Chinese grades
and the rectification it opens, joint consultation across departments, assisted handling."""

import re

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import login, logout, register_via_api, status_of, token

GRADES = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


async def case_of(http: httpx.AsyncClient, case_no: str) -> dict[str, object]:
    r = await http.get(f"/cases/{case_no}", headers=await token(http, "manager"))
    assert r.status_code == 200, r.text
    data: dict[str, object] = r.json()
    return data


async def events_of(http: httpx.AsyncClient, case_no: str) -> list[dict[str, object]]:
    r = await http.get(f"/cases/{case_no}/events", headers=await token(http, "manager"))
    events: list[dict[str, object]] = r.json()
    return events


async def dialog_submit(page: Page) -> None:
    await page.locator("dialog[open] [data-submit]").click()
    await expect(page.locator("dialog[open]")).to_have_count(0)


async def test_several_matters_at_one_window(page: Page, http: httpx.AsyncClient) -> None:
    await login(page, "clerk")
    await page.click("[data-tab=several]")
    await page.fill("#sev-name", "某某建设有限公司")
    await page.check("input[name=sev-kind][value=company]")
    await expect(page.locator("label[for=sev-name]")).to_contain_text("企业名称")
    await page.fill("#sev-phone", "043112345678")
    await page.fill("#sev-id", "91220200MA0Y00008W")
    await page.check("#m1-items input[value='MKT-001']")
    await page.check("#m1-materials input[value='经营者身份证明']")
    await page.check("#m1-materials input[value='经营场所使用证明']")
    await page.check("#m2-items input[value='HOUSING-002']")
    for name in ("施工合同", "施工图审查合格书"):
        await page.check(f"#m2-materials input[value='{name}']")
    await page.click("#several-btn")
    await expect(page.locator("#several-msg .flash.ok")).to_contain_text("2 个事项")
    case_no = re.search(r"HALL-\d{8}-\d+", await page.inner_text("#several-msg"))
    assert case_no
    await expect(page.locator("#sev-name")).to_have_value("")
    matters = page.locator("#detail .matters li")
    await expect(matters).to_have_count(2)
    await expect(matters.nth(1)).to_contain_text("建筑工程施工许可")
    children = (await http.get(f"/cases/{case_no.group(0)}/matters", headers=await token(http, "clerk"))).json()
    assert [c["department_code"] for c in children] == ["MKT", "HOUSING"]


async def test_handover_and_home_visit_from_the_case(page: Page, http: httpx.AsyncClient) -> None:
    case_no = await register_via_api(http)
    await login(page, "clerk")
    await page.click(f"#case-rows li[data-no='{case_no}']")
    await page.click("#detail [data-act=handling]")
    dialog = page.locator("dialog[open]")
    await expect(dialog.locator("[data-field=address]")).to_be_hidden()
    await dialog.locator("input[name=mode][value=home_visit]").check()
    await dialog.locator("[data-submit]").click()  # a home visit needs a time: refused in the dialog
    await expect(dialog.locator(".dialog-error")).to_contain_text("预约时间")
    await dialog.locator("input[name=appointment]").fill("2030-03-04T10:30")
    await dialog.locator("input[name=address]").fill("吉林市船营区某街 1 号")
    await dialog_submit(page)
    await expect(page.locator("#detail .history")).to_contain_text("上门服务")
    arranged = [e for e in await events_of(http, case_no) if e["type"] == "handling_arranged"]
    assert arranged and arranged[0]["payload"]["appointment_at"].startswith("2030-03-04T10:30:00+08:00")  # type: ignore[index]
    await page.click("#detail [data-act=handover]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("select[name=to]").select_option("clerk2")
    await dialog.locator("textarea[name=reason]").fill("轮岗")
    await dialog_submit(page)
    await expect(page.locator("#detail .history")).to_contain_text("→ clerk2 · 轮岗")
    assert (await case_of(http, case_no))["clerk_id"] != (await case_of(http, case_no))["first_clerk_id"]
    await logout(page)
    await login(page, "clerk2")
    await expect(page.locator(f"#case-rows li[data-no='{case_no}']")).to_have_count(1)


async def test_callback_in_five_chinese_grades_then_the_manager_rectifies(page: Page, http: httpx.AsyncClient) -> None:
    case_no = await register_via_api(http)
    await login(page, "clerk")
    await page.click(f"#case-rows li[data-no='{case_no}']")
    await page.click("#detail [data-act=complete]")
    await page.locator("dialog[open] textarea[name=result]").fill("已核发营业执照")
    await dialog_submit(page)
    await expect(page.locator("#detail .case-head .badge")).to_have_text("待回访")
    await page.click("#detail [data-act=callback]")
    dialog = page.locator("dialog[open]")
    await expect(dialog.locator("label.choice")).to_have_text(GRADES)
    assert "very_satisfied" not in await dialog.inner_text()
    await dialog.locator("label.choice", has_text=re.compile("^\\s*不满意\\s*$")).locator("input").check()
    await dialog.locator("textarea[name=comment]").fill("等待时间太长")
    await dialog_submit(page)
    await expect(page.locator("#detail .case-head .badge")).to_have_text("整改中")
    await logout(page)

    await login(page, "manager")
    await page.select_option("#kind-filter", "rectification")
    task = page.locator(f"#inbox-rows li[data-no='{case_no}']")
    await expect(task).to_contain_text("回访整改")
    await expect(page.locator("#inbox-rows li[data-kind=veto]")).to_have_count(0)
    await task.click()
    await page.click("#detail [data-act=rectify]")
    await page.locator("dialog[open] textarea[name=result]").fill("已约谈窗口并优化排队流程")
    await dialog_submit(page)
    await expect(page.locator("#detail .case-head .badge")).to_have_text("已办结")
    assert await status_of(http, case_no) == "closed"


async def test_joint_consultation_across_departments(page: Page, http: httpx.AsyncClient) -> None:
    case_no = await register_via_api(http)
    await login(page, "clerk")
    await page.click(f"#case-rows li[data-no='{case_no}']")
    await page.click("#detail [data-act=consult]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=departments][value=HOUSING]").check()
    await dialog.locator("textarea[name=question]").fill("住宅能否登记为经营场所？")
    await dialog_submit(page)
    await expect(page.locator("#detail .case-head .badge")).to_have_text("联合会商中")
    await logout(page)

    await login(page, "manager-housing")
    await page.click("[data-tab=consultations]")
    row = page.locator(f"#consult-rows li[data-no='{case_no}']")
    await expect(row).to_contain_text("待本部门答复")
    await row.click()
    await page.click("#detail [data-c-act=answer]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=decision][value=agree_with_conditions]").check()
    await dialog.locator("textarea[name=text]").fill("取得住改商证明后可以")
    await dialog_submit(page)
    await expect(page.locator("#detail .consultation")).to_contain_text("有条件同意")
    await logout(page)

    await login(page, "manager")
    await page.click("[data-tab=consultations]")
    await page.click(f"#consult-rows li[data-no='{case_no}']")
    await page.click("#detail [data-c-act=conclude]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=decision][value=accept]").check()
    await dialog.locator("textarea[name=reasons]").fill("按住建部门意见，补交证明后办理")
    await dialog.locator("input[name=follows][value=HOUSING]").check()
    await dialog_submit(page)
    await expect(page.locator("#detail .case-head .badge")).not_to_have_text("联合会商中", timeout=30_000)
    await expect(page.locator("#detail .consultation")).to_contain_text("会商结论")


async def test_assisted_handling_helper_sees_and_signs(page: Page, http: httpx.AsyncClient) -> None:
    case_no = await register_via_api(http)
    await login(page, "manager")
    await page.click("[data-tab=search]")
    await page.fill("#s-q", case_no)
    await page.click("#search-form button")
    await expect(page.locator("#search-count")).to_have_text("共 1 件")  # a case number: one case
    said = await page.evaluate("""async () => { const {casesCountText} = await import("/static/js/ui.js");
        return [{total: 201, total_exact: false, more_than: 200}, {total: 110866, total_exact: false, more_than: 1000},
                {total: 9, total_exact: true, more_than: null}].map(casesCountText); }""")
    assert said == ["超过 200 件", "约 110866 件", "共 9 件"]  # a text search past its cap, an estimate, a count
    await page.click(f"#search-rows li[data-no='{case_no}']")
    await page.click("#detail [data-act=helper]")
    await page.locator("dialog[open] select[name=helper]").select_option("clerk2")
    await dialog_submit(page)
    await expect(page.locator("#detail .history")).to_contain_text("指定帮办员")
    await logout(page)
    await login(page, "clerk2")
    await page.click("[data-tab=assisted]")
    await page.click(f"#assisted-rows li[data-no='{case_no}']")
    await page.click("#detail [data-act=sign]")
    await page.locator("dialog[open] input[name=document]").fill("申请书")
    await dialog_submit(page)
    await expect(page.locator("#detail .history")).to_contain_text("代申请人签字")
    assert [e["type"] for e in await events_of(http, case_no)][-1] == "signed_on_behalf"
