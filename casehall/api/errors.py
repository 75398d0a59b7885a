"""The one layer mapping errors to HTTP. Every error answers

    {"error": {"code": "<stable code>", "message": "<in the user's language>", "field": "<dotted field or null>",
               "details": [{"field": ..., "code": ..., "message": ...}]}}

in Chinese by default, in English with ``Accept-Language: en``: 403 not allowed, 409 not in this state, 422 bad
input, 404 unknown, 503 engine or database down (with ``Retry-After``), 500 anything else (logged once with a
request id, never a traceback). Input is never echoed back.
"""

import errno
import logging
import re
import uuid
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from casehall.core.i18n import negotiate, parse, translate
from casehall.core.security import WeakPassword
from casehall.models.identity import IdentityError
from casehall.models.messages import N_
from casehall.store.accounts import AccountRefused
from casehall.store.catalogue import CatalogueRefused
from casehall.workflows.errors import CONFLICT, FORBIDDEN, INVALID, INVALID_STATE

log = logging.getLogger(__name__)

STATUS_OF = {FORBIDDEN: 403, INVALID_STATE: 409, CONFLICT: 409, INVALID: 422}
CODE_OF = {FORBIDDEN: "forbidden", INVALID_STATE: "invalid_state", CONFLICT: "conflict", INVALID: "invalid"}
HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "invalid", 429: "too_many_requests", 503: "unavailable"}
RETRY_AFTER = "5"


# ---- the shape -------------------------------------------------------------------------------------------------
class FieldError(BaseModel):
    field: str | None = Field(description="dotted path of the field in the request, e.g. applicant.phone")
    code: str = Field(description="what is wrong (pydantic error type, e.g. missing, string_too_long)")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="stable code: forbidden, invalid_state, conflict, invalid, validation_error, "
                                  "not_found, closed, unauthenticated, unavailable, database_unavailable, ...")
    message: str = Field(description="for the user, in the negotiated language (Chinese by default)")
    field: str | None = None
    details: list[FieldError] = []


class ErrorPublic(BaseModel):
    error: ErrorBody


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorPublic, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("not logged in, or the session expired"),
    403: _doc("the user may not do this"),
    404: _doc("no such case, consultation, user or document"),
    409: _doc("not possible in the current state (e.g. the case is closed)"),
    413: _doc("the request is too large"),
    422: _doc("invalid input: one entry per field in details"),
    503: _doc("the database or the workflow engine is not reachable; retry after Retry-After seconds"),
}


