"""Log-in and log-out (the sign-in locks an administrator sees and lifts: ``routes/admin_users.py``)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from casehall.api.deps import CurrentUser, SessionDep, StateDep
from casehall.api.schemas import Login, TokenPublic
from casehall.core.security import token_digest
from casehall.store import accounts

router = APIRouter(tags=["auth"])
_bearer = HTTPBearer(auto_error=False)
# The token also goes into a cookie readable by the codec endpoint only (the Temporal UI cannot send a bearer).
CODEC_COOKIE = "casehall_codec"
CODEC_PATH = "/codec"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@router.post("/auth/login")
async def login(body: Login, request: Request, response: Response, session: SessionDep, state: StateDep
                ) -> TokenPublic:
    """A bearer token for a username and password. Too many failures lock the name (and the address) for a while:
    429 with Retry-After."""
    result = await accounts.sign_in(session, body.username, body.password, client_address(request),
                                    accounts.SignInPolicy.of(state.settings))
    await session.commit()
    now = datetime.now(UTC)
    if result.outcome == accounts.Outcome.LOCKED:
        assert result.locked_until is not None
        wait = max(1, int((result.locked_until - now).total_seconds()))
        raise HTTPException(429, f"too many failed log-ins for this name or from this address: try again after "
                                 f"{_at(result.locked_until)} or ask an administrator to unlock",
                            headers={"Retry-After": str(wait)})
    if result.outcome == accounts.Outcome.DISABLED:
        raise HTTPException(403, "this account is disabled: ask an administrator")
    if result.outcome != accounts.Outcome.OK:
        locked = f"; too many failures: locked until {_at(result.locked_until)}" if result.locked_until else ""
        raise HTTPException(401, "wrong username or password" + locked)
    user = result.user
    assert user is not None and result.token is not None and result.expires_at is not None
    response.set_cookie(CODEC_COOKIE, result.token, path=CODEC_PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", expires=result.expires_at)
    return TokenPublic(access_token=result.token, expires_at=result.expires_at, username=user.username,
                       role=user.role, department_code=user.department_code)


@router.post("/auth/logout", status_code=204)
async def logout(user: CurrentUser, request: Request, response: Response, session: SessionDep,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """Revoke the token server-side: it stops working at once."""
    assert credentials is not None  # CurrentUser refused the request otherwise
    await accounts.log_out(session, token_digest(credentials.credentials), user, client_address(request))
    await session.commit()
    response.delete_cookie(CODEC_COOKIE, path=CODEC_PATH)


@router.get("/auth/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_code": user.department_code}
