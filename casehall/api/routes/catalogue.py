"""The catalogue of service items a clerk registers cases against."""

from typing import Any

from fastapi import APIRouter

from casehall.api.deps import CurrentUser, SessionDep
from casehall.store import queries

router = APIRouter(prefix="/items", tags=["catalogue"])


@router.get("")
async def items(session: SessionDep, _: CurrentUser) -> list[dict[str, Any]]:
    return [item.model_dump() for item in await queries.service_items(session)]
