"""Liveness of the product: database and workflow engine."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from casehall.api.deps import StateDep
from casehall.api.errors import RETRY_AFTER

router = APIRouter(tags=["health"])
HEALTH_SECONDS = 5  # a health check answers quickly, whatever the bound on actions


class Health(BaseModel):
    status: str  # ok | down: database, temporal
    database: str  # ok | down: <error type>
    temporal: str


@router.get("/healthz", response_model=Health,
            responses={503: {"model": Health, "description": "the database or Temporal is down (named)"}})
async def healthz(state: StateDep) -> JSONResponse:
    """200 when PostgreSQL and Temporal answer within their configured timeouts; 503 naming what is down."""
    checks: dict[str, str] = {}
    settings = state.settings
    try:
        async with state.sessions() as session:
            limit = settings.db_connect_timeout_seconds + settings.db_pool_timeout_seconds
            await asyncio.wait_for(session.execute(text("SELECT 1")), limit)
        checks["database"] = "ok"
    except Exception as err:  # noqa: BLE001 - any failure means: down
        checks["database"] = f"down: {type(err).__name__}"
    try:
        await asyncio.wait_for(state.client.service_client.check_health(),
                               min(settings.temporal_rpc_timeout_seconds, HEALTH_SECONDS))
        checks["temporal"] = "ok"
    except Exception as err:  # noqa: BLE001
        checks["temporal"] = f"down: {type(err).__name__}"
    down = [name for name, status in checks.items() if status != "ok"]
    body = {"status": "ok" if not down else f"down: {', '.join(down)}", **checks}
    return JSONResponse(body, status_code=503 if down else 200, headers={"Retry-After": RETRY_AFTER} if down else None)