# ---- errors raised by the API layer ----------------------------------------------------------------------------
class _Translatable(Exception):
    """An error carrying a message id and its parameters; ``str()`` is the English text."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid, self.params = msgid, params


class NotFound(_Translatable, LookupError):
    """A case, user or document that does not exist."""


class Closed(_Translatable, RuntimeError):
    """The case or consultation has finished: nothing more can be recorded."""


class ApiError(_Translatable):
    """Any other answer of a route: ``raise ApiError(422, "unknown_user", N_("no user named {username}"), ...)``."""

    def __init__(self, status: int, code: str, msgid: str, field: str | None = None, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.status, self.code, self.field = status, code, field


# Messages of routes that raise plain English text today; the catalogue translates them once parsed back.
ROUTE_MESSAGES = (
    N_("no case {case_no}"),
    N_("no consultation {consultation_id}"),
    N_("case {case_no} has no document {doc_id}"),
    N_("no user named {username}"),
    N_("no service item with code {code}"),
    N_("{code} has no material named {materials}; its materials are: {known}"),
    N_("the catalogue lacks the combined item {code}: run the seed"),
    N_("log in first: send the token as 'Authorization: Bearer <token>'"),
    N_("your session has expired or the token is unknown: log in again"),
    N_("this needs one of the roles: {roles}"),
    N_("wrong username or password"),
    N_("wrong username or password; too many failures: locked until {until}"),
    N_("your session has expired (idle too long, or too old), was closed by a log-out, or the token is unknown: "
       "log in again"),
    N_("too many failed log-ins for this name or from this address: try again after {until} or ask an "
       "administrator to unlock"),
    N_("this account is disabled: ask an administrator"),
    N_("no lock on {scope} {subject}"),
    N_("no department with code {codes}"),
    N_("this case is closed: no further action can be recorded"),
    N_("only an administrator may decode or encode payloads"),
    N_("name a case (case_no) or a closing period (closed_from, closed_to) to export"),
    N_("only the departments taking part, the departments above them, auditors and administrators see a consultation"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Not authenticated"),
    # calendar imports (ScheduleError)
    N_("{where}: unparseable date {value} (expected YYYY-MM-DD)"),
    N_("CSV schedule needs a header 'date,kind,name'"),
    N_("invalid CSV at line {line}: {error}"),
    N_("invalid YAML: {error}"),
    N_("YAML schedule must be a list of mappings with date, kind, name"),
    N_("unknown schedule format {format} (expected 'csv' or 'yaml')"),
    N_("{where} ({day}): unknown kind {kind} (one of: {kinds})"),
    N_("{where}: date {day} already listed at {other}"),
    N_("{where}: {day} is a weekday; an adjusted workday must be a weekend day"),
    N_("{where}: {day} is a weekday; mark a weekday off as 'holiday', not 'rest'"),
    N_("schedule lists no days"),
    N_("schedule spans years {years}; import one calendar year at a time"),
    N_("a schedule lists the days of exactly one year"),
    N_("this {year} schedule contradicts the official {year} schedule in force ({source}) on {count} day(s): "
       "{conflicts}. Import it with replace (--replace, or \"replace\": true) to overwrite that schedule"),
)
# A finished workflow may be deleted by Temporal's retention while the case stays readable: that case is closed.
_GONE = {N_("no running workflow {workflow_id}"), N_("{workflow_id} is already finished: no further action can be "
                                                       "recorded")}
CLOSED_CASE = N_("case {case_no} is already closed: no further action can be recorded")


# ---- answering -------------------------------------------------------------------------------------------------
def language(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), getattr(request.state, "language", None))


def error_response(request: Request, status: int, code: str, message: str, field: str | None = None,
                   details: list[FieldError] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorPublic(error=ErrorBody(code=code, message=message, field=field, details=details or []))
    all_headers = {"Content-Language": language(request).replace("_", "-"), **(headers or {})}
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=all_headers)


def _text(request: Request, text: str) -> tuple[str, str | None]:
    """An English text in the user's language, and the message id it came from (None: unknown, left as is)."""
    found = parse(text)
    if found is None:
        return text, None
    msgid, params = found
    if msgid in _GONE:
        return translate(CLOSED_CASE, language(request), case_no=params["workflow_id"]), msgid
    return translate(msgid, language(request), **params), msgid


def _message(request: Request, err: Exception) -> tuple[str, str | None]:
    if isinstance(err, _Translatable) and (err.params or parse(err.msgid) is None):
        if err.msgid in _GONE:
            return translate(CLOSED_CASE, language(request), case_no=err.params.get("workflow_id", "")), err.msgid
        return translate(err.msgid, language(request), **err.params), err.msgid
    return _text(request, str(err))


# ---- domain refusals -------------------------------------------------------------------------------------------
def _application_error(err: BaseException | None) -> ApplicationError | None:
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, ApplicationError):
            return err
        err, seen = err.__cause__, seen + 1
    return None


async def _refusal(request: Request, err: Exception) -> JSONResponse:
    app_err = _application_error(err.__cause__ if isinstance(err, WorkflowUpdateFailedError) else err)
    if app_err is None:
        log.warning("update failed without a refusal: %r", err)
        return error_response(request, 409, "action_failed",
                              translate(N_("the action could not be completed; try again"), language(request)))
    kind = app_err.type or ""
    if kind not in STATUS_OF:  # not a refusal but a fault of the engine's code (its type: NameError, TypeError...):
        raise err  # answered 500 by CatchAll, logged with the request id, its text never shown
    structured = app_err.details[0] if app_err.details else None
    if isinstance(structured, dict) and isinstance(structured.get("msgid"), str):
        message = translate(structured["msgid"], language(request), **(structured.get("params") or {}))
    else:
        message, _ = _text(request, app_err.message)
    return error_response(request, STATUS_OF[kind], CODE_OF[kind], message)


