"""User administration: administrators list, create, edit, disable and enable accounts, reset passwords, list and
lift sign-in locks, and read the sign-in log; administrators and auditors read the log of account changes. Who may
do what: ``casehall.workflows.access`` (user administration).

Every change is recorded in ``admin_changes`` (who, when, from where, each field before and after; of a password
only that it changed). Disabling an account or setting its password ends its sessions at once. Refusals
(``accounts.AccountRefused``, ``WeakPassword``) are answered by ``casehall.api.errors``."""

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from casehall.api.deps import CurrentActor, SessionDep
from casehall.api.errors import NotFound
from casehall.api.params import Limit, Offset, SearchText
from casehall.api.routes.auth import client_address
from casehall.core.security import check_password_policy, hash_password
from casehall.models.case import Actor
from casehall.models.enums import Role
from casehall.models.messages import N_
from casehall.models.tables import AdminChange, SignInLog
from casehall.models.text import Storable
from casehall.store import accounts
from casehall.workflows.access import require_admin_change_reader, require_other_account, require_user_admin

router = APIRouter(prefix="/admin", tags=["user administration"])

# The roles of the service hall an administrator gives; hotline accounts also need their unit (``unit_members``).
HallRole = Literal["clerk", "manager", "director", "auditor", "admin"]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,31}$")]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), Storable]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), Storable]
DepartmentCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), Storable]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]
UsernamePath = Annotated[str, Path(min_length=1, max_length=64)]
Who = Annotated[str, StringConstraints(min_length=1, max_length=80)]


def user_admin(actor: CurrentActor) -> Actor:
    require_user_admin(actor)
    return actor


def change_reader(actor: CurrentActor) -> Actor:
    require_admin_change_reader(actor)
    return actor


UserAdmin = Annotated[Actor, Depends(user_admin)]
ChangeReader = Annotated[Actor, Depends(change_reader)]


# ---- shapes ----------------------------------------------------------------------------------------------------
class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username = Field(description="2-32 characters: lower-case letters, digits, '.', '_', '-'")
    display_name: DisplayName
    title: Title = ""
    role: HallRole
    department_code: DepartmentCode
    password: Password = Field(description="at least 10 characters of two kinds, not containing the username")


class UserUpdate(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    display_name: DisplayName | None = None
    title: Title | None = None
    role: HallRole | None = None
    department_code: DepartmentCode | None = None

    @model_validator(mode="after")
    def _something(self) -> "UserUpdate":
        if not self.model_fields_set:
            raise ValueError(N_("name at least one field to change"))
        return self


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Password


class UserPublic(BaseModel):
    username: str
    display_name: str
    title: str
    role: str
    department_code: str
    active: bool
    last_sign_in: datetime | None
    locked_until: datetime | None = Field(description="the lock on the username after failed log-ins, if any")

    @classmethod
    def of(cls, account: accounts.Account) -> "UserPublic":
        u = account.user
        return cls(username=u.username, display_name=u.display_name, title=u.title, role=u.role,
                   department_code=u.department_code, active=u.active, last_sign_in=account.last_sign_in,
                   locked_until=account.locked_until)


class UserPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[UserPublic]


class SignInPublic(BaseModel):
    at: datetime
    username: str = Field(description="as typed at the log-in (also names nobody has)")
    address: str
    outcome: str

    @classmethod
    def of(cls, row: SignInLog) -> "SignInPublic":
        return cls(at=row.at, username=row.username, address=row.address, outcome=row.outcome)


class SignInPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[SignInPublic]


class ChangePublic(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="the administrator's username, or cli:<system user> for the command line")
    address: str
    action: str
    target: str = Field(description="the username, or scope:subject of a lock")
    changes: dict[str, Any] = Field(description="each field changed as [before, after]; a password only as changed")

    @classmethod
    def of(cls, row: AdminChange) -> "ChangePublic":
        assert row.id is not None
        return cls(id=row.id, at=row.at, actor=row.actor_username, address=row.address, action=row.action,
                   target=row.target, changes=row.changes)


class ChangePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ChangePublic]


# ---- helpers ---------------------------------------------------------------------------------------------------
def changer(actor: Actor, request: Request) -> accounts.Changer:
    return accounts.Changer(actor.user_id, actor.username, client_address(request))


async def new_password_hash(password: str, username: str) -> str:
    """The hash of a password that passes the policy (``WeakPassword`` otherwise); scrypt runs in a thread."""
    check_password_policy(password, username)
    return await asyncio.to_thread(hash_password, password)


async def one(session: SessionDep, username: str) -> UserPublic:
    found = await accounts.accounts(session, where=accounts.AccountFilter(username=username))
    if not found:
        raise NotFound(N_("no user named {username}"), username=username)
    return UserPublic.of(found[0])


# ---- accounts --------------------------------------------------------------------------------------------------
@router.get("/users")
async def list_users(
    actor: UserAdmin, session: SessionDep,
    department: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    role: Role | None = None, active: bool | None = None, q: SearchText | None = None,
    offset: Offset = 0, limit: Limit = 50,
) -> UserPage:
    """Accounts by username, filtered by department, role, active or not, and a part of the username or name."""
    where = accounts.AccountFilter(department=department, role=role.value if role else None, active=active,
                                   text=q.strip() if q and q.strip() else None)
    total = await accounts.count_accounts(session, where)
    found = await accounts.accounts(session, where=where, offset=offset, limit=limit)
    return UserPage(total=total, offset=offset, limit=limit, items=[UserPublic.of(a) for a in found])


