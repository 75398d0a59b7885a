"""Verify the hash chains of hotline orders as ``casehall.audit.chain`` verifies cases': the first broken link of each
order (changed, deleted, inserted, reordered), and the chain against the ``orders`` projection."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.audit.chain import ChainReport, first_break, projection_break
from casehall.core.hashing import GENESIS
from casehall.models.hotline_tables import Order, OrderEvent


@dataclass(frozen=True)
class _Link:
    """An order event as the chain checks see an event (the order number in place of the case number)."""

    case_no: str
    seq: int
    type: str
    actor_id: int | None
    at: datetime
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def _link(e: OrderEvent) -> _Link:
    return _Link(e.order_no, e.seq, e.type, e.actor_id, e.at, e.payload, e.prev_hash, e.hash)


async def verify_orders(session: AsyncSession, order_nos: Sequence[str] | None = None) -> list[ChainReport]:
    """One report per order (all orders, or those named), each with its first broken link if any."""
    stmt = select(OrderEvent).order_by(col(OrderEvent.order_no), col(OrderEvent.seq))
    orders = select(col(Order.order_no), col(Order.last_seq))
    if order_nos is not None:
        stmt = stmt.where(col(OrderEvent.order_no).in_(order_nos))
        orders = orders.where(col(Order.order_no).in_(order_nos))
    last_seqs = dict((await session.execute(orders)).all())
    events: dict[str, list[_Link]] = {no: [] for no in last_seqs}
    for e in (await session.scalars(stmt)).all():
        events.setdefault(e.order_no, []).append(_link(e))
    reports = []
    for order_no, rows in sorted(events.items()):
        last = last_seqs.get(order_no, 0)
        report = ChainReport(order_no, len(rows), rows[-1].seq if rows else 0, rows[-1].hash if rows else GENESIS)
        brk = first_break(order_no, rows, last) or projection_break(order_no, rows, last)  # type: ignore[arg-type]
        if brk is not None:
            report.breaks.append(brk)
        reports.append(report)
    return reports
