"""OpenTelemetry traces across API -> Temporal -> workflows -> activities, off by default.

With ``CASEHALL_OTLP_ENDPOINT`` set, ``configure_tracing`` (called by ``connect()``) sends spans to that OTLP/HTTP
collector; every client ``connect()`` builds carries the SDK's ``TracingInterceptor`` (its workers too), and the API
opens one server span per request (``HTTPTracing``, continuing a caller's ``traceparent``), so one trace holds the
request, the workflow start or update, the workflow's run and its activities. The service name comes from
``OTEL_SERVICE_NAME`` (default ``casehall``)."""

import os
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from casehall.core.metrics import route_template
from casehall.core.settings import Settings

_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None


def configure_tracing(settings: Settings, exporter: SpanExporter | None = None,
                      processor: type[SpanProcessor] = BatchSpanProcessor) -> bool:
    """Start exporting spans when ``settings.otlp_endpoint`` is set (or ``exporter`` is given, as tests do); once
    per process, later calls keep the first. True when tracing is on."""
    global _tracer, _provider
    if _tracer is not None:
        return True
    if exporter is None:
        if not settings.otlp_endpoint:
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    name = os.environ.get("OTEL_SERVICE_NAME") or "casehall"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(processor(exporter))  # type: ignore[call-arg]
    _tracer, _provider = provider.get_tracer("casehall"), provider
    return True


def shutdown_tracing() -> None:
    """Send the spans still buffered and stop tracing (clients connected before keep their interceptor)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def tracer() -> trace.Tracer | None:
    return _tracer


def interceptors() -> list[Interceptor]:
    """The client interceptors ``connect()`` adds: the SDK's tracing interceptor once tracing is configured."""
    return [TracingInterceptor(_tracer)] if _tracer is not None else []


class HTTPTracing:
    """ASGI middleware: one server span per HTTP request, named by method and route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _tracer is None:
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "")
        attrs: dict[str, Any] = {"http.request.method": method, "url.path": scope.get("path", "")}
        with _tracer.start_as_current_span(f"{method}", context=propagate.extract(carrier), kind=SpanKind.SERVER,
                                           attributes=attrs) as span:
            status = 500

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                route = route_template(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
