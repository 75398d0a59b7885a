"""One trace from the HTTP request through Temporal to the workflow and its activities (CASEHALL_OTLP_ENDPOINT)."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment

from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.core.temporal import connect
from casehall.core.tracing import configure_tracing, interceptors, shutdown_tracing
from casehall.stack.seed import DEMO_PASSWORD
from casehall.worker import build_worker, case_activities
from tests.cases import ALL_MKT
from tests.conftest import CODEC_KEYS

QUEUE = "casehall-traced"
APPLICANT = {"name": "李四", "phone": "13900139000", "id_number": "220201198802024325"}


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    assert configure_tracing(Settings(_env_file=None), exporter=spans, processor=SimpleSpanProcessor)  # type: ignore[call-arg]
    yield spans
    shutdown_tracing()


@pytest.fixture(scope="module")
async def traced_api(exporter: InMemorySpanExporter, time_env: WorkflowEnvironment, settings: Settings,
                     sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    traced = settings.model_copy(update={"task_queue": QUEUE})
    client = await connect(time_env.client.service_client.config.target_host, keys=CODEC_KEYS)
    assert any(isinstance(i, TracingInterceptor) for i in client.config()["interceptors"])
    app = create_app(traced, client)
    async with build_worker(client, traced, case_activities(sessions, traced)), app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casehall") as http:
        yield http


async def test_one_trace_from_request_to_activities(traced_api: httpx.AsyncClient,
                                                    exporter: InMemorySpanExporter) -> None:
    login = await traced_api.post("/auth/login", json={"username": "clerk", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    exporter.clear()
    r = await traced_api.post("/cases", headers=headers, json={
        "item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": ALL_MKT})
    assert r.status_code == 201, r.text
    case_no = r.json()["case_no"]
    accepted = await traced_api.post(f"/cases/{case_no}/accept", headers=headers, json={})
    assert accepted.status_code == 200, accepted.text

    spans: list[ReadableSpan] = list(exporter.get_finished_spans())
    names = [s.name for s in spans]
    server = next(s for s in spans if s.name == "POST /cases")
    assert server.attributes and server.attributes["http.route"] == "/cases"
    assert server.attributes["http.response.status_code"] == 201
    trace_id = server.context.trace_id if server.context else None
    in_trace = {s.name for s in spans if s.context and s.context.trace_id == trace_id}
    assert "StartUpdateWithStartWorkflow:CaseWorkflow" in in_trace, names  # start and registration: one call
    assert "HandleUpdate:registration" in in_trace, names
    assert "RunWorkflow:CaseWorkflow" in in_trace, names
    assert any(n.startswith("StartActivity:") or n.startswith("RunActivity:") for n in in_trace), names
    # The update of the second request is its own trace, under its own server span.
    update = next(s for s in spans if s.name == "POST /cases/{case_no}/accept")
    update_trace = {s.name for s in spans if s.context and update.context
                    and s.context.trace_id == update.context.trace_id}
    assert any(n.startswith("StartWorkflowUpdate:") for n in update_trace), names
    recorded = repr([(s.name, s.attributes, [e.attributes for e in s.events]) for s in spans])
    for personal in APPLICANT.values():  # spans carry routes, ids and types, never the applicant
        assert personal not in recorded


def test_tracing_is_off_without_an_endpoint() -> None:
    shutdown_tracing()
    assert not configure_tracing(Settings(_env_file=None))  # type: ignore[call-arg]
    assert interceptors() == []
