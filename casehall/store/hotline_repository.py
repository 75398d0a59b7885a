"""Every write of the 12345 hotline: an order's transition (event, projection, inbox, supervision orders), the unit
network, the dispatch catalogue, the knowledge base and Open311 clients."""

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casehall.core.hashing import GENESIS, event_hash
from casehall.hotline.search import bigrams
from casehall.models.hotline import ORDER_FINAL, RecordOrderEventInput
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
from casehall.models.ids import order_workflow_id
from casehall.models.order_events import OrderEventType
from casehall.store.case_store import CaseStore
from casehall.store.repository import resolve_failing_work

_NOT_KEY = re.compile(r"[\W_]+")


def address_key(address: str) -> str:
    """The address without spaces and punctuation: two calls about 人民大街 100 号 and 人民大街100号 match."""
    return _NOT_KEY.sub("", address).lower()


def _order_row(inp: RecordOrderEventInput) -> dict[str, Any]:
    view = inp.order
    first = view.calls[0]
    rnd = view.round
    return {
        "order_no": view.order_no, "status": view.status.value, "kind": view.kind.value,
        "channel": first.channel.value, "category_code": view.category_code,
        "lead_unit": rnd.lead.code if rnd else None, "unit_codes": view.units_seen,
        "caller_phone": first.caller.phone, "address": view.location.address,
        "address_key": address_key(view.location.address), "content": view.content,
        "code_hashes": [c.code_hash for c in view.calls], "operator_id": view.operator.user_id,
        "registered_at": view.registered_at, "dispatched_at": rnd.dispatched_at if rnd else None,
        "sign_due": rnd.sign_due if rnd else None, "handle_due": rnd.handle_due if rnd else None,
        "signed_at": rnd.signed_at if rnd else None, "replied_at": view.replied_at, "closed_at": view.closed_at,
        "overdue": view.overdue, "supervision_count": len(view.supervisions), "call_count": len(view.calls),
        "state": view.model_dump(mode="json"), "updated_at": inp.at, "last_seq": inp.seq,
    }


async def record_order_event(session: AsyncSession, inp: RecordOrderEventInput) -> bool:
    """Apply one order transition in the caller's transaction; True if it is new. Keyed on (order, seq) like
    ``repository.record_event``: a rerun workflow task rewrites its event, it never adds one."""
    row = _order_row(inp)
    upsert = insert(Order).values(**row)
    await session.execute(upsert.on_conflict_do_update(
        index_elements=[col(Order.order_no)], set_={k: upsert.excluded[k] for k in row if k != "order_no"},
        where=col(Order.last_seq) <= inp.seq))
    order_no, kind = inp.order.order_no, str(inp.type)
    prev = await session.scalar(select(col(OrderEvent.hash)).where(
        col(OrderEvent.order_no) == order_no, col(OrderEvent.seq) == inp.seq - 1))
    actor_id = inp.actor.user_id if inp.actor else None
    payload = inp.payload | ({"actor": inp.actor.username} if inp.actor else {})
    prev_hash = prev or GENESIS
    values = {"type": kind, "actor_id": actor_id, "actor_role": inp.actor.role.value if inp.actor else None,
              "at": inp.at, "payload": payload, "prev_hash": prev_hash,
              "hash": event_hash(prev_hash, order_no, inp.seq, kind, actor_id, inp.at, payload)}
    new = await session.scalar(
        insert(OrderEvent).values(order_no=order_no, seq=inp.seq, **values)
        .on_conflict_do_update(constraint="uq_order_events_order_seq", set_=values)
        .returning(literal_column("xmax = 0")))
    await _apply_tasks(session, inp)
    if inp.type in (OrderEventType.SUPERVISION_ORDERED, OrderEventType.SUPERVISION_RAISED):
        p = inp.payload
        so = {"reason": p["reason"], "against_unit": p["against_unit"], "to_unit": p["to_unit"],
              "level": p["level"], "issued_at": inp.at, "due_at": datetime.fromisoformat(p["due"]) if p.get("due")
              else None}
        await session.execute(insert(SupervisionOrder).values(order_no=order_no, seq=inp.seq, **so)
                              .on_conflict_do_update(constraint="uq_supervision_orders_seq", set_=so))
    await resolve_failing_work(session, order_workflow_id(order_no), inp.seq, inp.at)
    return bool(new)


