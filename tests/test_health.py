"""GET /healthz: 200 when PostgreSQL and Temporal answer, 503 naming what is down."""

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.embedded import free_port


async def _health(settings: Settings, client: Client) -> httpx.Response:
    app = create_app(settings, client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://casehall"
    ) as http:
        return await http.get("/healthz")


async def test_healthy(settings: Settings, client: Client) -> None:
    r = await _health(settings, client)
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_database_down_is_named(client: Client) -> None:
    down = Settings(database_url=f"postgresql+asyncpg://casehall@127.0.0.1:{free_port()}/none")
    r = await _health(down, client)
    assert r.status_code == 503 and r.json()["database"].startswith("down") and r.json()["temporal"] == "ok"


async def test_temporal_down_is_named(settings: Settings) -> None:
    unreachable = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True,
                                       data_converter=pydantic_data_converter)
    r = await _health(settings, unreachable)
    assert r.status_code == 503 and r.json()["status"] == "down: temporal" and r.json()["database"] == "ok"
