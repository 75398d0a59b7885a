"""Sign-in bookkeeping: tokens with absolute and idle time-outs, log-outs, failed log-ins counted per username and
per address with temporary locks, the sign-in log, and the account changes of ``casehall users``.

Every function works in the caller's session; the caller commits (``authenticate`` commits its own small writes,
as it runs before the request's work)."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.core.security import burn_password_check, new_token, token_digest, verify_password
from casehall.core.settings import Settings
from casehall.models.tables import ApiToken, SignInLock, SignInLog, User

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
    await session.execute(delete(ApiToken).where(col(ApiToken.expires_at) < now))
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


async def unlock(session: AsyncSession, scope: str, subject: str) -> bool:
    """Lift a lock (and forget the failures counted); False if there was none."""
    result = await session.execute(delete(SignInLock).where(col(SignInLock.scope) == scope,
                                                            col(SignInLock.subject) == _short(subject)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class Account:
    user: User
    last_sign_in: datetime | None
    locked_until: datetime | None


async def accounts(session: AsyncSession, now: datetime | None = None) -> list[Account]:
    """Every user with their last successful sign-in and the lock on their name, if any."""
    now = now or _now()
    last = (select(col(SignInLog.user_id), func.max(col(SignInLog.at)).label("at"))
            .where(col(SignInLog.outcome) == Outcome.OK.value).group_by(col(SignInLog.user_id)).subquery())
    lock = (select(col(SignInLock.subject), col(SignInLock.locked_until))
            .where(col(SignInLock.scope) == USER, col(SignInLock.locked_until) > now).subquery())
    rows = await session.execute(
        select(User, last.c.at, lock.c.locked_until)
        .outerjoin(last, last.c.user_id == col(User.id))
        .outerjoin(lock, lock.c.subject == col(User.username))
        .order_by(col(User.username)))
    return [Account(user, at, until) for user, at, until in rows.all()]


async def set_active(session: AsyncSession, username: str, active: bool) -> User:
    """Enable or disable an account; disabling revokes its tokens."""
    user = await _user(session, username)
    user.active = active
    if not active:
        assert user.id is not None
        await revoke_tokens(session, user.id)
    return user


async def set_password_hash(session: AsyncSession, username: str, password_hash: str) -> User:
    """A new password (already hashed): revokes the user's tokens and lifts the lock on their name."""
    user = await _user(session, username)
    user.password_hash = password_hash
    assert user.id is not None
    await revoke_tokens(session, user.id)
    await unlock(session, USER, username)
    return user


async def _user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(col(User.username) == username))
    if user is None:
        raise LookupError(f"no user named {username!r}")
    return user


async def sign_ins(session: AsyncSession, username: str | None = None, limit: int = 50) -> list[SignInLog]:
    """The newest entries of the sign-in log, of one username when given."""
    stmt = select(SignInLog).order_by(col(SignInLog.at).desc(), col(SignInLog.id).desc()).limit(limit)
    if username:
        stmt = stmt.where(col(SignInLog.username) == username)
    return list((await session.scalars(stmt)).all())
