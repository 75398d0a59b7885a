"""sign-in that holds: idle time-out of tokens, sign-in log, locks after failed log-ins

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_tokens SET last_used_at = now()")
    op.create_table(
        "sign_in_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
    )
    op.create_index("ix_sign_in_log_at", "sign_in_log", ["at"])
    op.create_index("ix_sign_in_log_username", "sign_in_log", ["username"])
    op.create_table(
        "sign_in_locks",
        sa.Column("scope", sa.String(length=8), primary_key=True),
        sa.Column("subject", sa.String(length=64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("sign_in_locks")
    op.drop_index("ix_sign_in_log_username", table_name="sign_in_log")
    op.drop_index("ix_sign_in_log_at", table_name="sign_in_log")
    op.drop_table("sign_in_log")
    op.drop_column("api_tokens", "last_used_at")
