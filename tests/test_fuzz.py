"""The API against its own OpenAPI document (schemathesis), on real PostgreSQL and Temporal, as a clerk, a manager
and an auditor: no server error, every status documented, every response in its documented schema and content
type. Bounded: a few generated requests per operation, role and mode (valid and invalid data), derandomized."""

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.embedded import free_port
from casehall.stack.seed import DEMO_PASSWORD

ROLES = {"clerk": 5, "manager": 3, "auditor": 3}  # generated requests per operation and mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Log-out revokes the token the run uses; the codec endpoint answers the Temporal UI's protobuf payloads.
SKIPPED = {"POST /auth/logout"}
BUDGET_SECONDS = 90  # past it the remaining operations are left out (the summary shows which ran)


@dataclass
class Report:
    requests: int = 0
    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    failures: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    left_out: list[str] = field(default_factory=list)  # operation and role not reached within the budget

    def lines(self) -> list[str]:
        return [f"{where}: {problem}" for where, problems in sorted(self.failures.items()) for problem in problems]


def _problem(err: BaseException) -> str:
    inner = getattr(err, "exceptions", None)
    if inner:
        return "; ".join(_problem(e) for e in inner)
    title = getattr(err, "title", None)
    if title:
        return str(title)
    return f"{type(err).__name__}: {str(err).strip().splitlines()[0][:200] if str(err).strip() else ''}"


def _runner(operation: Any, mode: GenerationMode, examples: int, base_url: str, role: str, token: str,
            report: Report, path: dict[str, str] | None = None) -> Any:
    """A hypothesis test sending ``examples`` generated requests for one operation, role and mode (``path``: fixed
    path parameters, e.g. a real case number)."""
    label = f"{operation.method.upper()} {operation.path}"
    auth = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
    @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                         phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        status: int | str = "no answer"
        try:
            response = case.call(base_url=base_url, headers=auth, timeout=60)
            status = response.status_code
            report.requests += 1
            report.statuses[label].add(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=auth)
        except (Exception, FailureGroup) as err:  # every failure is reported, the run goes on
            report.failures[f"{label} as {role} ({mode.value}) -> {status}"].add(_problem(err))

    return run


def fuzz(document: dict[str, Any], base_url: str, tokens: dict[str, str], case_no: str, report: Report) -> None:
    """Runs in a thread: schemathesis calls are synchronous, the app answers on the test's event loop."""
    schema = schemathesis.openapi.from_dict(document)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the API's own schema is invalid: {result.err()}"
        operations.append(result.ok())
    deadline = time.monotonic() + BUDGET_SECONDS
    for operation in operations:  # every role on one operation before the next: the budget cuts all roles alike
        for role, examples in ROLES.items():
            label = f"{operation.method.upper()} {operation.path}"
            if label in SKIPPED:
                continue
            if time.monotonic() > deadline:
                report.left_out.append(f"{label} as {role}")
                continue
            runs: list[tuple[GenerationMode, dict[str, str] | None]] = [
                (GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
            if "{case_no}" in operation.path:  # random case numbers mostly meet 404: also act on a real case
                runs.append((GenerationMode.POSITIVE, {"case_no": case_no}))
            for mode, path in runs:
                try:
                    _runner(operation, mode, examples, base_url, role, tokens[role], report, path)()
                except Unsatisfiable:  # nothing to make invalid: an operation without parameters or body
                    continue


async def test_api_conforms_to_its_schema(client: Client, settings: Settings,
                                          sessions: async_sessionmaker[AsyncSession]) -> None:
    app = create_app(settings, client)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{port}"
    try:
        while not server.started:
            assert not serving.done(), "the API did not start"
            await asyncio.sleep(0.05)
        tokens = {}
        async with httpx.AsyncClient(base_url=base_url) as http:
            for role in ROLES:
                r = await http.post("/auth/login", json={"username": role, "password": DEMO_PASSWORD})
                assert r.status_code == 200, r.text
                tokens[role] = r.json()["access_token"]
            # A case to act on: generated requests reach a real case's routes too.
            r = await http.post("/cases", headers={"Authorization": f"Bearer {tokens['clerk']}"}, json={
                "item_code": "MKT-001", "submitted_materials": ["经营者身份证明"],
                "applicant": {"name": "张三", "phone": "13800138000", "id_number": "220201199001011238"}})
            assert r.status_code == 201, r.text
            case_no = r.json()["case_no"]
        report = Report()
        started = time.monotonic()
        await asyncio.to_thread(fuzz, app.openapi(), base_url, tokens, case_no, report)
        elapsed = time.monotonic() - started
    finally:
        server.should_exit = True
        await serving
    answered = sorted((label, sorted(codes)) for label, codes in report.statuses.items())
    print(f"\nfuzz: {report.requests} requests over {len(answered)} operations in {elapsed:.0f}s; "
          f"left out by the time budget: {report.left_out or 'none'}")
    for label, codes in answered:
        print(f"  {label}: {codes}")
    assert report.requests > 500
    assert sum(any(200 <= c < 300 for c in codes) for _, codes in answered) >= 15, "too few operations succeeded"
    assert not report.failures, "\n".join(["routes failing their documented contract:", *report.lines()])
