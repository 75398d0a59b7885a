"""The hotline's routes against their own OpenAPI document (schemathesis), on real PostgreSQL and Temporal, as an
operator, a dispatcher and a unit handler: no server error, every status documented, every response in its
documented schema. Bounded and derandomized; generated order numbers also meet a real order."""

import asyncio
import time
from collections import defaultdict
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
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.client import Client

from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.embedded import free_port
from tests.hotline.steps import Hotline, login

USERS = {"operator": 6, "dispatcher": 4, "street-handler": 4}  # generated requests per operation and mode
PREFIXES = ("/orders", "/knowledge", "/hotline", "/units", "/public/orders", "/open311")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.statuses: dict[str, set[int]] = defaultdict(set)
        self.failures: dict[str, set[str]] = defaultdict(set)


def _runner(op: Any, mode: GenerationMode, examples: int, base_url: str, user: str, headers: dict[str, str],
            tally: Tally, path: dict[str, str] | None) -> Any:
    label = f"{op.method.upper()} {op.path}"

    @given(case=op.as_strategy(generation_mode=mode, path_parameters=path))
    @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                         phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        status: int | str = "no answer"
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=60)
            status = response.status_code
            tally.sent += 1
            tally.statuses[label].add(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, FailureGroup) as err:
            tally.failures[f"{label} as {user} ({mode.value}) -> {status}"].add(str(err)[:300])

    return run


def fuzz(document: dict[str, Any], base_url: str, tokens: dict[str, dict[str, str]], order_no: str, tally: Tally
         ) -> None:
    schema = schemathesis.openapi.from_dict(document)
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    for user, examples in USERS.items():
        for op in [op for op in operations if op.path.startswith(PREFIXES)]:
            runs: list[tuple[GenerationMode, dict[str, str] | None]] = [
                (GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
            if "{order_no}" in op.path:
                runs.append((GenerationMode.POSITIVE, {"order_no": order_no}))
            for mode, path in runs:
                try:
                    _runner(op, mode, examples, base_url, user, tokens[user], tally, path)()
                except Unsatisfiable:
                    continue


async def test_hotline_routes_conform_to_their_schema(client: Client, settings: Settings, api: httpx.AsyncClient
                                                      ) -> None:
    order = await Hotline(api).dispatched(content="用于模糊测试的工单")
    app = create_app(settings, client)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "the API did not start"
            await asyncio.sleep(0.05)
        tokens = {user: await login(api, user) for user in USERS}
        tally = Tally()
        started = time.monotonic()
        await asyncio.to_thread(fuzz, app.openapi(), f"http://127.0.0.1:{port}", tokens, order["order_no"], tally)
        elapsed = time.monotonic() - started
    finally:
        server.should_exit = True
        await serving
    print(f"\nhotline fuzz: {tally.sent} requests over {len(tally.statuses)} operations in {elapsed:.0f}s")
    for label, codes in sorted(tally.statuses.items()):
        print(f"  {label}: {sorted(codes)}")
    assert tally.sent > 200 and len(tally.statuses) >= 20
    assert not tally.failures, "\n".join(f"{k}: {v}" for k, v in sorted(tally.failures.items()))
