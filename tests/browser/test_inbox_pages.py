"""The manager's inbox in pages: the oldest 100 tasks first, the count of them all, the rest on "Show more"."""

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.models.tables import Task
from tests.browser.conftest import login, register_via_api, token


async def test_a_long_inbox_shows_its_first_page_and_the_rest_on_demand(
        page: Page, http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    case_no = await register_via_api(http, accept=False, name="周九")
    start = datetime.now(UTC) - timedelta(days=30)
    async with sessions.begin() as session:  # 130 rectification tasks of one case waiting for MKT's manager
        session.add_all(Task(case_no=case_no, opened_seq=100 + i, kind="rectification", role="manager",
                             department_code="MKT", summary=f"整改事项{i:03d}", opened_at=start + timedelta(minutes=i),
                             due_at=start + timedelta(days=60)) for i in range(130))
    total = int((await http.get("/inbox?limit=1", headers=await token(http, "manager"))).headers["X-Total-Count"])
    assert total >= 130

    await login(page, "manager")
    rows = page.locator("#inbox-rows li[data-no]")
    await expect(rows).to_have_count(100)
    await expect(page.locator("#inbox-count")).to_have_text(str(total))
    await expect(page.locator("#inbox-paging")).to_contain_text(f"已显示最早的 100 条，共 {total} 条待办")
    await expect(page.locator("#inbox-rows")).not_to_contain_text("整改事项129")
    await page.click("#inbox-more")
    await expect(rows).to_have_count(total)
    await expect(page.locator("#inbox-rows")).to_contain_text("整改事项129")
    await expect(page.locator("#inbox-more")).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]