async def _apply_tasks(session: AsyncSession, inp: RecordOrderEventInput) -> None:
    order_no = inp.order.order_no
    open_ = col(OrderTask.order_no) == order_no, col(OrderTask.closed_at).is_(None)
    if inp.order.status in ORDER_FINAL or "*" in inp.close_tasks:
        await session.execute(update(OrderTask).where(*open_).values(closed_at=inp.at))
    elif inp.close_tasks:
        await session.execute(update(OrderTask).where(*open_, col(OrderTask.kind).in_(inp.close_tasks))
                              .values(closed_at=inp.at))
    for spec in inp.open_tasks:
        task = {"role": spec.role, "unit_code": spec.unit_code, "summary": spec.summary[:500], "opened_at": inp.at,
                "due_at": spec.due_at, "closed_at": None}
        await session.execute(insert(OrderTask).values(order_no=order_no, opened_seq=inp.seq, kind=spec.kind, **task)
                              .on_conflict_do_update(constraint="uq_order_tasks_seq", set_=task))


class OrderStore(CaseStore):
    """The worker's store for orders: one transaction per transition, permanent refusals as ``StoreRefused``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions)

    async def record_order_event(self, inp: RecordOrderEventInput) -> bool:
        return await self._write(lambda s: record_order_event(s, inp))


# ---- reference data --------------------------------------------------------------------------------------------
async def upsert_units(session: AsyncSession, units: Iterable[Unit]) -> int:
    """Insert or update units (parents before children); returns how many."""
    rows = [u.model_dump() for u in units]
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        stmt = insert(Unit).values(chunk)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[col(Unit.code)], set_={k: stmt.excluded[k] for k in ("name", "kind", "parent_code",
                                                                                 "active")}))
    return len(rows)


async def set_unit_member(session: AsyncSession, user_id: int, unit_code: str) -> None:
    stmt = insert(UnitMember).values(user_id=user_id, unit_code=unit_code)
    await session.execute(stmt.on_conflict_do_update(index_elements=[col(UnitMember.user_id)],
                                                     set_={"unit_code": unit_code}))


async def upsert_dispatch_rules(session: AsyncSession, rules: Iterable[DispatchRule]) -> None:
    for rule in rules:
        values = rule.model_dump()
        await session.execute(insert(DispatchRule).values(**values).on_conflict_do_update(
            index_elements=[col(DispatchRule.category_code)], set_=values))


async def add_knowledge_entry(session: AsyncSession, entry: KnowledgeEntry) -> int:
    """Store an entry with its search terms (character bigrams of question and answer); returns its id."""
    values = entry.model_dump(exclude={"id", "terms"})
    terms = func.to_tsvector(text("'simple'::regconfig"), " ".join(bigrams(f"{entry.question} {entry.answer}")))
    entry_id = await session.scalar(insert(KnowledgeEntry).values(**values, terms=terms)
                                    .returning(col(KnowledgeEntry.id)))
    assert entry_id is not None
    return int(entry_id)


async def knowledge_entry_exists(session: AsyncSession, question: str) -> bool:
    return await session.scalar(select(func.count()).where(col(KnowledgeEntry.question) == question)) != 0


async def add_open311_client(session: AsyncSession, key_hash: str, name: str, user_id: int) -> None:
    await session.execute(insert(Open311Client).values(key_hash=key_hash, name=name, user_id=user_id)
                          .on_conflict_do_nothing(index_elements=[col(Open311Client.key_hash)]))
