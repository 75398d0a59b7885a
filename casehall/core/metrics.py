"""Prometheus metrics, all off by default.

- The worker: the Temporal SDK's own metrics (task latencies, polls, sticky cache, activity failures) and casehall's
  (``casehall_transitions``, ``casehall_opened``, ``casehall_closed``, ``casehall_escalations``,
  ``casehall_refused_writes`` counted by the recorder in ``casehall.workflows.observability``; ``casehall_archive_*``
  set by the archiver) on one endpoint, ``CASEHALL_WORKER_METRICS_ADDRESS``, served by the SDK runtime.
- The API: ``GET /metrics`` with ``CASEHALL_API_METRICS=true``: requests by route template, method and status, and a
  latency histogram (``prometheus_client``; with several uvicorn processes set ``PROMETHEUS_MULTIPROC_DIR``)."""

import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from casehall.core.settings import Settings

# ---- worker: the Temporal SDK runtime -------------------------------------------------------------------------
_runtime: Runtime | None = None


def install_worker_metrics(settings: Settings) -> Runtime | None:
    """Serve the SDK's metrics on ``settings.worker_metrics_address``: the runtime becomes the default, so every
    client connected after this (and the workers on it) reports there. Call it before connecting; once per process."""
    global _runtime
    if not settings.worker_metrics_address:
        return None
    if _runtime is None:
        try:
            _runtime = Runtime(telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=settings.worker_metrics_address),
                global_tags={"service": "casehall-worker"}))
        except Exception as err:  # noqa: BLE001 - the bridge's error: address taken or malformed
            raise ValueError(f"cannot serve worker metrics on {settings.worker_metrics_address}: {err} "
                             "(check CASEHALL_WORKER_METRICS_ADDRESS)") from None
        Runtime.set_default(_runtime, error_if_already_set=False)
    return _runtime


def set_archive_gauges(client: Client, lag_seconds: float, pending: int) -> None:
    """The archiver's state on the client's runtime (a no-op without a metrics endpoint)."""
    meter = (client.service_client.config.runtime or Runtime.default()).metric_meter
    meter.create_gauge_float("casehall_archive_lag_seconds",
                             "age of the oldest closed case whose history is not archived yet", "s").set(lag_seconds)
    meter.create_gauge("casehall_archive_pending", "closed cases whose history is not archived yet").set(pending)


# ---- API: prometheus_client ---------------------------------------------------------------------------------
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("casehall_http_requests", "HTTP requests by route template, method and status",
                   ["route", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("casehall_http_request_duration_seconds", "HTTP request latency by route template and method",
                    ["route", "method"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
UNMATCHED = "unmatched"  # requests no route matched: one series, not one per path a scanner tries


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/cases/{case_no}``), set in the scope by FastAPI's router."""
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED


class HTTPMetrics:
    """ASGI middleware counting every HTTP request and timing it until the response's last byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route, method = route_template(scope), scope.get("method", "")
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - start)


def exposition() -> bytes:
    """The API's metrics in Prometheus' text format (every process's with ``PROMETHEUS_MULTIPROC_DIR``)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics (Prometheus scrapes it; keep it on the internal network)."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
