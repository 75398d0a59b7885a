"""The hand-built month of ``test_rates`` stored as recorded events (hash-chained) on the demo units."""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.assessment.rates import Event
from casehall.core.hashing import GENESIS, event_hash
from casehall.models.hotline_tables import Order, OrderEvent
from casehall.models.tables import User

UNITS = {"S1": "D01-S01", "S2": "D01-S02", "D1": "D01", "D2": "D02", "C": "12345"}
UNIT_KEYS = ("lead_unit", "against_unit", "charged_unit", "unit")


def on_demo_units(events: list[Event]) -> list[Event]:
    return [replace(e, payload={k: UNITS.get(v, v) if k in UNIT_KEYS else v for k, v in e.payload.items()})
            for e in events]


async def store_events(session: AsyncSession, events: list[Event]) -> None:
    """Orders rows and their hash-chained events, as the recorder writes them (appending to existing chains)."""
    operator = await session.scalar(select(col(User.id)).order_by(col(User.id)).limit(1))
    assert operator is not None
    by_key: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_key[e.key].append(e)
    for key, evs in by_key.items():
        units = sorted({str(e.payload["lead_unit"]) for e in evs if e.type == "dispatched"})
        order = await session.get(Order, key)
        if order is None:
            order = Order(order_no=key, status="in_handling", kind="normal", channel="phone", category_code="010101",
                          unit_codes=units, address="人民大街 1 号", address_key="人民大街1号", content="测试",
                          operator_id=operator, registered_at=evs[0].at, updated_at=evs[-1].at, state={})
            session.add(order)
        order.unit_codes = sorted(set(order.unit_codes) | set(units))
        order.last_seq = max(order.last_seq, *(e.seq for e in evs))
        await session.flush()
        prev = await session.scalar(select(col(OrderEvent.hash)).where(col(OrderEvent.order_no) == key)
                                    .order_by(col(OrderEvent.seq).desc()).limit(1)) or GENESIS
        for e in sorted(evs, key=lambda e: e.seq):
            payload = dict(e.payload)
            h = event_hash(prev, key, e.seq, e.type, None, e.at.astimezone(UTC), payload)  # as read back
            session.add(OrderEvent(order_no=key, seq=e.seq, type=e.type, at=e.at, payload=payload, prev_hash=prev,
                                   hash=h))
            prev = h
        await session.flush()
    await session.commit()
