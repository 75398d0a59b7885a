"""The codec server of the Temporal UI ("remote codec endpoint"): ``POST /codec/decode`` and ``/codec/encode``
take and return ``{"payloads": [{"metadata": {...}, "data": "<base64>"}]}``. Admins only, signed in with their
bearer token or the cookie set at log-in (the UI sends it with "include cross-origin credentials"); the UI's origin
is allowed by CORS (``CASEHALL_CODEC_CORS_ORIGINS``)."""

from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.api.common.v1 import Payload, Payloads

from casehall.api.deps import SessionDep, StateDep
from casehall.api.routes.auth import CODEC_COOKIE
from casehall.core.codec import CodecError
from casehall.core.security import token_digest
from casehall.models.enums import Role
from casehall.models.tables import User
from casehall.store import accounts

MAX_BODY = 8 * 1024 * 1024


def _cors_headers(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin", "").rstrip("/")
    if not origin or origin not in request.app.state.casehall.settings.resolved_codec_origins():
        return {}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "content-type, x-namespace, authorization", "Vary": "Origin"}


class _CorsRoute(APIRoute):
    """Adds the CORS headers to every answer of these routes, refusals included (the UI must read them)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as exc:  # answered here by the app's own handler, to add the headers
                answer = request.app.exception_handlers.get(StarletteHTTPException)
                response = (await answer(request, exc) if answer else
                            JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers))
            response.headers.update(_cors_headers(request))
            return response

        return with_cors


router = APIRouter(prefix="/codec", tags=["codec"], route_class=_CorsRoute)
_bearer = HTTPBearer(auto_error=False)


async def codec_admin(
    session: SessionDep, state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Cookie(alias=CODEC_COOKIE)] = None,
) -> User:
    token = credentials.credentials if credentials else cookie
    if not token:
        raise HTTPException(401, "log in first: send the token as 'Authorization: Bearer <token>'")
    user = await accounts.authenticate(session, token_digest(token),
                                       timedelta(minutes=state.settings.idle_timeout_minutes))
    if user is None:
        raise HTTPException(401, "your session has expired or the token is unknown: log in again")
    if user.role != Role.ADMIN:
        raise HTTPException(403, "only an administrator may decode or encode payloads")
    return user


async def _payloads(request: Request) -> list[Payload]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"at most {MAX_BODY // (1024 * 1024)} MiB of payloads at once")
    try:
        return list(json_format.Parse(body or b"{}", Payloads()).payloads)
    except json_format.ParseError as err:
        raise HTTPException(422, f'send {{"payloads": [{{"metadata": {{...}}, "data": "<base64>"}}]}}: {err}'
                            ) from None


def _answer(payloads: Sequence[Payload]) -> Response:
    text = json_format.MessageToJson(Payloads(payloads=payloads))
    return Response(text, media_type="application/json")


@router.options("/decode", include_in_schema=False)
@router.options("/encode", include_in_schema=False)
async def preflight() -> Response:
    return Response(status_code=204)


@router.post("/decode", dependencies=[Depends(codec_admin)])
async def decode(request: Request, state: StateDep) -> Response:
    """Decrypt payloads (unencrypted ones come back unchanged)."""
    payloads = await _payloads(request)
    codec = state.client.data_converter.payload_codec
    if codec is None:
        return _answer(payloads)
    try:
        return _answer(await codec.decode(payloads))
    except CodecError as err:
        raise HTTPException(422, str(err)) from None


@router.post("/encode", dependencies=[Depends(codec_admin)])
async def encode(request: Request, state: StateDep) -> Response:
    """Encrypt payloads with the current key (unchanged when encryption is off)."""
    payloads = await _payloads(request)
    codec = state.client.data_converter.payload_codec
    return _answer(await codec.encode(payloads) if codec else payloads)
