"""Every read of the 12345 hotline: units and their paths, the dispatch catalogue, orders (as a unit's user may see
them), duplicates of a new call, the knowledge base, a unit's figures, the inboxes and Open311 clients."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casehall.hotline.search import query_terms
from casehall.models.hotline import UnitRef
from casehall.models.hotline_tables import (
    DispatchRule,
    KnowledgeEntry,
    Open311Client,
    Order,
    OrderEvent,
    OrderTask,
    SupervisionOrder,
    Unit,
    UnitMember,
)
from casehall.models.tables import User
from casehall.store.hotline_repository import address_key

_PATH = text("""
WITH RECURSIVE up(code, name, parent_code, depth) AS (
    SELECT code, name, parent_code, 0 FROM units WHERE code = :code
    UNION ALL
    SELECT u.code, u.name, u.parent_code, up.depth + 1 FROM units u JOIN up ON u.code = up.parent_code
    WHERE up.depth < 32
)
SELECT code, name FROM up ORDER BY depth
""")


async def unit_ref(session: AsyncSession, code: str) -> UnitRef | None:
    """The unit with its path up to the centre; None if there is no such active unit."""
    unit = await session.get(Unit, code)
    if unit is None or not unit.active:
        return None
    rows = (await session.execute(_PATH, {"code": code})).all()
    return UnitRef(code=unit.code, name=unit.name, path=[r[0] for r in rows])


async def unit_of(session: AsyncSession, user_id: int) -> str | None:
    return await session.scalar(select(col(UnitMember.unit_code)).where(col(UnitMember.user_id) == user_id))


async def children(session: AsyncSession, code: str | None, limit: int = 500) -> list[Unit]:
    stmt = select(Unit).where(col(Unit.parent_code) == code if code else col(Unit.parent_code).is_(None))
    return list((await session.scalars(stmt.order_by(col(Unit.code)).limit(limit))).all())


async def category(session: AsyncSession, code: str) -> DispatchRule | None:
    return await session.get(DispatchRule, code)


async def catalogue(session: AsyncSession) -> list[DispatchRule]:
    return list((await session.scalars(select(DispatchRule).order_by(col(DispatchRule.category_code)))).all())


# ---- orders ----------------------------------------------------------------------------------------------------
@dataclass
class OrderFilter:
    unit: str | None = None  # a unit's user: only orders that unit may read
    status: str | None = None
    kind: str | None = None
    lead_unit: str | None = None
    overdue: bool | None = None
    category_code: str | None = None
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    supervised: bool | None = None  # with (or without) supervision orders
    offset: int = 0
    limit: int = 50


def _visible_to(unit: str) -> ColumnElement[bool]:
    return col(Order.unit_codes).op("@>")(func.cast(literal(f'["{unit}"]'), JSONB))


async def list_orders(session: AsyncSession, f: OrderFilter) -> tuple[int, list[Order]]:
    conds: list[ColumnElement[bool]] = []
    if f.unit is not None:
        conds.append(_visible_to(f.unit))
    if f.status:
        conds.append(col(Order.status) == f.status)
    if f.kind:
        conds.append(col(Order.kind) == f.kind)
    if f.lead_unit:
        conds.append(col(Order.lead_unit) == f.lead_unit)
    if f.overdue is not None:
        conds.append(col(Order.overdue) == f.overdue)
    if f.category_code:
        conds.append(col(Order.category_code) == f.category_code)
    if f.supervised is not None:
        conds.append((col(Order.supervision_count) > 0) == f.supervised)
    if f.registered_from:
        conds.append(col(Order.registered_at) >= f.registered_from)
    if f.registered_to:
        conds.append(col(Order.registered_at) < f.registered_to)
    where = and_(*conds) if conds else literal(True)
    total = await session.scalar(select(func.count()).select_from(Order).where(where)) or 0
    rows = await session.scalars(select(Order).where(where).order_by(col(Order.registered_at).desc(),
                                                                     col(Order.order_no).desc())
                                 .offset(f.offset).limit(f.limit))
    return int(total), list(rows.all())


async def order_events(session: AsyncSession, order_no: str) -> list[OrderEvent]:
    rows = await session.scalars(select(OrderEvent).where(col(OrderEvent.order_no) == order_no)
                                 .order_by(col(OrderEvent.seq)))
    return list(rows.all())


async def duplicates(session: AsyncSession, category_code: str, address: str, phone: str, limit: int = 10
                     ) -> list[Order]:
    """Open orders a new call may repeat: the same category, and the same place or the same caller's phone."""
    same = [col(Order.address_key) == address_key(address)]
    if phone:
        same.append(col(Order.caller_phone) == phone)
    rows = await session.scalars(select(Order).where(
        col(Order.closed_at).is_(None), col(Order.category_code) == category_code, or_(*same),
    ).order_by(col(Order.registered_at).desc()).limit(limit))
    return list(rows.all())


