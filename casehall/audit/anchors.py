"""Anchors: the head (last seq, hash) of every case's chain at one moment, with a digest over them all.

Publish the digest outside the database (a report, a ticket, a notary) and a rewritten database cannot match it."""

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.audit import store
from casehall.core.hashing import canonical
from casehall.models.tables import CaseEvent, ChainAnchor


def heads_digest(heads: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(heads).encode()).hexdigest()


async def chain_heads(session: AsyncSession) -> dict[str, list[Any]]:
    """{case_no: [last_seq, head_hash]} of every case with events."""
    last = (select(col(CaseEvent.case_no), func.max(col(CaseEvent.seq)).label("seq"))
            .group_by(col(CaseEvent.case_no)).subquery())
    stmt = select(col(CaseEvent.case_no), col(CaseEvent.seq), col(CaseEvent.hash)).join(
        last, (col(CaseEvent.case_no) == last.c.case_no) & (col(CaseEvent.seq) == last.c.seq))
    return {case_no: [seq, digest] for case_no, seq, digest in (await session.execute(stmt)).all()}


async def newest_anchor(session: AsyncSession) -> ChainAnchor | None:
    stmt = select(ChainAnchor).order_by(col(ChainAnchor.anchored_at).desc(), col(ChainAnchor.id).desc()).limit(1)
    return await session.scalar(stmt)


async def write_anchor(session: AsyncSession) -> ChainAnchor:
    """Anchor the current heads in the caller's transaction (``chain.anchor_chains`` verifies them first)."""
    heads = await chain_heads(session)
    return await store.insert_anchor(session, datetime.now(UTC), heads_digest(heads), heads)
