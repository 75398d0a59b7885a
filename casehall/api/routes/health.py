"""Liveness of the product: database and workflow engine."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from casehall.api.deps import StateDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(state: StateDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with state.sessions() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), 5)
        checks["database"] = "ok"
    except Exception as err:  # noqa: BLE001 - any failure means: down
        checks["database"] = f"down: {type(err).__name__}"
    try:
        await asyncio.wait_for(state.client.service_client.check_health(), 5)
        checks["temporal"] = "ok"
    except Exception as err:  # noqa: BLE001
        checks["temporal"] = f"down: {type(err).__name__}"
    down = [name for name, status in checks.items() if status != "ok"]
    body = {"status": "ok" if not down else f"down: {', '.join(down)}", **checks}
    return JSONResponse(body, status_code=503 if down else 200)