@router.get("/users/{username}")
async def get_user(username: UsernamePath, actor: UserAdmin, session: SessionDep) -> UserPublic:
    return await one(session, username)


@router.post("/users", status_code=201)
async def create_user(body: UserCreate, actor: UserAdmin, request: Request, session: SessionDep) -> UserPublic:
    """A new active account. 409 if the username is taken, 422 for an unknown department or a weak password."""
    password_hash = await new_password_hash(body.password, body.username)
    await accounts.create_user(session, changer(actor, request), body.username, body.display_name, body.role,
                               body.department_code, password_hash, body.title)
    await session.commit()
    return await one(session, body.username)


@router.patch("/users/{username}")
async def update_user(username: UsernamePath, body: UserUpdate, actor: UserAdmin, request: Request,
                      session: SessionDep) -> UserPublic:
    """Change the name, title, role or department. Nobody changes their own role; the last active administrator
    keeps theirs (409)."""
    if body.role is not None and body.role != actor.role:
        require_other_account(actor, username, "change_role")
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    try:
        await accounts.update_user(session, changer(actor, request), username, **fields)
    except LookupError:
        raise NotFound(N_("no user named {username}"), username=username) from None
    await session.commit()
    return await one(session, username)


@router.post("/users/{username}/disable")
async def disable_user(username: UsernamePath, actor: UserAdmin, request: Request, session: SessionDep
                       ) -> UserPublic:
    """The account can no longer log in and its sessions end at once. Not one's own, nor the last active
    administrator (409)."""
    require_other_account(actor, username, "disable")
    return await _set_active(session, changer(actor, request), username, False)


@router.post("/users/{username}/enable")
async def enable_user(username: UsernamePath, actor: UserAdmin, request: Request, session: SessionDep
                      ) -> UserPublic:
    return await _set_active(session, changer(actor, request), username, True)


async def _set_active(session: SessionDep, by: accounts.Changer, username: str, active: bool) -> UserPublic:
    try:
        await accounts.set_active(session, username, active, by)
    except LookupError:
        raise NotFound(N_("no user named {username}"), username=username) from None
    await session.commit()
    return await one(session, username)


@router.post("/users/{username}/password")
async def reset_password(username: UsernamePath, body: PasswordReset, actor: UserAdmin, request: Request,
                         session: SessionDep) -> UserPublic:
    """Set a new password (policy checked): the account's sessions end and the lock on its name is lifted."""
    if await accounts.accounts(session, where=accounts.AccountFilter(username=username)) == []:
        raise NotFound(N_("no user named {username}"), username=username)
    await session.commit()  # the read's connection goes back to the pool while scrypt runs
    password_hash = await new_password_hash(body.password, username)
    try:
        await accounts.set_password_hash(session, username, password_hash, changer(actor, request))
    except LookupError:
        raise NotFound(N_("no user named {username}"), username=username) from None
    await session.commit()
    return await one(session, username)


# ---- sign-in locks -------------------------------------------------------------------------------------------
class LockPublic(BaseModel):
    scope: Literal["user", "address"]
    subject: str
    locked_until: datetime


@router.get("/locks")
async def list_locks(actor: UserAdmin, session: SessionDep) -> list[LockPublic]:
    """Usernames and addresses locked after failed log-ins, and until when (soonest to end first)."""
    return [LockPublic(scope=lock.scope, subject=lock.subject, locked_until=lock.locked_until)  # type: ignore[arg-type]
            for lock in await accounts.locks(session)]


@router.delete("/locks/{scope}/{subject}", status_code=204)
async def lift_lock(scope: Literal["user", "address"], subject: Annotated[str, Path(max_length=64)], actor: UserAdmin,
                    request: Request, session: SessionDep) -> None:
    """Lift a lock before its time (the person was identified at the window); recorded in the account changes."""
    if not await accounts.unlock(session, scope, subject, changer(actor, request)):
        raise NotFound(N_("no lock on {scope} {subject}"), scope=scope, subject=subject)
    await session.commit()


# ---- logs ------------------------------------------------------------------------------------------------------
@router.get("/sign-ins")
async def sign_ins(
    actor: UserAdmin, session: SessionDep, username: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    outcome: accounts.Outcome | None = None, offset: Offset = 0, limit: Limit = 50,
) -> SignInPage:
    """The sign-in log, newest first: log-ins, refusals (wrong password, unknown name, disabled, locked), log-outs
    and idle time-outs; of one username (as typed) and one outcome when given."""
    kind = outcome.value if outcome else None
    total = await accounts.count_sign_ins(session, username, kind)
    rows = await accounts.sign_ins(session, username, limit, offset, kind)
    return SignInPage(total=total, offset=offset, limit=limit, items=[SignInPublic.of(r) for r in rows])


@router.get("/changes")
async def changes(
    actor: ChangeReader, session: SessionDep, target: Who | None = None, by: Who | None = None,
    action: accounts.Action | None = None, offset: Offset = 0, limit: Limit = 50,
) -> ChangePage:
    """The account changes, newest first (administrators and auditors): about one account (``target``), by one
    administrator (``by``), of one kind (``action``)."""
    kind = action.value if action else None
    total = await accounts.count_changes(session, target, by, kind)
    rows = await accounts.changes(session, target, by, kind, offset, limit)
    return ChangePage(total=total, offset=offset, limit=limit, items=[ChangePublic.of(r) for r in rows])

