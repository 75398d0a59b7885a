"""Bounded request parameters, and the one check refusing text PostgreSQL cannot store.

Every integer, date-time and free text a route takes goes through one of these types, so hostile input (an id past
int32, a date-time in year 9999, a NUL byte) is a 422 naming the parameter, never a database error or a 500.
"""

import json
import re
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal

from annotated_types import Interval
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BeforeValidator, StringConstraints, TypeAdapter, ValidationError

from casehall.models.messages import N_

INT32_MAX = 2**31 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)

# Ids and counts PostgreSQL keeps as ``integer``.
Int32 = Annotated[int, Interval(ge=-(2**31), le=INT32_MAX)]
Id = Annotated[int, Interval(ge=1, le=INT32_MAX)]
Offset = Annotated[int, Interval(ge=0, le=INT32_MAX)]
Limit = Annotated[int, Interval(ge=1, le=200)]
# Case numbers (HALL-20260302-0001, its matters -1, -2 ...), consultation ids, codes and search text.
CaseNo = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]
SearchText = Annotated[str, StringConstraints(max_length=100)]

NOT_ISO = N_("expected an ISO 8601 date-time such as 2026-03-02T09:00:00+08:00")
OUT_OF_RANGE = N_("must lie between 2000-01-01 and 2100-12-31")
UNSTORABLE = N_("text must not contain NUL characters or unpaired surrogates")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|z|[+-]\d{2}:?\d{2})?$")
# PostgreSQL text cannot hold NUL; a lone surrogate cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _iso_text(value: Any) -> Any:
    """Only an ISO 8601 text is a date-time here (pydantic would read ``0.5`` as seconds after 1970)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO.match(value):
        raise ValueError(NOT_ISO)
    return value


def _in_range(value: datetime) -> datetime:
    try:
        moment = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise ValueError(OUT_OF_RANGE)
    return value


# A moment in [2000, 2100], written as ISO 8601; a time without offset keeps its meaning for the route.
BoundedDatetime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_in_range)]


@cache
def _moment() -> TypeAdapter[datetime]:
    return TypeAdapter(BoundedDatetime)


def unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def _error(location: tuple[str | int, ...], kind: str = "string_unstorable", message: str = UNSTORABLE,
           **ctx: Any) -> RequestValidationError:
    error = {"type": kind, "loc": location, "msg": message, "input": None}
    return RequestValidationError([{**error, "ctx": ctx} if ctx else error])


Kind = Literal["int32", "moment"]


def _kind(schema: dict[str, Any]) -> Kind | None:
    """int32: an integer without bounds of its own; moment: a date-time."""
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "integer" and "maximum" not in option:
            return "int32"
        if option.get("type") == "string" and option.get("format") == "date-time":
            return "moment"
    return None


def _typed_params(request: Request) -> list[tuple[str, str, Kind]]:
    """The integer and date-time parameters of the matched route, read once from the app's OpenAPI document."""
    route, app = request.scope.get("route"), request.scope.get("app")
    path = getattr(route, "path_format", None)
    if path is None or app is None:
        return []
    plans: dict[tuple[str, str], list[tuple[str, str, Kind]]] = app.state.__dict__.setdefault("_param_plans", {})
    key = (request.method.lower(), path)
    if key not in plans:
        operation = app.openapi().get("paths", {}).get(path, {}).get(key[0], {})
        found = []
        for param in operation.get("parameters", []):
            kind = _kind(param.get("schema", {}))
            if kind and param.get("in") in ("path", "query"):
                found.append((str(param["in"]), str(param["name"]), kind))
        plans[key] = found
    return plans[key]


def _check_typed(request: Request) -> None:
    """A safety net under the bounded types: an integer parameter without bounds of its own stays within int32,
    a date-time parameter within [2000, 2100] and written as ISO 8601."""
    for where, name, kind in _typed_params(request):
        source = request.path_params if where == "path" else request.query_params
        raw = source.get(name)
        if not isinstance(raw, str):
            continue
        if kind == "int32":
            try:
                number = int(raw)
            except ValueError:
                continue  # not a number: the route's own validation names it
            if number > INT32_MAX:
                raise _error((where, name), "less_than_equal", f"Input should be less than or equal to {INT32_MAX}",
                             le=INT32_MAX)
            if number < -(2**31):
                raise _error((where, name), "greater_than_equal",
                             f"Input should be greater than or equal to {-(2**31)}", ge=-(2**31))
        else:
            try:
                _moment().validate_python(raw)
            except ValidationError as err:
                cause = err.errors()[0].get("ctx", {}).get("error", ValueError(OUT_OF_RANGE))
                raise _error((where, name), "value_error", str(cause), error=cause) from None


def _walk(value: Any, location: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """The location of the first unstorable string (key or value) in a parsed JSON document."""
    if isinstance(value, str):
        return location if unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if unstorable(key):
                return (*location, key)
            found = _walk(item, (*location, key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _walk(item, (*location, i))
            if found:
                return found
    return None


async def refuse_hostile_input(request: Request) -> None:
    """An app-wide dependency: a NUL or a lone surrogate in a path or query parameter, a header or a JSON body, an
    integer past int32 or a date-time outside [2000, 2100] is a 422 naming where it is, before any route reads it.
    """
    for name, value in request.path_params.items():
        if isinstance(value, str) and unstorable(value):
            raise _error(("path", name))
    for name, value in request.query_params.multi_items():
        if unstorable(name) or unstorable(value):
            raise _error(("query", name))
    for name, value in request.headers.items():
        if "\x00" in value:
            raise _error(("header", name))
    _check_typed(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()  # already read (and size-limited) by the middleware: cached, not re-read
        if b"\\u" in body or b"\x00" in body:  # the only ways a JSON text spells NUL or a surrogate
            try:
                document = json.loads(body)
            except ValueError:
                return  # FastAPI answers malformed JSON itself
            found = _walk(document, ("body",))
            if found:
                raise _error(found)
