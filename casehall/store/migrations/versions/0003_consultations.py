"""joint consultations, assisted handling, several matters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("helper_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True))
    op.create_index("ix_cases_helper_id", "cases", ["helper_id"])
    op.add_column("cases", sa.Column("parent_case_no", sa.String(length=40), nullable=True))
    op.create_index("ix_cases_parent_case_no", "cases", ["parent_case_no"])
    op.add_column("tasks", sa.Column("consultation_id", sa.String(length=48), nullable=True))
    op.drop_constraint("uq_tasks_case_seq", "tasks", type_="unique")
    op.create_unique_constraint("uq_tasks_source_seq", "tasks", ["case_no", "consultation_id", "opened_seq"],
                                postgresql_nulls_not_distinct=True)
    op.create_table(
        "consultations",
        sa.Column("consultation_id", sa.String(length=48), primary_key=True),
        sa.Column("case_no", sa.String(length=40), sa.ForeignKey("cases.case_no"), nullable=False),
        sa.Column("lead_department", sa.String(), sa.ForeignKey("departments.code"), nullable=False),
        sa.Column("departments", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_consultations_case_no", "consultations", ["case_no"])
    op.create_table(
        "consultation_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("consultation_id", sa.String(length=48), sa.ForeignKey("consultations.consultation_id"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.UniqueConstraint("consultation_id", "seq", name="uq_consultation_events_seq"),
    )


def downgrade() -> None:
    op.drop_table("consultation_events")
    op.drop_index("ix_consultations_case_no", table_name="consultations")
    op.drop_table("consultations")
    op.drop_constraint("uq_tasks_source_seq", "tasks", type_="unique")
    op.create_unique_constraint("uq_tasks_case_seq", "tasks", ["case_no", "opened_seq"])
    op.drop_column("tasks", "consultation_id")
    op.drop_index("ix_cases_parent_case_no", table_name="cases")
    op.drop_column("cases", "parent_case_no")
    op.drop_index("ix_cases_helper_id", table_name="cases")
    op.drop_column("cases", "helper_id")
