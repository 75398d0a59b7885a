"""admin changes: every change an administrator makes to accounts (who, when, what changed; never a password)

``admin_changes``: one row per change (create, update, disable, enable, reset_password, unlock) with the fields
changed as ``{field: [before, after]}``. ``ix_sign_in_log_user_ok``: each user's last successful sign-in, read for
every row of the administrators' user list, is one index probe instead of a scan of the log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("target_user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("changes", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ix_admin_changes_at", "admin_changes", ["at"])
    op.create_index("ix_admin_changes_target", "admin_changes", ["target"])
    op.create_index("ix_sign_in_log_user_ok", "sign_in_log", ["user_id", "at"],
                    postgresql_where=sa.text("outcome = 'ok'"))


def downgrade() -> None:
    op.drop_index("ix_sign_in_log_user_ok", table_name="sign_in_log")
    op.drop_index("ix_admin_changes_target", table_name="admin_changes")
    op.drop_index("ix_admin_changes_at", table_name="admin_changes")
    op.drop_table("admin_changes")
