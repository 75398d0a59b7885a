"""Metrics: the API's /metrics (requests by route template and status, latency histogram), the worker's Prometheus
endpoint with the SDK's series and casehall's own (opened, closed, escalations, refused writes, archive lag), and
`casehall worker` serving them on CASEHALL_WORKER_METRICS_ADDRESS."""

import asyncio
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from casehall.api.app import create_app
from casehall.api.intake import RegisterCase, register_case
from casehall.audit.archive import archive_backlog
from casehall.core.codec import data_converter
from casehall.core.db import transaction
from casehall.core.metrics import set_archive_gauges
from casehall.core.settings import Settings
from casehall.models.case import Actor
from casehall.models.commands import Accept, Command, Completion, SatisfactionAnswer, VetoRequest
from casehall.models.enums import Satisfaction
from casehall.stack.embedded import free_port
from casehall.stack.seed import DEMO_PASSWORD
from casehall.worker import build_worker, case_activities
from casehall.workflows.case import CaseWorkflow
from tests.cases import ALL_MKT, APPLICANT, SHANGHAI, event_types, eventually, handle, travel_to
from tests.conftest import CODEC_KEYS

QUEUE = "casehall-metrics"
VETO = VetoRequest(reasons="不符合法定条件", legal_basis="《行政许可法》第三十八条")


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def value(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the first sample of ``name`` whose labels include ``labels``."""
    for line in metrics.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match[1] or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(match[2])
    return None


# ---- API ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
async def metered_api(client: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession],
                      ) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"api_metrics": True}), client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://casehall") as http:
        yield http


async def test_api_metrics_by_route_template_and_status(metered_api: httpx.AsyncClient,
                                                        api: httpx.AsyncClient) -> None:
    assert (await api.get("/metrics")).status_code == 404  # off unless CASEHALL_API_METRICS
    http = metered_api
    series = [("casehall_http_requests_total", {"route": "/healthz", "method": "GET", "status": "200"}, 1),
              ("casehall_http_requests_total", {"route": "/cases/{case_no}", "method": "GET", "status": "401"}, 2),
              ("casehall_http_requests_total", {"route": "/cases/{case_no}", "method": "GET", "status": "404"}, 1),
              ("casehall_http_requests_total", {"route": "/auth/login", "method": "POST", "status": "200"}, 1),
              ("casehall_http_requests_total", {"route": "unmatched", "method": "GET", "status": "404"}, 1),
              ("casehall_http_request_duration_seconds_count", {"route": "/cases/{case_no}", "method": "GET"}, 3),
              ("casehall_http_request_duration_seconds_bucket", {"route": "/healthz", "le": "+Inf"}, 1)]
    # the registry is the process's: other tests' requests count too, so compare before and after
    before = (await http.get("/metrics")).text
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/cases/HALL-1")).status_code == 401
    assert (await http.get("/cases/HALL-2")).status_code == 401
    assert (await http.get("/no/such/page/123")).status_code == 404
    login = await http.post("/auth/login", json={"username": "clerk", "password": DEMO_PASSWORD})
    assert login.status_code == 200
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await http.get("/cases/HALL-19990101-9999", headers=token)).status_code == 404

    r = await http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    body = r.text
    for name, labels, added in series:
        assert (value(body, name, **labels) or 0) - (value(before, name, **labels) or 0) == added, (name, labels)
    assert "HALL-1" not in body and "/no/such" not in body  # one series per route, not per path


# ---- worker -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
async def metered() -> tuple[Runtime, int]:
    port = free_port()
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{port}")))
    return runtime, port


async def test_worker_metrics_count_what_cases_do(
    time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    actors: dict[str, Actor], metered: tuple[Runtime, int],
) -> None:
    runtime, port = metered
    own = await Client.connect(time_env.client.service_client.config.target_host, runtime=runtime,
                               data_converter=data_converter(CODEC_KEYS))
    queue_settings = settings.model_copy(update={"task_queue": QUEUE})
    clerk = actors["clerk"]
    body = RegisterCase(item_code="MKT-001", applicant=APPLICANT, submitted_materials=ALL_MKT)
    await travel_to(time_env, datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI))  # a Monday
    async with build_worker(own, queue_settings, case_activities(sessions, queue_settings)):
        closed, escalated, refused = [await register_case(own, sessions, QUEUE, body, clerk) for _ in range(3)]
        async with transaction(sessions) as s:  # the database refuses one case's escalation for good
            await s.execute(text(
                "CREATE FUNCTION refuse_escalation() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.type = 'veto_escalated' AND NEW.case_no = '{refused.case_no}' THEN "
                "RAISE EXCEPTION 'refused here' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"))
            await s.execute(text("CREATE TRIGGER refuse_escalation BEFORE INSERT ON case_events FOR EACH ROW "
                                 "EXECUTE FUNCTION refuse_escalation()"))
        h = handle(own, closed.case_no)
        await h.execute_update(CaseWorkflow.accept, Command(actor=clerk, body=Accept()))
        await h.execute_update(CaseWorkflow.complete, Command(actor=clerk, body=Completion(result="办结")))
        await h.execute_update(CaseWorkflow.record_satisfaction,
                               Command(actor=clerk, body=SatisfactionAnswer(grade=Satisfaction.SATISFIED)))
        for view in (escalated, refused):
            await handle(own, view.case_no).execute_update(CaseWorkflow.request_veto,
                                                           Command(actor=clerk, body=VETO))
        await travel_to(time_env, datetime(2026, 12, 9, 17, 30, tzinfo=SHANGHAI))  # past 2 working days

        async def escalated_once() -> bool:
            return "veto_escalated" in await event_types(sessions, escalated.case_no)

        await eventually(escalated_once)

        def counted() -> str:
            return scrape(port)

        async def refused_counted() -> bool:
            return value(await asyncio.to_thread(counted), "casehall_refused_writes", event="veto_escalated") == 1

        await eventually(refused_counted)
        async with sessions() as session:
            lag, pending = await archive_backlog(session, datetime(2026, 12, 10, tzinfo=SHANGHAI))  # workflow time
        set_archive_gauges(own, lag, pending)
        metrics = await asyncio.to_thread(counted)

    assert "veto_escalated" not in await event_types(sessions, refused.case_no)
    hall = {"kind": "hall_case", "task_queue": QUEUE}
    assert value(metrics, "casehall_opened", **hall) == 3
    assert value(metrics, "casehall_transitions", event="registered", **hall) == 3
    assert value(metrics, "casehall_transitions", event="veto_requested", **hall) == 2
    assert value(metrics, "casehall_closed", status="closed", **hall) == 1
    assert value(metrics, "casehall_escalations", event="veto_escalated", **hall) == 1
    assert value(metrics, "casehall_refused_writes", event="veto_escalated", **hall) == 1
    assert pending >= 1 and lag >= 86400  # the case closed on 12-07 is not archived yet
    assert value(metrics, "casehall_archive_pending") == pending
    assert value(metrics, "casehall_archive_lag_seconds") == pytest.approx(lag)
    # The SDK's own series on the same endpoint.
    assert value(metrics, "temporal_workflow_task_execution_latency_count", task_queue=QUEUE) is not None
    assert value(metrics, "temporal_request", operation="RespondWorkflowTaskCompleted") is not None


async def test_casehall_worker_serves_metrics_on_its_address(time_env: WorkflowEnvironment, database_url: str,
                                                             ) -> None:
    port = free_port()
    env = os.environ | {
        "CASEHALL_DATABASE_URL": database_url, "CASEHALL_TASK_QUEUE": "casehall-metrics-cli",
        "CASEHALL_TEMPORAL_ADDRESS": time_env.client.service_client.config.target_host,
        "CASEHALL_CODEC_KEYS": CODEC_KEYS, "CASEHALL_WORKER_METRICS_ADDRESS": f"127.0.0.1:{port}",
    }
    worker = [sys.executable, "-m", "casehall.cli.main", "worker"]
    proc = await asyncio.to_thread(subprocess.Popen, worker, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    try:
        async def serving() -> bool:
            try:
                metrics = await asyncio.to_thread(scrape, port)
            except OSError:
                return False
            return (value(metrics, "temporal_num_pollers", task_queue="casehall-metrics-cli") is not None
                    and value(metrics, "casehall_archive_pending") is not None)

        await eventually(serving, seconds=60)
        # A second worker on the same address: one clear line.
        busy = await asyncio.to_thread(subprocess.run, worker, env=env, capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1
        assert f"cannot serve worker metrics on 127.0.0.1:{port}" in busy.stderr and "Traceback" not in busy.stderr
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
