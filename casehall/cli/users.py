"""User administration used by ``casehall users``."""

from sqlalchemy.ext.asyncio import AsyncSession

from casehall.core.db import open_sessions, transaction
from casehall.core.security import hash_password
from casehall.core.settings import Settings
from casehall.models.enums import Role
from casehall.models.tables import Department, User
from casehall.stack.runtime import check_database
from casehall.store import repository


async def create_user(settings: Settings, username: str, role: str, department: str, name: str, password: str
                      ) -> User:
    """Create a user; a clear ValueError for a bad role, department, password or a taken name."""
    if role not in {r.value for r in Role}:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(r.value for r in Role)}")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    await check_database(settings)
    async with open_sessions(settings.resolved_database_url()) as sessions, transaction(sessions) as session:
        await _require_department(session, department)
        user = await repository.add_user(session, User(
            username=username, display_name=name, role=role, department_code=department,
            password_hash=hash_password(password)))
        if user is None:
            raise ValueError(f"a user named {username!r} already exists")
        return user


async def _require_department(session: AsyncSession, code: str) -> None:
    if await session.get(Department, code) is None:
        raise ValueError(f"no department with code {code!r}")
