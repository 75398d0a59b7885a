"""The FastAPI application: engine, sessions and Temporal client are built in the lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from casehall.api import errors
from casehall.api.deps import AppState
from casehall.api.routes import assisted, audit, auth, calendar, cases, catalogue, consultations, health, inbox, ui
from casehall.core.db import make_engine, make_sessionmaker
from casehall.core.settings import Settings
from casehall.core.temporal import connect


def create_app(settings: Settings, client: Client | None = None) -> FastAPI:
    """The app; pass ``client`` to reuse a connected Temporal client (tests, ``casehall up``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url())
        temporal = client or await connect(settings.resolved_temporal_address(), settings.temporal_namespace)
        app.state.casehall = AppState(settings=settings, sessions=make_sessionmaker(engine), client=temporal)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="casehall",
        description="Case workflows for service halls: the no-veto window, tolerant acceptance, callbacks.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served offline by routes/ui.py
    )
    errors.install(app)
    for module in (ui, health, auth, cases, consultations, assisted, inbox, catalogue, calendar, audit):
        app.include_router(module.router)
    return app
