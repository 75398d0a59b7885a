"""The assessment tab: the ranking of a level, a unit's figures with the trend of each rate drawn as SVG charts, the
drill-down to the orders behind a figure and their chain check; a unit head's tab shows their unit only."""

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.assessment.report import run_month
from casehall.models.assessment import ComputeReportInput, ReportConfig
from tests.assessment.data import on_demo_units, store_events
from tests.assessment.test_rates import march_orders
from tests.browser.conftest import login, screenshot


@pytest.fixture(scope="module")
async def reports(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await store_events(session, on_demo_units(march_orders()))
    for month in ("2026-02", "2026-03", "2026-04"):
        await run_month(sessions, ComputeReportInput(period=month, config=ReportConfig()))


async def test_the_dashboard_draws_the_trend_and_drills_down(reports: None, page: Page, tmp_path: Path) -> None:
    await login(page, "auditor")
    await page.click("#assessment-tabs button[data-tab=assessment]")
    await page.select_option("#as-period", "2026-03")
    await page.fill("#as-level", "2")
    await page.dispatch_event("#as-level", "change")
    row = page.locator("#as-table tr[data-unit='D01-S01']")
    await row.wait_for()
    assert "68.86" in await row.inner_text()
    await row.locator("a.as-unit").click()
    await page.wait_for_selector("#as-figures")
    charts = page.locator("#as-charts svg.trend-chart")
    await charts.first.wait_for()
    assert await charts.count() == 12  # every rate with a denominator
    # three stored months: three points on the response chart; satisfaction has none in April (nobody called back)
    response = page.locator("figure.trend", has_text="响应率").locator("svg")
    assert await response.locator("circle").count() == 3 and await response.locator("path").count() == 1
    satisfaction = page.locator("figure.trend", has_text="满意率").locator("svg")
    assert await satisfaction.locator("circle title").all_text_contents() == ["2026-02: 100.00%", "2026-03: 80.00%"]
    await page.click("#as-figures a.as-drill[data-rate=one_time][data-part=numerator]")
    await page.wait_for_selector("#as-drill-table")
    assert [t.strip() for t in await page.locator("#as-drill-table tr td:first-child").all_inner_texts()] == ["A", "B"]
    await page.locator("#as-drill-table a", has_text="哈希链核验").first.click()
    await page.wait_for_function("document.querySelector('#as-proof').textContent.includes('\"ok\": true')")
    await screenshot(page, "assessment-dashboard", tmp_path)
    assert page.errors == []  # type: ignore[attr-defined]


async def test_a_unit_head_sees_their_unit_only(reports: None, page: Page) -> None:
    await login(page, "street-head")
    await page.click("#assessment-tabs button[data-tab=assessment]")
    await page.select_option("#as-period", "2026-03")
    await page.wait_for_selector("#as-figures")
    assert [u for u in await page.locator("#as-table tr[data-unit]").evaluate_all(
        "rows => rows.map(r => r.dataset.unit)")] == ["D01-S01"]
    assert await page.locator("#as-charts svg.trend-chart").count() == 12
    assert page.errors == []  # type: ignore[attr-defined]


async def test_late_answers_never_draw_over_the_work_screen_or_a_newer_choice(reports: None, page: Page) -> None:
    """Figures answer late: the user has gone back to work, or chosen another month meanwhile."""
    delays = {"2026-02": 1.5}  # this month's figures answer slowest

    async def slow(route: Route) -> None:
        month = next((m for m in ("2026-02", "2026-03", "2026-04") if m in route.request.url), "")
        await asyncio.sleep(delays.get(month, 0.4))
        await route.continue_()

    await page.route(re.compile(r"/assessment/"), slow)
    await login(page, "auditor")
    for _ in range(2):  # to the figures and straight back, faster than they answer
        await page.click("#assessment-tabs button[data-tab=assessment]")
        await page.click("#assessment-tabs button[data-tab=work]")
    await page.wait_for_timeout(2500)
    await expect(page.locator("#assessment")).to_have_count(0)
    await expect(page.locator("#audit-views")).to_be_visible()

    await page.click("#assessment-tabs button[data-tab=assessment]")
    await page.select_option("#as-period", "2026-03")
    await page.fill("#as-level", "2")
    await page.dispatch_event("#as-level", "change")
    await page.locator("#as-table tr[data-unit='D01-S01'] a.as-unit").click()
    await expect(page.locator("#as-unit-title")).to_contain_text("2026-03")
    await page.select_option("#as-period", "2026-02")  # slow
    await page.select_option("#as-period", "2026-04")  # chosen last, answers first
    await page.wait_for_timeout(3000)  # the slow answer has come
    await expect(page.locator("#as-unit-title")).to_contain_text("2026-04")
    assert page.errors == []  # type: ignore[attr-defined]
