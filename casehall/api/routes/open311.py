"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): the dispatch catalogue as services, and service
requests filed as hotline orders (channel ``open311``) by the operator account of the client's ``api_key``.

Statuses are ``open`` / ``closed`` with casehall's status in ``status_notes``. Errors are the spec's list of
``{code, description}``. Only requests filed through Open311 are listed, and never a caller's name or contact."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlmodel import col
from temporalio.exceptions import ApplicationError

from casehall.api.deps import SessionDep, StateDep
from casehall.api.errors import ApiError
from casehall.api.hotline import OrderIntake, file_order
from casehall.core.security import token_digest
from casehall.models.hotline import Caller, Location, OrderChannel, OrderKind, OrderView
from casehall.models.hotline_tables import DispatchRule, Order
from casehall.store import hotline_queries as hq
from casehall.store import queries


class Open311Error(BaseModel):
    code: int
    description: str


_ERRORS = {status: {"model": list[Open311Error], "description": what} for status, what in (
    (400, "bad request: each problem as {code, description}"), (403, "api_key missing or not valid"),
    (404, "no such service or request"))}
router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=_ERRORS)  # type: ignore[arg-type]

MAX_DESCRIPTION = 4000
MAX_LIST = 1000
KIND_VALUES = [(k.value, label) for k, label in ((OrderKind.URGENT, "紧急"), (OrderKind.IMPORTANT, "重要"),
                                                 (OrderKind.NORMAL, "一般"))]


def errors(status: int, *descriptions: str) -> JSONResponse:
    """The spec's error shape: a list of ``{code, description}``."""
    return JSONResponse([{"code": status, "description": d} for d in descriptions], status_code=status)


def _service(rule: DispatchRule) -> dict[str, Any]:
    return {"service_code": rule.category_code, "service_name": rule.name, "description": rule.description or rule.name,
            "metadata": True, "type": "realtime", "keywords": "", "group": rule.category_code[:2]}


@router.get("/services.json")
async def services(session: SessionDep) -> list[dict[str, Any]]:
    return [_service(r) for r in await hq.catalogue(session)]


@router.get("/services/{service_code}.json", response_model=None)
async def service_definition(service_code: str, session: SessionDep) -> dict[str, Any] | JSONResponse:
    rule = await hq.category(session, service_code) if service_code.isdigit() else None
    if rule is None:
        return errors(404, f"no service with code {service_code[:16]}")
    return {"service_code": rule.category_code, "attributes": [{
        "variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False,
        "datatype_description": "urgency of the request (default normal)", "order": 1,
        "description": "紧急程度", "values": [{"key": k, "name": n} for k, n in KIND_VALUES]}]}


def _request(row: Order) -> dict[str, Any]:
    view = OrderView.model_validate(row.state)
    rnd = view.round
    return {
        "service_request_id": row.order_no, "status": "closed" if row.closed_at else "open",
        "status_notes": view.status.value, "service_name": view.category_name, "service_code": view.category_code,
        "description": view.content, "agency_responsible": rnd.lead.name if rnd else "12345",
        "service_notice": view.reply or "", "requested_datetime": view.registered_at.isoformat(),
        "updated_datetime": row.updated_at.isoformat(),
        "expected_datetime": rnd.handle_due.isoformat() if rnd and not row.closed_at else None,
        "address": view.location.address, "address_id": None, "zipcode": None, "lat": view.location.lat,
        "long": view.location.long, "media_url": None}


def _listed() -> Any:
    """Requests filed through Open311 whose caller did not ask for confidentiality."""
    return select(Order).where(col(Order.channel) == OrderChannel.OPEN311.value,
                               col(Order.state)["calls"][0]["caller"]["confidential"].as_boolean().is_(False))


@router.get("/requests/{service_request_id}.json", response_model=None)
async def get_request(service_request_id: str, session: SessionDep) -> list[dict[str, Any]] | JSONResponse:
    row = await session.scalar(_listed().where(col(Order.order_no) == service_request_id[:40]))
    if row is None:
        return errors(404, f"no service request {service_request_id[:40]}")
    return [_request(row)]


@router.get("/tokens/{token}.json", response_model=None)
async def get_token(token: str, session: SessionDep) -> list[dict[str, Any]] | JSONResponse:
    """Requests are filed synchronously: the token is the request's id."""
    row = await session.scalar(_listed().where(col(Order.order_no) == token[:40]))
    if row is None:
        return errors(404, f"no token {token[:40]}")
    return [{"token": token, "service_request_id": row.order_no}]