# ---- request validation ----------------------------------------------------------------------------------------
_PROBLEMS: dict[str, str] = {
    "missing": N_("is required"),
    "string_too_long": N_("must have at most {max_length} characters"),
    "too_short": N_("must have at least {min_length} items"),
    "too_long": N_("must have at most {max_length} items"),
    "string_pattern_mismatch": N_("has the wrong format"),
    "enum": N_("must be one of: {expected}"),
    "literal_error": N_("must be one of: {expected}"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "multiple_of": N_("must be a multiple of {multiple_of}"),
    "timezone_aware": N_("must include a time zone"),
    "timezone_naive": N_("must not include a time zone"),
    "date_future": N_("must be in the future"),
    "datetime_future": N_("must be in the future"),
    "date_past": N_("must be in the past"),
    "datetime_past": N_("must be in the past"),
    "json_invalid": N_("is not valid JSON"),
    "extra_forbidden": N_("is not an allowed field"),
    "string_unicode": N_("is not valid text"),
}
_FAMILIES: list[tuple[str, str]] = [
    ("int_", N_("must be a whole number")),
    ("float_", N_("must be a number")),
    ("decimal_", N_("must be a number")),
    ("bool_", N_("must be true or false")),
    ("datetime_", N_("must be a date and time (ISO 8601, e.g. 2026-03-01T09:30:00+08:00)")),
    ("date_", N_("must be a date (YYYY-MM-DD)")),
    ("time_", N_("must be a time (HH:MM)")),
    ("url_", N_("must be a URL")),
    ("uuid_", N_("must be a UUID")),
    ("string_", N_("must be text")),
    ("list_", N_("must be a list")),
    ("tuple_", N_("must be a list")),
    ("set_", N_("must be a list")),
    ("dict_", N_("must be an object")),
    ("model_", N_("must be an object")),
    ("dataclass_", N_("must be an object")),
]
_SOURCES = {"body", "query", "path", "header", "cookie"}
MAX_DETAILS = 50


def _field(error: dict[str, Any]) -> str | None:
    loc = list(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        return None  # its loc ends with a position in the text, not a field
    if loc and loc[0] in _SOURCES:
        loc = loc[1:]
    return ".".join(str(p) for p in loc) or None


def _problem(error: dict[str, Any], lang: str) -> str:
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        if isinstance(cause, IdentityError):
            return cause.message_zh if lang == "zh_CN" else cause.message_en
        text = str(cause if cause is not None else "")[:300]
        found = parse(text)
        return translate(found[0], lang, **found[1]) if found else text or translate(N_("is not valid"), lang)
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return translate(N_("must not be empty"), lang)
        return translate(N_("must have at least {min_length} characters"), lang, **ctx)
    if kind in ("enum", "literal_error"):
        expected = [e.strip("'\" ") for e in re.split(r", | or ", str(ctx.get("expected", ""))) if e]
        return translate(_PROBLEMS[kind], lang, expected=expected)
    msgid = _PROBLEMS.get(kind) or next((m for prefix, m in _FAMILIES if kind.startswith(prefix)), None)
    safe = {k: v for k, v in ctx.items() if isinstance(v, int | float | str) and len(str(v)) <= 100}
    return translate(msgid or N_("is not valid"), lang, **safe)


async def _validation(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    lang = language(request)
    errors = list(err.errors())
    details = [FieldError(field=_field(e), code=str(e.get("type", "invalid")), message=_problem(e, lang))
               for e in errors[:MAX_DETAILS]]
    if not details:
        return error_response(request, 422, "validation_error", translate(N_("the request is not valid"), lang))
    first = details[0]
    problem = first.message if first.field is None else translate(N_("{field}: {problem}"), lang, field=first.field,
                                                                   problem=first.message)
    if len(errors) > 1:
        problem = translate(N_("{problem} (and {more} more)"), lang, problem=problem, more=len(errors) - 1)
    return error_response(request, 422, "validation_error", problem, field=first.field, details=details)


# ---- HTTP, lookups, Temporal -----------------------------------------------------------------------------------
async def _http(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, StarletteHTTPException)
    detail = err.detail
    if isinstance(detail, dict) and isinstance(detail.get("msgid"), str):
        message = translate(detail["msgid"], language(request), **(detail.get("params") or {}))
    else:
        message, _ = _text(request, str(detail))
    return error_response(request, err.status_code, HTTP_CODES.get(err.status_code, "error"), message,
                          headers=dict(err.headers or {}))


async def _api_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ApiError)
    return error_response(request, err.status, err.code, _message(request, err)[0], field=err.field)


async def _not_found(request: Request, err: Exception) -> JSONResponse:
    message, msgid = _message(request, err)
    if msgid in _GONE:
        return error_response(request, 409, "closed", message)
    return error_response(request, 404, "not_found", message)


async def _closed(request: Request, err: Exception) -> JSONResponse:
    return error_response(request, 409, "closed", _message(request, err)[0])


async def _unknown_item(request: Request, err: Exception) -> JSONResponse:
    return error_response(request, 422, "unknown_item", _message(request, err)[0], field="item_code")


_CATALOGUE = {"invalid": (422, "invalid"), "conflict": (409, "conflict"), "unknown": (404, "not_found")}


async def _catalogue(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, CatalogueRefused)
    status, code = _CATALOGUE[err.answer]
    return error_response(request, status, code, translate(err.msgid, language(request), **err.params),
                          field=err.field)


_ACCOUNT = {"invalid": 422, "conflict": 409}


async def _account(request: Request, err: Exception) -> JSONResponse:
    """A change of accounts refused (taken username, department unknown or out of use, last administrator)."""
    assert isinstance(err, AccountRefused)
    return error_response(request, _ACCOUNT[err.answer], err.code, translate(err.msgid, language(request),
                                                                             **err.params), field=err.field)


async def _weak_password(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, WeakPassword)
    return error_response(request, 422, "weak_password", translate(err.msgid, language(request), **err.params),
                          field="password")


async def _already_started(request: Request, err: Exception) -> JSONResponse:
    return error_response(request, 409, "conflict", translate(N_("a case with this number is already running"),
                                                              language(request)))


async def _rpc(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RPCError)
    lang = language(request)
    if err.status == RPCStatusCode.NOT_FOUND:
        if "completed" in err.message:
            return error_response(request, 409, "closed", translate(
                N_("this case is already closed: no further action can be recorded"), lang))
        return error_response(request, 404, "not_found", translate(N_("no such case is running"), lang))
    # FAILED_PRECONDITION: the workflow task failed (a worker died in the middle): it is retried; so may the caller.
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.FAILED_PRECONDITION,
                      RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.CANCELLED):
        return error_response(request, 503, "engine_unavailable", translate(
            N_("the workflow engine is not reachable; try again shortly"), lang), headers={"Retry-After": RETRY_AFTER})
    if err.status == RPCStatusCode.ALREADY_EXISTS:
        return error_response(request, 409, "conflict", translate(N_("a case with this number is already running"),
                                                                  lang))
    log.error("workflow engine error %s: %s", err.status, err.message)
    return error_response(request, 502, "engine_error", translate(N_("the workflow engine answered with an error"),
                                                                  lang))


# ---- outages and the last resort -------------------------------------------------------------------------------
_CONNECTION_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
                      errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE}


