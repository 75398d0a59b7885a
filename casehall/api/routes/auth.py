"""Log-in: a username and password for a bearer token."""

from datetime import timedelta

from fastapi import APIRouter, HTTPException

from casehall.api.deps import CurrentUser, SessionDep, StateDep
from casehall.api.schemas import Login, TokenPublic
from casehall.core.security import new_token, token_digest, verify_password
from casehall.store import queries, repository

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login")
async def login(body: Login, session: SessionDep, state: StateDep) -> TokenPublic:
    user = await queries.user_by_name(session, body.username)
    if user is None or not user.active or not verify_password(body.password, user.password_hash):
        raise HTTPException(401, "wrong username or password")
    assert user.id is not None
    token = new_token()
    expires = await repository.store_token(
        session, token_digest(token), user.id, timedelta(hours=state.settings.token_ttl_hours)
    )
    await session.commit()
    return TokenPublic(access_token=token, expires_at=expires, username=user.username, role=user.role,
                       department_code=user.department_code)


@router.get("/me")
async def me(user: CurrentUser) -> dict[str, str]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_code": user.department_code}
