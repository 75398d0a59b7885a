"""Reads of ``failing_work``: transitions the database refused for good, waiting for an operator."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.models.tables import FailingWork


async def unresolved(session: AsyncSession) -> Sequence[FailingWork]:
    query = select(FailingWork).where(col(FailingWork.resolved_at).is_(None)).order_by(col(FailingWork.failed_at))
    return (await session.scalars(query)).all()