# ---- the knowledge base ----------------------------------------------------------------------------------------
@dataclass
class KnowledgeHit:
    entry: KnowledgeEntry
    rank: float
    stale: bool  # past its review-by date: flagged for the operator and the unit that answers for it


async def search_knowledge(session: AsyncSession, question: str, today: date, limit: int = 5) -> list[KnowledgeHit]:
    """Entries sharing character bigrams with ``question``, best first (ts_rank over the 'simple' bigrams)."""
    terms = query_terms(question)
    if not terms:
        return []
    query = func.to_tsquery(literal_column("'simple'::regconfig"), " | ".join(terms))
    rank = func.ts_rank(col(KnowledgeEntry.terms), query).label("rank")
    rows = (await session.execute(
        select(KnowledgeEntry, rank).where(col(KnowledgeEntry.active), col(KnowledgeEntry.terms).op("@@")(query))
        .order_by(rank.desc(), col(KnowledgeEntry.id)).limit(limit))).all()
    return [KnowledgeHit(entry=e, rank=float(r), stale=e.review_by < today) for e, r in rows]


async def knowledge_entry(session: AsyncSession, entry_id: int) -> KnowledgeEntry | None:
    return await session.get(KnowledgeEntry, entry_id)


# ---- figures and inboxes ---------------------------------------------------------------------------------------
async def unit_figures(session: AsyncSession, unit: str) -> dict[str, Any]:
    """What the monthly message to a unit's head reports, over all time: orders it led, overdue ones, supervision
    orders counted against it, and the time of returned orders charged to it."""
    led = await session.scalar(select(func.count()).select_from(Order).where(col(Order.lead_unit) == unit)) or 0
    overdue = await session.scalar(select(func.count()).select_from(Order).where(
        col(Order.lead_unit) == unit, col(Order.overdue))) or 0
    supervised = dict((await session.execute(
        select(col(SupervisionOrder.reason), func.count()).where(col(SupervisionOrder.against_unit) == unit)
        .group_by(col(SupervisionOrder.reason)))).all())
    charged = await session.scalar(text(
        "SELECT coalesce(sum((payload->>'charged_seconds')::float), 0) FROM order_events "
        "WHERE type = 'return_approved' AND payload->>'charged_unit' = :unit").bindparams(unit=unit))
    return {"unit": unit, "orders_led": int(led), "overdue": int(overdue),
            "supervision_orders": sum(int(v) for v in supervised.values()),
            "supervision_by_reason": {str(k): int(v) for k, v in supervised.items()},
            "charged_seconds_for_returns": float(charged or 0.0)}


async def order_inbox(session: AsyncSession, role: str, unit: str | None, limit: int = 200) -> list[OrderTask]:
    """Open tasks for a user: the centre's tasks for their role, or their unit's."""
    where = (col(OrderTask.unit_code) == unit) if unit else col(OrderTask.unit_code).is_(None)
    rows = await session.scalars(select(OrderTask).where(col(OrderTask.closed_at).is_(None), where,
                                                          col(OrderTask.role) == role)
                                 .order_by(col(OrderTask.opened_at)).limit(limit))
    return list(rows.all())


async def open_tasks(session: AsyncSession, order_no: str) -> list[OrderTask]:
    rows = await session.scalars(select(OrderTask).where(col(OrderTask.order_no) == order_no,
                                                          col(OrderTask.closed_at).is_(None))
                                 .order_by(col(OrderTask.id)))
    return list(rows.all())


async def open311_user(session: AsyncSession, key_hash: str) -> User | None:
    """The operator account an Open311 api_key files orders as; None for an unknown or disabled key."""
    return await session.scalar(select(User).join(Open311Client, col(Open311Client.user_id) == col(User.id)).where(
        col(Open311Client.key_hash) == key_hash, col(Open311Client.active), col(User.active)))


async def petition_figures(session: AsyncSession) -> dict[str, Any]:
    """Petitions closed, those resolved at once (first handling, no repeat visit, no review: 一次性化解) and the
    one-time resolution rate; petitions not accepted."""
    row = (await session.execute(text(
        "SELECT count(*) FILTER (WHERE status = 'closed'), "
        "count(*) FILTER (WHERE status = 'closed' AND (state->'petition'->>'one_time_resolved')::boolean), "
        "count(*) FILTER (WHERE status = 'not_accepted') "
        "FROM orders WHERE channel = 'petition'"))).one()
    closed, once, not_accepted = (int(v or 0) for v in row)
    return {"closed": closed, "one_time_resolved": once, "not_accepted": not_accepted,
            "one_time_resolution_rate": once / closed if closed else None}