@router.get("/requests.json", response_model=None)
async def list_requests(
    session: SessionDep, service_request_id: Annotated[str | None, Query(max_length=4000)] = None,
    service_code: Annotated[str | None, Query(max_length=200)] = None,
    start_date: datetime | None = None, end_date: datetime | None = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> list[dict[str, Any]] | JSONResponse:
    """Filters per the spec: ids (comma-separated, overriding the others), codes, a period (90 days by default),
    status open/closed (comma-separated); at most 1,000 requests, newest first."""
    stmt = _listed()
    if service_request_id:
        stmt = stmt.where(col(Order.order_no).in_([i.strip() for i in service_request_id.split(",")][:MAX_LIST]))
    else:
        if service_code:
            stmt = stmt.where(col(Order.category_code).in_([c.strip() for c in service_code.split(",")]))
        if status:
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                return errors(400, "status must be open, closed or both")
            if wanted == {"open"}:
                stmt = stmt.where(col(Order.closed_at).is_(None))
            elif wanted == {"closed"}:
                stmt = stmt.where(col(Order.closed_at).is_not(None))
        if (start_date and start_date.tzinfo is None) or (end_date and end_date.tzinfo is None):
            return errors(400, "start_date and end_date are w3 dates with a time zone")
        end = end_date or datetime.now(UTC)
        start = start_date or end - timedelta(days=90)
        stmt = stmt.where(col(Order.registered_at) >= start, col(Order.registered_at) <= end)
    rows = (await session.scalars(stmt.order_by(col(Order.registered_at).desc()).limit(MAX_LIST))).all()
    return [_request(r) for r in rows]


@router.post("/requests.json", response_model=None)
async def create_request(request: Request, state: StateDep) -> list[dict[str, Any]] | JSONResponse:
    """A service request, form-encoded: ``api_key``, ``service_code``, a location (``lat`` and ``long``, or
    ``address_string``), ``description`` (at most 4,000 characters), optional ``first_name``/``last_name``/``phone``
    and ``attribute[kind]``. Answers ``service_request_id`` (the order number) and the caller's status-page code."""
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=100))
    except (UnicodeDecodeError, ValueError):
        return errors(400, "the body must be application/x-www-form-urlencoded UTF-8")
    key = form.get("api_key", "")
    async with state.sessions() as session:
        user = await hq.open311_user(session, token_digest(key)) if key else None
        unit = await hq.unit_of(session, user.id) if user and user.id else None
    if user is None:
        return errors(403, "api_key is missing or not valid")
    problems = []
    code = form.get("service_code", "")
    description = form.get("description", "").strip()
    if not code:
        problems.append("service_code is required")
    if not description:
        problems.append("description is required")
    elif len(description) > MAX_DESCRIPTION:
        problems.append(f"description has {len(description)} characters; at most {MAX_DESCRIPTION}")
    lat, long, address = form.get("lat", ""), form.get("long", ""), form.get("address_string", "").strip()
    if not address and not (lat and long):
        problems.append("a location is required: lat and long, or address_string")
    kind = form.get("attribute[kind]", OrderKind.NORMAL.value)
    if kind not in {k for k, _ in KIND_VALUES}:
        problems.append(f"attribute[kind] must be one of {', '.join(k for k, _ in KIND_VALUES)}")
    if problems:
        return errors(400, *problems)
    name = " ".join(p for p in (form.get("first_name", "").strip(), form.get("last_name", "").strip()) if p)
    phone = form.get("phone", "").strip()
    try:
        location = Location(address=address or f"{lat},{long}", lat=float(lat) if lat else None,
                            long=float(long) if long else None)
        caller = Caller(name=name[:200], phone=phone, anonymous=not (name or phone))
        body = OrderIntake(channel=OrderChannel.OPEN311, caller=caller, location=location, content=description,
                           kind=OrderKind(kind), category_code=code, new_order=True)
    except (ValidationError, ValueError) as err:
        return errors(400, *_messages(err))
    actor = queries.actor_of(user)
    if unit:
        actor = actor.model_copy(update={"department_code": unit})
    try:
        filed = await file_order(state, actor, body)
    except ApiError as err:
        return errors(404 if err.code == "unknown_category" else 400, str(err))
    except ApplicationError as err:
        return errors(403, err.message)
    return [{"service_request_id": filed.order.order_no, "service_notice": f"查询码 {filed.public_code}",
             "account_id": None}]


def _messages(err: Exception) -> list[str]:
    if isinstance(err, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()][:10]
    return [str(err)[:200]]
