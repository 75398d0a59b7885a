"""The manager's inbox: pending vetoes, escalations, rectifications, oldest first, with time left.

A page of at most ``limit`` tasks (100 unless asked); the body stays a plain list, the page's facts travel in
headers: ``X-Total-Count`` (every open task of the inbox), ``X-Next-Cursor`` and ``Link: <...>; rel="next"``
(absent on the last page; pass the cursor as ``cursor`` for the next page)."""

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from casehall.api.deps import CurrentUser, SessionDep
from casehall.api.params import Limit
from casehall.api.schemas import InboxItem
from casehall.store import queries

router = APIRouter(prefix="/inbox", tags=["inbox"])


@router.get("")
async def inbox(
    request: Request, response: Response, session: SessionDep, user: CurrentUser,
    limit: Annotated[Limit, Query(description="tasks per page (at most 200)")] = queries.INBOX_PAGE,
    cursor: Annotated[str | None, Query(max_length=200, description="X-Next-Cursor of the previous page")] = None,
) -> list[InboxItem]:
    try:
        after = queries.TaskCursor.decode(cursor) if cursor else None
    except queries.BadCursor as err:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "cursor"), "msg": str(err),
                                       "ctx": {"error": str(err)}}]) from None
    page = await queries.inbox(session, user, limit, after)
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_cursor:
        response.headers["X-Next-Cursor"] = page.next_cursor
        query = urlencode({"limit": limit, "cursor": page.next_cursor})
        response.headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    now = datetime.now(UTC)
    return [InboxItem.of(task, case, now) for task, case in page.rows]
