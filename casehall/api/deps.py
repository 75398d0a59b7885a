"""Annotated dependencies: the session, the Temporal client, the current user."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.core.security import token_digest
from casehall.core.settings import Settings
from casehall.models.case import Actor
from casehall.models.enums import Role
from casehall.models.tables import User
from casehall.store import queries


@dataclass
class AppState:
    """Built in the app's lifespan, never at import time."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    client: Client


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.casehall
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False)


async def get_current_user(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if credentials is None:
        raise HTTPException(401, "log in first: send the token as 'Authorization: Bearer <token>'")
    user = await queries.user_by_token(session, token_digest(credentials.credentials))
    if user is None:
        raise HTTPException(401, "your session has expired or the token is unknown: log in again")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_actor(user: CurrentUser) -> Actor:
    return queries.actor_of(user)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require_roles(*roles: Role) -> params.Depends:
    """A dependency refusing users whose role is not among ``roles``."""

    def check(user: CurrentUser) -> User:
        if Role(user.role) not in roles:
            names = ", ".join(r.value for r in roles)
            raise HTTPException(403, f"this needs one of the roles: {names}")
        return user

    return Depends(check)
