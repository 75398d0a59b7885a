"""Browser journeys: the app served by uvicorn on the suite's database and time-skipping Temporal, driven by
Playwright through Debian's Chromium (Playwright's own browser download is not used)."""

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.embedded import free_port
from casehall.stack.seed import DEMO_PASSWORD

CHROMIUM = os.environ.get("CASEHALL_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
async def live_url(client: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
                   ) -> AsyncIterator[str]:
    """The whole app on a free port, in the test's event loop (it shares the Temporal client and worker)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, client), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def chromium_present() -> bool:
    return Path(CHROMIUM).exists()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not chromium_present():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `apt-get install -y chromium` (browser tests need it)",
                    pytrace=False)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        await b.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN",
                                    timezone_id="Asia/Shanghai", accept_downloads=True)
    ctx.set_default_timeout(20_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext, live_url: str) -> Page:
    p = await context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.errors = errors  # type: ignore[attr-defined]
    await p.goto(live_url)
    return p


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_url, timeout=60) as c:
        yield c


async def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-btn")
    await page.wait_for_selector("#screen")


async def logout(page: Page) -> None:
    await page.click("#logout")
    await page.wait_for_selector("#login-form")


async def token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def screenshot(page: Page, name: str, tmp: Path) -> Path:
    """Into docs/screenshots when CASEHALL_SCREENSHOTS=1 (to refresh the committed pictures), else a temp dir."""
    target = SCREENSHOTS if os.environ.get("CASEHALL_SCREENSHOTS") == "1" else tmp
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    inner = await page.evaluate("window.innerWidth")
    assert width <= inner, f"the page is {width}px wide in a {inner}px window"


ALL_MKT = ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]
ID_NUMBER = "220201199001011238"



async def register_via_api(http: httpx.AsyncClient, clerk: str = "clerk", accept: bool = True,
                           name: str = "张三") -> str:
    headers = await token(http, clerk)
    r = await http.post("/cases", headers=headers, json={
        "item_code": "MKT-001", "description": "申请人称经营场所为住宅，需核实用途",
        "applicant": {"name": name, "phone": "13800138000", "id_number": ID_NUMBER}, "submitted_materials": ALL_MKT})
    assert r.status_code == 201, r.text
    case_no: str = r.json()["case_no"]
    if accept:
        r = await http.post(f"/cases/{case_no}/accept", headers=headers)
        assert r.status_code == 200, r.text
    return case_no


async def status_of(http: httpx.AsyncClient, case_no: str) -> str:
    r = await http.get(f"/cases/{case_no}", headers=await token(http, "auditor"))
    status: str = r.json()["status"]
    return status
