"""SQLModel tables of the 12345 hotline (migration 0008): the unit network, the dispatch catalogue, orders and their
hash-chained events, supervision orders, the orders' inbox and the knowledge base."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlmodel import Field, SQLModel


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kw))


def _jsonb(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSONB, nullable=False))


class Unit(SQLModel, table=True):
    """A responsible unit of the hotline network: centre > department | district > street > community, utilities."""

    __tablename__ = "units"
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # centre | department | district | street | community | utility
    parent_code: str | None = Field(default=None, foreign_key="units.code", index=True, max_length=32)
    active: bool = True


class UnitMember(SQLModel, table=True):
    """The unit a user answers for (unit handlers and heads; hotline staff belong to the centre)."""

    __tablename__ = "unit_members"
    user_id: int = Field(primary_key=True, foreign_key="users.id")
    unit_code: str = Field(foreign_key="units.code", index=True, max_length=32)


class DispatchRule(SQLModel, table=True):
    """The dispatch catalogue (派单目录): a category (6 digits, GB/T 39666 style) and the unit that owns it."""

    __tablename__ = "dispatch_catalogue"
    category_code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=200)
    unit_code: str | None = Field(default=None, foreign_key="units.code", max_length=32)  # None: the dispatcher names
    description: str = ""


class Order(SQLModel, table=True):
    """The current state of an order: a projection of its events (``state`` holds the whole view)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_registered", "status", "registered_at"),
        Index("ix_orders_units", "unit_codes", postgresql_using="gin"),
        Index("ix_orders_duplicates", "category_code", "address_key", postgresql_where="closed_at IS NULL"),
        Index("ix_orders_phone", "caller_phone", postgresql_where="closed_at IS NULL"),
    )
    order_no: str = Field(primary_key=True, max_length=40)
    status: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    category_code: str = Field(max_length=6)
    lead_unit: str | None = Field(default=None, max_length=32, index=True)
    unit_codes: list[str] = _jsonb(list)  # every unit that may read it
    caller_phone: str = Field(default="", max_length=24)  # of the first call, for duplicates
    address: str = Field(max_length=300)
    address_key: str = Field(max_length=300)  # the address without spaces or punctuation, for duplicates
    content: str
    code_hashes: list[str] = _jsonb(list)  # sha256 of each caller's short code (public status page)
    operator_id: int = Field(foreign_key="users.id")
    registered_at: datetime = _ts(nullable=False)
    dispatched_at: datetime | None = _ts(nullable=True)
    sign_due: datetime | None = _ts(nullable=True)
    handle_due: datetime | None = _ts(nullable=True)
    signed_at: datetime | None = _ts(nullable=True)
    replied_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    overdue: bool = False
    supervision_count: int = 0
    call_count: int = 1
    state: dict[str, Any] = _jsonb(dict)
    updated_at: datetime = _ts(nullable=False)
    last_seq: int = 0


class OrderEvent(SQLModel, table=True):
    """An immutable event of an order, hash-chained like ``case_events``; (order_no, seq) is unique."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_no", "seq", name="uq_order_events_order_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(foreign_key="orders.order_no", max_length=40)
    seq: int
    type: str = Field(max_length=48)
    actor_id: int | None = None
    actor_role: str | None = Field(default=None, max_length=16)
    at: datetime = _ts(nullable=False)
    payload: dict[str, Any] = _jsonb(dict)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class SupervisionOrder(SQLModel, table=True):
    """A supervision order (督办单), counted against ``against_unit`` in its figures."""

    __tablename__ = "supervision_orders"
    __table_args__ = (UniqueConstraint("order_no", "seq", name="uq_supervision_orders_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(foreign_key="orders.order_no", max_length=40)
    seq: int
    reason: str = Field(max_length=16)  # not_signed | overdue | callback
    against_unit: str = Field(foreign_key="units.code", max_length=32, index=True)
    to_unit: str = Field(foreign_key="units.code", max_length=32, index=True)
    level: int
    issued_at: datetime = _ts(nullable=False)
    due_at: datetime | None = _ts(nullable=True)


class OrderTask(SQLModel, table=True):
    """An open question about an order: the hotline centre's or a unit's inbox."""

    __tablename__ = "order_tasks"
    __table_args__ = (
        UniqueConstraint("order_no", "opened_seq", "kind", name="uq_order_tasks_seq"),
        Index("ix_order_tasks_inbox", "unit_code", "role", "closed_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(foreign_key="orders.order_no", max_length=40)
    opened_seq: int
    kind: str = Field(max_length=32)
    role: str = Field(max_length=16)
    unit_code: str | None = Field(default=None, foreign_key="units.code", max_length=32)
    summary: str = ""
    opened_at: datetime = _ts(nullable=False)
    due_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)


class KnowledgeEntry(SQLModel, table=True):
    """An entry of the knowledge base (GB/T 44191-2024): an authoritative answer with its source and review date."""

    __tablename__ = "knowledge_entries"
    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(max_length=500)
    answer: str
    source: str = Field(max_length=300)  # the document the answer rests on
    unit_code: str | None = Field(default=None, foreign_key="units.code", max_length=32)  # who answers for it
    category_code: str | None = Field(default=None, max_length=6)
    effective_from: date
    review_by: date
    active: bool = True
    # Character bigrams of question and answer, 'simple' configuration (``casehall.hotline.search``).
    terms: str | None = Field(default=None, sa_column=Column(TSVECTOR, nullable=False,
                                                             server_default=text("''::tsvector")))


class Open311Client(SQLModel, table=True):
    """A GeoReport v2 client: its ``api_key`` (only the sha256 kept) and the operator account it files orders as."""

    __tablename__ = "open311_clients"
    key_hash: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    user_id: int = Field(foreign_key="users.id")
    active: bool = True
