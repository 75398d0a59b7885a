"""Every write of the audit tools: anchors and archived histories. Both are insert-only."""

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.models.tables import CaseHistory, ChainAnchor


async def insert_anchor(session: AsyncSession, at: datetime, digest: str, heads: dict[str, Any]) -> ChainAnchor:
    anchor = ChainAnchor(anchored_at=at, digest=digest, case_count=len(heads), heads=heads)
    session.add(anchor)
    await session.flush()
    return anchor


async def insert_history(session: AsyncSession, history: CaseHistory) -> bool:
    """Store an archived history; False if the case was archived already (archiving stays idempotent)."""
    stmt = insert(CaseHistory).values(**history.model_dump()).on_conflict_do_nothing(index_elements=["case_no"])
    return await session.scalar(stmt.returning(col(CaseHistory.case_no))) is not None
