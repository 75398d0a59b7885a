"""catalogue administration: departments and service items edited by the centre, every change logged

``departments.active``: a department taken out of use (no users, items, open cases or work left) stays in the tree
for the cases and documents that name it. ``service_items.withdrawn_at``: a withdrawn item cannot be chosen for new
cases; the cases registered on it keep it. ``version`` on both: an edit names the version it was made from, so two
administrators cannot overwrite each other unknowingly. ``catalogue_changes``: who changed what, when, from where,
before and after, with the reason given.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("departments", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("departments", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("service_items", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("service_items", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("actor_username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(), nullable=False, server_default=""),
        sa.Column("before", JSONB, nullable=True),
        sa.Column("after", JSONB, nullable=True),
    )
    op.create_index("ix_catalogue_changes_subject", "catalogue_changes", ["entity", "code", "id"])
    op.create_index("ix_catalogue_changes_at", "catalogue_changes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_catalogue_changes_at", table_name="catalogue_changes")
    op.drop_index("ix_catalogue_changes_subject", table_name="catalogue_changes")
    op.drop_table("catalogue_changes")
    op.drop_column("service_items", "version")
    op.drop_column("service_items", "withdrawn_at")
    op.drop_column("departments", "version")
    op.drop_column("departments", "active")
