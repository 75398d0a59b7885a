"""The FastAPI application: engine, sessions and Temporal client are built in the lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from temporalio.client import Client

from casehall.api import errors
from casehall.api.deps import AppState, bounded_client, request_sessionmaker
from casehall.api.middleware import RequestLimits
from casehall.api.params import refuse_hostile_input
from casehall.api.routes import (
    admin_users,
    assessment,
    assisted,
    audit,
    auth,
    calendar,
    cases,
    catalogue,
    codec,
    consultations,
    departments,
    health,
    inbox,
    open311,
    orders,
    ui,
)
from casehall.core.db import engine_for
from casehall.core.metrics import HTTPMetrics, metrics_endpoint
from casehall.core.settings import Settings
from casehall.core.temporal import connect
from casehall.core.tracing import HTTPTracing


def create_app(settings: Settings, client: Client | None = None) -> FastAPI:
    """The app; pass ``client`` to reuse a connected Temporal client (tests, ``casehall up``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_for(settings)
        temporal = client or await connect(settings.resolved_temporal_address(), settings.temporal_namespace, settings)
        app.state.casehall = AppState(settings=settings, sessions=request_sessionmaker(engine),
                                      client=bounded_client(temporal, settings.temporal_rpc_timeout))
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="casehall",
        description="Case workflows for service halls: the no-veto window, tolerant acceptance, callbacks.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(refuse_hostile_input)],  # NUL, int32, dates: 422 naming the parameter
        docs_url=None, redoc_url=None,  # served offline by routes/ui.py
    )
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)  # 413 before any parsing
    errors.install(app)  # its catch-all layer goes around RequestLimits
    app.add_middleware(HTTPTracing)  # a server span per request once tracing is on (CASEHALL_OTLP_ENDPOINT)
    if settings.api_metrics:  # outermost: counts what the client got, 500s included
        app.add_middleware(HTTPMetrics)
        app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    for module in (ui, health, auth, cases, consultations, assisted, inbox, catalogue, calendar, audit, codec,
                   orders, open311, assessment, admin_users, departments):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """The factory ``casehall api`` gives uvicorn when it runs several worker processes (settings from the
    environment, each process with its own pool and Temporal connection, logging like its parent)."""
    from casehall.core.logs import configure_logging

    settings = Settings()
    configure_logging(settings)
    return create_app(settings)
