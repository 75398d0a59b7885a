"""what registration needs (the hall's combined item), voided case numbers, failing work

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULES = ('{"veto_reminder_days": 1, "veto_escalation_days": 2, "supplement_days": 5, "supplement_reminder_days": 1, '
         '"callback_calendar_days": 3, "default_rating": "satisfied", "rectification_days": 5}')


def upgrade() -> None:
    # Registration of several matters needs the centre (root of the department tree) and its combined item;
    # an administrator may rename both, never delete them.
    op.execute("INSERT INTO departments (code, name, kind) VALUES ('CITY', '市政务服务中心', 'bureau') "
               "ON CONFLICT (code) DO NOTHING")
    op.execute(
        "INSERT INTO service_items (code, name, department_code, time_limit_days, expedited_days, materials, rules) "
        f"VALUES ('HALL-COMBINED', '统一受理（多事项）', 'CITY', 20, 10, '[]', '{RULES}') "
        "ON CONFLICT (code) DO NOTHING")
    op.create_table(
        "case_number_voids",
        sa.Column("case_no", sa.String(length=40), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "failing_work",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workflow_id", sa.String(length=80), nullable=False, index=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("workflow_id", "seq", name="uq_failing_work_seq"),
    )


def downgrade() -> None:
    op.drop_table("failing_work")
    op.drop_table("case_number_voids")
    op.execute("DELETE FROM service_items WHERE code = 'HALL-COMBINED' "
               "AND NOT EXISTS (SELECT 1 FROM cases WHERE item_code = 'HALL-COMBINED')")
