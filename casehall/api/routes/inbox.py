"""The manager's inbox: pending vetoes, escalations, rectifications, oldest first, with time left."""

from datetime import UTC, datetime

from fastapi import APIRouter

from casehall.api.deps import CurrentUser, SessionDep
from casehall.api.schemas import InboxItem
from casehall.store import queries

router = APIRouter(prefix="/inbox", tags=["inbox"])


@router.get("")
async def inbox(session: SessionDep, user: CurrentUser) -> list[InboxItem]:
    now = datetime.now(UTC)
    return [InboxItem.of(task, case, now) for task, case in await queries.inbox(session, user)]
