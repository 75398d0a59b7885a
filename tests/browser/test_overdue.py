"""Tasks that appear when time passes, in the browser: an overdue supplement and an escalated veto. The test
server's clock is skipped forward, so this module has its own Temporal environment and database."""

from datetime import timedelta

import httpx
from playwright.async_api import Page, expect
from temporalio.testing import WorkflowEnvironment

from tests.browser.conftest import ALL_MKT, ID_NUMBER, login, logout, register_via_api, status_of, token
from tests.cases import eventually, travel_to


async def test_overdue_supplement_and_escalated_veto_are_actionable(page: Page, http: httpx.AsyncClient,
                                                                    time_env: WorkflowEnvironment) -> None:
    clerk = await token(http, "clerk")
    r = await http.post("/cases", headers=clerk, json={
        "item_code": "MKT-001", "applicant": {"name": "赵六", "phone": "13800138000", "id_number": ID_NUMBER},
        "submitted_materials": ALL_MKT[:2]})
    assert r.status_code == 201, r.text
    late = r.json()["case_no"]
    assert (await http.post(f"/cases/{late}/accept", headers=clerk)).status_code == 200
    vetoed = await register_via_api(http, accept=False, name="钱七")
    r = await http.post(f"/cases/{vetoed}/veto", headers=clerk,
                        json={"reasons": "不符合登记条件", "legal_basis": "《个体工商户条例》第八条"})
    assert r.status_code == 200, r.text

    await travel_to(time_env, await time_env.get_current_time() + timedelta(days=14))

    async def overdue() -> bool:
        return await status_of(http, late) == "supplement_overdue"

    await eventually(overdue)
    director = await token(http, "director")

    async def escalated() -> bool:
        tasks = (await http.get("/inbox", headers=director)).json()
        return any(t["case_no"] == vetoed and t["kind"] == "veto" for t in tasks)

    await eventually(escalated)

    await login(page, "manager")
    task = page.locator(f"#inbox-rows li[data-no='{late}'][data-kind=supplement_overdue]")
    await expect(task).to_contain_text("补正逾期")
    await task.click()
    await expect(page.locator("#detail .case-head .badge")).to_have_text("补正逾期")
    await page.click("#detail [data-act=overdue]")
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text("从业人员情况说明")
    await dialog.locator("input[name=choice][value=extend]").check()
    await dialog.locator("input[name=days]").fill("3")
    await dialog.locator("[data-submit]").click()
    await expect(page.locator("#detail .case-head .badge")).to_have_text("容缺受理·待补正")
    await expect(page.locator(f"#inbox-rows li[data-no='{late}']")).to_have_count(0)
    assert await status_of(http, late) == "awaiting_supplement"
    await logout(page)

    await login(page, "director")  # the escalated veto: the director sees the reasons and decides
    task = page.locator(f"#inbox-rows li[data-no='{vetoed}'][data-kind=veto]")
    await expect(task).to_contain_text("不符合登记条件")
    await task.click()
    await page.click("#detail [data-act=veto-refuse]")
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=instruction][value=accept]").check()
    await dialog.locator("[data-submit]").click()
    await expect(page.locator("#detail .case-head .badge")).to_have_text("办理中")
    assert await status_of(http, vetoed) == "in_handling"