_OUTAGES = (sa_exc.OperationalError, sa_exc.TimeoutError, TimeoutError, ConnectionError,
            asyncpg.PostgresConnectionError, asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError,
            asyncpg.ConnectionDoesNotExistError)


def database_outage(err: BaseException) -> bool:
    """Whether ``err`` means the database cannot be reached (refused, reset, timed out, pool exhausted)."""
    pending: list[BaseException | None] = [err]
    seen: list[BaseException] = []
    while pending and len(seen) < 12:  # the error, what it wraps (orig) and its causes
        e = pending.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        pending += [getattr(e, "orig", None), e.__cause__]
        if isinstance(e, _OUTAGES):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, OSError) and (e.errno in _CONNECTION_ERRNOS or "Connect call failed" in str(e)):
            return True
    return False


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class CatchAll:
    """Outermost of the app's own layers: gives every request an id (``X-Request-ID``), answers a database outage
    503 and any other unhandled exception 500 in the error shape, logging it once with the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as err:
            if started:
                raise
            request = Request(scope)
            lang = language(request)
            if database_outage(err):
                log.warning("request %s %s %s: database unreachable: %r", request_id, scope.get("method"),
                            scope.get("path"), err)
                response = error_response(request, 503, "database_unavailable", translate(
                    N_("the database is not reachable right now; nothing was recorded, try again in a few seconds"),
                    lang), headers={"Retry-After": RETRY_AFTER})
            else:
                log.error("request %s %s %s failed", request_id, scope.get("method"), scope.get("path"),
                          exc_info=err)
                response = error_response(request, 500, "internal_error", translate(
                    N_("an internal error occurred; tell the administrator the request number {request_id}"),
                    lang, request_id=request_id))
            await response(scope, receive, send_with_id)


def install(app: FastAPI) -> None:
    """The handlers, the catch-all layer, and the documented error answers of every route included afterwards."""
    from casehall.api.intake import UnknownItem  # imported late: intake depends on the workflows

    app.add_exception_handler(WorkflowUpdateFailedError, _refusal)
    app.add_exception_handler(ApplicationError, _refusal)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RPCError, _rpc)
    app.add_exception_handler(WorkflowAlreadyStartedError, _already_started)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Closed, _closed)
    app.add_exception_handler(UnknownItem, _unknown_item)
    app.add_exception_handler(CatalogueRefused, _catalogue)
    app.add_exception_handler(AccountRefused, _account)
    app.add_exception_handler(WeakPassword, _weak_password)
    app.add_middleware(CatchAll)
    app.router.responses = {**ERROR_RESPONSES, **app.router.responses}
