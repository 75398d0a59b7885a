"""Shared steps of the hotline scenarios: log-ins, intake, reading an order and its events through the API."""

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle

from casehall.stack.seed import DEMO_PASSWORD
from casehall.store import hotline_queries as hq
from tests.cases import eventually

STREET = "D01-S01"  # 朝阳区红旗街道, under D01 朝阳区, under the centre 12345
DISTRICT = "D01"


async def login(api: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await api.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


class Hotline:
    """The API as the hotline's people use it: one header per demo user."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.headers: dict[str, dict[str, str]] = {}

    async def as_(self, username: str) -> dict[str, str]:
        if username not in self.headers:
            self.headers[username] = await login(self.api, username)
        return self.headers[username]

    async def post(self, username: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.api.post(path, json=body, headers=await self.as_(username))

    async def get(self, username: str, path: str, **params: Any) -> httpx.Response:
        return await self.api.get(path, params=params, headers=await self.as_(username))

    async def intake(self, **fields: Any) -> dict[str, Any]:
        body = {"caller": {"name": "王女士", "phone": "13900000001"},
                "location": {"address": "朝阳区红旗街道人民大街100号"}, "content": "小区门口道路有大坑，车辆无法通行",
                "kind": "normal", "category_code": "080101", "new_order": True} | fields
        r = await self.post("operator", "/orders", body)
        assert r.status_code == 201, r.text
        filed: dict[str, Any] = r.json()
        return filed

    async def order(self, order_no: str, user: str = "dispatcher") -> dict[str, Any]:
        r = await self.get(user, f"/orders/{order_no}")
        assert r.status_code == 200, r.text
        order: dict[str, Any] = r.json()
        return order

    async def events(self, order_no: str, user: str = "dispatcher") -> list[dict[str, Any]]:
        r = await self.get(user, f"/orders/{order_no}/events")
        assert r.status_code == 200, r.text
        events: list[dict[str, Any]] = r.json()
        return events

    async def types(self, order_no: str) -> list[str]:
        return [e["type"] for e in await self.events(order_no)]

    async def until_event(self, order_no: str, event: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait for the worker to record ``count`` events of type ``event`` (timers fired by skipped time)."""

        async def recorded() -> bool:
            return (await self.types(order_no)).count(event) >= count

        await eventually(recorded)
        return [e for e in await self.events(order_no) if e["type"] == event]

    async def dispatched(self, unit: str = STREET, **fields: Any) -> dict[str, Any]:
        filed = await self.intake(**fields)
        no = filed["order"]["order_no"]
        r = await self.post("dispatcher", f"/orders/{no}/dispatch", {"lead_unit": unit})
        assert r.status_code == 200, r.text
        order: dict[str, Any] = r.json()
        order["public_code"] = filed["public_code"]
        return order


async def figures(sessions: async_sessionmaker[AsyncSession], unit: str) -> dict[str, Any]:
    async with sessions() as s:
        return await hq.unit_figures(s, unit)


async def history(h: WorkflowHandle[Any, Any]) -> Any:
    return await h.fetch_history()
