"""Sign-in bookkeeping: tokens with absolute and idle time-outs, log-outs, failed log-ins counted per username and
per address with temporary locks, the sign-in log; and account administration (the admin screen and ``casehall
users``): create, edit, disable, enable, reset passwords, lift locks, each change recorded in ``admin_changes``.

Every function works in the caller's session; the caller commits (``authenticate`` commits its own small writes,
as it runs before the request's work)."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import ColumnElement, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.core.security import burn_password_check, new_token, token_digest, verify_password
from casehall.core.settings import Settings
from casehall.models.messages import N_
from casehall.models.tables import AdminChange, ApiToken, Department, SignInLock, SignInLog, User

SWEEP = 100  # expired tokens deleted per log-in at most
TOUCH_EVERY = timedelta(seconds=60)  # a token's last use is written at most this often
USER, ADDRESS = "user", "address"


class Outcome(StrEnum):
    OK = "ok"
    WRONG_PASSWORD = "wrong_password"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"
    LOCKED = "locked"
    LOGOUT = "logout"
    IDLE = "idle"


@dataclass(frozen=True)
class SignInPolicy:
    token_ttl: timedelta
    idle: timedelta
    max_failures: int
    address_max_failures: int
    lock: timedelta

    @classmethod
    def of(cls, settings: Settings) -> "SignInPolicy":
        return cls(timedelta(hours=settings.token_ttl_hours), timedelta(minutes=settings.idle_timeout_minutes),
                   max(1, settings.signin_max_failures), max(1, settings.signin_address_max_failures),
                   timedelta(minutes=settings.signin_lock_minutes))


@dataclass
class SignIn:
    """The outcome of one log-in attempt; ``token`` only when ``outcome`` is OK."""

    outcome: Outcome
    user: User | None = None
    token: str | None = None
    expires_at: datetime | None = None
    locked_until: datetime | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _short(text: str) -> str:
    return text[:64]


async def log_sign_in(session: AsyncSession, username: str, address: str, outcome: Outcome,
                      user_id: int | None = None, at: datetime | None = None) -> None:
    session.add(SignInLog(at=at or _now(), username=_short(username), user_id=user_id, address=_short(address),
                          outcome=outcome.value))


async def active_lock(session: AsyncSession, username: str, address: str, now: datetime | None = None
                      ) -> datetime | None:
    """Until when the username or the address is locked, if it is."""
    now = now or _now()
    stmt = select(func.max(col(SignInLock.locked_until))).where(
        or_((col(SignInLock.scope) == USER) & (col(SignInLock.subject) == _short(username)),
            (col(SignInLock.scope) == ADDRESS) & (col(SignInLock.subject) == _short(address))),
        col(SignInLock.locked_until) > now)
    until: datetime | None = await session.scalar(stmt)
    return until


async def _count_failure(session: AsyncSession, scope: str, subject: str, limit: int, window: timedelta,
                         now: datetime) -> datetime | None:
    """One more failure for (scope, subject) within the window; locks it for ``window`` at the limit."""
    table = SignInLock.__table__  # type: ignore[attr-defined]
    fresh = table.c.window_started_at > now - window
    stmt = insert(SignInLock).values(scope=scope, subject=_short(subject), failures=1, window_started_at=now)
    upsert = stmt.on_conflict_do_update(
        index_elements=["scope", "subject"],
        set_={"failures": case((fresh, table.c.failures + 1), else_=1),
              "window_started_at": case((fresh, table.c.window_started_at), else_=now)},
    ).returning(col(SignInLock.failures))
    failures = await session.scalar(upsert)
    if failures is None or failures < limit:
        return None
    until = now + window
    await session.execute(update(SignInLock).where(col(SignInLock.scope) == scope,
                                                   col(SignInLock.subject) == _short(subject))
                          .values(failures=0, window_started_at=now, locked_until=until))
    return until


async def sign_in(session: AsyncSession, username: str, password: str, address: str, policy: SignInPolicy,
                  now: datetime | None = None) -> SignIn:
    """Check a log-in and record it; a success issues a token (returned once, stored as its sha256)."""
    now = now or _now()
    until = await active_lock(session, username, address, now)
    user = await session.scalar(select(User).where(col(User.username) == username))
    user_id = user.id if user else None
    if until is not None:
        await log_sign_in(session, username, address, Outcome.LOCKED, user_id, now)
        return SignIn(Outcome.LOCKED, locked_until=until)
    # scrypt takes ~0.1 s of CPU: it runs in a thread (releasing the GIL) and holds no database connection, so
    # concurrent log-ins neither stall the API nor drain the pool. Nothing is written yet: ending the read-only
    # transaction returns the connection; the user, detached, keeps what was read.
    if user is not None:
        session.expunge(user)
    await session.commit()
    if user is None:
        await asyncio.to_thread(burn_password_check, password)
        outcome = Outcome.UNKNOWN_USER
    elif not await asyncio.to_thread(verify_password, password, user.password_hash):
        outcome = Outcome.WRONG_PASSWORD
    elif not user.active:
        outcome = Outcome.DISABLED
    else:
        outcome = Outcome.OK
    await log_sign_in(session, username, address, outcome, user_id, now)
    if outcome == Outcome.DISABLED:
        return SignIn(outcome, user)
    if outcome != Outcome.OK:
        locks = [await _count_failure(session, USER, username, policy.max_failures, policy.lock, now),
                 await _count_failure(session, ADDRESS, address, policy.address_max_failures, policy.lock, now)]
        return SignIn(outcome, user, locked_until=max((u for u in locks if u), default=None))
    assert user is not None and user.id is not None
    await session.execute(delete(SignInLock).where(col(SignInLock.scope) == USER,
                                                   col(SignInLock.subject) == _short(username)))
    token = new_token()
    expires = now + policy.token_ttl
    session.add(ApiToken(token_hash=token_digest(token), user_id=user.id, expires_at=expires, last_used_at=now))
    # Expired tokens are swept by the log-ins, each taking those no other log-in holds: concurrent log-ins deleting
    # the same rows waited for each other's commit, holding their connections (64 at once drained the pool).
    expired = (select(col(ApiToken.token_hash)).where(col(ApiToken.expires_at) < now).limit(SWEEP)
               .with_for_update(skip_locked=True))
    await session.execute(delete(ApiToken).where(col(ApiToken.token_hash).in_(expired.scalar_subquery())))
    return SignIn(outcome, user, token, expires)


async def authenticate(session: AsyncSession, token_hash: str, idle: timedelta, now: datetime | None = None
                       ) -> User | None:
    """The active user of a token that has neither expired nor sat unused longer than ``idle``; an idle token is
    revoked (and logged). Refreshes the token's last use at most every minute."""
    now = now or _now()
    row = (await session.execute(
        select(User, col(ApiToken.last_used_at)).join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(col(ApiToken.token_hash) == token_hash, col(ApiToken.expires_at) > now, col(User.active))
    )).first()
    if row is None:
        return None
    user, last_used = row
    if last_used is not None and last_used <= now - idle:
        await session.execute(delete(ApiToken).where(col(ApiToken.token_hash) == token_hash))
        await log_sign_in(session, user.username, "-", Outcome.IDLE, user.id, now)
        await session.commit()
        return None
    if last_used is None or now - last_used >= TOUCH_EVERY:
        await session.execute(update(ApiToken).where(col(ApiToken.token_hash) == token_hash)
                              .values(last_used_at=now))
        await session.commit()
    return user  # type: ignore[no-any-return]


