"""The web screens: the page shell, its static ES modules, the UI's message catalogue as JSON, a few reads the
screens need (who am I, departments, colleagues, thresholds) and the API docs served without any CDN."""

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from babel.messages.pofile import read_po
from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlmodel import col

from casehall.api.deps import CurrentUser, SessionDep, StateDep
from casehall.models.tables import Department, User

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE = STATIC / "index.html"
LOCALE = Path(__file__).resolve().parent.parent.parent / "locale"
# The UI's languages: the tag the browser uses -> the Babel locale directory.
LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
NO_STORE = {"Cache-Control": "no-store"}
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

router = APIRouter(include_in_schema=False)


class UiSettings(BaseSettings):
    """Thresholds of the screens, from ``CASEHALL_UI_*`` variables (or ``.env``)."""

    model_config = SettingsConfigDict(env_prefix="CASEHALL_UI_", env_file=".env", extra="ignore")

    warn_share: float = Field(0.75, gt=0, lt=1)  # share of the time limit used before a case turns yellow
    idle_seconds: int = Field(900, ge=10, le=86_400)  # the page logs out after this long without input
    refresh_seconds: int = Field(30, ge=5, le=3600)  # how often an inbox refreshes itself


class UiConfig(BaseModel):
    warn_share: float
    idle_seconds: int
    refresh_seconds: int
    languages: list[str]
    timezone: str


class Me(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: str
    department_code: str
    department_name: str


class DepartmentOut(BaseModel):
    code: str
    name: str
    kind: str
    parent_code: str | None
    active: bool  # False: taken out of use (shown on old records, never offered for new ones)


class Colleague(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: str
    department_code: str


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=NO_STORE)


@router.get("/static/{path:path}")
async def static(path: str) -> FileResponse:
    """The screens' ES modules and style sheet; nothing outside ``static/``."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file() or target.suffix not in STATIC_TYPES:
        raise HTTPException(404, f"no static file {path!r}")
    return FileResponse(target, media_type=STATIC_TYPES[target.suffix], headers={"Cache-Control": "no-cache"})


@lru_cache(maxsize=8)
def _catalogue(directory: str, mtime: float) -> dict[str, str]:
    """``msgid`` -> translation; an entry with a context is keyed ``context|msgid``; untranslated -> msgid."""
    with (LOCALE / directory / "LC_MESSAGES" / "ui.po").open("rb") as f:
        catalog = read_po(f, locale=directory, domain="ui")
    out: dict[str, str] = {}
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        text = message.string if isinstance(message.string, str) and message.string else message.id
        out[f"{message.context}|{message.id}" if message.context else message.id] = text
    return out


def ui_messages(lang: str) -> dict[str, str]:
    """The UI catalogue of ``lang`` (``zh-CN`` or ``en``)."""
    directory = LANGUAGES[lang]
    path = LOCALE / directory / "LC_MESSAGES" / "ui.po"
    return _catalogue(directory, path.stat().st_mtime)


@router.get("/ui/i18n/{lang}.json")
async def i18n(lang: str) -> dict[str, Any]:
    """Every label of the screens in one language, read from ``casehall/locale/<lang>/LC_MESSAGES/ui.po``."""
    if lang not in LANGUAGES:
        raise HTTPException(404, f"no UI language {lang!r}; there are: {', '.join(LANGUAGES)}")
    return {"lang": lang, "messages": ui_messages(lang)}


@router.get("/ui/config")
async def config(state: StateDep) -> UiConfig:
    s = UiSettings()
    return UiConfig(warn_share=s.warn_share, idle_seconds=s.idle_seconds, refresh_seconds=s.refresh_seconds,
                    languages=list(LANGUAGES), timezone=state.settings.timezone)


@router.get("/ui/me")
async def me(user: CurrentUser, session: SessionDep) -> Me:
    """The signed-in user with their id (to list *my* cases) and department name."""
    assert user.id is not None
    department = await session.get(Department, user.department_code)
    return Me(user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
              department_code=user.department_code, department_name=department.name if department else "")


@router.get("/ui/departments")
async def departments(_: CurrentUser, session: SessionDep) -> list[DepartmentOut]:
    rows = await session.scalars(select(Department).order_by(col(Department.code)))
    return [DepartmentOut(code=d.code, name=d.name, kind=d.kind, parent_code=d.parent_code, active=d.active)
            for d in rows.all()]


@router.get("/ui/colleagues")
async def colleagues(_: CurrentUser, session: SessionDep,
                     role: Literal["clerk", "manager", "director"] | None = None) -> list[Colleague]:
    """Active users who work on cases (for a handover or a helper), by role."""
    query = select(User).where(col(User.active).is_(True), col(User.role).in_(["clerk", "manager", "director"]))
    if role:
        query = query.where(col(User.role) == role)
    rows = await session.scalars(query.order_by(col(User.username)))
    return [Colleague(user_id=u.id or 0, username=u.username, display_name=u.display_name, role=u.role,
                      department_code=u.department_code) for u in rows.all()]


# ---- API docs without a CDN: the assets ship in the fastapi-offline wheel ----------------------------------
def _docs_assets() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


DOC_ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
              "redoc.standalone.js": "text/javascript; charset=utf-8", "favicon.png": "image/png"}


REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def _redoc_js() -> bytes:
    """ReDoc's bundle, its one outside link (a logo in the side menu) pointed at our own icon."""
    return (_docs_assets() / "redoc.standalone.js").read_bytes().replace(REDOC_LOGO, b"/docs/assets/favicon.png")


@router.get("/docs/assets/{name}", response_model=None)
async def docs_asset(name: str) -> FileResponse | Response:
    if name not in DOC_ASSETS:
        raise HTTPException(404, f"no documentation asset {name!r}")
    cache = {"Cache-Control": "public, max-age=86400"}
    if name == "redoc.standalone.js":
        return Response(_redoc_js(), media_type=DOC_ASSETS[name], headers=cache)
    return FileResponse(_docs_assets() / name, media_type=DOC_ASSETS[name], headers=cache)


@router.get("/docs")
async def swagger(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js", swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/assets/favicon.png")


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}/docs/assets/redoc.standalone.js", redoc_favicon_url=f"{root}/docs/assets/favicon.png",
        with_google_fonts=False)
