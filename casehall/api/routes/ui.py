"""The window's web page: one static page on top of the API (log in, cases, inbox, register, act)."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

PAGE = Path(__file__).resolve().parent.parent / "static" / "index.html"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8")