async def log_out(session: AsyncSession, token_hash: str, user: User, address: str) -> None:
    """Revoke the token server-side: it stops working at once."""
    await session.execute(delete(ApiToken).where(col(ApiToken.token_hash) == token_hash))
    await log_sign_in(session, user.username, address, Outcome.LOGOUT, user.id)


async def revoke_tokens(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(delete(ApiToken).where(col(ApiToken.user_id) == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class Lock:
    scope: str
    subject: str
    locked_until: datetime


async def locks(session: AsyncSession, now: datetime | None = None) -> list[Lock]:
    """The locks in force, soonest to end first."""
    rows = await session.scalars(select(SignInLock).where(col(SignInLock.locked_until) > (now or _now()))
                                 .order_by(col(SignInLock.locked_until)))
    return [Lock(r.scope, r.subject, r.locked_until) for r in rows if r.locked_until is not None]


async def unlock(session: AsyncSession, scope: str, subject: str, by: "Changer | None" = None) -> bool:
    """Lift a lock (and forget the failures counted); False if there was none. Recorded when ``by`` is given."""
    result = await session.execute(delete(SignInLock).where(col(SignInLock.scope) == scope,
                                                            col(SignInLock.subject) == _short(subject)))
    lifted = bool(result.rowcount)  # type: ignore[attr-defined]
    if lifted and by is not None:
        await record_change(session, by, Action.UNLOCK, f"{scope}:{_short(subject)}",
                            {"scope": scope, "subject": _short(subject)})
    return lifted


# ---- account administration: every change recorded in admin_changes -------------------------------------------
class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DISABLE = "disable"
    ENABLE = "enable"
    RESET_PASSWORD = "reset_password"
    UNLOCK = "unlock"


@dataclass(frozen=True)
class Changer:
    """Who changes accounts and from where: a signed-in administrator, or the command line (``user_id`` None)."""

    user_id: int | None
    username: str
    address: str


class AccountRefused(ValueError):
    """A change the accounts' rules refuse: ``answer`` is invalid (bad input) or conflict (the accounts' state),
    ``code`` names the rule; ``msgid`` and ``params`` give the message, ``field`` the input at fault. ``str()`` is
    the English text (the command line prints it)."""

    code = "refused"

    def __init__(self, answer: Literal["invalid", "conflict"], msgid: str, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(msgid.format(**params))
        self.answer, self.msgid, self.field, self.params = answer, msgid, field, params


class UsernameTaken(AccountRefused):
    code = "username_taken"


class UnknownDepartment(AccountRefused):
    code = "unknown_department"


class DepartmentOutOfUse(AccountRefused):
    """The department was taken out of use (``casehall.store.catalogue``): it gets no active account."""

    code = "department_out_of_use"


class LastAdmin(AccountRefused):
    """The change would leave no active administrator."""

    code = "last_admin"


ADMIN = "admin"
EDITABLE = ("display_name", "title", "role", "department_code")  # what ``update_user`` may change


async def record_change(session: AsyncSession, by: Changer, action: Action, target: str, changes: dict[str, Any],
                        target_user_id: int | None = None) -> None:
    """One entry of the account changes' log (never a password: callers record that it changed, not its value)."""
    session.add(AdminChange(at=_now(), actor_id=by.user_id, actor_username=_short(by.username),
                            address=_short(by.address), action=action.value, target=target[:80],
                            target_user_id=target_user_id, changes=changes))


async def _department_in_use(session: AsyncSession, code: str) -> bool:
    """Whether the department is in use (UnknownDepartment if there is none); its row is share-locked, so that it
    is not taken out of use meanwhile."""
    department = await session.get(Department, code, with_for_update={"read": True})
    if department is None:
        raise UnknownDepartment("invalid", N_("no department with code {codes}"), "department_code", codes=code)
    return department.active


async def _require_department(session: AsyncSession, code: str) -> None:
    """The department chosen for an account exists and is in use."""
    if not await _department_in_use(session, code):
        raise DepartmentOutOfUse("invalid", N_("department {code} is out of use: choose a department in use"),
                                 "department_code", code=code)


async def _lock_admins(session: AsyncSession) -> set[int]:
    """Lock the active administrators' rows (by id, before any other user row, so that two changes never wait on
    each other) and return their ids: two administrators disabling each other at once are served one after the
    other, and the second sees the first's change."""
    stmt = (select(col(User.id)).where(col(User.role) == ADMIN, col(User.active)).order_by(col(User.id))
            .with_for_update())
    return {i for i in (await session.scalars(stmt)).all() if i is not None}


def _keep_an_admin(user: User, admins: set[int]) -> None:
    """Refuse to disable or demote ``user`` if no other active administrator would remain."""
    if user.role == ADMIN and user.active and not admins - {user.id}:
        raise LastAdmin("conflict", N_("{username} is the last active administrator: enable or create another "
                                       "administrator first"), username=user.username)


async def create_user(session: AsyncSession, by: Changer, username: str, display_name: str, role: str,
                      department_code: str, password_hash: str, title: str = "") -> User:
    """A new active account (the password already checked and hashed); UsernameTaken if the name is used."""
    await _require_department(session, department_code)
    user = User(username=username, display_name=display_name, role=role, department_code=department_code,
                title=title, password_hash=password_hash, active=True)
    values = user.model_dump(exclude={"id"})
    user.id = await session.scalar(insert(User).values(**values).on_conflict_do_nothing(index_elements=["username"])
                                   .returning(col(User.id)))
    if user.id is None:
        raise UsernameTaken("conflict", N_("a user named {username} already exists: choose another username"),
                            "username", username=username)
    await record_change(session, by, Action.CREATE, username, {k: values[k] for k in (*EDITABLE, "active")}, user.id)
    return user


async def update_user(session: AsyncSession, by: Changer, username: str, **fields: str) -> User:
    """Change some of the name, title, role and department (``EDITABLE``); records what differs, if anything."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    admins = await _lock_admins(session) if "role" in fields else set()
    user = await _user(session, username, lock=True)
    changes = {k: [getattr(user, k), v] for k, v in fields.items() if getattr(user, k) != v}
    if "department_code" in changes:
        await _require_department(session, fields["department_code"])
    if "role" in changes:
        _keep_an_admin(user, admins)
    if changes:
        for k, (_, v) in changes.items():
            setattr(user, k, v)
        await record_change(session, by, Action.UPDATE, username, changes, user.id)
    return user


async def set_active(session: AsyncSession, username: str, active: bool, by: Changer) -> User:
    """Enable or disable an account; disabling revokes its tokens at once (and never leaves no administrator),
    enabling needs its department in use. Recorded when the account changes."""
    admins = await _lock_admins(session) if not active else set()
    user = await _user(session, username, lock=True)
    assert user.id is not None
    if not active:
        _keep_an_admin(user, admins)
        ended = await revoke_tokens(session, user.id)
        if user.active:
            user.active = False
            await record_change(session, by, Action.DISABLE, username,
                                {"active": [True, False], "sessions_ended": ended}, user.id)
    elif not user.active:
        if not await _department_in_use(session, user.department_code):
            raise DepartmentOutOfUse("conflict", N_("{username} belongs to {department}, which is out of use: move "
                                                    "them to a department in use first"),
                                     username=username, department=user.department_code)
        user.active = True
        await record_change(session, by, Action.ENABLE, username, {"active": [False, True]}, user.id)
    return user


async def set_password_hash(session: AsyncSession, username: str, password_hash: str, by: Changer) -> User:
    """A new password (already hashed): revokes the user's tokens and lifts the lock on their name; recorded
    (that it changed, never the password)."""
    user = await _user(session, username, lock=True)
    user.password_hash = password_hash
    assert user.id is not None
    ended = await revoke_tokens(session, user.id)
    lifted = await unlock(session, USER, username)
    await record_change(session, by, Action.RESET_PASSWORD, username,
                        {"password": "changed", "sessions_ended": ended, "lock_lifted": lifted}, user.id)
    return user


async def _user(session: AsyncSession, username: str, lock: bool = False) -> User:
    stmt = select(User).where(col(User.username) == username)
    user = await session.scalar(stmt.with_for_update() if lock else stmt)
    if user is None:
        raise LookupError(f"no user named {username}")
    return user


# ---- reads: accounts, the sign-in log, the account changes -----------------------------------------------------
@dataclass
class Account:
    user: User
    last_sign_in: datetime | None
    locked_until: datetime | None


@dataclass(frozen=True)
class AccountFilter:
    username: str | None = None
    department: str | None = None
    role: str | None = None
    active: bool | None = None
    text: str | None = None  # a part of the username or of the name


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _account_conditions(where: AccountFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.username:
        found.append(col(User.username) == where.username)
    if where.department:
        found.append(col(User.department_code) == where.department)
    if where.role:
        found.append(col(User.role) == where.role)
    if where.active is not None:
        found.append(col(User.active) == where.active)
    if where.text:
        pattern = _like(where.text)
        found.append(or_(col(User.username).ilike(pattern, escape="\\"),
                         col(User.display_name).ilike(pattern, escape="\\")))
    return found


async def accounts(session: AsyncSession, now: datetime | None = None, where: AccountFilter | None = None,
                   offset: int = 0, limit: int | None = None) -> list[Account]:
    """Users (all, or those matching ``where``; a page when ``limit`` is given) by username, with their last
    successful sign-in and the lock on their name, if any."""
    now = now or _now()
    last = (select(func.max(col(SignInLog.at))).where(col(SignInLog.user_id) == col(User.id),
                                                      col(SignInLog.outcome) == Outcome.OK.value)
            .correlate(User).scalar_subquery())
    lock = (select(col(SignInLock.locked_until)).where(col(SignInLock.scope) == USER,
                                                       col(SignInLock.subject) == col(User.username),
                                                       col(SignInLock.locked_until) > now)
            .correlate(User).scalar_subquery())
    stmt = (select(User, last, lock).where(*_account_conditions(where or AccountFilter()))
            .order_by(col(User.username)).offset(offset).limit(limit))
    return [Account(user, at, until) for user, at, until in (await session.execute(stmt)).all()]


async def count_accounts(session: AsyncSession, where: AccountFilter) -> int:
    return int(await session.scalar(select(func.count()).select_from(User).where(*_account_conditions(where))) or 0)


def _sign_in_conditions(username: str | None, outcome: str | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if username:
        found.append(col(SignInLog.username) == username)
    if outcome:
        found.append(col(SignInLog.outcome) == outcome)
    return found


async def sign_ins(session: AsyncSession, username: str | None = None, limit: int = 50, offset: int = 0,
                   outcome: str | None = None) -> list[SignInLog]:
    """The sign-in log, newest first: of one username (as typed) and one outcome when given."""
    stmt = (select(SignInLog).where(*_sign_in_conditions(username, outcome))
            .order_by(col(SignInLog.at).desc(), col(SignInLog.id).desc()).offset(offset).limit(limit))
    return list((await session.scalars(stmt)).all())


async def count_sign_ins(session: AsyncSession, username: str | None = None, outcome: str | None = None) -> int:
    stmt = select(func.count()).select_from(SignInLog).where(*_sign_in_conditions(username, outcome))
    return int(await session.scalar(stmt) or 0)


def _change_conditions(target: str | None, actor: str | None, action: str | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if target:
        found.append(col(AdminChange.target) == target)
    if actor:
        found.append(col(AdminChange.actor_username) == actor)
    if action:
        found.append(col(AdminChange.action) == action)
    return found


async def changes(session: AsyncSession, target: str | None = None, actor: str | None = None,
                  action: str | None = None, offset: int = 0, limit: int = 50) -> list[AdminChange]:
    """The account changes, newest first: about one account (or lock), by one administrator, of one kind."""
    stmt = (select(AdminChange).where(*_change_conditions(target, actor, action))
            .order_by(col(AdminChange.at).desc(), col(AdminChange.id).desc()).offset(offset).limit(limit))
    return list((await session.scalars(stmt)).all())


async def count_changes(session: AsyncSession, target: str | None = None, actor: str | None = None,
                        action: str | None = None) -> int:
    stmt = select(func.count()).select_from(AdminChange).where(*_change_conditions(target, actor, action))
    return int(await session.scalar(stmt) or 0)
