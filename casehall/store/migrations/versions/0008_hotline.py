"""the 12345 hotline: units, dispatch catalogue, orders and their hash-chained events, supervision orders, the
orders' inbox, the knowledge base (searched on character bigrams), Open311 clients

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONB = postgresql.JSONB(astext_type=sa.Text())
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.String(length=32), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), sa.ForeignKey("units.code"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_units_parent_code", "units", ["parent_code"])
    op.create_table(
        "unit_members",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("unit_code", sa.String(length=32), sa.ForeignKey("units.code"), nullable=False),
    )
    op.create_index("ix_unit_members_unit_code", "unit_members", ["unit_code"])
    op.create_table(
        "dispatch_catalogue",
        sa.Column("category_code", sa.String(length=6), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_code", sa.String(length=32), sa.ForeignKey("units.code"), nullable=True),
        sa.Column("description", sa.String(), nullable=False, server_default=""),
        sa.CheckConstraint("category_code ~ '^[0-9]{6}$'", name="ck_dispatch_catalogue_code"),
    )
    op.create_table(
        "orders",
        sa.Column("order_no", sa.String(length=40), primary_key=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category_code", sa.String(length=6), nullable=False),
        sa.Column("lead_unit", sa.String(length=32), nullable=True),
        sa.Column("unit_codes", JSONB, nullable=False),
        sa.Column("caller_phone", sa.String(length=24), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("address_key", sa.String(length=300), nullable=False),
        sa.Column("content", sa.String(), nullable=False),
        sa.Column("code_hashes", JSONB, nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("dispatched_at", TS, nullable=True),
        sa.Column("sign_due", TS, nullable=True),
        sa.Column("handle_due", TS, nullable=True),
        sa.Column("signed_at", TS, nullable=True),
        sa.Column("replied_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("supervision_count", sa.Integer(), nullable=False),
        sa.Column("call_count", sa.Integer(), nullable=False),
        sa.Column("state", JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_orders_status_registered", "orders", ["status", "registered_at"])
    op.create_index("ix_orders_lead_unit", "orders", ["lead_unit"])
    op.create_index("ix_orders_units", "orders", ["unit_codes"], postgresql_using="gin")
    op.create_index("ix_orders_duplicates", "orders", ["category_code", "address_key"],
                    postgresql_where=sa.text("closed_at IS NULL"))
    op.create_index("ix_orders_phone", "orders", ["caller_phone"], postgresql_where=sa.text("closed_at IS NULL"))
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_no", sa.String(length=40), sa.ForeignKey("orders.order_no"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("order_no", "seq", name="uq_order_events_order_seq"),
    )
    op.create_table(
        "supervision_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_no", sa.String(length=40), sa.ForeignKey("orders.order_no"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("against_unit", sa.String(length=32), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("to_unit", sa.String(length=32), sa.ForeignKey("units.code"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.UniqueConstraint("order_no", "seq", name="uq_supervision_orders_seq"),
    )
    op.create_index("ix_supervision_orders_against_unit", "supervision_orders", ["against_unit"])
    op.create_index("ix_supervision_orders_to_unit", "supervision_orders", ["to_unit"])
    op.create_table(
        "order_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_no", sa.String(length=40), sa.ForeignKey("orders.order_no"), nullable=False),
        sa.Column("opened_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=32), sa.ForeignKey("units.code"), nullable=True),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.UniqueConstraint("order_no", "opened_seq", "kind", name="uq_order_tasks_seq"),
    )
    op.create_index("ix_order_tasks_inbox", "order_tasks", ["unit_code", "role", "closed_at"])
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("unit_code", sa.String(length=32), sa.ForeignKey("units.code"), nullable=True),
        sa.Column("category_code", sa.String(length=6), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("review_by", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        # Character bigrams of question and answer ('simple' configuration): Chinese has no spaces, so neither
        # to_tsvector on the raw text nor pg_trgm (no CJK trigrams under the C locale) finds anything.
        sa.Column("terms", postgresql.TSVECTOR(), nullable=False, server_default=sa.text("''::tsvector")),
    )
    op.create_index("ix_knowledge_entries_terms", "knowledge_entries", ["terms"], postgresql_using="gin")
    op.create_table(
        "open311_clients",
        sa.Column("key_hash", sa.String(length=64), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    for table in ("open311_clients", "knowledge_entries", "order_tasks", "supervision_orders", "order_events",
                  "orders", "dispatch_catalogue", "unit_members", "units"):
        op.drop_table(table)
