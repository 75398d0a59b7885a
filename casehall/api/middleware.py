"""ASGI middleware around the whole API: the body size limit (413 before anything parses the body) and the
request scope in which ``deps`` tracks the sessions a request opens."""

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casehall.api.deps import request_sessions
from casehall.api.errors import error_response, language
from casehall.core.i18n import translate
from casehall.models.messages import N_

TOO_LARGE = N_("the request body is larger than {limit} bytes")
MALFORMED_LENGTH = N_("the Content-Length header is not a number")
NOT_UTF8 = N_("the request body is not UTF-8 encoded JSON")


class RequestLimits:
    """Reads the request body up to ``max_body_bytes`` before the app sees it (413 above, 400 for a malformed
    Content-Length) and opens the request's session registry (see ``deps.release_request_sessions``)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, msgid: str) -> None:
        request = Request(scope)
        message = translate(msgid, language(request), limit=self.max_body_bytes)
        code = {413: "payload_too_large", 422: "validation_error"}.get(status, "bad_request")
        response = error_response(request, status, code, message, headers={"Connection": "close"})
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(scope, receive, send, 400, MALFORMED_LENGTH)
                return
            if int(declared) > self.max_body_bytes:
                await self._refuse(scope, receive, send, 413, TOO_LARGE)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._refuse(scope, receive, send, 413, TOO_LARGE)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _json(scope):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:  # FastAPI would answer an undocumented 400 "error parsing the body"
                await self._refuse(scope, receive, send, 422, NOT_UTF8)
                return
        buffered: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> Message:
            return buffered.pop() if buffered else await receive()

        token = request_sessions.set([])
        try:
            await self.app(scope, replay, send)
        finally:
            request_sessions.reset(token)



def _json(scope: Scope) -> bool:
    kind = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
    return kind == b"application/json" or kind.endswith(b"+json")
