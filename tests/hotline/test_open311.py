"""Open311 GeoReport v2: a form-encoded POST files a hotline order; the PyPI ``georeport`` client reads our services,
a service definition and the request back over real HTTP (uvicorn on a loopback port); errors are the spec's list."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from georeport import GeoReport
from temporalio.client import Client

from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.embedded import free_port
from casehall.stack.hotline_seed import DEMO_OPEN311_KEY
from tests.hotline.steps import Hotline

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
async def served(client: Client, settings: Settings) -> AsyncIterator[str]:
    """The app on a loopback port, for a client that speaks HTTP itself."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, client), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(100):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/open311/v2"
    server.should_exit = True
    await task


async def post(api: httpx.AsyncClient, **fields: str) -> httpx.Response:
    return await api.post("/open311/v2/requests.json", content=httpx.QueryParams(fields).__str__(), headers=FORM)


async def test_post_files_an_order_and_georeport_reads_it(api: httpx.AsyncClient, served: str) -> None:
    r = await post(api, api_key=DEMO_OPEN311_KEY, service_code="080101", lat="43.8868", long="125.3245",
                   address_string="朝阳区红旗街道人民大街200号", description="路面塌陷，有安全隐患",
                   first_name="Lei", last_name="Li", phone="13900000099", **{"attribute[kind]": "important"})
    assert r.status_code == 200, r.text
    (answer,) = r.json()
    order_no = answer["service_request_id"]
    assert answer["service_notice"].startswith("查询码 ")
    hotline = Hotline(api)
    order = await hotline.order(order_no)
    assert order["kind"] == "important" and order["calls"][0]["channel"] == "open311"
    assert order["calls"][0]["phone"] == "13900000099" and order["status"] == "awaiting_dispatch"
    assert (await hotline.events(order_no))[0]["actor_role"] == "operator"

    client = GeoReport(served)
    services: list[dict[str, Any]] = await asyncio.to_thread(client.get_service_list)
    assert {"service_code": "080101", "service_name": "道路破损"}.items() <= services[-2].items() or \
        any(s["service_code"] == "080101" for s in services)
    definition = await asyncio.to_thread(client.get_service_definition, "080101")
    assert definition["attributes"][0]["code"] == "kind"
    request = await asyncio.to_thread(client.get_service_request, order_no)
    assert request["service_request_id"] == order_no and request["status"] == "open"
    assert request["status_notes"] == "awaiting_dispatch" and request["lat"] == pytest.approx(43.8868)
    assert "phone" not in request and "13900000099" not in str(request)  # no caller's contact
    listed = await asyncio.to_thread(client.get_service_requests, service_code="080101", status="open")
    assert order_no in [x["service_request_id"] for x in listed]
    # Orders not filed through Open311 are not listed there.
    other = await hotline.intake(content="电话来电，不应出现在 Open311")
    assert await asyncio.to_thread(client.get_service_requests, service_request_id=other["order"]["order_no"]) == []


async def test_errors_are_the_specs_list(api: httpx.AsyncClient) -> None:
    r = await post(api, api_key="wrong", service_code="080101", address_string="某地", description="x")
    assert r.status_code == 403 and r.json() == [{"code": 403, "description": "api_key is missing or not valid"}]
    r = await post(api, api_key=DEMO_OPEN311_KEY, service_code="080101", description="y" * 4001)
    assert r.status_code == 400
    assert {e["description"].split(";")[0] for e in r.json()} == {
        "description has 4001 characters", "a location is required: lat and long, or address_string"}
    r = await post(api, api_key=DEMO_OPEN311_KEY, service_code="123456", address_string="某地", description="z")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = await post(api, api_key=DEMO_OPEN311_KEY, service_code="080101", lat="999", long="1", description="z")
    assert r.status_code == 400 and "lat" in r.json()[0]["description"]
    r = await api.get("/open311/v2/services/999999.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = await api.get("/open311/v2/requests.json", params={"status": "pending"})
    assert r.status_code == 400
